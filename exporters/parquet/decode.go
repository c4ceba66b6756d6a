package parquet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/rankscope/rankscope/personalize"
)

// RowError is a row of a Parquet file that is not a valid event. Field
// names the column (its dotted path, "items.list.element.score") or, for
// an event that decodes but fails validation, the schema field of the
// *personalize.ValidationError that Err wraps.
type RowError struct {
	File  string // path of the file
	Row   int64  // 0-based row number in the file
	Field string
	Err   error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("parquet: %s: row %d: %s: %v", e.File, e.Row, e.Field, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// FileError is a Parquet file this package cannot read: not Parquet,
// truncated or corrupt, or with a column of the rankscope schema of
// another type or nesting than this package writes. Column, when set,
// names that column.
type FileError struct {
	File   string
	Column string
	Err    error
}

func (e *FileError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("parquet: %s: column %s: %v", e.File, e.Column, e.Err)
	}
	return fmt.Sprintf("parquet: %s: %v", e.File, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// requiredColumns must be in a file; any other column of the schema may be
// missing (all NULL: a file from a writer that predates it).
var requiredColumns = []int{cSchemaVersion, cType, cEventID, cTime}

// readRowsBatch is how many rows ReadFile decodes at a time.
const readRowsBatch = 64

// ReadFile streams the events of one Parquet file written by an
// [Exporter] (or any file with the same columns) to fn, in row order.
// It returns fn's first error as is, a *[FileError] for a file it cannot
// read, or a *[RowError] for the first row that is not a valid event
// (events are validated as personalize.UnmarshalEvent validates JSON
// lines). Columns it does not know are ignored, so files of a later
// additive schema version read; a row whose schema_version is newer than
// personalize.SchemaVersion is refused.
//
// It never panics on a corrupt file: a panic inside the Parquet library
// is returned as a *FileError (a panic in fn is not recovered). Memory is
// bounded by one row group's pages of each column, as the library decodes
// them, plus 64 decoded rows.
func ReadFile(path string, fn func(personalize.Event) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return readFrom(path, f, st.Size(), fn)
}

// readFrom is ReadFile over any io.ReaderAt.
func readFrom(path string, r io.ReaderAt, size int64, fn func(personalize.Event) error) (err error) {
	var inFn bool
	defer func() {
		if p := recover(); p != nil {
			if inFn {
				panic(p)
			}
			err = &FileError{File: path, Err: fmt.Errorf("corrupt file: %v", p)}
		}
	}()
	pf, err := pq.OpenFile(r, size, pq.SkipBloomFilters(true), pq.SkipPageIndex(true))
	if err != nil {
		return &FileError{File: path, Err: err}
	}
	if err := checkBounds(path, r, size, pf.Metadata()); err != nil {
		return err
	}
	d := &decoder{path: path}
	if err := d.bind(pf.Schema()); err != nil {
		return err
	}
	rows := make([]pq.Row, readRowsBatch)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, rerr := rr.ReadRows(rows)
			for i := range n {
				ev, err := d.decode(rows[i])
				if err != nil {
					rr.Close()
					return err
				}
				d.row++
				inFn = true
				err = fn(ev)
				inFn = false
				if err != nil {
					rr.Close()
					return err
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				rr.Close()
				return &FileError{File: path, Err: rerr}
			}
			if n == 0 {
				rr.Close()
				return &FileError{File: path, Err: errors.New("row reader made no progress")}
			}
		}
		if err := rr.Close(); err != nil {
			return &FileError{File: path, Err: err}
		}
	}
	return nil
}

// decoder turns rows of one file into events.
type decoder struct {
	path  string
	row   int64
	colOf []int                // file leaf column index -> ours, or -1
	span  [nColumns][]pq.Value // this row's values of each of our columns
}

// bind maps the file's leaf columns to ours by path and checks that each
// has the physical type and levels this package writes.
func (d *decoder) bind(s *pq.Schema) error {
	cols := s.Columns()
	d.colOf = make([]int, len(cols))
	for i := range d.colOf {
		d.colOf[i] = -1
	}
	found := [nColumns]bool{}
	for c, path := range columnPaths {
		lc, ok := s.Lookup(strings.Split(path, ".")...)
		if !ok {
			continue
		}
		want := leaves[c]
		if k := lc.Node.Type().Kind(); k != want.kind {
			return &FileError{File: d.path, Column: path, Err: fmt.Errorf("type %v, want %v", k, want.kind)}
		}
		if lc.MaxRepetitionLevel != want.rep || lc.MaxDefinitionLevel != want.def {
			return &FileError{File: d.path, Column: path, Err: fmt.Errorf("levels (repetition %d, definition %d), want (%d, %d)",
				lc.MaxRepetitionLevel, lc.MaxDefinitionLevel, want.rep, want.def)}
		}
		if lc.ColumnIndex < 0 || lc.ColumnIndex >= len(d.colOf) {
			return &FileError{File: d.path, Column: path, Err: fmt.Errorf("column index %d out of range", lc.ColumnIndex)}
		}
		d.colOf[lc.ColumnIndex] = c
		found[c] = true
	}
	for _, c := range requiredColumns {
		if !found[c] {
			return &FileError{File: d.path, Column: columnPaths[c], Err: errors.New("missing")}
		}
	}
	return nil
}

func (d *decoder) fail(c int, format string, args ...any) error {
	return &RowError{File: d.path, Row: d.row, Field: columnPaths[c], Err: fmt.Errorf(format, args...)}
}

// decode turns one row into a validated event.
func (d *decoder) decode(r pq.Row) (personalize.Event, error) {
	for c := range d.span {
		d.span[c] = nil
	}
	for i := 0; i < len(r); {
		col := r[i].Column()
		j := i + 1
		for j < len(r) && r[j].Column() == col {
			j++
		}
		if col >= 0 && col < len(d.colOf) {
			if c := d.colOf[col]; c >= 0 {
				d.span[c] = r[i:j]
			}
		}
		i = j
	}
	ev, err := d.event()
	if err != nil {
		return personalize.Event{}, err
	}
	if err := ev.Validate(); err != nil {
		field := "event"
		var ve *personalize.ValidationError
		if errors.As(err, &ve) {
			field = ve.Field
		}
		return personalize.Event{}, &RowError{File: d.path, Row: d.row, Field: field, Err: err}
	}
	return ev, nil
}

// scalar returns the value of a non-repeated column and whether it is set.
func (d *decoder) scalar(c int) (pq.Value, bool, error) {
	s := d.span[c]
	switch {
	case len(s) == 0:
		return pq.Value{}, false, nil
	case len(s) > 1:
		return pq.Value{}, false, d.fail(c, "%d values in one row", len(s))
	case s[0].IsNull():
		return pq.Value{}, false, nil
	}
	return s[0], true, nil
}

func (d *decoder) str(c int) (string, error) {
	v, ok, err := d.scalar(c)
	if !ok || err != nil {
		return "", err
	}
	return string(v.ByteArray()), nil
}

// required reports an error for a required column without a value.
func (d *decoder) required(c int) (pq.Value, error) {
	v, ok, err := d.scalar(c)
	if err == nil && !ok {
		err = d.fail(c, "missing")
	}
	return v, err
}

func (d *decoder) int64(c int) (int64, error) {
	v, ok, err := d.scalar(c)
	if !ok || err != nil {
		return 0, err
	}
	return v.Int64(), nil
}

func (d *decoder) double(c int) (float64, error) {
	v, ok, err := d.scalar(c)
	if !ok || err != nil {
		return 0, err
	}
	return v.Double(), nil
}

// listLen returns the number of elements of the list whose field columns
// are from..to-1 (0 for an absent or empty list), checking that every
// field has one value per element.
func (d *decoder) listLen(from, to int) (int, error) {
	n := -1
	for c := from; c < to; c++ {
		s := d.span[c]
		k := len(s)
		if k == 1 && s[0].DefinitionLevel() < defElem {
			k = 0
		}
		for i, v := range s {
			if k > 0 && v.DefinitionLevel() < defElem {
				return 0, d.fail(c, "element %d is missing", i)
			}
		}
		if n >= 0 && k != n {
			return 0, d.fail(c, "%d elements, but %s has %d", k, columnPaths[from], n)
		}
		n = k
	}
	return n, nil
}

func elemStr(s []pq.Value, i int) string {
	if s[i].IsNull() {
		return ""
	}
	return string(s[i].ByteArray())
}

func (d *decoder) header() (personalize.EventType, personalize.EventID, time.Time, string, error) {
	var zero time.Time
	v, err := d.required(cSchemaVersion)
	if err != nil {
		return 0, personalize.EventID{}, zero, "", err
	}
	if sv := v.Int32(); sv < 1 || sv > personalize.SchemaVersion {
		return 0, personalize.EventID{}, zero, "", d.fail(cSchemaVersion, "version %d is not supported (this reader knows 1..%d)", sv, personalize.SchemaVersion)
	}
	v, err = d.required(cType)
	if err != nil {
		return 0, personalize.EventID{}, zero, "", err
	}
	typ, ok := personalize.ParseEventType(string(v.ByteArray()))
	if !ok {
		return 0, personalize.EventID{}, zero, "", d.fail(cType, "unknown event type %q", v.ByteArray())
	}
	v, err = d.required(cEventID)
	if err != nil {
		return 0, personalize.EventID{}, zero, "", err
	}
	id, err := personalize.ParseEventID(string(v.ByteArray()))
	if err != nil {
		return 0, personalize.EventID{}, zero, "", d.fail(cEventID, "%v", err)
	}
	v, err = d.required(cTime)
	if err != nil {
		return 0, personalize.EventID{}, zero, "", err
	}
	micros := v.Int64()
	var nanos int32
	if nv, ok, err := d.scalar(cTimeNanos); err != nil {
		return 0, personalize.EventID{}, zero, "", err
	} else if ok {
		nanos = nv.Int32()
	}
	if nanos < 0 || nanos > 999 {
		return 0, personalize.EventID{}, zero, "", d.fail(cTimeNanos, "%d is outside 0..999", nanos)
	}
	// Years 0000..9999, as the schema allows: about ±2.6e17 µs.
	const maxMicros = 253402300800 * 1_000_000
	if micros < -62167219200*1_000_000 || micros >= maxMicros {
		return 0, personalize.EventID{}, zero, "", d.fail(cTime, "%d µs is outside the years 0000..9999", micros)
	}
	service, err := d.str(cService)
	if err != nil {
		return 0, personalize.EventID{}, zero, "", err
	}
	return typ, id, joinTime(micros, nanos), service, nil
}

func (d *decoder) pseudonyms() (user, session personalize.Pseudonym, err error) {
	if user.ID, err = d.str(cUserID); err != nil {
		return
	}
	if user.KeyID, err = d.str(cUserKeyID); err != nil {
		return
	}
	if session.ID, err = d.str(cSessionID); err != nil {
		return
	}
	session.KeyID, err = d.str(cSessionKeyID)
	return
}

// strs reads optional string columns into the pointers, in order.
func (d *decoder) strs(cols []int, dst ...*string) error {
	for i, c := range cols {
		s, err := d.str(c)
		if err != nil {
			return err
		}
		*dst[i] = s
	}
	return nil
}

func (d *decoder) event() (personalize.Event, error) {
	typ, id, t, service, err := d.header()
	if err != nil {
		return personalize.Event{}, err
	}
	user, session, err := d.pseudonyms()
	if err != nil {
		return personalize.Event{}, err
	}
	ev := personalize.Event{Type: typ}
	switch typ {
	case personalize.EventImpression:
		im := &personalize.Impression{EventID: id, End: t, Service: service, UserID: user, SessionID: session}
		if err := d.impression(im); err != nil {
			return personalize.Event{}, err
		}
		ev.Impression = im
	case personalize.EventOutcome:
		o := &personalize.Outcome{EventID: id, Time: t, Service: service, UserID: user, SessionID: session}
		if err := d.traceContext(o.TraceID[:], o.SpanID[:]); err != nil {
			return personalize.Event{}, err
		}
		var kind string
		if err := d.strs([]int{cRequestID, cItem, cKind, cName, cCurrency, cChannel, cSurface},
			&o.RequestID, &o.Item, &kind, &o.Name, &o.Currency, &o.Channel, &o.Surface); err != nil {
			return personalize.Event{}, err
		}
		k, ok := personalize.ParseOutcomeKind(kind)
		if !ok {
			return personalize.Event{}, d.fail(cKind, "unknown outcome kind %q", kind)
		}
		o.Kind = k
		if o.Value, err = d.double(cValue); err != nil {
			return personalize.Event{}, err
		}
		dwell, err := d.int64(cDwellNS)
		if err != nil {
			return personalize.Event{}, err
		}
		o.Dwell = time.Duration(dwell)
		if o.ScrollDepth, err = d.double(cScrollDepth); err != nil {
			return personalize.Event{}, err
		}
		ev.Outcome = o
	case personalize.EventExposure:
		x := &personalize.Exposure{EventID: id, Time: t, Service: service, UserID: user}
		if err := d.strs([]int{cExperiment, cVariant, cSurface}, &x.Experiment, &x.Variant, &x.Surface); err != nil {
			return personalize.Event{}, err
		}
		ev.Exposure = x
	case personalize.EventLink:
		ev.Link = &personalize.Link{EventID: id, Time: t, Service: service, UserID: user, SessionID: session}
	case personalize.EventModel:
		m := &personalize.ModelMetadata{EventID: id, Time: t, Service: service}
		if err := d.strs([]int{cModel, cModelVersion, cFeatureSet, cFeatureHash, cTrainingSnapshot, cOwner},
			&m.Model, &m.Version, &m.FeatureSet, &m.FeatureHash, &m.TrainingSnapshot, &m.Owner); err != nil {
			return personalize.Event{}, err
		}
		ev.Model = m
	}
	basis, err := d.str(cConsentBasis)
	if err != nil {
		return personalize.Event{}, err
	}
	ev.SetConsentBasis(basis)
	return ev, nil
}

// traceContext decodes trace_id and span_id into trace and span (zero
// when NULL).
func (d *decoder) traceContext(trace, span []byte) error {
	for _, f := range []struct {
		c   int
		dst []byte
	}{{cTraceID, trace}, {cSpanID, span}} {
		s, err := d.str(f.c)
		if err != nil || s == "" {
			if err != nil {
				return err
			}
			continue
		}
		if hex.DecodedLen(len(s)) != len(f.dst) {
			return d.fail(f.c, "%d hex digits, want %d", len(s), 2*len(f.dst))
		}
		if _, err := hex.Decode(f.dst, []byte(s)); err != nil {
			return d.fail(f.c, "%v", err)
		}
	}
	return nil
}

func (d *decoder) impression(im *personalize.Impression) error {
	if err := d.traceContext(im.TraceID[:], im.SpanID[:]); err != nil {
		return err
	}
	if err := d.strs([]int{cRequestID, cSurface, cChannel, cModel, cModelVersion, cFeatureSet, cErrorType},
		&im.RequestID, &im.Surface, &im.Channel, &im.Model, &im.ModelVersion, &im.FeatureSet, &im.ErrorType); err != nil {
		return err
	}
	v, err := d.required(cDurationNS)
	if err != nil {
		return err
	}
	dur := v.Int64()
	if dur < 0 {
		return d.fail(cDurationNS, "negative: %d", dur)
	}
	im.Start = im.End.Add(-time.Duration(dur))
	v, err = d.required(cStatus)
	if err != nil {
		return err
	}
	st, ok := personalize.ParseStatusOrOK(string(v.ByteArray()))
	if !ok {
		return d.fail(cStatus, "unknown status %q", v.ByteArray())
	}
	im.Status = st

	n, err := d.listLen(cExpExperiment, cFlagKey)
	if err != nil {
		return err
	}
	for i := range n {
		im.Experiments = append(im.Experiments, personalize.Assignment{
			Experiment: elemStr(d.span[cExpExperiment], i), Variant: elemStr(d.span[cExpVariant], i)})
	}
	if n, err = d.listLen(cFlagKey, cCtxKey); err != nil {
		return err
	}
	for i := range n {
		im.Flags = append(im.Flags, personalize.Flag{Key: elemStr(d.span[cFlagKey], i), Variant: elemStr(d.span[cFlagVariant], i)})
	}
	if n, err = d.listLen(cCtxKey, cItemID); err != nil {
		return err
	}
	for i := range n {
		im.Context = append(im.Context, personalize.Attr{Key: elemStr(d.span[cCtxKey], i), Value: elemStr(d.span[cCtxValue], i)})
	}
	if n, err = d.listLen(cItemID, cItemExplFeature); err != nil {
		return err
	}
	im.Items = make([]personalize.Item, n)
	for i := range im.Items {
		it := &im.Items[i]
		it.ID = elemStr(d.span[cItemID], i)
		pos := d.span[cItemPosition][i].Int64()
		if pos < 1 || int64(int(pos)) != pos {
			return d.fail(cItemPosition, "element %d: %d is not a position", i, pos)
		}
		it.Position = int(pos)
		it.Score = d.span[cItemScore][i].Double()
		if p := d.span[cItemPropensity][i]; !p.IsNull() {
			it.Propensity = p.Double()
		}
		it.Category = elemStr(d.span[cItemCategory], i)
		it.Provider = elemStr(d.span[cItemProvider], i)
	}
	if err := d.explanations(im.Items); err != nil {
		return err
	}
	if n, err = d.listLen(cStageName, cDurationNS); err != nil {
		return err
	}
	for i := range n {
		status := elemStr(d.span[cStageStatus], i)
		st, ok := personalize.ParseStatusOrOK(status)
		if !ok || status == "" {
			return d.fail(cStageStatus, "element %d: unknown status %q", i, status)
		}
		im.Stages = append(im.Stages, personalize.StageTiming{
			Name:     elemStr(d.span[cStageName], i),
			Offset:   time.Duration(d.span[cStageOffset][i].Int64()),
			Duration: time.Duration(d.span[cStageDuration][i].Int64()),
			Status:   st,
			Detail:   elemStr(d.span[cStageDetail], i),
		})
	}
	return nil
}
