package warehouse_test

import (
	"fmt"
	"strings"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/warehouse"
)

// The warehouse runs the SQL; Go checks its rows and finishes the
// statistics with the experiment package.
func ExampleExperimentQuery() {
	q := warehouse.ExperimentQuery{
		Table:   warehouse.ParquetFiles(warehouse.DuckDB, "/data/events/**/*.parquet"),
		Metrics: []experiment.Metric{{Name: "click_rate", Kind: personalize.OutcomeClick, Aggregate: experiment.AggregateAny}},
	}
	sql, err := q.SQL(warehouse.DuckDB)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.SplitN(sql, "\n", 5)[3]) // the table it reads
	// What the warehouse returned, as CSV with a header.
	rows, err := q.ReadCSV(strings.NewReader(strings.Join(q.Columns(), ",") + "\n" +
		"ranker-v42,control,1000,3,1793577613332695662,1793750226233143310,300,300,0,0,0\n" +
		"ranker-v42,treatment,1000,3,1793577613332695662,1793750226233143310,345,345,0,0,0\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := q.State(rows)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := st.Analyze(experiment.AnalysisConfig{Experiment: "ranker-v42"})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := r.Metrics[0].Comparisons[0]
	fmt.Printf("%s: %.3f vs %.3f, diff %+.3f, p %.4f, %d conflicts\n", r.Metrics[0].Metric.Name,
		r.Metrics[0].Arms[0].Estimate, r.Metrics[0].Arms[1].Estimate, c.Diff, c.P, r.Conflicts)
	// Output:
	//   FROM read_parquet('/data/events/**/*.parquet')
	// click_rate: 0.300 vs 0.345, diff +0.045, p 0.0313, 3 conflicts
}

// Impressions and clicks per position become relevance's CTR by position.
func ExamplePositionCTRs() {
	ctrs, err := warehouse.PositionCTRs([]warehouse.PositionRow{{Position: 2, Impressions: 1000, Clicks: 50}, {Position: 1, Impressions: 1000, Clicks: 100}}, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range ctrs {
		fmt.Printf("position %d: CTR %.3f\n", c.Position, c.CTR)
	}
	// Output:
	// position 1: CTR 0.100
	// position 2: CTR 0.050
}
