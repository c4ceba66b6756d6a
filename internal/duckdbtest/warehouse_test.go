package duckdbtest

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/experiment/stats"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/personalize/segment"
	"github.com/rankscope/rankscope/personalize/warehouse"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// exampleConfig is examples/experiment's configuration (its defaults):
// the 50/50 design, the registered plan, DefaultMetrics plus dwell
// seconds per unit.
func exampleConfig(t *testing.T) (experiment.CollectorConfig, experiment.AnalysisConfig) {
	t.Helper()
	const name = "ranker-v42"
	design, err := experiment.New(experiment.Config{Name: name,
		Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	require.NoError(t, err)
	n, err := stats.SampleSizeProportions(0.30, 0.33, 0.05, 0.8)
	require.NoError(t, err)
	reg, err := experiment.Register(experiment.Plan{
		Experiment:    name,
		Hypotheses:    []string{"ranker v42 raises the share of users who buy", "and does not lower the click rate"},
		PrimaryMetric: "conversion",
		Guardrails:    []string{"click_rate", "dwell_seconds_per_unit"},
		Alpha:         0.05, MDE: 0.03, Power: 0.8,
		SampleSize: int64(n + 1),
		Control:    "control",
	}, time.Now())
	require.NoError(t, err)
	metrics := append(experiment.DefaultMetrics(),
		experiment.Metric{Name: "dwell_seconds_per_unit", Kind: personalize.OutcomeDwell, Aggregate: experiment.AggregateValue})
	return experiment.CollectorConfig{Metrics: metrics, Experiments: []string{name}},
		experiment.AnalysisConfig{Experiment: name, Design: design, Registration: reg, Correction: stats.CorrectionHolm}
}

// TestExperimentSameAnswer: files, merged shard states and DuckDB give
// the same experiment answer.
//
// Bit for bit where the maths allows: a rate or count metric's y and x
// are whole numbers, so every sum is exact whatever the order of
// additions, and the states (hence every float of the report) are
// identical. A value metric's unit value is a sum of doubles (revenue,
// dwell seconds): the collector keeps a running total per unit and
// subtracts the total at exposure, the SQL adds the outcomes after
// exposure in the engine's order, and the warehouse rounds Σy and Σy²
// once before Go's exact sums take them. Each rounding is within an ulp
// or so, about 1e-16 relative; the statistics downstream (means,
// variances, t and normal tails) amplify that by their condition number,
// far below the 1e-9 asserted here.
func TestExperimentSameAnswer(t *testing.T) {
	jsonDir, parquetDir := quickstart(t)
	ccfg, acfg := exampleConfig(t)

	// (a) one collector over the JSON files.
	c, err := experiment.NewCollector(ccfg)
	require.NoError(t, err)
	_, err = file.ReadLines(jsonDir, func(b []byte) error { _ = c.AddLine(b); return nil })
	require.NoError(t, err)
	require.Zero(t, c.Stats().Malformed)
	fromFiles, err := c.Analyze(acfg)
	require.NoError(t, err)
	filesState := c.State()

	// (b) four collectors over a split by user, states through bytes, merged.
	merged := shardedState(t, jsonDir, 4, ccfg)
	fromShards, err := merged.Analyze(acfg)
	require.NoError(t, err)
	require.True(t, merged.Equal(filesState), "merged shard states differ from one pass")

	// (c) DuckDB over the Parquet files, finished in Go.
	db := openDB(t)
	q := warehouse.ExperimentQuery{Table: warehouse.ParquetFiles(warehouse.DuckDB, filepath.Join(parquetDir, "**", "*.parquet")),
		Metrics: ccfg.Metrics, Experiments: ccfg.Experiments}
	text, err := q.SQL(warehouse.DuckDB)
	require.NoError(t, err)
	rows, err := db.Query(text)
	require.NoError(t, err)
	armRows, err := q.Scan(rows)
	require.NoError(t, rows.Close())
	require.NoError(t, err)
	sqlState, err := q.State(armRows)
	require.NoError(t, err)
	fromSQL, err := sqlState.Analyze(acfg)
	require.NoError(t, err)

	// The same rows through DuckDB's CSV writer and ReadCSV. The rows are
	// stored first: DuckDB's parallel sums of doubles can differ in the
	// last bits from one run of the query to the next.
	_, err = db.Exec("CREATE TABLE arms AS " + text)
	require.NoError(t, err)
	rows, err = db.Query("SELECT * FROM arms ORDER BY experiment, variant")
	require.NoError(t, err)
	stored, err := q.Scan(rows)
	require.NoError(t, rows.Close())
	require.NoError(t, err)
	csvPath := filepath.Join(t.TempDir(), "arms.csv")
	_, err = db.Exec("COPY (SELECT * FROM arms ORDER BY experiment, variant) TO '" + csvPath + "' (HEADER)")
	require.NoError(t, err)
	f, err := os.Open(csvPath)
	require.NoError(t, err)
	csvRows, err := q.ReadCSV(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	assert.Equal(t, stored, csvRows, "CSV rows differ from database/sql rows")

	// The states: the same experiments, arms, units, conflicts and
	// exposure bounds; whole-number metrics' sums exactly equal.
	require.Len(t, sqlState.Experiments, 1)
	fe, se := filesState.Experiments[0], sqlState.Experiments[0]
	assert.Equal(t, fe.Name, se.Name)
	assert.Equal(t, fe.Conflicts, se.Conflicts)
	assert.True(t, fe.FirstExposure.Equal(se.FirstExposure), "first exposure %v vs %v", fe.FirstExposure, se.FirstExposure)
	assert.True(t, fe.LastExposure.Equal(se.LastExposure), "last exposure %v vs %v", fe.LastExposure, se.LastExposure)
	require.Len(t, se.Arms, len(fe.Arms))
	for i := range fe.Arms {
		a, b := fe.Arms[i], se.Arms[i]
		require.Equal(t, a.Variant, b.Variant)
		require.Equal(t, a.Units, b.Units, a.Variant)
		require.Positive(t, a.Units, a.Variant)
		for m, met := range ccfg.Metrics {
			if met.Aggregate == experiment.AggregateValue {
				assert.InEpsilon(t, a.Metrics[m].Sum(), b.Metrics[m].Sum(), 1e-12, "%s %s Σy", a.Variant, met.Name)
				assert.InEpsilon(t, a.Metrics[m].SumSquares(), b.Metrics[m].SumSquares(), 1e-12, "%s %s Σy²", a.Variant, met.Name)
				continue
			}
			assert.True(t, a.Metrics[m].Equal(&b.Metrics[m]), "%s %s: sums differ", a.Variant, met.Name)
		}
	}

	// The reports: (b) is (a) bit for bit; (c) is (a) bit for bit on
	// whole-number metrics and within 1e-9 on value metrics.
	compareReports(t, fromFiles, fromShards, func(experiment.Metric) float64 { return 0 })
	compareReports(t, fromFiles, fromSQL, func(m experiment.Metric) float64 {
		if m.Aggregate == experiment.AggregateValue {
			return 1e-9
		}
		return 0
	})
	// Something to compare: the primary metric has a comparison with a p-value.
	require.NotEmpty(t, fromSQL.Metrics[2].Comparisons)
	assert.Greater(t, fromSQL.Metrics[2].Comparisons[0].P, 0.0)

	// examples/experiment prints the report of DuckDB's rows.
	var want strings.Builder
	require.NoError(t, fromSQL.WriteText(&want))
	for _, args := range [][]string{{"-in", jsonDir}, {"-in", jsonDir, "-shards", "4"}} {
		cmd := exec.CommandContext(context.Background(), "go", append([]string{"run", "./examples/experiment"}, args...)...)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		require.NoError(t, err, "%v", args)
		_, report, ok := strings.Cut(string(out), "\n\n") // after the read counters
		require.True(t, ok, "%s", out)
		assert.Equal(t, want.String(), report, "examples/experiment %v", args)
	}
}

// shardedState is examples/experiment's -shards path: lines routed to n
// collectors by FNV-1a of the user pseudonym, each state serialized,
// decoded and merged.
func shardedState(t *testing.T, dir string, n int, cfg experiment.CollectorConfig) *experiment.State {
	t.Helper()
	cs := make([]*experiment.Collector, n)
	for i := range cs {
		var err error
		cs[i], err = experiment.NewCollector(cfg)
		require.NoError(t, err)
	}
	_, err := file.ReadLines(dir, func(line []byte) error {
		e, err := personalize.UnmarshalEvent(line)
		if err != nil {
			return err
		}
		var user string
		switch {
		case e.Impression != nil:
			user = e.Impression.UserID.ID
		case e.Outcome != nil:
			user = e.Outcome.UserID.ID
		case e.Exposure != nil:
			user = e.Exposure.UserID.ID
		case e.Link != nil:
			user = e.Link.UserID.ID
		}
		h := fnv.New32a()
		h.Write([]byte(user))
		return cs[h.Sum32()%uint32(n)].AddLine(line)
	})
	require.NoError(t, err)
	merged := &experiment.State{Metrics: cfg.Metrics}
	for _, c := range cs {
		b, err := c.State().MarshalBinary()
		require.NoError(t, err)
		var d experiment.State
		require.NoError(t, d.UnmarshalBinary(b))
		require.NoError(t, merged.Merge(&d))
	}
	return merged
}

// compareReports compares every field of two reports but the plan record
// (it holds the registration's wall-clock times): each metric's floats
// within tol(metric) relative (0: the same bits), everything else equal.
func compareReports(t *testing.T, want, got *experiment.Report, tol func(experiment.Metric) float64) {
	t.Helper()
	w, g := *want, *got
	w.Plan, g.Plan = nil, nil
	wm, gm := w.Metrics, g.Metrics
	w.Metrics, g.Metrics = nil, nil
	compareValues(t, "Report", reflect.ValueOf(w), reflect.ValueOf(g), 0)
	require.Len(t, gm, len(wm))
	for i := range wm {
		compareValues(t, "Metrics["+wm[i].Metric.Name+"]", reflect.ValueOf(wm[i]), reflect.ValueOf(gm[i]), tol(wm[i].Metric))
	}
}

func compareValues(t *testing.T, path string, a, b reflect.Value, tol float64) {
	t.Helper()
	if a.Type() == reflect.TypeFor[time.Time]() {
		assert.True(t, a.Interface().(time.Time).Equal(b.Interface().(time.Time)), path)
		return
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			compareValues(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i), tol)
		}
	case reflect.Slice:
		if !assert.Equal(t, a.Len(), b.Len(), path) {
			return
		}
		for i := range a.Len() {
			compareValues(t, fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), tol)
		}
	case reflect.Pointer:
		if !assert.Equal(t, a.IsNil(), b.IsNil(), path) || a.IsNil() {
			return
		}
		compareValues(t, path, a.Elem(), b.Elem(), tol)
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		switch {
		case tol == 0 || math.IsNaN(x) || math.IsInf(x, 0) || x == 0:
			assert.Equal(t, math.Float64bits(x), math.Float64bits(y), "%s: %v vs %v", path, x, y)
		default:
			assert.InEpsilon(t, x, y, tol, path)
		}
	default:
		if a.CanInterface() {
			assert.Equal(t, a.Interface(), b.Interface(), path)
		}
	}
}

// TestPositionCTRSameAnswer: CTR by position from relevance's in-process
// join over the JSON files equals DuckDB's counts finished by
// warehouse.PositionCTRs, exactly (counts and one division each). Both
// use a 24-hour join window: the in-process join moves event time with
// the files' order, which the pipeline's per-user shards interleave by up
// to a batch's age (a second of wall time, hours of the quickstart's
// simulated time), and a long window takes that out of the comparison.
func TestPositionCTRSameAnswer(t *testing.T) {
	jsonDir, parquetDir := quickstart(t)
	const window = 24 * time.Hour
	a, err := relevance.New(relevance.Config{Join: relevance.JoinConfig{Window: window}})
	require.NoError(t, err)
	_, err = file.ReadDir(jsonDir, a.Observe)
	require.NoError(t, err)
	a.Flush()
	rep := a.Report(segment.DimNone)
	require.Len(t, rep.Segments, 1)
	want := rep.Segments[0].CTRByPosition
	require.NotEmpty(t, want)

	db := openDB(t)
	q := warehouse.PositionQuery{Table: warehouse.ParquetFiles(warehouse.DuckDB, filepath.Join(parquetDir, "**", "*.parquet")), Window: window}
	text, err := q.SQL(warehouse.DuckDB)
	require.NoError(t, err)
	rows, err := db.Query(text)
	require.NoError(t, err)
	got, err := q.Scan(rows)
	require.NoError(t, rows.Close())
	require.NoError(t, err)
	ctrs, err := warehouse.PositionCTRs(got, 0)
	require.NoError(t, err)
	assert.Equal(t, want, ctrs)
	var clicks int64
	for _, c := range ctrs {
		clicks += c.Clicks
	}
	assert.Positive(t, clicks)
}
