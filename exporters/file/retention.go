package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// retentionEvery is the most often Config.Retention is checked.
const retentionEvery = time.Minute

// retention is the exporter's deletion of expired files.
type retention struct {
	last            time.Time // guarded by Exporter.mu
	expired, errors atomic.Uint64
}

// expire deletes the files of this exporter's prefix whose creation time
// (in the name) is more than Config.Retention before now, closed or left
// ".open" by an earlier process, but never the active file. It runs at
// most once per retentionEvery unless force. e.mu is held.
func (e *Exporter) expire(now time.Time, force bool) error {
	if e.cfg.Retention <= 0 || (!force && now.Sub(e.ret.last) < retentionEvery && !now.Before(e.ret.last)) {
		return nil
	}
	e.ret.last = now
	des, err := os.ReadDir(e.cfg.Dir)
	if err != nil {
		e.ret.errors.Add(1)
		return fmt.Errorf("file: retention: %w", err)
	}
	cutoff := now.Add(-e.cfg.Retention)
	var errs []error
	removed := false
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || !strings.HasPrefix(name, e.cfg.Prefix+"-") {
			continue
		}
		created, ok := fileTime(name)
		if !ok || !created.Before(cutoff) {
			continue
		}
		path := filepath.Join(e.cfg.Dir, name)
		if (e.f != nil && path == e.path) || (e.fin != nil && path == e.fin.path) {
			continue // being written, or finishing after a rotation
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.ret.errors.Add(1)
			errs = append(errs, err)
			continue
		}
		removed = true
		e.ret.expired.Add(1)
	}
	if removed {
		errs = append(errs, syncDir(e.cfg.Dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("file: retention: %w", err)
	}
	return nil
}

// fileTime returns the creation time in an event file's name (closed or
// open, plain or encrypted).
func fileTime(name string) (time.Time, bool) {
	base := strings.TrimSuffix(name, OpenExt)
	base = strings.TrimSuffix(base, AgeExt)
	if !strings.HasSuffix(base, Ext) {
		return time.Time{}, false
	}
	ts, _, ok := schema.ParseFileName(base)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(schema.FileTimeLayout, ts)
	return t, err == nil
}
