// Package duckdbtest proves the warehouse pushdown of
// personalize/warehouse against a real engine: embedded DuckDB
// (github.com/duckdb/duckdb-go/v2, cgo, DuckDB 1.5) runs the package's
// DuckDB SQL over the Parquet files exporters/parquet writes, and the
// package's Go finishing turns the rows into the same answers the
// in-process analyses give from the JSON lines of exporters/file.
//
// # Why a nested module
//
// The DuckDB driver is a cgo test-only peer with prebuilt static
// libraries of tens of megabytes; keeping it in its own module (with
// replace github.com/rankscope/rankscope => ../..) means a user's go get
// of rankscope never downloads it. Run it with
//
//	cd internal/duckdbtest && go test ./...
//
// # The events
//
// The quickstart itself (go run ./examples/quickstart -parquet DIR, 1,500
// simulated requests over two days, one at a time) writes one set of
// events both as JSON lines and as Parquet partitions.
//
// # What the tests check
//
//   - The experiment examples/experiment analyses (its metrics: click
//     rate, clicks, conversion, revenue and dwell per unit) from (a) the
//     JSON files through one experiment.Collector, (b) four collectors
//     over a split of the users, their states serialized, decoded and
//     merged (examples/experiment -shards 4), and (c) DuckDB running
//     warehouse.ExperimentQuery's SQL over the Parquet files, the rows
//     finished by ExperimentQuery.State: units, conflicts, exposure
//     bounds and every number of the report of the whole-number metrics
//     (rates and counts) are equal bit for bit; those of the value
//     metrics (revenue, dwell seconds) agree to a relative 1e-9 (see
//     TestExperimentSameAnswer for why not bit for bit). The rows read
//     through database/sql and through DuckDB's CSV (COPY ... TO) give
//     the same state, and the text examples/experiment prints equals the
//     text of the report from DuckDB's rows.
//   - CTR by position from relevance.Analyzer over the JSON files equals
//     warehouse.PositionCTRs of DuckDB's rows of warehouse.PositionQuery.
//
// There is no ClickHouse here: the ClickHouse text of the same queries
// is checked against golden files by personalize/warehouse's own tests.
package duckdbtest
