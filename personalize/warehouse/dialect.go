package warehouse

import (
	"fmt"
	"strings"
)

// Dialect is the SQL dialect a query is written in.
type Dialect uint8

// Dialects.
const (
	// DuckDB is DuckDB's SQL (tested here against DuckDB 1.5 through
	// github.com/duckdb/duckdb-go/v2 in internal/duckdbtest).
	DuckDB Dialect = iota + 1
	// ClickHouse is ClickHouse's SQL. No ClickHouse runs in this
	// project's tests: its text is checked against golden files only.
	ClickHouse
)

func (d Dialect) String() string {
	switch d {
	case DuckDB:
		return "duckdb"
	case ClickHouse:
		return "clickhouse"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

func (d Dialect) check() error {
	if d != DuckDB && d != ClickHouse {
		return fmt.Errorf("warehouse: dialect: unknown %s", d)
	}
	return nil
}

// quote returns s as a string literal of d. Both dialects double a single
// quote; ClickHouse also reads backslash escapes, so backslashes are
// doubled there.
func (d Dialect) quote(s string) string {
	if d == ClickHouse {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ParquetFiles returns a table expression of d that reads the Parquet
// files matching glob, as written by exporters/parquet (for example
// "/data/events/**/*.parquet": the exporter's in-progress files end in
// ".parquet.open" and do not match). DuckDB: read_parquet(glob);
// ClickHouse: file(glob, Parquet), which reads below the server's
// user_files_path (use s3(...) or a table loaded from the files the same
// way: any table with the columns of docs/SCHEMA.md's Parquet section
// will do). The glob is quoted as a string literal.
func ParquetFiles(d Dialect, glob string) string {
	if d == ClickHouse {
		return "file(" + d.quote(glob) + ", 'Parquet')"
	}
	return "read_parquet(" + d.quote(glob) + ")"
}

// eventTimeNS is the event time in nanoseconds since 1970 from the time
// (microseconds) and time_nanos columns: exact for the years 1678 to 2262,
// the range of the in-process analyses' int64 nanoseconds.
func (d Dialect) eventTimeNS() string {
	if d == ClickHouse {
		return "toUnixTimestamp64Micro(time) * 1000 + time_nanos"
	}
	return "epoch_us(time) * 1000 + time_nanos"
}

// fsum is a compensated (Kahan) sum of doubles: less dependent on the
// order the engine's threads add in than a plain sum.
func (d Dialect) fsum(x string) string {
	if d == ClickHouse {
		return "sumKahan(" + x + ")"
	}
	return "fsum(" + x + ")"
}

// intDiv and mod are integer division and remainder, truncating toward
// zero as Go does.
func (d Dialect) intDiv(a, b string) string {
	if d == ClickHouse {
		return "intDiv(" + a + ", " + b + ")"
	}
	return "(" + a + " // " + b + ")"
}

func (d Dialect) toDouble(x string) string {
	if d == ClickHouse {
		return "toFloat64(" + x + ")"
	}
	return "CAST(" + x + " AS DOUBLE)"
}

func (d Dialect) toInt64(x string) string {
	if d == ClickHouse {
		return "toInt64(" + x + ")"
	}
	return "CAST(" + x + " AS BIGINT)"
}

// field reads field name of the struct (ClickHouse: named tuple) s.
func (d Dialect) field(s, name string) string {
	if d == ClickHouse {
		return "tupleElement(" + s + ", '" + name + "')"
	}
	return s + "." + name
}

// unnest returns a subquery listing src's rows (their columns cols) once
// per element of the list column list, the element named as and, when
// idx is not empty, its 1-based index in the list named idx.
func (d Dialect) unnest(src, list, as, idx, cols string) string {
	if d == ClickHouse {
		j := list + " AS " + as
		if idx != "" {
			j += ", arrayEnumerate(" + list + ") AS " + idx
		}
		return "(SELECT " + cols + ", " + as + optional(idx) + " FROM " + src + " ARRAY JOIN " + j + ")"
	}
	u := "unnest(" + list + ") AS " + as
	if idx != "" {
		u += ", generate_subscripts(" + list + ", 1) AS " + idx
	}
	return "(SELECT " + cols + ", " + u + " FROM " + src + ")"
}

func optional(col string) string {
	if col == "" {
		return ""
	}
	return ", " + col
}
