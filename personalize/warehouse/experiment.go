package warehouse

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

// ExperimentQuery asks a warehouse for the per-arm sufficient statistics
// of experiments: for each (experiment, variant) the units and, per
// metric, Σy, Σy², Σx, Σx², Σxy, where y is a unit's value after its
// first exposure and x before it (the CUPED covariate), as
// experiment.Collector defines them. [ExperimentQuery.State] turns the
// rows into an experiment.State that State.Analyze finishes.
type ExperimentQuery struct {
	// Table is the table expression the query reads, inserted verbatim
	// (it is SQL, not a value: it must come from the program, never from
	// a user): for example [ParquetFiles] or a table name. Required.
	Table string
	// Metrics, as in experiment.CollectorConfig (default
	// experiment.DefaultMetrics()).
	Metrics []experiment.Metric
	// Experiments to include; empty means all.
	Experiments []string
}

// metrics returns q.Metrics or the defaults.
func (q *ExperimentQuery) metrics() []experiment.Metric {
	if len(q.Metrics) == 0 {
		return experiment.DefaultMetrics()
	}
	return q.Metrics
}

// check validates q the way experiment.NewCollector validates its
// configuration (through a State's Validate).
func (q *ExperimentQuery) check() error {
	if strings.TrimSpace(q.Table) == "" {
		return fmt.Errorf("warehouse: ExperimentQuery.Table: must be set")
	}
	st := experiment.State{Metrics: q.metrics()}
	if err := st.Validate(); err != nil {
		return fmt.Errorf("warehouse: ExperimentQuery.Metrics: %w", err)
	}
	for i, e := range q.Experiments {
		if e == "" {
			return fmt.Errorf("warehouse: ExperimentQuery.Experiments[%d]: must not be empty", i)
		}
	}
	return nil
}

// ExperimentColumns of a result row, in order; then, for metric i,
// MetricColumns(i).
const (
	ColExperiment      = "experiment"
	ColVariant         = "variant"
	ColUnits           = "units"
	ColConflicts       = "conflicts"
	ColFirstExposureNS = "first_exposure_ns"
	ColLastExposureNS  = "last_exposure_ns"
)

// MetricColumns returns the five columns of metric i of an
// [ExperimentQuery]'s rows: m<i>_sum_y, m<i>_sum_yy, m<i>_sum_x,
// m<i>_sum_xx, m<i>_sum_xy.
func MetricColumns(i int) [5]string {
	p := "m" + strconv.Itoa(i) + "_sum_"
	return [5]string{p + "y", p + "yy", p + "x", p + "xx", p + "xy"}
}

// Columns returns the names of the columns of the query's rows, in order.
func (q *ExperimentQuery) Columns() []string {
	cols := []string{ColExperiment, ColVariant, ColUnits, ColConflicts, ColFirstExposureNS, ColLastExposureNS}
	for i := range q.metrics() {
		m := MetricColumns(i)
		cols = append(cols, m[:]...)
	}
	return cols
}

func (q *ExperimentQuery) kinds() []colKind {
	k := []colKind{kindString, kindString, kindInt, kindInt, kindInt, kindInt}
	for range len(q.metrics()) * 5 {
		k = append(k, kindFloat)
	}
	return k
}

// ArmRow is one row of an [ExperimentQuery]'s result: one arm of one
// experiment.
type ArmRow struct {
	Experiment, Variant string
	// Units are the arm's units (those not in conflict).
	Units int64
	// Conflicts, FirstExposureNS and LastExposureNS are the experiment's
	// (repeated on each of its arms): units seen in more than one
	// variant, and the first and last of the units' first exposures in
	// nanoseconds since 1970.
	Conflicts                       int64
	FirstExposureNS, LastExposureNS int64
	// Metrics holds one MetricSums per query metric, in order.
	Metrics []MetricSums
}

// MetricSums are one metric's sums over an arm's units.
type MetricSums struct {
	SumY, SumYY, SumX, SumXX, SumXY float64
}

func (q *ExperimentQuery) rowOf(v []value) ArmRow {
	r := ArmRow{Experiment: v[0].s, Variant: v[1].s, Units: v[2].i, Conflicts: v[3].i,
		FirstExposureNS: v[4].i, LastExposureNS: v[5].i}
	for i := 6; i+5 <= len(v); i += 5 {
		r.Metrics = append(r.Metrics, MetricSums{v[i].f, v[i+1].f, v[i+2].f, v[i+3].f, v[i+4].f})
	}
	return r
}

// source is one tracked outcome kind (and custom name), as the collector
// tracks them: metrics of the same kind share its counts and values.
type source struct {
	kind   personalize.OutcomeKind
	custom string
}

func sourcesOf(metrics []experiment.Metric) (srcs []source, of []int) {
	for _, m := range metrics {
		s := source{m.Kind, m.Custom}
		i := slices.Index(srcs, s)
		if i < 0 {
			i = len(srcs)
			srcs = append(srcs, s)
		}
		of = append(of, i)
	}
	return srcs, of
}

// SQL returns the query's text in dialect d.
//
// # Meaning
//
// The query reads the events of docs/SCHEMA.md (the Parquet table of
// exporters/parquet, one row per event) and reproduces
// experiment.Collector with event time in place of the order of the
// files:
//
//   - exposures are exposure events and the (experiment, variant) pairs of
//     impressions, each with a user pseudonym (user_id), at the event's
//     time in nanoseconds (time and time_nanos);
//   - a unit is a user_id in an experiment; its first exposure is the
//     earliest; a unit seen in two variants is a conflict and is left
//     out of the arms (counted in conflicts);
//   - every variant seen in an exposure is an arm, with zero units if
//     only conflicting units saw it;
//   - a unit's outcomes of a metric's kind (and, for custom outcomes,
//     name) at or after its first exposure give y, those before it x:
//     for "any" 1 if there is one, for "count" their number, for "value"
//     the sum of value (dwell: dwell_ns in seconds; scroll:
//     scroll_depth); outcomes without user_id are not joined.
//
// The result has one row per (experiment, variant), ordered by both, with
// [ExperimentQuery.Columns]: experiment, variant, units, conflicts,
// first_exposure_ns, last_exposure_ns, then per metric i the sums of y,
// y², x, x², x·y over the arm's units (DOUBLE). Sums of doubles are
// compensated (DuckDB fsum, ClickHouse sumKahan).
//
// # Where it differs from the in-process collector
//
// The collector follows the order events are read in; the query follows
// event time. They agree whenever each unit's events are written in the
// order of their times (the pipeline writes a user's events in the order
// they were emitted, and an outcome follows the impression it is about).
// An outcome at the same nanosecond as the first exposure counts after
// it. The collector's MaxUnits bound has no counterpart. Counts and "any"
// metrics are whole numbers, exact in a double below 2^53, so their sums
// are exactly the collector's; "value" metrics are sums of doubles whose
// last bits depend on the order of the additions, which differs (see
// internal/duckdbtest for the measured difference).
func (q *ExperimentQuery) SQL(d Dialect) (string, error) {
	if err := d.check(); err != nil {
		return "", err
	}
	if err := q.check(); err != nil {
		return "", err
	}
	metrics := q.metrics()
	srcs, srcOf := sourcesOf(metrics)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	expFilter := func(col string) string {
		if len(q.Experiments) == 0 {
			return ""
		}
		lits := make([]string, len(q.Experiments))
		for i, e := range q.Experiments {
			lits[i] = d.quote(e)
		}
		return " AND " + col + " IN (" + strings.Join(lits, ", ") + ")"
	}
	w("WITH events AS (\n  SELECT type, user_id, experiment, variant, experiments, kind, name, value, dwell_ns, scroll_depth,\n")
	w("    %s AS ts\n  FROM %s\n),\n", d.eventTimeNS(), q.Table)
	w("impressions AS (\n  SELECT user_id, ts, experiments FROM events WHERE type = 'impression' AND user_id <> ''\n),\n")
	a := "a"
	w("exposures AS (\n  SELECT user_id AS unit, experiment, variant, ts FROM events\n")
	w("  WHERE type = 'exposure' AND user_id <> '' AND experiment <> '' AND variant <> ''%s\n", expFilter("experiment"))
	w("  UNION ALL\n  SELECT user_id AS unit, %s AS experiment, %s AS variant, ts\n", d.field(a, "experiment"), d.field(a, "variant"))
	w("  FROM %s AS x\n", d.unnest("impressions", "experiments", a, "", "user_id, ts"))
	w("  WHERE %s <> '' AND %s <> ''%s\n),\n", d.field(a, "experiment"), d.field(a, "variant"), expFilter(d.field(a, "experiment")))
	w("units AS (\n  SELECT experiment, unit, min(ts) AS first_ts, min(variant) AS variant, count(DISTINCT variant) > 1 AS conflict\n")
	w("  FROM exposures GROUP BY experiment, unit\n),\n")

	// One count and one value column per tracked source.
	w("outcomes AS (\n  SELECT user_id AS unit, ts")
	var kinds []string
	for i, s := range srcs {
		cond := "kind = " + d.quote(s.kind.String())
		if s.kind == personalize.OutcomeCustom {
			cond += " AND name = " + d.quote(s.custom)
		}
		var v string
		switch s.kind {
		case personalize.OutcomeDwell:
			// Go's Duration.Seconds: whole seconds plus the remainder / 1e9.
			ns := "coalesce(dwell_ns, 0)"
			v = d.toDouble(d.intDiv(ns, "1000000000")) + " + " + d.toDouble("("+ns+" % 1000000000)") + " / 1e9"
		case personalize.OutcomeScroll:
			v = "coalesce(scroll_depth, 0)"
		default:
			v = "coalesce(value, 0)"
		}
		w(",\n    CASE WHEN %s THEN 1 ELSE 0 END AS n%d,\n    CASE WHEN %s THEN %s ELSE 0 END AS v%d", cond, i, cond, v, i)
		kinds = append(kinds, d.quote(s.kind.String()))
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	w("\n  FROM events WHERE type = 'outcome' AND user_id <> '' AND kind IN (%s)\n),\n", strings.Join(kinds, ", "))

	w("unit_values AS (\n  SELECT u.experiment AS experiment, u.variant AS variant, u.conflict AS conflict")
	for i := range srcs {
		w(",\n    sum(CASE WHEN o.ts < u.first_ts THEN o.n%d ELSE 0 END) AS pre_n%d", i, i)
		w(",\n    sum(CASE WHEN o.ts >= u.first_ts THEN o.n%d ELSE 0 END) AS post_n%d", i, i)
		w(",\n    sum(CASE WHEN o.ts < u.first_ts THEN o.v%d ELSE 0 END) AS pre_v%d", i, i)
		w(",\n    sum(CASE WHEN o.ts >= u.first_ts THEN o.v%d ELSE 0 END) AS post_v%d", i, i)
	}
	w("\n  FROM units AS u LEFT JOIN outcomes AS o ON o.unit = u.unit\n")
	w("  GROUP BY u.experiment, u.unit, u.variant, u.conflict\n),\n")

	w("metric_values AS (\n  SELECT experiment, variant")
	for i, m := range metrics {
		s := srcOf[i]
		var y, x string
		switch m.Aggregate {
		case experiment.AggregateAny:
			y = fmt.Sprintf("CASE WHEN post_n%d > 0 THEN 1.0 ELSE 0.0 END", s)
			x = fmt.Sprintf("CASE WHEN pre_n%d > 0 THEN 1.0 ELSE 0.0 END", s)
		case experiment.AggregateCount:
			y, x = d.toDouble(fmt.Sprintf("post_n%d", s)), d.toDouble(fmt.Sprintf("pre_n%d", s))
		default: // AggregateValue
			y, x = d.toDouble(fmt.Sprintf("post_v%d", s)), d.toDouble(fmt.Sprintf("pre_v%d", s))
		}
		w(",\n    %s AS y%d,\n    %s AS x%d", y, i, x, i)
	}
	w("\n  FROM unit_values WHERE NOT conflict\n),\n")

	w("per_arm AS (\n  SELECT experiment, variant, count(*) AS units")
	for i := range metrics {
		w(",\n    %s AS sy%d, %s AS syy%d, %s AS sx%d, %s AS sxx%d, %s AS sxy%d",
			d.fsum(fmt.Sprintf("y%d", i)), i, d.fsum(fmt.Sprintf("y%d * y%d", i, i)), i,
			d.fsum(fmt.Sprintf("x%d", i)), i, d.fsum(fmt.Sprintf("x%d * x%d", i, i)), i, d.fsum(fmt.Sprintf("x%d * y%d", i, i)), i)
	}
	w("\n  FROM metric_values GROUP BY experiment, variant\n),\n")
	w("arms AS (\n  SELECT DISTINCT experiment, variant FROM exposures\n),\n")
	w("per_experiment AS (\n  SELECT experiment, sum(CASE WHEN conflict THEN 1 ELSE 0 END) AS conflicts,\n")
	w("    min(first_ts) AS first_ts, max(first_ts) AS last_ts\n  FROM units GROUP BY experiment\n)\n")

	w("SELECT r.experiment AS %s, r.variant AS %s, %s AS %s, %s AS %s,\n  %s AS %s, %s AS %s",
		ColExperiment, ColVariant, d.toInt64("coalesce(p.units, 0)"), ColUnits, d.toInt64("e.conflicts"), ColConflicts,
		d.toInt64("e.first_ts"), ColFirstExposureNS, d.toInt64("e.last_ts"), ColLastExposureNS)
	for i := range metrics {
		c := MetricColumns(i)
		for j, p := range []string{"sy", "syy", "sx", "sxx", "sxy"} {
			w(",\n  %s AS %s", d.toDouble(fmt.Sprintf("coalesce(p.%s%d, 0)", p, i)), c[j])
		}
	}
	w("\nFROM arms AS r\nJOIN per_experiment AS e ON e.experiment = r.experiment\n")
	w("LEFT JOIN per_arm AS p ON p.experiment = r.experiment AND p.variant = r.variant\n")
	w("ORDER BY r.experiment, r.variant\n")
	return b.String(), nil
}

// State checks rows (the result of the query's SQL, in any order) and
// builds the experiment.State they describe, one Sums per metric from the
// row's sums (experiment.NewSums and Sums.SetCovariate). Call
// State.Analyze on it for the report; with the same events, metrics and
// analysis configuration it is the report experiment.Collector gives (see
// [ExperimentQuery.SQL] for where they can differ).
//
// Errors name the row (its index in rows) and the column: an empty name,
// a duplicate (experiment, variant), a negative count or sum, a sum that
// is not finite, experiment columns that differ between its rows, "any"
// metrics whose sums are not whole numbers of units in [0, units] (and
// whose sums of squares differ from them), "count" metrics whose sums are
// not whole numbers, or an arm without units whose sums are not zero.
func (q *ExperimentQuery) State(rows []ArmRow) (*experiment.State, error) {
	metrics := q.metrics()
	st := experiment.State{Metrics: slices.Clone(metrics)}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("warehouse: ExperimentQuery.Metrics: %w", err)
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(rows[a].Experiment, rows[b].Experiment), cmp.Compare(rows[a].Variant, rows[b].Variant))
	})
	for k, ri := range order {
		r := &rows[ri]
		if err := q.checkRow(ri, r, len(metrics)); err != nil {
			return nil, err
		}
		if k > 0 {
			p := &rows[order[k-1]]
			if p.Experiment == r.Experiment && p.Variant == r.Variant {
				return nil, rowErr(ri, r, ColVariant, "duplicate of row %d", order[k-1])
			}
		}
		n := len(st.Experiments)
		if n == 0 || st.Experiments[n-1].Name != r.Experiment {
			st.Experiments = append(st.Experiments, experiment.ExperimentState{Name: r.Experiment,
				FirstExposure: time.Unix(0, r.FirstExposureNS).UTC(), LastExposure: time.Unix(0, r.LastExposureNS).UTC(),
				Conflicts: r.Conflicts})
		} else {
			p := &rows[order[k-1]]
			for _, c := range []struct {
				name string
				a, b int64
			}{{ColConflicts, r.Conflicts, p.Conflicts}, {ColFirstExposureNS, r.FirstExposureNS, p.FirstExposureNS},
				{ColLastExposureNS, r.LastExposureNS, p.LastExposureNS}} {
				if c.a != c.b {
					return nil, rowErr(ri, r, c.name, "%d differs from %d in row %d of the same experiment", c.a, c.b, order[k-1])
				}
			}
		}
		e := &st.Experiments[len(st.Experiments)-1]
		arm := experiment.ArmState{Variant: r.Variant, Units: r.Units, Metrics: make([]experiment.Sums, len(metrics))}
		for i, m := range r.Metrics {
			s := experiment.NewSums(r.Units, m.SumY, m.SumYY)
			s.SetCovariate(m.SumX, m.SumXX, m.SumXY)
			arm.Metrics[i] = s
		}
		e.Arms = append(e.Arms, arm)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("warehouse: rows: %w", err)
	}
	return &st, nil
}

func rowErr(i int, r *ArmRow, col, format string, args ...any) error {
	return fmt.Errorf("warehouse: experiment row %d (%q/%q): column %s: %s", i, r.Experiment, r.Variant, col, fmt.Sprintf(format, args...))
}

// checkRow checks one row on its own.
func (q *ExperimentQuery) checkRow(i int, r *ArmRow, nm int) error {
	switch {
	case r.Experiment == "":
		return rowErr(i, r, ColExperiment, "must not be empty")
	case r.Variant == "":
		return rowErr(i, r, ColVariant, "must not be empty")
	case r.Units < 0:
		return rowErr(i, r, ColUnits, "must be >= 0, got %d", r.Units)
	case r.Conflicts < 0:
		return rowErr(i, r, ColConflicts, "must be >= 0, got %d", r.Conflicts)
	case r.LastExposureNS < r.FirstExposureNS:
		return rowErr(i, r, ColLastExposureNS, "%d is before %s %d", r.LastExposureNS, ColFirstExposureNS, r.FirstExposureNS)
	case len(r.Metrics) != nm:
		return rowErr(i, r, "m*", "%d metrics' sums for %d metrics", len(r.Metrics), nm)
	}
	units := float64(r.Units)
	for mi, m := range r.Metrics {
		cols := MetricColumns(mi)
		vals := [5]float64{m.SumY, m.SumYY, m.SumX, m.SumXX, m.SumXY}
		for j, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return rowErr(i, r, cols[j], "not finite: %v", v)
			}
			if v < 0 {
				// Every metric's y and x are >= 0: counts, and values,
				// dwell and scroll depths, which validation keeps >= 0.
				return rowErr(i, r, cols[j], "must be >= 0, got %v", v)
			}
			if r.Units == 0 && v != 0 {
				return rowErr(i, r, cols[j], "%v for an arm without units", v)
			}
		}
		whole := func(j int) error {
			if vals[j] != math.Trunc(vals[j]) || vals[j] > 1<<53 {
				return rowErr(i, r, cols[j], "%v is not a whole number (below 2^53)", vals[j])
			}
			return nil
		}
		switch q.metrics()[mi].Aggregate {
		case experiment.AggregateAny:
			// y and x are 0 or 1: sums are counts of units, squares equal them.
			for j := range vals {
				if err := whole(j); err != nil {
					return err
				}
				if vals[j] > units {
					return rowErr(i, r, cols[j], "%v exceeds the %d units of a 0/1 metric", vals[j], r.Units)
				}
			}
			if m.SumYY != m.SumY {
				return rowErr(i, r, cols[1], "%v differs from %s %v (y is 0 or 1)", m.SumYY, cols[0], m.SumY)
			}
			if m.SumXX != m.SumX {
				return rowErr(i, r, cols[3], "%v differs from %s %v (x is 0 or 1)", m.SumXX, cols[2], m.SumX)
			}
			if m.SumXY > min(m.SumX, m.SumY) {
				return rowErr(i, r, cols[4], "%v exceeds min(%s, %s) (x and y are 0 or 1)", m.SumXY, cols[2], cols[0])
			}
		case experiment.AggregateCount:
			for j := range vals {
				if err := whole(j); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
