package relevance

import (
	"math"
	"slices"
	"strings"

	"github.com/rankscope/rankscope/personalize/segment"
)

// Report is a snapshot of an [Analyzer]'s results, split by segment.
type Report struct {
	// Dims are the segment dimensions kept; segments differing only in
	// other dimensions were merged.
	Dims     segment.Dim
	Segments []SegmentReport // sorted by Key.String()
	// PositionBias is estimated over all traffic (not per segment).
	PositionBias Estimate
	Stats        Stats
}

// Stats counts the events an Analyzer saw.
type Stats struct {
	Events  int64
	Ignored int64 // exposure and link events
	Join    JoinStats
	// SegmentOverflow counts impressions accounted to OverflowKey because
	// MaxSegments distinct keys were in use.
	SegmentOverflow int64
	// UnjoinedEngagement counts dwell and scroll outcomes whose impression
	// was not pending (they are in no segment's engagement).
	UnjoinedEngagement int64
	// ForgottenUsers counts (user, surface) rankings dropped by the
	// MaxUsers bound; their next ranking starts a new stability chain.
	ForgottenUsers int64
	// PositionBiasOverflow counts item placements the position-bias model
	// did not track (item or position cap).
	PositionBiasOverflow int64
}

// SegmentReport holds every result of one segment.
type SegmentReport struct {
	Key           segment.Key
	Calibration   CalibrationReport
	Ranking       RankingReport
	CTRByPosition []PositionCTR
	Stability     StabilityReport
	Engagement    EngagementReport
}

// CalibrationReport is the calibration of Item.Score as a probability that
// the item gets an outcome with a positive grade (see JoinConfig.Grades).
// Scores outside [0,1] are not observed and are counted in Rejected.
type CalibrationReport struct {
	N          int64
	Rejected   int64
	Brier      float64
	LogLoss    float64
	EqualWidth Curve
	EqualMass  Curve // approximate: edges on the 1/FineBins grid
}

// RankingReport holds the ranking metrics of finalized impressions in
// display order with grades from their outcomes. NDCG, MRR, precision and
// recall are means over Judged impressions, those with at least one item
// graded > 0: an impression without outcome has no defined NDCG or recall.
// Multiply by Judged/Impressions for the all-impression mean with zeros.
type RankingReport struct {
	K           int
	Gain        Gain
	Impressions int64
	Judged      int64
	NDCG        float64
	MRR         float64
	Precision   float64 // relevant in top K / K
	// Recall is relevant in top K / relevant in the list. It is 1 by
	// construction when no served list is longer than K (outcomes exist
	// only for items shown): informative only for longer lists.
	Recall float64
}

// PositionCTR is the click-through rate at one position.
type PositionCTR struct {
	Position    int
	Impressions int64
	Clicks      int64
	CTR         float64
}

// StabilityReport compares each ranking with the previous ranking of the
// same user (or session, without user) and surface, over the top Depth
// items.
type StabilityReport struct {
	Persistence float64 // RBO persistence p of RBO
	Depth       int
	Pairs       int64
	// RBO is the mean RBO_ext over Pairs.
	RBO float64
	// KendallTauB is the mean tau-b over the union of both top lists, an
	// item missing from one list tied at the bottom of it; pairs where it is
	// undefined (a single item in the union) are left out and counted in
	// TauUndefined.
	KendallTauB  float64
	TauUndefined int64
}

// EngagementReport holds dwell, scroll depth and repeat visits.
type EngagementReport struct {
	DwellCount int64
	// Dwell statistics in seconds; quantiles from a DDSketch with 1%
	// relative accuracy.
	DwellMean, DwellP50, DwellP90 float64
	ScrollCount                   int64
	ScrollMean                    float64
	// Visits counts new sessions of known users; RepeatVisits those whose
	// user had a previous visit within RepeatWindow.
	Visits, RepeatVisits int64
	RepeatRate           float64
}

// Report returns the results merged onto the dimensions dims
// (segment.DimNone for all traffic in one segment, segment.DimAll for the
// finest split). It finalizes nothing: impressions still waiting for
// outcomes are not in the ranking, calibration and CTR results (see
// Stats.Join.Pending).
func (a *Analyzer) Report(dims segment.Dim) Report {
	a.mu.Lock()
	defer a.mu.Unlock()
	merged := make(map[segment.Key]*acc)
	for k, s := range a.segs {
		pk := k
		if k != OverflowKey {
			pk = k.Project(dims)
		}
		m := merged[pk]
		if m == nil {
			m = a.newAcc()
			merged[pk] = m
		}
		m.merge(s)
	}
	rep := Report{Dims: dims, PositionBias: a.bias.Estimate(200)}
	rep.Stats = Stats{Events: a.events, Ignored: a.ignored, Join: a.join.Stats(), SegmentOverflow: a.overflow,
		UnjoinedEngagement: a.unjoinedEngagement, ForgottenUsers: a.last.forgotten, PositionBiasOverflow: a.bias.Overflow}
	for k, m := range merged {
		rep.Segments = append(rep.Segments, a.segmentReport(k, m))
	}
	slices.SortFunc(rep.Segments, func(x, y SegmentReport) int { return strings.Compare(x.Key.String(), y.Key.String()) })
	return rep
}

// Segment returns the report of key (after merging onto dims) and whether
// it exists.
func (r Report) Segment(key segment.Key) (SegmentReport, bool) {
	for _, s := range r.Segments {
		if s.Key == key {
			return s, true
		}
	}
	return SegmentReport{}, false
}

func (m *acc) merge(s *acc) {
	_ = m.cal.Merge(s.cal) // same configuration by construction
	m.impressions += s.impressions
	m.judged += s.judged
	m.sumNDCG += s.sumNDCG
	m.sumRR += s.sumRR
	m.sumPrec += s.sumPrec
	m.sumRec += s.sumRec
	for i := range m.posImps {
		m.posImps[i] += s.posImps[i]
		m.posClicks[i] += s.posClicks[i]
	}
	m.pairs += s.pairs
	m.tauUndefined += s.tauUndefined
	m.sumTau += s.sumTau
	m.sumRBO += s.sumRBO
	_ = m.dwell.MergeWith(s.dwell)
	m.dwellSum += s.dwellSum
	m.scrolls += s.scrolls
	m.scrollSum += s.scrollSum
	m.visits += s.visits
	m.repeats += s.repeats
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

func (a *Analyzer) segmentReport(k segment.Key, m *acc) SegmentReport {
	r := SegmentReport{Key: k}
	r.Calibration = CalibrationReport{N: m.cal.N(), Rejected: m.cal.Rejected, Brier: m.cal.Brier(), LogLoss: m.cal.LogLoss(),
		EqualWidth: m.cal.Curve(BinningEqualWidth), EqualMass: m.cal.Curve(BinningEqualMass)}
	j := float64(m.judged)
	r.Ranking = RankingReport{K: a.cfg.K, Gain: a.cfg.Gain, Impressions: m.impressions, Judged: m.judged,
		NDCG: ratio(m.sumNDCG, j), MRR: ratio(m.sumRR, j), Precision: ratio(m.sumPrec, j), Recall: ratio(m.sumRec, j)}
	for i, n := range m.posImps {
		if n > 0 {
			r.CTRByPosition = append(r.CTRByPosition, PositionCTR{Position: i + 1, Impressions: n, Clicks: m.posClicks[i], CTR: float64(m.posClicks[i]) / float64(n)})
		}
	}
	r.Stability = StabilityReport{Persistence: a.cfg.Persistence, Depth: a.cfg.StabilityDepth, Pairs: m.pairs,
		RBO: ratio(m.sumRBO, float64(m.pairs)), KendallTauB: ratio(m.sumTau, float64(m.pairs-m.tauUndefined)), TauUndefined: m.tauUndefined}
	e := EngagementReport{DwellCount: int64(m.dwell.GetCount()), ScrollCount: m.scrolls, Visits: m.visits, RepeatVisits: m.repeats}
	e.DwellMean = ratio(m.dwellSum, m.dwell.GetCount())
	e.DwellP50, e.DwellP90 = math.NaN(), math.NaN()
	if e.DwellCount > 0 {
		e.DwellP50, _ = m.dwell.GetValueAtQuantile(0.5)
		e.DwellP90, _ = m.dwell.GetValueAtQuantile(0.9)
	}
	e.ScrollMean = ratio(m.scrollSum, float64(m.scrolls))
	e.RepeatRate = ratio(float64(m.repeats), float64(m.visits))
	r.Engagement = e
	return r
}
