package personalize

import (
	"errors"
	"fmt"
	"time"
)

// WALConfig turns on durable mode: every accepted event is appended to a
// write-ahead log of JSON lines in Dir before the emit returns, and a new
// [Instrument] on the same Dir replays what the last one left undelivered.
// The zero value means off. See the package doc, "Delivery guarantee", for
// what each setting survives.
type WALConfig struct {
	// Dir holds the segment files (created 0700 if missing). New fails if
	// it cannot be created or written, or another instrument holds it.
	// Empty means durable mode is off; the other fields must then be zero.
	Dir string

	// SyncInterval is how often the segment being written is fsynced. Each
	// append is written to the OS (one write(2) per group of concurrent
	// appends) before the emit returns, so an accepted event survives the
	// death of the process (kill -9, a panic, OOM); it survives a crash of
	// the machine or a power loss once the next fsync has run, at most
	// SyncInterval (plus the fsync's own duration) after the emit
	// returned. Default 200ms. Ignored with SyncAlways.
	SyncInterval time.Duration

	// SyncAlways fsyncs every group of appends before their emits return:
	// an accepted event then survives a power loss too, at the price of an
	// fsync on the emitting goroutine (grouped under concurrency). Use it
	// only with SyncInterval zero.
	SyncAlways bool

	// MaxBytes bounds the segment files on disk together. When an append
	// would exceed it, the emit is refused with a *DropError (DropWALFull,
	// matching ErrWALFull), counted in Stats.WAL.Full. Default 256 MiB.
	MaxBytes int64

	// SegmentBytes is the size at which the log moves to a new segment
	// file. A segment is deleted once every exporter has settled every
	// event in it, so smaller segments free space sooner. An event larger
	// than SegmentBytes gets a segment of its own. Default 16 MiB; at most
	// MaxBytes.
	SegmentBytes int64
}

// WAL defaults.
const (
	DefaultWALSyncInterval = 200 * time.Millisecond
	DefaultWALMaxBytes     = 256 << 20
	DefaultWALSegmentBytes = 16 << 20
)

// enabled reports whether durable mode is on.
func (c *WALConfig) enabled() bool { return c.Dir != "" }

// normalize validates c and fills in defaults, naming the field at fault.
func (c *WALConfig) normalize() error {
	if c.Dir == "" {
		if *c != (WALConfig{}) {
			return errors.New("personalize: Config.WAL.Dir: required when other Config.WAL fields are set (the zero WALConfig means durable mode is off)")
		}
		return nil
	}
	if c.SyncInterval < 0 {
		return fmt.Errorf("personalize: Config.WAL.SyncInterval: must be >= 0, got %v", c.SyncInterval)
	}
	if c.SyncAlways && c.SyncInterval != 0 {
		return fmt.Errorf("personalize: Config.WAL.SyncInterval: must be zero with Config.WAL.SyncAlways, got %v", c.SyncInterval)
	}
	if c.MaxBytes < 0 {
		return fmt.Errorf("personalize: Config.WAL.MaxBytes: must be >= 0, got %d", c.MaxBytes)
	}
	if c.SegmentBytes < 0 {
		return fmt.Errorf("personalize: Config.WAL.SegmentBytes: must be >= 0, got %d", c.SegmentBytes)
	}
	if c.SyncInterval == 0 && !c.SyncAlways {
		c.SyncInterval = DefaultWALSyncInterval
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultWALMaxBytes
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = min(DefaultWALSegmentBytes, c.MaxBytes)
	}
	if c.SegmentBytes > c.MaxBytes {
		return fmt.Errorf("personalize: Config.WAL.SegmentBytes: must be at most Config.WAL.MaxBytes (%d), got %d", c.MaxBytes, c.SegmentBytes)
	}
	return nil
}
