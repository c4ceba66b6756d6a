package warehouse

import (
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// Limits of the row readers: the aggregated results are small (one row
// per arm or position), so anything near these is not such a result.
const (
	// MaxRows bounds the rows read from one result.
	MaxRows = 1 << 20
	// MaxCSVBytes bounds the bytes ReadCSV reads.
	MaxCSVBytes = 64 << 20
	// maxField bounds one text field (a name).
	maxField = 1 << 16
)

type colKind uint8

const (
	kindString colKind = iota
	kindInt
	kindFloat
)

// value is one parsed field.
type value struct {
	s string
	i int64
	f float64
}

// errTooLarge is returned past MaxCSVBytes.
var errTooLarge = fmt.Errorf("warehouse: result larger than MaxCSVBytes (%d)", MaxCSVBytes)

type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// readCSV reads a CSV result with a header row naming exactly cols, in
// order (what DuckDB's COPY (query) TO 'f.csv' (HEADER) and ClickHouse's
// FORMAT CSVWithNames write), parsing each field as kinds says.
func readCSV(r io.Reader, what string, cols []string, kinds []colKind) ([][]value, error) {
	cr := csv.NewReader(&limitedReader{r: r, n: MaxCSVBytes})
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("warehouse: %s: no header row", what)
	}
	if err != nil {
		return nil, fmt.Errorf("warehouse: %s: header: %w", what, err)
	}
	if err := checkHeader(what, head, cols); err != nil {
		return nil, err
	}
	var out [][]value
	for row := 0; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("warehouse: %s: row %d: %w", what, row, err)
		}
		if row >= MaxRows {
			return nil, fmt.Errorf("warehouse: %s: more than MaxRows (%d) rows", what, MaxRows)
		}
		if len(rec) != len(cols) {
			return nil, fmt.Errorf("warehouse: %s: row %d: %d fields, want %d", what, row, len(rec), len(cols))
		}
		vals := make([]value, len(cols))
		for j, f := range rec {
			if vals[j], err = parseField(f, kinds[j]); err != nil {
				return nil, fmt.Errorf("warehouse: %s: row %d: column %s: %w", what, row, cols[j], err)
			}
		}
		out = append(out, vals)
	}
}

func checkHeader(what string, got, want []string) error {
	if slices.Equal(got, want) {
		return nil
	}
	for j := range min(len(got), len(want)) {
		if got[j] != want[j] {
			return fmt.Errorf("warehouse: %s: header: column %d is %.64q, want %q", what, j, got[j], want[j])
		}
	}
	return fmt.Errorf("warehouse: %s: header: %d columns, want %d (%v)", what, len(got), len(want), want)
}

func parseField(f string, k colKind) (value, error) {
	if len(f) > maxField {
		return value{}, fmt.Errorf("%d bytes, more than %d", len(f), maxField)
	}
	switch k {
	case kindString:
		return value{s: f}, nil
	case kindInt:
		if f == "" {
			return value{}, errors.New("empty (NULL?), want an integer")
		}
		i, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("not an int64: %.64q", f)
		}
		return value{i: i}, nil
	default:
		if f == "" {
			return value{}, errors.New("empty (NULL?), want a number")
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return value{}, fmt.Errorf("not a finite number: %.64q", f)
		}
		return value{f: v}, nil
	}
}

// scanRows reads a database/sql result whose columns are exactly cols.
func scanRows(rows *sql.Rows, what string, cols []string, kinds []colKind) ([][]value, error) {
	got, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("warehouse: %s: %w", what, err)
	}
	if err := checkHeader(what, got, cols); err != nil {
		return nil, err
	}
	var out [][]value
	dest := make([]any, len(cols))
	for row := 0; rows.Next(); row++ {
		if row >= MaxRows {
			return nil, fmt.Errorf("warehouse: %s: more than MaxRows (%d) rows", what, MaxRows)
		}
		vals := make([]value, len(cols))
		for j, k := range kinds {
			switch k {
			case kindString:
				dest[j] = &vals[j].s
			case kindInt:
				dest[j] = &vals[j].i
			default:
				dest[j] = &vals[j].f
			}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("warehouse: %s: row %d: %w", what, row, err)
		}
		for j, k := range kinds {
			if k == kindFloat && (math.IsNaN(vals[j].f) || math.IsInf(vals[j].f, 0)) {
				return nil, fmt.Errorf("warehouse: %s: row %d: column %s: not finite: %v", what, row, cols[j], vals[j].f)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("warehouse: %s: %w", what, err)
	}
	return out, nil
}

// ReadCSV reads the query's result as CSV with a header row, as DuckDB's
// COPY (query) TO 'rows.csv' (HEADER) and ClickHouse's FORMAT
// CSVWithNames write it. The header must name [ExperimentQuery.Columns]
// in order. Errors name the row (counted from 0 after the header) and the
// column. Check and convert the rows with [ExperimentQuery.State].
func (q *ExperimentQuery) ReadCSV(r io.Reader) ([]ArmRow, error) {
	vals, err := readCSV(r, "experiment rows", q.Columns(), q.kinds())
	if err != nil {
		return nil, err
	}
	return q.rowsOf(vals), nil
}

// Scan reads the query's result from database/sql (any driver: DuckDB's,
// ClickHouse's), checking that its columns are [ExperimentQuery.Columns].
// It does not close rows.
func (q *ExperimentQuery) Scan(rows *sql.Rows) ([]ArmRow, error) {
	vals, err := scanRows(rows, "experiment rows", q.Columns(), q.kinds())
	if err != nil {
		return nil, err
	}
	return q.rowsOf(vals), nil
}

func (q *ExperimentQuery) rowsOf(vals [][]value) []ArmRow {
	out := make([]ArmRow, len(vals))
	for i, v := range vals {
		out[i] = q.rowOf(v)
	}
	return out
}
