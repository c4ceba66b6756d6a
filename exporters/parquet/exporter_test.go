package parquet_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfa2)) }

// readAll reads dir back through the file reader (the registered
// ".parquet" format).
func readAll(t testing.TB, dir string) ([]personalize.Event, file.ReadStats) {
	t.Helper()
	var got []personalize.Event
	st, err := file.ReadDir(dir, func(e personalize.Event) error {
		got = append(got, e)
		return nil
	})
	require.NoError(t, err)
	return got, st
}

func jsonLines(t testing.TB, events []personalize.Event) [][]byte {
	t.Helper()
	out := make([][]byte, len(events))
	for i, e := range events {
		b, err := personalize.AppendJSON(nil, e)
		require.NoError(t, err)
		out[i] = b
	}
	return out
}

func TestConformance(t *testing.T) {
	personalizetest.TestExporter(t, personalizetest.Harness{
		// Rows are grouped by event hour: another order than received.
		Unordered: true,
		New: func(t *testing.T) personalizetest.Instance {
			dir := t.TempDir()
			exp, err := parquet.New(parquet.Config{Dir: dir, RowGroupRows: 16})
			require.NoError(t, err)
			return personalizetest.Instance{
				Exporter: exp,
				Delivered: func() ([]personalize.Event, error) {
					var got []personalize.Event
					_, err := file.ReadDir(dir, func(e personalize.Event) error {
						got = append(got, e)
						return nil
					})
					return got, err
				},
				Written: func() ([]byte, error) {
					var all []byte
					err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
						if err != nil || d.IsDir() {
							return err
						}
						b, err := os.ReadFile(path)
						all = append(all, b...)
						return err
					})
					return all, err
				},
			}
		},
	})
}

// TestRoundTripMatchesJSON writes the same random events as JSON lines and
// as Parquet; file.ReadDir reads both back, and every event's AppendJSON
// encoding is the same on both paths and the same as written.
func TestRoundTripMatchesJSON(t *testing.T) {
	events := personalizetest.RandomEvents(seeded(1), 3000)
	for typ := personalize.EventImpression; typ <= personalize.EventModel; typ++ {
		for range 20 {
			events = append(events, personalizetest.RandomEvent(seeded(uint64(len(events))), typ))
		}
	}
	events = append(events, edgeEvents()...)
	jdir, pdir := t.TempDir(), t.TempDir()
	jexp, err := file.New(file.Config{Dir: jdir})
	require.NoError(t, err)
	pexp, err := parquet.New(parquet.Config{Dir: pdir, RowGroupRows: 500, MaxOpenFiles: 3})
	require.NoError(t, err)
	ctx := context.Background()
	for b := range slices.Chunk(events, 512) {
		require.NoError(t, jexp.Export(ctx, b))
		require.NoError(t, pexp.Export(ctx, b))
	}
	require.NoError(t, jexp.Shutdown(ctx))
	require.NoError(t, pexp.Shutdown(ctx))

	fromJSON, _ := readAll(t, jdir)
	fromParquet, st := readAll(t, pdir)
	assert.Equal(t, int64(len(events)), st.Events)
	want, j, p := jsonLines(t, events), jsonLines(t, fromJSON), jsonLines(t, fromParquet)
	// The JSON path keeps the batch order; Parquet groups rows by hour.
	for _, s := range [][][]byte{want, j, p} {
		slices.SortFunc(s, bytes.Compare)
	}
	require.Equal(t, len(want), len(p))
	for i := range want {
		require.Equal(t, string(want[i]), string(j[i]), "JSON path, event %d", i)
		require.Equal(t, string(want[i]), string(p[i]), "Parquet path, event %d", i)
	}
	s := pexp.Stats()
	assert.Equal(t, parquet.Stats{Exported: uint64(len(events))}, s)
}

// edgeEvents are valid events at the edges of the schema: only required
// fields, every outcome kind, an empty ranking, empty context values and
// flag variants, extreme numbers and times.
func edgeEvents() []personalize.Event {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 123456789, time.UTC)
	id := func(b byte) personalize.EventID {
		var e personalize.EventID
		e[0], e[6], e[8] = b, 0x70, 0x80
		return e
	}
	user := personalize.Pseudonym{ID: "4f1c"}
	out := []personalize.Event{
		{Type: personalize.EventImpression, Impression: &personalize.Impression{EventID: id(1), RequestID: "r1",
			Start: t0, End: t0, UserID: user}},
		{Type: personalize.EventImpression, Impression: &personalize.Impression{EventID: id(2), RequestID: "r2",
			Start: t0, End: t0.Add(time.Second), SessionID: user, Status: personalize.StageFallback,
			Flags:   []personalize.Flag{{Key: "f"}},
			Context: []personalize.Attr{{Key: "device", Value: ""}, {Key: "région", Value: "île\n\"x\"\u2028"}},
			Items: []personalize.Item{{ID: "a", Position: 1 << 40, Score: -1e308, Propensity: 1},
				{ID: "b", Position: 1, Score: 5e-324, Propensity: 5e-324}},
			Stages: []personalize.StageTiming{{Name: "s", Duration: 0, Status: personalize.StageTimeout},
				{Name: "t", Offset: 1<<63 - 1, Duration: 1<<63 - 1, Status: personalize.StageError, Detail: "x"}}}},
		// Times at the ends of the schema's range, before 1970 and past 2262
		// (where nanoseconds since 1970 overflow int64).
		{Type: personalize.EventLink, Link: &personalize.Link{EventID: id(3), UserID: user, SessionID: user,
			Time: time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC)}},
		{Type: personalize.EventLink, Link: &personalize.Link{EventID: id(4), UserID: user, SessionID: user,
			Time: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{Type: personalize.EventLink, Link: &personalize.Link{EventID: id(5), UserID: user, SessionID: user,
			Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{Type: personalize.EventExposure, Exposure: &personalize.Exposure{EventID: id(6), UserID: user,
			Experiment: "e", Variant: "v", Time: t0}},
		// Model lineage records: required fields only, and every field.
		{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: id(7), Time: t0,
			Model: "m", Version: "1", FeatureHash: strings.Repeat("0f", 16)}},
		{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: id(8), Time: t0, Service: "s",
			Model: "two-tower", Version: "v7", FeatureSet: "fs", FeatureHash: strings.Repeat("9a", 64),
			TrainingSnapshot: "snap", Owner: "team"}},
	}
	for k := personalize.OutcomeClick; k <= personalize.OutcomeCustom; k++ {
		o := &personalize.Outcome{EventID: id(byte(10 + k)), Time: t0, Kind: k, SessionID: user}
		if !k.IsConversion() {
			o.RequestID, o.Item = "r1", "a"
		}
		switch k {
		case personalize.OutcomeCustom:
			o.Name = "n"
		case personalize.OutcomePurchase:
			o.Value, o.Currency = 1e-300, "EUR"
		case personalize.OutcomeDwell:
			o.Dwell = 1<<63 - 1
		case personalize.OutcomeScroll:
			o.ScrollDepth = 1
		}
		out = append(out, personalize.Event{Type: personalize.EventOutcome, Outcome: o})
	}
	return out
}

// TestPartitions checks the Hive layout: one directory per UTC event hour,
// finished files only, named by creation time and sequence.
func TestPartitions(t *testing.T) {
	dir := t.TempDir()
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return ts
	}
	now := at("2026-11-02T12:00:00Z")
	exp, err := parquet.New(parquet.Config{Dir: dir, Prefix: "replica-a", Now: func() time.Time { return now }})
	require.NoError(t, err)
	user := personalizetest.UserPseudonym(1)
	link := func(ts string) personalize.Event {
		return personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{EventID: personalize.NewEventID(),
			UserID: user, SessionID: user, Time: at(ts)}}
	}
	batch := []personalize.Event{
		link("2026-11-02T09:59:59.999999999Z"),
		link("2026-11-02T10:00:00Z"),
		link("2026-11-02T11:30:00+02:00"), // 09:30 UTC
		link("2026-12-31T23:00:00-01:00"), // next year in UTC
	}
	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, batch))
	assert.Equal(t, parquet.Stats{Pending: 4}, exp.Stats())
	// Nothing is visible before the files are finished.
	got, _ := readAll(t, dir)
	assert.Empty(t, got)
	require.NoError(t, exp.ForceFlush(ctx))
	assert.Equal(t, parquet.Stats{Exported: 4}, exp.Stats())

	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	}))
	slices.Sort(files)
	assert.Equal(t, []string{
		"dt=2026-11-02/hour=09/replica-a-20261102T120000.000000000Z-000000.parquet",
		"dt=2026-11-02/hour=10/replica-a-20261102T120000.000000000Z-000001.parquet",
		"dt=2027-01-01/hour=00/replica-a-20261102T120000.000000000Z-000002.parquet",
	}, files)
	got, st := readAll(t, dir)
	assert.Equal(t, 3, st.Files)
	assert.Len(t, got, 4)
	// Path order is time order across partitions.
	for i := 1; i < len(got); i++ {
		assert.False(t, got[i].Time().Truncate(time.Hour).Before(got[i-1].Time().Truncate(time.Hour)))
	}
	require.NoError(t, exp.Shutdown(ctx))
}

// fileRowGroups returns the row counts of each row group of every finished
// file under dir, and the files' schema_version metadata.
func fileRowGroups(t *testing.T, dir string) (groups [][]int64, versions []string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		st, _ := f.Stat()
		pf, err := pq.OpenFile(f, st.Size())
		require.NoError(t, err)
		var g []int64
		for _, rg := range pf.RowGroups() {
			g = append(g, rg.NumRows())
		}
		groups = append(groups, g)
		v, _ := pf.Lookup(parquet.MetadataSchemaVersion)
		versions = append(versions, v)
		return nil
	}))
	return groups, versions
}

func TestRowGroupsAndRotation(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	t.Run("RowGroupRows", func(t *testing.T) {
		dir := t.TempDir()
		exp, err := parquet.New(parquet.Config{Dir: dir, RowGroupRows: 100, Now: clock})
		require.NoError(t, err)
		ev := oneHour(personalizetest.RandomEvents(seeded(2), 1000))
		ctx := context.Background()
		for b := range slices.Chunk(ev, 70) {
			require.NoError(t, exp.Export(ctx, b))
		}
		require.NoError(t, exp.Shutdown(ctx))
		groups, versions := fileRowGroups(t, dir)
		require.Len(t, groups, 1)
		var total int64
		for i, n := range groups[0] {
			assert.LessOrEqual(t, n, int64(100), "row group %d", i)
			total += n
		}
		assert.Equal(t, int64(len(ev)), total)
		assert.Equal(t, []string{"1"}, versions)
	})
	t.Run("MaxAge", func(t *testing.T) {
		dir := t.TempDir()
		tick := now
		exp, err := parquet.New(parquet.Config{Dir: dir, MaxAge: time.Minute, Now: func() time.Time { return tick }})
		require.NoError(t, err)
		ev := oneHour(personalizetest.RandomEvents(seeded(3), 30))
		ctx := context.Background()
		require.NoError(t, exp.Export(ctx, ev[:10]))
		tick = tick.Add(59 * time.Second)
		require.NoError(t, exp.Export(ctx, ev[10:20]))
		assert.Equal(t, parquet.Stats{Pending: 20}, exp.Stats())
		tick = tick.Add(time.Second) // the file is a minute old
		require.NoError(t, exp.Export(ctx, ev[20:]))
		assert.Equal(t, parquet.Stats{Exported: 20, Pending: 10}, exp.Stats())
		require.NoError(t, exp.Shutdown(ctx))
		groups, _ := fileRowGroups(t, dir)
		assert.Len(t, groups, 2)
	})
	t.Run("MaxBytes", func(t *testing.T) {
		dir := t.TempDir()
		exp, err := parquet.New(parquet.Config{Dir: dir, MaxBytes: 1, RowGroupRows: 50, Now: clock})
		require.NoError(t, err)
		ev := oneHour(personalizetest.RandomEvents(seeded(4), 175))
		require.NoError(t, exp.Export(context.Background(), ev))
		// Each full row group passes MaxBytes: the file is finished.
		assert.Equal(t, parquet.Stats{Exported: 150, Pending: 25}, exp.Stats())
		require.NoError(t, exp.Shutdown(context.Background()))
		groups, _ := fileRowGroups(t, dir)
		assert.Len(t, groups, 4)
		got, _ := readAll(t, dir)
		assert.Len(t, got, len(ev))
	})
	t.Run("MaxOpenFiles", func(t *testing.T) {
		dir := t.TempDir()
		exp, err := parquet.New(parquet.Config{Dir: dir, MaxOpenFiles: 2, Now: clock})
		require.NoError(t, err)
		ev := personalizetest.RandomEvents(seeded(5), 40)
		for i := range ev { // four hours, round robin
			setTime(ev[i], now.Add(time.Duration(i%4)*time.Hour))
		}
		require.NoError(t, exp.Export(context.Background(), ev))
		s := exp.Stats()
		assert.Equal(t, uint64(20), s.Exported, "two hours finished to open two more")
		assert.Equal(t, uint64(20), s.Pending)
		require.NoError(t, exp.Shutdown(context.Background()))
		got, st := readAll(t, dir)
		assert.Len(t, got, 40)
		assert.Equal(t, 4, st.Files)
	})
}

// oneHour moves every event into the hour after 2026-11-02T12:00Z, keeping
// the order.
func oneHour(ev []personalize.Event) []personalize.Event {
	t0 := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	for i := range ev {
		setTime(ev[i], t0.Add(time.Duration(i)*time.Millisecond))
	}
	return ev
}

func setTime(e personalize.Event, t time.Time) {
	switch {
	case e.Impression != nil:
		d := e.Impression.Duration()
		e.Impression.End, e.Impression.Start = t, t.Add(-d)
	case e.Outcome != nil:
		e.Outcome.Time = t
	case e.Exposure != nil:
		e.Exposure.Time = t
	case e.Link != nil:
		e.Link.Time = t
	}
}

func TestExportErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("UnencodableEvents", func(t *testing.T) {
		dir := t.TempDir()
		exp, err := parquet.New(parquet.Config{Dir: dir})
		require.NoError(t, err)
		batch := personalizetest.RandomEvents(seeded(6), 5)
		batch[1] = personalize.Event{Type: personalize.EventOutcome}
		dead := personalizetest.CloneEvent(batch[3])
		dead.Invalid = &personalize.ValidationError{Field: "x", Reason: "missing"}
		batch[3] = dead
		err = exp.Export(ctx, batch)
		var we *parquet.WriteError
		require.ErrorAs(t, err, &we)
		assert.Equal(t, 3, we.Written)
		assert.Equal(t, 2, we.Failed)
		assert.Equal(t, 3, we.Delivered())
		assert.Contains(t, err.Error(), "batch[1]: event has no payload")
		assert.Contains(t, err.Error(), "batch[3]: dead letters")
		require.NoError(t, exp.Shutdown(ctx))
		assert.Equal(t, parquet.Stats{Exported: 3, Failed: 2}, exp.Stats())
	})
	t.Run("AfterShutdown", func(t *testing.T) {
		exp, err := parquet.New(parquet.Config{Dir: t.TempDir()})
		require.NoError(t, err)
		require.NoError(t, exp.Shutdown(ctx))
		err = exp.Export(ctx, personalizetest.RandomEvents(seeded(7), 4))
		require.ErrorIs(t, err, parquet.ErrClosed)
		assert.Equal(t, parquet.Stats{Failed: 4}, exp.Stats())
		assert.NoError(t, exp.Shutdown(ctx))
	})
	t.Run("FileLost", func(t *testing.T) {
		// The partition directory vanishes under an open file: finishing
		// it cannot rename, so its rows of earlier batches are lost and
		// said so, and the counters still add up.
		dir := t.TempDir()
		now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		exp, err := parquet.New(parquet.Config{Dir: dir, Now: func() time.Time { return now }})
		require.NoError(t, err)
		ev := oneHour(personalizetest.RandomEvents(seeded(8), 30))
		require.NoError(t, exp.Export(ctx, ev[:20]))
		require.NoError(t, os.RemoveAll(filepath.Join(dir, "dt=2026-11-02")))
		err = exp.ForceFlush(ctx)
		var lost *parquet.LostError
		require.ErrorAs(t, err, &lost)
		assert.Equal(t, int64(20), lost.Rows)
		assert.Contains(t, lost.File, "hour=12")
		assert.Equal(t, parquet.Stats{Failed: 20}, exp.Stats())
		// The exporter goes on with a new file.
		require.NoError(t, exp.Export(ctx, ev[20:]))
		require.NoError(t, exp.Shutdown(ctx))
		assert.Equal(t, parquet.Stats{Exported: 10, Failed: 20}, exp.Stats())
		got, _ := readAll(t, dir)
		assert.Len(t, got, 10)
	})
	t.Run("LostInExport", func(t *testing.T) {
		// A file of earlier and current rows fails while an Export rotates
		// it: the batch's own rows count in WriteError.Failed, the earlier
		// ones in a LostError.
		dir := t.TempDir()
		now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
		exp, err := parquet.New(parquet.Config{Dir: dir, MaxBytes: 1, RowGroupRows: 10, Now: func() time.Time { return now }})
		require.NoError(t, err)
		ev := oneHour(personalizetest.RandomEvents(seeded(9), 20))
		require.NoError(t, exp.Export(ctx, ev[:4]))
		require.NoError(t, os.RemoveAll(filepath.Join(dir, "dt=2026-11-02")))
		err = exp.Export(ctx, ev[4:])
		var we *parquet.WriteError
		require.ErrorAs(t, err, &we)
		var lost *parquet.LostError
		require.ErrorAs(t, err, &lost)
		assert.Equal(t, int64(4), lost.Rows)
		assert.Equal(t, 0, we.Written)
		assert.Equal(t, 16, we.Failed)
		require.NoError(t, exp.Shutdown(ctx))
		assert.Equal(t, parquet.Stats{Failed: 20}, exp.Stats())
	})
	t.Run("CanceledContext", func(t *testing.T) {
		exp, err := parquet.New(parquet.Config{Dir: t.TempDir()})
		require.NoError(t, err)
		c, cancel := context.WithCancel(ctx)
		cancel()
		err = exp.Export(c, personalizetest.RandomEvents(seeded(10), 3))
		require.ErrorIs(t, err, context.Canceled)
		require.NoError(t, exp.Shutdown(ctx))
		assert.Equal(t, parquet.Stats{Failed: 3}, exp.Stats())
	})
}

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		cfg   parquet.Config
		field string
	}{
		{parquet.Config{}, "Config.Dir"},
		{parquet.Config{Dir: dir, Prefix: ".hidden"}, "Config.Prefix"},
		{parquet.Config{Dir: dir, Prefix: "_hidden"}, "Config.Prefix"},
		{parquet.Config{Dir: dir, Prefix: "a/b"}, "Config.Prefix"},
		{parquet.Config{Dir: dir, MaxBytes: -1}, "Config.MaxBytes"},
		{parquet.Config{Dir: dir, MaxAge: -1}, "Config.MaxAge"},
		{parquet.Config{Dir: dir, RowGroupRows: -1}, "Config.RowGroupRows"},
		{parquet.Config{Dir: dir, MaxOpenFiles: -1}, "Config.MaxOpenFiles"},
	} {
		_, err := parquet.New(tc.cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.field)
	}
	f := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	_, err := parquet.New(parquet.Config{Dir: f})
	assert.ErrorContains(t, err, "Config.Dir")
}

// TestReadErrors checks that bad files and rows are refused with errors
// naming the file and the column.
func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "x.parquet")
	require.NoError(t, os.WriteFile(bad, []byte("PAR1 not really PAR1"), 0o600))
	err := parquet.ReadFile(bad, func(personalize.Event) error { return nil })
	var fe *parquet.FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, bad, fe.File)

	// A file of another schema: the rankscope columns are missing.
	type other struct {
		A int64 `parquet:"a"`
	}
	require.NoError(t, pq.WriteFile(bad, []other{{1}}))
	err = parquet.ReadFile(bad, func(personalize.Event) error { return nil })
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "schema_version", fe.Column)

	// A column of the schema with another type.
	type wrongType struct {
		SchemaVersion int64  `parquet:"schema_version"`
		Type          string `parquet:"type"`
	}
	require.NoError(t, pq.WriteFile(bad, []wrongType{{1, "link"}}))
	err = parquet.ReadFile(bad, func(personalize.Event) error { return nil })
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "schema_version", fe.Column)

	// Rows that are not valid events name their field.
	type minimal struct {
		SchemaVersion int32   `parquet:"schema_version"`
		Type          string  `parquet:"type"`
		EventID       string  `parquet:"event_id"`
		Time          int64   `parquet:"time,timestamp(microsecond)"`
		TimeNanos     int32   `parquet:"time_nanos"`
		UserID        *string `parquet:"user_id,optional"`
		SessionID     *string `parquet:"session_id,optional"`
		Kind          *string `parquet:"kind,optional"`
	}
	u, k := "u1", "wave"
	id := personalize.NewEventID().String()
	for _, tc := range []struct {
		row   minimal
		field string
	}{
		{minimal{SchemaVersion: 2, Type: "link", EventID: id, UserID: &u, SessionID: &u}, "schema_version"},
		{minimal{SchemaVersion: 1, Type: "linc", EventID: id, UserID: &u, SessionID: &u}, "type"},
		{minimal{SchemaVersion: 1, Type: "link", EventID: "nope", UserID: &u, SessionID: &u}, "event_id"},
		{minimal{SchemaVersion: 1, Type: "link", EventID: id, TimeNanos: 1000, UserID: &u, SessionID: &u}, "time_nanos"},
		{minimal{SchemaVersion: 1, Type: "outcome", EventID: id, UserID: &u, Kind: &k}, "kind"},
		{minimal{SchemaVersion: 1, Type: "link", EventID: id, UserID: &u}, "session_id"}, // validation: a link needs a session
	} {
		require.NoError(t, pq.WriteFile(bad, []minimal{tc.row}))
		err := parquet.ReadFile(bad, func(personalize.Event) error { return nil })
		var re *parquet.RowError
		require.ErrorAs(t, err, &re, tc.field)
		assert.Equal(t, tc.field, re.Field)
		assert.Equal(t, int64(0), re.Row)
	}
	// fn's error comes back as is, through file.ReadDir too.
	stop := errors.New("stop")
	require.NoError(t, pq.WriteFile(bad, []minimal{{SchemaVersion: 1, Type: "link", EventID: id, UserID: &u, SessionID: &u}}))
	assert.Equal(t, stop, parquet.ReadFile(bad, func(personalize.Event) error { return stop }))
	_, err = file.ReadDir(dir, func(personalize.Event) error { return stop })
	assert.Equal(t, stop, err)
}
