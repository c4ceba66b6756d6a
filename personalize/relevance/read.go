package relevance

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/rankscope/rankscope/personalize"
)

// MaxLineBytes is the longest event line [ReadEvents] accepts: the
// pipeline's own limit, [personalize.MaxEventBytes].
const MaxLineBytes = personalize.MaxEventBytes

// ReadEvents decodes the JSON-lines event format written by
// personalize.AppendJSON (one event per line, blank lines skipped) and calls
// fn for every event in order. It stops at the first line that does not
// decode, with an error naming the line number and field, or at the first
// error from fn. The events are fresh values fn may keep.
//
// It is the offline path until exporters/file offers file.ReadDir, which
// takes the same fn (for example [Analyzer.Observe]).
func ReadEvents(r io.Reader, fn func(personalize.Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		e, err := personalize.UnmarshalEvent(b)
		if err != nil {
			return fmt.Errorf("relevance: ReadEvents: line %d: %w", line, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("relevance: ReadEvents: after line %d: %w", line, err)
	}
	return nil
}
