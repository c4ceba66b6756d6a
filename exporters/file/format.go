package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/rankscope/rankscope/personalize"
)

// FormatReader reads the events of one file of a registered format to fn,
// in order, and returns fn's first error as is. It must not panic on a
// corrupt file.
type FormatReader func(path string, fn func(personalize.Event) error) error

var formats struct {
	sync.RWMutex
	m map[string]FormatReader
}

// RegisterFormat makes [ReadDir] read, besides the JSON-lines files, every
// file under the directory whose name ends in ext, with read. It is meant
// to be called from the init function of the package that implements the
// format, as image.RegisterFormat and database/sql drivers are:
// exporters/parquet registers ".parquet", so a program that imports it
// (for its side effect, with a blank import, if need be) reads Parquet
// partitions with ReadDir, while this package does not depend on a
// Parquet library.
//
// ext starts with '.' and has no path separator; ".jsonl" and ".open" are
// taken. RegisterFormat panics on a bad ext, a nil read, or a second
// registration of an ext (a programming error, as with sql.Register).
func RegisterFormat(ext string, read FormatReader) {
	switch {
	case len(ext) < 2 || ext[0] != '.' || strings.ContainsAny(ext, `/\`):
		panic(fmt.Sprintf("file: RegisterFormat: bad extension %q", ext))
	case ext == Ext || ext == OpenExt:
		panic(fmt.Sprintf("file: RegisterFormat: extension %q is the file exporter's", ext))
	case read == nil:
		panic("file: RegisterFormat: nil reader for " + ext)
	}
	formats.Lock()
	defer formats.Unlock()
	if _, dup := formats.m[ext]; dup {
		panic("file: RegisterFormat: " + ext + " registered twice")
	}
	if formats.m == nil {
		formats.m = map[string]FormatReader{}
	}
	formats.m[ext] = read
}

// formatOf returns the reader registered for name's extension, if any.
func formatOf(name string) FormatReader {
	formats.RLock()
	defer formats.RUnlock()
	for ext, read := range formats.m {
		if strings.HasSuffix(name, ext) {
			return read
		}
	}
	return nil
}

func formatsRegistered() bool {
	formats.RLock()
	defer formats.RUnlock()
	return len(formats.m) > 0
}

// thenFormats returns a function that, after a read of the JSON-lines
// files that ended without error, reads the files of registered formats
// under dir with fn and adds them to the stats.
//
// Those files are found by walking dir and its subdirectories (Hive-style
// partitions such as dt=2026-11-02/hour=09), skipping names that start
// with '.' or '_' (files being written, markers), and read in path order,
// which for such partitions is time order. Every file counts in
// ReadStats.Files, its size in Bytes, its events in Events. A file that
// cannot be read stops the read with the format's error, wrapped with the
// file's path; fn's error is returned as is. ReadConfig's line options do
// not apply to them. Without a registered format nothing is walked.
func (c ReadConfig) thenFormats(dir string, fn func(personalize.Event) error) func(ReadStats, error) (ReadStats, error) {
	return func(st ReadStats, err error) (ReadStats, error) {
		if err != nil || !formatsRegistered() {
			return st, err
		}
		var paths []string
		werr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != dir && (name[0] == '.' || name[0] == '_') {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && formatOf(name) != nil {
				paths = append(paths, path)
			}
			return nil
		})
		if werr != nil {
			return st, fmt.Errorf("file: walk %s: %w", dir, werr)
		}
		slices.Sort(paths)
		for _, path := range paths {
			var fnErr error
			err := formatOf(filepath.Base(path))(path, func(e personalize.Event) error {
				st.Events++
				if fnErr = fn(e); fnErr != nil {
					return fnErr
				}
				return nil
			})
			st.Files++
			if info, serr := os.Stat(path); serr == nil {
				st.Bytes += info.Size()
			}
			if fnErr != nil && errors.Is(err, fnErr) {
				return st, fnErr
			}
			if err != nil {
				return st, fmt.Errorf("file: read %s: %w", path, err)
			}
		}
		return st, nil
	}
}
