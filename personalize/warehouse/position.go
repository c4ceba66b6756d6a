package warehouse

import (
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize/join"
	"github.com/rankscope/rankscope/personalize/relevance"
)

// PositionQuery asks a warehouse for the impressions and clicks at each
// rank position, the counts behind relevance's CTR by position.
// [PositionCTRs] finishes the rows into relevance.PositionCTR values.
type PositionQuery struct {
	// Table is the table expression the query reads, inserted verbatim
	// (SQL from the program, never from a user), for example
	// [ParquetFiles]. Required.
	Table string
	// MaxPosition is the last position counted (default 20, as
	// relevance.Config.MaxPosition).
	MaxPosition int
	// Window is how long after an impression's end a click still counts
	// (default join.DefaultWindow, 30 minutes, as
	// relevance.JoinConfig.Window).
	Window time.Duration
}

// Columns of a [PositionQuery]'s rows, in order.
const (
	ColPosition    = "position"
	ColImpressions = "impressions"
	ColClicks      = "clicks"
)

// Columns returns the names of the columns of the query's rows, in order:
// position, impressions, clicks.
func (q *PositionQuery) Columns() []string { return []string{ColPosition, ColImpressions, ColClicks} }

var positionKinds = []colKind{kindInt, kindInt, kindInt}

func (q *PositionQuery) defaults() (int, time.Duration, error) {
	if strings.TrimSpace(q.Table) == "" {
		return 0, 0, fmt.Errorf("warehouse: PositionQuery.Table: must be set")
	}
	maxPos, window := q.MaxPosition, q.Window
	if maxPos == 0 {
		maxPos = 20
	}
	if maxPos < 2 || maxPos > 1<<20 {
		return 0, 0, fmt.Errorf("warehouse: PositionQuery.MaxPosition: must be in [2, 2^20], got %d", maxPos)
	}
	if window == 0 {
		window = join.DefaultWindow
	}
	if window < 0 {
		return 0, 0, fmt.Errorf("warehouse: PositionQuery.Window: must be >= 0 (0 for the default), got %v", window)
	}
	return maxPos, window, nil
}

// SQL returns the query's text in dialect d.
//
// # Meaning
//
// The query reads the events of docs/SCHEMA.md (the Parquet table of
// exporters/parquet) and counts, for each position 1..MaxPosition, the
// items shown there (the items list of impression events) and those of
// them clicked: a click is an outcome of kind "click" with the
// impression's request_id and the item's id, at or after the impression's
// time (its end) and at most Window after it, as relevance's join
// (package join) pairs them. The result has one row per position with at
// least one impression, ordered by position, with columns position,
// impressions, clicks (BIGINT).
//
// # Where it differs from the in-process join
//
// An item listed twice in one impression is clicked at its first slot
// (by position, then list order), as the join credits it. The in-process
// join keeps at most MaxPending impressions waiting and moves event time
// with the stream, so an outcome read long after later events can miss
// its impression, and it takes a request id once while it is pending.
// The query has no bound and no stream, and assumes request ids are
// unique per impression (the pipeline makes them so).
func (q *PositionQuery) SQL(d Dialect) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	maxPos, window, err := q.defaults()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	it := "it"
	w("WITH events AS (\n  SELECT type, request_id, item, kind, items,\n    %s AS ts\n  FROM %s\n),\n", d.eventTimeNS(), q.Table)
	w("impressions AS (\n  SELECT request_id, ts, items FROM events WHERE type = 'impression'\n),\n")
	w("all_slots AS (\n  SELECT request_id, ts, %s AS item, %s AS position, idx\n", d.field(it, "id"), d.field(it, "position"))
	w("  FROM %s AS x\n),\n", d.unnest("impressions", "items", it, "idx", "request_id, ts"))
	// An item listed twice is clicked at its first slot in display order
	// (by position, then list order), as the join's Slot finds it.
	w("slots AS (\n  SELECT request_id, ts, item, position,\n")
	w("    row_number() OVER (PARTITION BY request_id, item ORDER BY position, idx) AS nth\n  FROM all_slots\n),\n")
	w("clicks AS (\n  SELECT request_id, item, ts FROM events\n  WHERE type = 'outcome' AND kind = 'click' AND request_id <> '' AND item <> ''\n),\n")
	w("hits AS (\n  SELECT DISTINCT s.request_id AS request_id, s.item AS item, 1 AS hit\n")
	w("  FROM slots AS s JOIN clicks AS c ON c.request_id = s.request_id AND c.item = s.item\n")
	w("  WHERE s.nth = 1 AND c.ts >= s.ts AND c.ts <= s.ts + %d\n)\n", window.Nanoseconds())
	w("SELECT %s AS %s, %s AS %s, %s AS %s\n", d.toInt64("s.position"), ColPosition, d.toInt64("count(*)"), ColImpressions,
		d.toInt64("sum(CASE WHEN s.nth = 1 THEN coalesce(h.hit, 0) ELSE 0 END)"), ColClicks)
	w("FROM slots AS s LEFT JOIN hits AS h ON h.request_id = s.request_id AND h.item = s.item\n")
	w("WHERE s.position BETWEEN 1 AND %d\n", maxPos)
	w("GROUP BY s.position\nORDER BY s.position\n")
	return b.String(), nil
}

// PositionRow is one row of a [PositionQuery]'s result.
type PositionRow struct {
	Position, Impressions, Clicks int64
}

// ReadCSV reads the query's result as CSV with a header row (DuckDB's
// COPY ... (HEADER), ClickHouse's FORMAT CSVWithNames); the header must
// name [PositionQuery.Columns]. Errors name the row and the column.
func (q *PositionQuery) ReadCSV(r io.Reader) ([]PositionRow, error) {
	vals, err := readCSV(r, "position rows", q.Columns(), positionKinds)
	if err != nil {
		return nil, err
	}
	return positionRowsOf(vals), nil
}

// Scan reads the query's result from database/sql, checking its columns.
// It does not close rows.
func (q *PositionQuery) Scan(rows *sql.Rows) ([]PositionRow, error) {
	vals, err := scanRows(rows, "position rows", q.Columns(), positionKinds)
	if err != nil {
		return nil, err
	}
	return positionRowsOf(vals), nil
}

func positionRowsOf(vals [][]value) []PositionRow {
	out := make([]PositionRow, len(vals))
	for i, v := range vals {
		out[i] = PositionRow{Position: v[0].i, Impressions: v[1].i, Clicks: v[2].i}
	}
	return out
}

// PositionCTRs checks rows (in any order) and returns the click-through
// rate of each position as relevance.Report's CTRByPosition gives it:
// ordered by position, positions without impressions left out, CTR =
// clicks / impressions. Errors name the row and the column: a position
// outside [1, maxPosition] (0 for relevance's default, 20) or repeated,
// negative counts, more clicks than impressions.
func PositionCTRs(rows []PositionRow, maxPosition int) ([]relevance.PositionCTR, error) {
	if maxPosition == 0 {
		maxPosition = 20
	}
	if maxPosition < 2 {
		return nil, fmt.Errorf("warehouse: PositionCTRs: maxPosition: must be >= 2, got %d", maxPosition)
	}
	rerr := func(i int, col, format string, args ...any) error {
		return fmt.Errorf("warehouse: position row %d: column %s: %s", i, col, fmt.Sprintf(format, args...))
	}
	seen := map[int64]int{}
	var out []relevance.PositionCTR
	for i, r := range rows {
		switch {
		case r.Position < 1 || r.Position > int64(maxPosition):
			return nil, rerr(i, ColPosition, "%d outside [1, %d]", r.Position, maxPosition)
		case r.Impressions < 0:
			return nil, rerr(i, ColImpressions, "must be >= 0, got %d", r.Impressions)
		case r.Clicks < 0:
			return nil, rerr(i, ColClicks, "must be >= 0, got %d", r.Clicks)
		case r.Clicks > r.Impressions:
			return nil, rerr(i, ColClicks, "%d exceeds %s %d", r.Clicks, ColImpressions, r.Impressions)
		}
		if j, dup := seen[r.Position]; dup {
			return nil, rerr(i, ColPosition, "%d repeats row %d", r.Position, j)
		}
		seen[r.Position] = i
		if r.Impressions == 0 {
			continue
		}
		out = append(out, relevance.PositionCTR{Position: int(r.Position), Impressions: r.Impressions, Clicks: r.Clicks,
			CTR: float64(r.Clicks) / float64(r.Impressions)})
	}
	slices.SortFunc(out, func(a, b relevance.PositionCTR) int { return a.Position - b.Position })
	return out, nil
}
