package dp

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Estimate is one differentially private figure.
type Estimate struct {
	// Value is the noisy result. Counts and sums are unbiased and may be
	// negative; a mean is clamped to [Lower, Upper] of the Config and is
	// not unbiased.
	Value float64
	// Scale is the noise's scale parameter (Laplace b, Gaussian sigma) and
	// StdDev its standard deviation, from [NoiseScale]. Both are 0 for a
	// mean, whose error is that of a ratio of two noisy figures: use the
	// interval.
	Scale, StdDev float64
	// Lower and Upper bound a confidence interval, at level 1-Alpha of the
	// table, for the value before noise (after contribution bounding),
	// computed by the library from the noisy value and the parameters
	// only, so it costs no budget.
	Lower, Upper float64
}

// Row is one segment's figures; a metric not released is nil.
type Row struct {
	Segment          string
	Count, Sum, Mean *Estimate
}

// Table is the result of one release. Every figure in it is
// differentially private; a report should say so next to each figure
// (see [Table.WriteText]), with the noise and the parameters below.
type Table struct {
	Dataset        string
	Epsilon, Delta float64 // the whole release's privacy loss
	Noise          Noise
	Alpha          float64 // intervals are at level 1-Alpha
	Metrics        []Metric
	// The contribution bounds the figures were computed under.
	MaxPartitions, MaxContributions int
	Lower, Upper                    float64
	Rows                            []Row // by segment name
	// Suppressed counts segments seen in the data that private partition
	// selection left out (always 0 with public segments).
	Suppressed int
}

// WriteText writes the table for people: a header line naming the
// dataset, the privacy parameters and the noise, then one line per
// segment where each figure is marked "~" (differentially private) and
// followed by its interval's half width ("±").
func (t *Table) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "differentially private (%s noise, epsilon=%s, delta=%s) release of %q: %d%% intervals; each user bounded to %d segments and %d contributions per segment",
		t.Noise, ftoa(t.Epsilon), ftoa(t.Delta), t.Dataset, int(100*(1-t.Alpha)+0.5), t.MaxPartitions, t.MaxContributions)
	for _, m := range t.Metrics {
		if m != MetricCount {
			fmt.Fprintf(w, ", values clamped to [%s, %s]", ftoa(t.Lower), ftoa(t.Upper))
			break
		}
	}
	if t.Suppressed > 0 {
		fmt.Fprintf(w, "; %d segments suppressed", t.Suppressed)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	cols := []string{"segment"}
	for _, m := range t.Metrics {
		cols = append(cols, m.String())
	}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range t.Rows {
		cells := []string{r.Segment}
		for _, m := range t.Metrics {
			var e *Estimate
			switch m {
			case MetricCount:
				e = r.Count
			case MetricSum:
				e = r.Sum
			case MetricMean:
				e = r.Mean
			}
			cells = append(cells, e.text())
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func (e *Estimate) text() string {
	if e == nil {
		return "-"
	}
	return "~" + strconv.FormatFloat(e.Value, 'g', 6, 64) + " ±" + strconv.FormatFloat((e.Upper-e.Lower)/2, 'g', 3, 64)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
