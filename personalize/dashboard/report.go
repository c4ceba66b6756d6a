package dashboard

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// ReportConfig configures a [ReportBuilder]. The zero value of every field
// means its documented default.
type ReportConfig struct {
	// Title heads the report. Default "Personalization report".
	Title string
	// Control names each experiment's control variant. Default: the
	// variant named "control" when there is one, else the first by name.
	Control map[string]string
	// Shares holds the configured traffic share of each variant by
	// experiment for the sample-ratio check. Default: equal split.
	Shares map[string]map[string]float64
	// Alpha is the significance level of every test and the interval
	// level's complement. Only 0.05 is supported today; 0 means 0.05.
	Alpha float64
	// MixingSD is the standard deviation of the normal mixture of the
	// sequential test on a difference of conversion rates. Default 0.05
	// (five percentage points): a wider mixture costs little power on
	// large samples and keeps large effects on small samples detectable.
	MixingSD float64
	// SLO holds latency targets by stage ([TotalStage] for end to end).
	SLO map[string]SLO
	// MaxPending bounds the impressions remembered to join clicks.
	// Default 1,000,000; the oldest are forgotten first.
	MaxPending int
	// MaxUnits bounds the units remembered per experiment and for
	// attribution. Default 2,000,000.
	MaxUnits int
	// MaxItems bounds the distinct items counted for the exposure Gini.
	// Default 1,000,000.
	MaxItems int
	// LiftPoints is the number of points of the lift-over-time series.
	// Default 12.
	LiftPoints int
	// Now stamps Report.Generated. Default time.Now.
	Now func() time.Time
}

// Report is the summary of a set of event files. Every field is an
// aggregate; no identifier appears in it.
type Report struct {
	Title     string    `json:"title"`
	Generated time.Time `json:"generated"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Services  []string  `json:"services,omitempty"`
	// Summary is the executive summary: plain sentences with the headline
	// numbers and their uncertainty.
	Summary       []string           `json:"summary"`
	Counts        ReportCounts       `json:"counts"`
	Latency       []StageLatency     `json:"latency"`
	CTR           Rate               `json:"ctr"`
	CTRByPosition []PositionCTR      `json:"ctr_by_position"`
	Calibration   *Calibration       `json:"calibration,omitempty"`
	Diversity     Diversity          `json:"diversity"`
	Exposure      []GroupExposure    `json:"exposure,omitempty"`
	Attribution   Attribution        `json:"attribution"`
	Experiments   []ExperimentResult `json:"experiments,omitempty"`
	Lift          []LiftSeries       `json:"lift,omitempty"`
	Notes         []string           `json:"notes,omitempty"`
}

// ReportCounts are the event totals.
type ReportCounts struct {
	Impressions int64 `json:"impressions"`
	ItemsShown  int64 `json:"items_shown"`
	Outcomes    int64 `json:"outcomes"`
	Clicks      int64 `json:"clicks"`
	Conversions int64 `json:"conversions"`
	Exposures   int64 `json:"exposures"`
	Links       int64 `json:"links"`
	// Users counts distinct pseudonymous users (up to MaxUnits).
	Users int64 `json:"users"`
}

// Rate is a proportion with its 95% Wilson interval.
type Rate struct {
	Successes int64   `json:"successes"`
	Trials    int64   `json:"trials"`
	Rate      float64 `json:"rate"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
}

func newRate(k, n int64) Rate {
	r := Rate{Successes: k, Trials: n}
	if n > 0 {
		lo, hi := wilson(k, n)
		r.Rate, r.Lo, r.Hi = round6(float64(k)/float64(n)), round6(lo), round6(hi)
	}
	return r
}

// Diversity describes variety within rankings and spread of exposure
// across items.
type Diversity struct {
	// MeanCategories is the mean number of distinct categories per
	// ranking; MeanEntropyBits the mean Shannon entropy (bits) of the
	// categories within a ranking.
	MeanCategories  float64 `json:"mean_categories"`
	MeanEntropyBits float64 `json:"mean_entropy_bits"`
	// ItemGini is the Gini coefficient of impressions across distinct
	// items (0: every item shown equally often; near 1: a few items take
	// all exposure).
	ItemGini float64 `json:"item_gini"`
	// DistinctItems is the number of distinct items shown.
	DistinctItems int64 `json:"distinct_items"`
}

// Attribution is conversion credit by surface.
type Attribution struct {
	// Model is the credit rule: "last_touch" gives each conversion to the
	// surface of the user's last click before it, else of the last
	// ranking shown to the user, else "(none)".
	Model   string          `json:"model"`
	Credits []SurfaceCredit `json:"credits"`
}

// SurfaceCredit is one surface's conversion credit.
type SurfaceCredit struct {
	Surface     string  `json:"surface"`
	Conversions float64 `json:"conversions"`
	Value       float64 `json:"value"`
	Share       float64 `json:"share"`
}

// ArmResult is one arm's conversion over exposed units.
type ArmResult struct {
	Variant string `json:"variant"`
	Rate
	ExpectedShare float64 `json:"expected_share,omitempty"`
}

// Comparison is one treatment arm against control on one metric.
type Comparison struct {
	Variant string `json:"variant"`
	Metric  string `json:"metric"`
	PropDiff
	// AdjustedP is Holm's adjustment of P across every comparison of the
	// report.
	AdjustedP float64 `json:"adjusted_p"`
	// Sequential is "significant" when the always-valid p-value is below
	// alpha, else "continue".
	Sequential string `json:"sequential"`
}

// ExperimentResult is one experiment's analysis.
type ExperimentResult struct {
	Name        string       `json:"name"`
	Control     string       `json:"control"`
	Arms        []ArmResult  `json:"arms"`
	SRMPValue   float64      `json:"srm_p_value"`
	SRM         string       `json:"srm"`
	Comparisons []Comparison `json:"comparisons"`
}

// LiftSeries is the cumulative conversion lift of one treatment arm over
// control as the experiment ran.
type LiftSeries struct {
	Experiment string      `json:"experiment"`
	Variant    string      `json:"variant"`
	Points     []LiftPoint `json:"points"`
}

// LiftPoint is the cumulative comparison at one time.
type LiftPoint struct {
	Time        time.Time `json:"time"`
	ControlRate float64   `json:"control_rate"`
	Rate        float64   `json:"rate"`
	Diff        float64   `json:"diff"`
	Lo          float64   `json:"lo"`
	Hi          float64   `json:"hi"`
}

// ReportBuilder aggregates events into a [Report] in one pass, in bounded
// memory (see [ReportConfig]). Feed it events in file order with Add. It
// is not safe for concurrent use.
type ReportBuilder struct {
	cfg      ReportConfig
	rep      Report
	stages   map[string]*hist
	stageOrd []string
	rel      *relevance
	join     *joiner
	services map[string]bool
	users    map[string]struct{}
	// experiments
	exps     map[string]*expState
	expOrder []string
	// attribution
	lastTouch map[string]string
	credit    map[string]*SurfaceCredit
	// diversity
	lists, catSum int64
	entSum        float64
	items         map[string]int64
	itemOverflow  int64
}

type unitState struct {
	variant   string
	exposed   time.Time
	converted time.Time
}

type expState struct {
	units    map[string]*unitState
	overflow int64
}

// NewReportBuilder validates cfg and returns a builder.
func NewReportBuilder(cfg ReportConfig) (*ReportBuilder, error) {
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"MaxPending", &cfg.MaxPending, 1_000_000}, {"MaxUnits", &cfg.MaxUnits, 2_000_000}, {"MaxItems", &cfg.MaxItems, 1_000_000}, {"LiftPoints", &cfg.LiftPoints, 12}} {
		if *f.v < 0 {
			return nil, fmt.Errorf("dashboard: ReportConfig.%s: must be >= 0, got %d", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	switch {
	case cfg.Alpha != 0 && cfg.Alpha != 0.05:
		return nil, fmt.Errorf("dashboard: ReportConfig.Alpha: only 0.05 is supported, got %v", cfg.Alpha)
	case cfg.MixingSD < 0 || math.IsNaN(cfg.MixingSD):
		return nil, fmt.Errorf("dashboard: ReportConfig.MixingSD: must be > 0, got %v", cfg.MixingSD)
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.05
	}
	if cfg.MixingSD == 0 {
		cfg.MixingSD = 0.05
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Title == "" {
		cfg.Title = "Personalization report"
	}
	return &ReportBuilder{
		cfg: cfg, stages: map[string]*hist{}, rel: newRelevance(50, 200), join: newJoiner(cfg.MaxPending),
		services: map[string]bool{}, users: map[string]struct{}{}, exps: map[string]*expState{},
		lastTouch: map[string]string{}, credit: map[string]*SurfaceCredit{}, items: map[string]int64{},
	}, nil
}

func (b *ReportBuilder) span(t time.Time) {
	if t.IsZero() {
		return
	}
	if b.rep.From.IsZero() || t.Before(b.rep.From) {
		b.rep.From = t
	}
	if t.After(b.rep.To) {
		b.rep.To = t
	}
}

func (b *ReportBuilder) user(id string) {
	if id == "" {
		return
	}
	if _, ok := b.users[id]; !ok && len(b.users) < b.cfg.MaxUnits {
		b.users[id] = struct{}{}
	}
}

func (b *ReportBuilder) stage(name string, d time.Duration, degraded bool) {
	h := b.stages[name]
	if h == nil {
		if len(b.stages) >= 64 {
			return
		}
		h = newHist()
		b.stages[name] = h
		b.stageOrd = append(b.stageOrd, name)
	}
	h.add(float64(d)/float64(time.Millisecond), degraded)
}

func (b *ReportBuilder) expose(exp, variant, unit string, t time.Time) {
	if exp == "" || variant == "" || unit == "" {
		return
	}
	e := b.exps[exp]
	if e == nil {
		if len(b.exps) >= 100 {
			return
		}
		e = &expState{units: map[string]*unitState{}}
		b.exps[exp] = e
		b.expOrder = append(b.expOrder, exp)
	}
	if u, ok := e.units[unit]; ok {
		if t.Before(u.exposed) {
			u.exposed = t
		}
		return
	}
	if len(e.units) >= b.cfg.MaxUnits {
		e.overflow++
		return
	}
	e.units[unit] = &unitState{variant: variant, exposed: t}
}

// Add aggregates one event. Events without a payload are ignored.
func (b *ReportBuilder) Add(e personalize.Event) {
	t := e.Time()
	switch {
	case e.Impression != nil:
		im := e.Impression
		b.span(t)
		b.rep.Counts.Impressions++
		b.rep.Counts.ItemsShown += int64(len(im.Items))
		b.services[im.Service] = true
		b.user(im.User.ID)
		b.stage(TotalStage, im.Duration(), im.Status != personalize.StageOK)
		for i := range im.Stages {
			s := &im.Stages[i]
			b.stage(s.Name, s.Duration, s.Status != personalize.StageOK)
		}
		p := b.rel.impression(im)
		b.join.add(im.RequestID, p)
		for _, a := range im.Experiments {
			b.expose(a.Experiment, a.Variant, im.User.ID, t)
		}
		if im.User.ID != "" && im.Surface != "" {
			b.touch(im.User.ID, "i:"+im.Surface)
		}
		b.diversity(im)
	case e.Outcome != nil:
		o := e.Outcome
		b.span(t)
		b.rep.Counts.Outcomes++
		b.services[o.Service] = true
		b.user(o.UserID.ID)
		switch {
		case o.Kind == personalize.OutcomeClick:
			b.rep.Counts.Clicks++
			if it := b.join.click(o.RequestID, o.Item); it != nil {
				b.rel.click(it)
			}
			if o.Surface != "" && o.UserID.ID != "" {
				b.touch(o.UserID.ID, "c:"+o.Surface)
			}
		case o.Kind.IsConversion():
			b.rep.Counts.Conversions++
			b.convert(o, t)
		}
	case e.Exposure != nil:
		x := e.Exposure
		b.span(t)
		b.rep.Counts.Exposures++
		b.services[x.Service] = true
		b.user(x.UserID.ID)
		b.expose(x.Experiment, x.Variant, x.UserID.ID, t)
	case e.Link != nil:
		b.rep.Counts.Links++
	}
}

// touch records the user's latest touchpoint: "c:" clicks outrank "i:"
// impressions, so a later impression does not replace a click.
func (b *ReportBuilder) touch(user, tp string) {
	old, ok := b.lastTouch[user]
	if !ok && len(b.lastTouch) >= b.cfg.MaxUnits {
		return
	}
	if strings.HasPrefix(tp, "i:") && strings.HasPrefix(old, "c:") {
		return
	}
	b.lastTouch[user] = tp
}

func (b *ReportBuilder) convert(o *personalize.Outcome, t time.Time) {
	surface := "(none)"
	if tp, ok := b.lastTouch[o.UserID.ID]; ok {
		surface = tp[2:]
	}
	c := b.credit[surface]
	if c == nil {
		if len(b.credit) >= 100 {
			surface = OtherGroup
			if c = b.credit[surface]; c == nil {
				c = &SurfaceCredit{Surface: surface}
				b.credit[surface] = c
			}
		} else {
			c = &SurfaceCredit{Surface: surface}
			b.credit[surface] = c
		}
	}
	c.Conversions++
	c.Value += o.Value
	for _, e := range b.exps {
		if u := e.units[o.UserID.ID]; u != nil && u.converted.IsZero() && !t.Before(u.exposed) {
			u.converted = t
		}
	}
}

func (b *ReportBuilder) diversity(im *personalize.Impression) {
	if len(im.Items) == 0 {
		return
	}
	cats := map[string]int{}
	for i := range im.Items {
		it := &im.Items[i]
		if it.Category != "" {
			cats[it.Category]++
		}
		if _, ok := b.items[it.ID]; ok || len(b.items) < b.cfg.MaxItems {
			b.items[it.ID]++
		} else {
			b.itemOverflow++
		}
	}
	if len(cats) == 0 {
		return
	}
	b.lists++
	b.catSum += int64(len(cats))
	var n int
	for _, c := range cats {
		n += c
	}
	for _, c := range cats {
		p := float64(c) / float64(n)
		b.entSum -= p * math.Log2(p)
	}
}

func gini(counts []int64) float64 {
	if len(counts) == 0 {
		return 0
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i] < counts[j] })
	var sum, weighted float64
	n := float64(len(counts))
	for i, c := range counts {
		sum += float64(c)
		weighted += (2*float64(i+1) - n - 1) * float64(c)
	}
	if sum == 0 {
		return 0
	}
	return weighted / (n * sum)
}

func (b *ReportBuilder) control(exp string, variants []string) string {
	if c, ok := b.cfg.Control[exp]; ok {
		return c
	}
	for _, v := range variants {
		if v == "control" {
			return v
		}
	}
	return variants[0]
}

// Report finishes the aggregation. It may be called more than once; later
// calls include events added since.
func (b *ReportBuilder) Report() *Report {
	r := b.rep
	r.Title = b.cfg.Title
	r.Generated = b.cfg.Now().UTC().Truncate(time.Second)
	r.From, r.To = r.From.UTC(), r.To.UTC()
	for s := range b.services {
		if s != "" {
			r.Services = append(r.Services, s)
		}
	}
	sort.Strings(r.Services)
	r.Counts.Users = int64(len(b.users))
	order := append([]string(nil), b.stageOrd...)
	sort.Slice(order, func(i, j int) bool {
		if (order[i] == TotalStage) != (order[j] == TotalStage) {
			return order[i] == TotalStage
		}
		return order[i] < order[j]
	})
	for _, n := range order {
		h := b.stages[n]
		r.Latency = append(r.Latency, StageLatency{Stage: n, SLO: b.cfg.SLO[n], Windows: []Quantiles{h.summary("all")}, Histogram: h.buckets(40)})
	}
	r.CTRByPosition = b.rel.ctr()
	var clicks, shown int64
	for _, p := range r.CTRByPosition {
		clicks += p.Clicks
		shown += p.Impressions
	}
	r.CTR = newRate(clicks, shown)
	r.Calibration = b.rel.calibration()
	r.Exposure = b.rel.exposure()
	if b.lists > 0 {
		r.Diversity.MeanCategories = round6(float64(b.catSum) / float64(b.lists))
		r.Diversity.MeanEntropyBits = round6(b.entSum / float64(b.lists))
	}
	counts := make([]int64, 0, len(b.items))
	for _, c := range b.items {
		counts = append(counts, c)
	}
	r.Diversity.DistinctItems = int64(len(counts))
	r.Diversity.ItemGini = round6(gini(counts))
	r.Attribution = b.attribution()
	r.Experiments, r.Lift = b.experiments()
	if b.join.unjoined > 0 || b.join.evicted > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d clicks could not be joined to their ranking (ranking not in the files or beyond the %d most recent).", b.join.unjoined, b.cfg.MaxPending))
	}
	if b.rel.nonProb > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d item scores outside [0, 1] were left out of the calibration curve.", b.rel.nonProb))
	}
	if b.itemOverflow > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d impressions of items beyond the first %d distinct items were left out of the Gini.", b.itemOverflow, b.cfg.MaxItems))
	}
	r.Notes = append(r.Notes,
		"Computed by the dashboard package from the event files: latency quantiles from log-bucketed histograms (relative error at most 2.5%); intervals are 95% (Wilson for rates, unpooled Wald for differences).",
		fmt.Sprintf("Sequential verdicts use the normal-mixture SPRT (Johari et al. 2017) with mixing standard deviation %v on the difference of conversion rates; p-values are Holm-adjusted across all comparisons.", b.cfg.MixingSD))
	r.Summary = summarize(&r)
	return &r
}

func (b *ReportBuilder) attribution() Attribution {
	a := Attribution{Model: "last_touch"}
	var tot float64
	for _, c := range b.credit {
		tot += c.Conversions
	}
	for _, c := range b.credit {
		sc := *c
		sc.Value = round6(sc.Value)
		if tot > 0 {
			sc.Share = round6(sc.Conversions / tot)
		}
		a.Credits = append(a.Credits, sc)
	}
	sort.Slice(a.Credits, func(i, j int) bool {
		if a.Credits[i].Conversions != a.Credits[j].Conversions {
			return a.Credits[i].Conversions > a.Credits[j].Conversions
		}
		return a.Credits[i].Surface < a.Credits[j].Surface
	})
	return a
}

func (b *ReportBuilder) experiments() ([]ExperimentResult, []LiftSeries) {
	names := append([]string(nil), b.expOrder...)
	sort.Strings(names)
	var out []ExperimentResult
	var lifts []LiftSeries
	type ref struct{ e, c int }
	var refs []ref
	var ps []float64
	for _, name := range names {
		e := b.exps[name]
		conv := map[string]int64{}
		n := map[string]int64{}
		for _, u := range e.units {
			n[u.variant]++
			if !u.converted.IsZero() {
				conv[u.variant]++
			}
		}
		variants := make([]string, 0, len(n))
		for v := range n {
			variants = append(variants, v)
		}
		sort.Strings(variants)
		x := ExperimentResult{Name: name, Control: b.control(name, variants)}
		counts := make([]int64, len(variants))
		var shares []float64
		var tot int64
		for i, v := range variants {
			counts[i] = n[v]
			tot += n[v]
			sh := b.cfg.Shares[name][v]
			if b.cfg.Shares[name] != nil {
				shares = append(shares, sh)
			}
			x.Arms = append(x.Arms, ArmResult{Variant: v, Rate: newRate(conv[v], n[v]), ExpectedShare: sh})
		}
		p := srm(counts, shares)
		x.SRMPValue, x.SRM = round6(p), srmVerdict(p, tot)
		for _, v := range variants {
			if v == x.Control {
				continue
			}
			d := compareProps(conv[v], n[v], conv[x.Control], n[x.Control], b.cfg.MixingSD)
			x.Comparisons = append(x.Comparisons, Comparison{Variant: v, Metric: "conversion", PropDiff: roundDiff(d)})
			refs = append(refs, ref{len(out), len(x.Comparisons) - 1})
			ps = append(ps, d.P)
			lifts = append(lifts, b.lift(name, v, x.Control, e))
		}
		if e.overflow > 0 {
			x.SRM += fmt.Sprintf(" (%d units beyond the bound not counted)", e.overflow)
		}
		out = append(out, x)
	}
	adj := holm(ps)
	for i, rf := range refs {
		c := &out[rf.e].Comparisons[rf.c]
		c.AdjustedP = round6(adj[i])
		c.Sequential = "continue"
		if c.SeqP < b.cfg.Alpha {
			c.Sequential = "significant"
		}
	}
	return out, lifts
}

func roundDiff(d PropDiff) PropDiff {
	return PropDiff{Diff: round6(d.Diff), Lo: round6(d.Lo), Hi: round6(d.Hi), P: round6(d.P), Relative: round6(d.Relative), SeqP: round6(d.SeqP)}
}

// lift computes the cumulative conversion difference of variant over
// control at LiftPoints evenly spaced times from the first exposure to the
// end of the data.
func (b *ReportBuilder) lift(exp, variant, control string, e *expState) LiftSeries {
	ls := LiftSeries{Experiment: exp, Variant: variant}
	var first time.Time
	for _, u := range e.units {
		if first.IsZero() || u.exposed.Before(first) {
			first = u.exposed
		}
	}
	end := b.rep.To
	if first.IsZero() || !end.After(first) {
		return ls
	}
	k := b.cfg.LiftPoints
	step := end.Sub(first) / time.Duration(k)
	for i := 1; i <= k; i++ {
		at := first.Add(step * time.Duration(i))
		if i == k {
			at = end
		}
		var n1, k1, n0, k0 int64
		for _, u := range e.units {
			if u.exposed.After(at) {
				continue
			}
			c := !u.converted.IsZero() && !u.converted.After(at)
			switch u.variant {
			case variant:
				n1++
				if c {
					k1++
				}
			case control:
				n0++
				if c {
					k0++
				}
			}
		}
		if n1 == 0 || n0 == 0 {
			continue
		}
		d := compareProps(k1, n1, k0, n0, b.cfg.MixingSD)
		ls.Points = append(ls.Points, LiftPoint{Time: at.UTC(), ControlRate: round6(float64(k0) / float64(n0)), Rate: round6(float64(k1) / float64(n1)),
			Diff: round6(d.Diff), Lo: round6(d.Lo), Hi: round6(d.Hi)})
	}
	return ls
}
