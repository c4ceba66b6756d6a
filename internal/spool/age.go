package spool

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"filippo.io/age"
)

// ageMagic starts every age file: an encrypted batch's data.
const ageMagic = "age-encryption.org/v1\n"

// checkKeys refuses encryption that could not be read back.
func checkKeys(cfg Config) error {
	for i, r := range cfg.Recipients {
		if r == nil {
			return fmt.Errorf("spool: Config.Recipients[%d]: is nil", i)
		}
	}
	for i, id := range cfg.Identities {
		if id == nil {
			return fmt.Errorf("spool: Config.Identities[%d]: is nil", i)
		}
	}
	if len(cfg.Recipients) == 0 {
		return nil
	}
	if len(cfg.Identities) == 0 {
		return errors.New("spool: Config.Identities: required with Config.Recipients, to read back spooled batches")
	}
	probe, err := seal([]byte("probe"), cfg.Recipients)
	if err != nil {
		return err
	}
	if _, err := unseal(probe, cfg.Identities); err != nil {
		return fmt.Errorf("spool: Config.Identities: no identity opens a batch sealed to Config.Recipients: %w", err)
	}
	return nil
}

// seal encrypts data to recipients.
func seal(data []byte, recipients []age.Recipient) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data) + 256)
	w, err := age.Encrypt(&buf, recipients...)
	if err != nil {
		return nil, fmt.Errorf("spool: encrypt: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("spool: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("spool: encrypt: %w", err)
	}
	return buf.Bytes(), nil
}

func unseal(data []byte, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(data), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// open returns the batch's plaintext: data itself unless it is an age
// file, which is decrypted (an error wrapping ErrCorrupt if that fails).
func (s *Spool) open(e Entry, data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, []byte(ageMagic)) {
		return data, nil
	}
	if len(s.cfg.Identities) == 0 {
		return nil, fmt.Errorf("%w: %s: encrypted and no Config.Identities", ErrCorrupt, e.Name())
	}
	plain, err := unseal(data, s.cfg.Identities)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: decrypt: %v", ErrCorrupt, e.Name(), err)
	}
	return plain, nil
}
