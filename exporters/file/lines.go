package file

import (
	"io"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/schema"
)

// ReadLines is [ReadConfig.ReadLines] with the default configuration.
func ReadLines(dir string, fn func(line []byte) error) (ReadStats, error) {
	return ReadConfig{}.ReadLines(dir, fn)
}

// ReadLines reads the same files as [ReadConfig.ReadDir], in the same
// order and under the same rules for torn, too-long and undecryptable
// lines, but hands fn each event's raw JSON line (without the newline)
// instead of decoding it. It is the reader for consumers with a faster
// path of their own, such as a projection of a few fields
// (schema.Project; experiment.Collector.AddLine): they decode only what
// they need, and decode in full (schema.UnmarshalEvent) what their fast
// path does not take. Files of a registered format ([RegisterFormat], such
// as Parquet) are read after the JSON-lines files, as ReadDir reads them,
// each event handed over as the line AppendJSON writes for it. Lines are
// not validated, so ReadStats.Events counts
// the lines handed to fn and malformed lines are fn's to count; only the
// last line of an unfinished (.open) file is decoded here, to tell a torn
// write from an event. The line is valid until fn returns. fn's first
// error stops the read and is returned as is. Workers is ignored: the
// read is sequential.
func (c ReadConfig) ReadLines(dir string, fn func(line []byte) error) (ReadStats, error) {
	r, err := c.NewReader(dir)
	if err != nil {
		return ReadStats{}, err
	}
	defer r.Close()
	// Files of registered formats (Parquet) have no lines: their events
	// are handed over as the lines AppendJSON writes for them.
	var line []byte
	formats := c.thenFormats(dir, func(e personalize.Event) error {
		var err error
		if line, err = schema.AppendJSON(line[:0], e); err != nil {
			return err
		}
		return fn(line)
	})
	for {
		raw, err := r.readRaw()
		if err == io.EOF {
			return formats(r.Stats(), nil)
		}
		if err != nil {
			return r.Stats(), err
		}
		var derr error
		if raw.open && raw.last && raw.needsDecode() {
			// Possibly cut short by a crash: a line that does not decode
			// is a torn write, not an event.
			_, derr = schema.UnmarshalEvent(raw.data)
		}
		ok, err := r.cfg.settle(&r.stats, &raw, derr)
		if err != nil {
			return r.Stats(), err
		}
		if !ok {
			continue
		}
		r.stats.Events++
		if err := fn(raw.data); err != nil {
			return r.Stats(), err
		}
	}
}
