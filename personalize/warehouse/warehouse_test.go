package warehouse

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func testQueries() (ExperimentQuery, PositionQuery) {
	metrics := append(experiment.DefaultMetrics(),
		experiment.Metric{Name: "dwell", Kind: personalize.OutcomeDwell, Aggregate: experiment.AggregateValue},
		experiment.Metric{Name: "likes", Kind: personalize.OutcomeCustom, Custom: "it's\\liked", Aggregate: experiment.AggregateCount})
	return ExperimentQuery{Table: "events", Metrics: metrics, Experiments: []string{"ranker-v42"}}, PositionQuery{Table: "events"}
}

// TestGolden pins the SQL text of both dialects. No ClickHouse runs here:
// for ClickHouse the golden file and the shape checks below are the test
// (DuckDB's text also runs in internal/duckdbtest).
func TestGolden(t *testing.T) {
	eq, pq := testQueries()
	for _, d := range []Dialect{DuckDB, ClickHouse} {
		for name, gen := range map[string]func(Dialect) (string, error){"experiment": eq.SQL, "position": pq.SQL} {
			text, err := gen(d)
			require.NoError(t, err)
			path := filepath.Join("testdata", name+"."+d.String()+".sql")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), text, path)
			assert.Equal(t, strings.Count(text, "("), strings.Count(text, ")"), "%s: parentheses", path)
			assert.Zero(t, strings.Count(text, "'")%2, "%s: quotes", path)
			if d == ClickHouse && name == "experiment" {
				assert.Contains(t, text, `'it''s\\liked'`, path)
			} else if name == "experiment" {
				assert.Contains(t, text, `'it''s\liked'`, path)
			}
			if d == ClickHouse {
				for _, duck := range []string{"fsum(", "epoch_us(", "unnest(", " // ", "generate_subscripts(", "CAST("} {
					assert.NotContains(t, text, duck, path)
				}
			}
			cols := eq.Columns()
			if name == "position" {
				cols = pq.Columns()
			}
			for _, c := range cols {
				assert.Contains(t, text, " AS "+c, path)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	eq, pq := testQueries()
	_, err := eq.SQL(Dialect(9))
	assert.ErrorContains(t, err, "dialect")
	_, err = (&ExperimentQuery{}).SQL(DuckDB)
	assert.ErrorContains(t, err, "Table")
	_, err = (&PositionQuery{Table: "t", MaxPosition: 1}).SQL(DuckDB)
	assert.ErrorContains(t, err, "MaxPosition")
	_, err = pq.ReadCSV(strings.NewReader("position,impressions,clics\n"))
	assert.ErrorContains(t, err, `column 2 is "clics"`)
	_, err = pq.ReadCSV(strings.NewReader("position,impressions,clicks\n1,2,x\n"))
	assert.ErrorContains(t, err, "row 0: column clicks")
	_, err = PositionCTRs([]PositionRow{{Position: 1, Impressions: 1, Clicks: 2}}, 0)
	assert.ErrorContains(t, err, "column clicks")

	q := ExperimentQuery{Table: "t", Metrics: experiment.DefaultMetrics()[:1]}
	row := ArmRow{Experiment: "e", Variant: "a", Units: 10, Metrics: []MetricSums{{SumY: 3, SumYY: 3}}}
	for _, c := range []struct {
		edit func(*ArmRow)
		want string
	}{
		{func(r *ArmRow) { r.Variant = "" }, "column variant"},
		{func(r *ArmRow) { r.Units = -1 }, "column units"},
		{func(r *ArmRow) { r.Metrics[0].SumY = 3.5 }, "column m0_sum_y"},
		{func(r *ArmRow) { r.Metrics[0].SumYY = 4 }, "column m0_sum_yy"},
		{func(r *ArmRow) { r.Metrics[0].SumY, r.Metrics[0].SumYY = 11, 11 }, "exceeds"},
		{func(r *ArmRow) { r.LastExposureNS = -1 }, "column last_exposure_ns"},
	} {
		r := row
		r.Metrics = []MetricSums{row.Metrics[0]}
		c.edit(&r)
		_, err := q.State([]ArmRow{r})
		assert.ErrorContains(t, err, c.want)
	}
	_, err = q.State([]ArmRow{row, row})
	assert.ErrorContains(t, err, "duplicate")
	r2 := row
	r2.Variant, r2.Conflicts = "b", 2
	_, err = q.State([]ArmRow{row, r2})
	assert.ErrorContains(t, err, "column conflicts")
}

// FuzzReadCSV: any bytes give rows or an error, never a panic; rows that
// read are checked by State/PositionCTRs without a panic.
func FuzzReadCSV(f *testing.F) {
	eq := ExperimentQuery{Table: "t", Metrics: experiment.DefaultMetrics()[:2]}
	pq := PositionQuery{Table: "t"}
	f.Add([]byte(strings.Join(eq.Columns(), ",") + "\ne,a,10,0,1,2,3,3,0,0,0,4,6,1,1,1\n"))
	f.Add([]byte("position,impressions,clicks\n1,10,2\n2,10,1\n"))
	f.Add([]byte("position,impressions,clicks\n1,1e3,NaN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if rows, err := eq.ReadCSV(strings.NewReader(string(b))); err == nil {
			if st, err := eq.State(rows); err == nil {
				require.NoError(t, st.Validate())
			}
		}
		if rows, err := pq.ReadCSV(strings.NewReader(string(b))); err == nil {
			if ctrs, err := PositionCTRs(rows, 0); err == nil {
				for _, c := range ctrs {
					require.True(t, c.CTR >= 0 && c.CTR <= 1)
				}
			}
		}
	})
}
