package file

import (
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

// AgeExt is the extra suffix of an encrypted event file: a closed one is
// named "<prefix>-<time>-<seq>.jsonl.age", an open one ends in
// ".jsonl.age.open". The content is a standard age file (age-encryption.org/v1):
// `age -d -i key.txt events-....jsonl.age` prints the JSON lines.
const AgeExt = ".age"

// age's STREAM payload: plaintext chunks of 64 KiB, each sealed with a
// 16-byte ChaCha20-Poly1305 tag; only the last chunk may be shorter, and
// it is marked final.
const (
	ageChunk  = 64 << 10
	ageSealed = ageChunk + 16
)

// sealer encrypts the active file as one age stream. The age writer holds
// up to one chunk (64 KiB) of plaintext until the next chunk begins or the
// file is finished, so what is on disk lags what Export handed over by at
// most that much; ends tracks which lines are not yet in a whole sealed
// chunk on disk, so that a failed write can say which lines it lost.
type sealer struct {
	w     io.WriteCloser // the age stream over out
	out   countWriter
	hdr   int64   // bytes of the age header
	ends  []int64 // plaintext end offsets of lines not yet on disk, ascending
	plain int64   // plaintext bytes handed to w
}

// countWriter counts the bytes that reached the file.
type countWriter struct {
	f *os.File
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.n += int64(n)
	return n, err
}

// newSealer writes the age header for recipients to f.
func newSealer(f *os.File, recipients []age.Recipient) (*sealer, error) {
	s := &sealer{out: countWriter{f: f}}
	w, err := age.Encrypt(&s.out, recipients...)
	if err != nil {
		return nil, fmt.Errorf("file: encrypt %s: %w", f.Name(), err)
	}
	s.w, s.hdr = w, s.out.n
	return s, nil
}

// durable returns the plaintext bytes of the file that are on disk in
// whole sealed chunks.
func (s *sealer) durable() int64 {
	if s.out.n <= s.hdr {
		return 0
	}
	return (s.out.n - s.hdr) / ageSealed * ageChunk
}

// prune forgets the lines that reached the disk.
func (s *sealer) prune() {
	d := s.durable()
	i := 0
	for i < len(s.ends) && s.ends[i] <= d {
		i++
	}
	if i > 0 {
		s.ends = append(s.ends[:0], s.ends[i:]...)
	}
}

// write encrypts run, whole lines ending at ends (offsets in run). On an
// error it returns how many of run's lines reached the disk and how many
// lines of earlier writes, counted written then, did not.
func (s *sealer) write(run []byte, ends []int) (written, lost int, err error) {
	base := s.plain
	first := len(s.ends)
	for _, end := range ends {
		s.ends = append(s.ends, base+int64(end))
	}
	_, err = s.w.Write(run)
	if err == nil {
		s.plain += int64(len(run))
		s.prune() // what stays ends in the last 64 KiB: bounded
		return len(ends), 0, nil
	}
	d := s.durable()
	for i, end := range s.ends {
		if end <= d {
			if i >= first {
				written++
			}
		} else if i < first {
			lost++
		}
	}
	return written, lost, err
}

// abandon handles a failed encrypted write or finish: the file is cut back
// to its last whole sealed chunk and closed under its ".open" name (age has
// no way to mark a stream final after the fact, so the reader reports the
// tail as torn), or removed if no line reached it. It returns the lines
// earlier writes had counted that are not on disk.
func (e *Exporter) abandon(werr error) (lost int, err error) {
	f, path, s := e.f, e.path, e.seal
	e.f, e.seal = nil, nil
	d := s.durable()
	for _, end := range s.ends {
		if end > d {
			lost++
		}
	}
	err = fmt.Errorf("file: %w", werr)
	if d == 0 {
		return lost, errors.Join(err, discard(f, path))
	}
	terr := f.Truncate(s.hdr + d/ageChunk*ageSealed)
	if terr == nil {
		terr = f.Sync()
	}
	return lost, errors.Join(err, terr, f.Close())
}

// finishSealed writes the final chunk of the active encrypted file.
func (e *Exporter) finishSealed() error {
	if err := e.seal.w.Close(); err != nil {
		lost, err := e.abandon(err)
		e.lost.Add(uint64(lost))
		return err
	}
	e.seal = nil
	return nil
}

// ageFile reads an encrypted file: errors of the file itself are wrapped
// in ioError, so that every other error out of the age reader is about the
// content (a torn or altered stream).
type ageFile struct{ f *os.File }

type ioError struct{ err error }

func (e ioError) Error() string { return e.err.Error() }
func (e ioError) Unwrap() error { return e.err }

func (a ageFile) Read(p []byte) (int, error) {
	n, err := a.f.Read(p)
	if err != nil && err != io.EOF {
		err = ioError{err}
	}
	return n, err
}

// DecryptError is the cause of a [TornLineError] or [LineError] for an
// encrypted file that could not be decrypted from some point on: a stream
// cut short by a crash (in a ".open" file, a torn tail like any other), a
// file no identity in ReadConfig.Identities opens, or an altered one.
type DecryptError struct {
	Err error
}

func (e *DecryptError) Error() string { return "decrypt: " + e.Err.Error() }

func (e *DecryptError) Unwrap() error { return e.Err }

// ErrNoIdentity is returned when an encrypted file is found and
// ReadConfig.Identities is empty: reading fails closed rather than
// skipping data silently.
var ErrNoIdentity = errors.New("file: encrypted file and no ReadConfig.Identities")

// openSealed returns the plaintext reader of an encrypted file. A header
// that does not parse or that no identity opens is a *DecryptError.
func (c ReadConfig) openSealed(f *os.File) (io.Reader, error) {
	if len(c.Identities) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoIdentity, f.Name())
	}
	r, err := age.Decrypt(ageFile{f}, c.Identities...)
	if err != nil {
		var ioe ioError
		if errors.As(err, &ioe) {
			return nil, ioe.err
		}
		return nil, &DecryptError{Err: err}
	}
	return r, nil
}

// contentError converts an error of an encrypted file's reader into a
// *DecryptError, or returns nil for an I/O error of the file.
func contentError(err error) *DecryptError {
	var ioe ioError
	if errors.As(err, &ioe) {
		return nil
	}
	return &DecryptError{Err: err}
}

// sealedReader turns the content errors of an age reader into
// *DecryptError and passes the file's own errors through.
type sealedReader struct{ r io.Reader }

func (s sealedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		if de := contentError(err); de != nil {
			return n, de
		}
		var ioe ioError
		if errors.As(err, &ioe) {
			err = ioe.err
		}
	}
	return n, err
}

// brokenReader is the content of an encrypted file whose header cannot be
// opened.
type brokenReader struct{ err *DecryptError }

func (b brokenReader) Read([]byte) (int, error) { return 0, b.err }
