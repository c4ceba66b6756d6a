// Package warehouse pushes the heaviest group-bys of rankscope's analyses
// down to a warehouse and finishes the statistics in Go: SQL text in two
// dialects ([DuckDB], [ClickHouse]) over the events table of docs/SCHEMA.md
// (the Parquet files of exporters/parquet, one row per event), and
// functions that check the aggregated rows and turn them into the
// existing packages' types, so the statistics are computed by those
// packages and nowhere else.
//
// # Queries
//
//   - [ExperimentQuery]: per (experiment, variant) the units and, per
//     metric, Σy, Σy², Σx, Σx², Σxy (y after the unit's first exposure, x
//     before it, the CUPED covariate). [ExperimentQuery.State] builds an
//     experiment.State (experiment.NewSums, Sums.SetCovariate) whose
//     Analyze gives the report experiment.Collector gives.
//   - [PositionQuery]: impressions and clicks per rank position.
//     [PositionCTRs] returns relevance.PositionCTR values as
//     relevance's report has them.
//
// Attribution's transition counts are not pushed down (journeys need
// identity resolution and ordered per-user events; see
// docs/design/scale.md): attribution.Markov states per worker merge
// instead.
//
// Each query's SQL method documents its meaning and where it can differ
// from the in-process analysis (event time instead of file order). The
// table is a table expression of the program's ([ParquetFiles] builds one
// for the exporter's files). Rows come back through database/sql (Scan)
// or as CSV with a header (ReadCSV: DuckDB's COPY ... (HEADER),
// ClickHouse's FORMAT CSVWithNames); both check the column names and
// name the row and column of a bad value.
//
// # Verification
//
// The DuckDB text runs against embedded DuckDB over the quickstart's
// Parquet files in the nested module internal/duckdbtest, which compares
// the answers with the in-process analyses of the same events' JSON
// lines. No ClickHouse runs in this project's tests: the ClickHouse text
// is checked against golden files (testdata/*.clickhouse.sql) only.
//
// # Concurrency
//
// The query types are values; their methods may run concurrently as long
// as the values are not modified.
package warehouse
