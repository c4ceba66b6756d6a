package dashboard

import (
	"math"
	"sort"

	"github.com/rankscope/rankscope/personalize"
)

// servedItem is what the dashboard remembers of one item of a pending
// impression to credit a later click.
type servedItem struct {
	id       string
	position int
	score    float64
	group    string
}

// pending is one impression remembered for joining its outcomes.
type pending struct {
	items   []servedItem
	clicked uint64 // bit i: items[i] clicked already (first 64 items)
}

// joiner remembers up to max impressions by request id, evicting the
// oldest first (FIFO), so memory is bounded by max impressions.
type joiner struct {
	max   int
	byReq map[string]*pending
	order []string // ring of request ids in arrival order
	head  int
	// evicted counts impressions forgotten before all outcomes arrived
	// could be joined; unjoined counts clicks whose impression was unknown.
	evicted, unjoined int64
}

func newJoiner(max int) *joiner {
	return &joiner{max: max, byReq: make(map[string]*pending)}
}

func (j *joiner) add(req string, p *pending) {
	if req == "" || j.max <= 0 {
		return
	}
	if _, dup := j.byReq[req]; dup {
		j.byReq[req] = p
		return
	}
	if len(j.order) < j.max {
		j.order = append(j.order, req)
	} else {
		old := j.order[j.head]
		delete(j.byReq, old)
		j.evicted++
		j.order[j.head] = req
		j.head = (j.head + 1) % j.max
	}
	j.byReq[req] = p
}

// click marks item of req clicked and returns it, or nil when unknown or
// already clicked (a repeated click counts once).
func (j *joiner) click(req, item string) *servedItem {
	p := j.byReq[req]
	if p == nil {
		j.unjoined++
		return nil
	}
	for i := range p.items {
		if p.items[i].id != item {
			continue
		}
		if i < 64 {
			if p.clicked&(1<<i) != 0 {
				return nil
			}
			p.clicked |= 1 << i
		}
		return &p.items[i]
	}
	j.unjoined++
	return nil
}

// calBins is the number of equal-width calibration bins over [0, 1].
const calBins = 10

// relevance aggregates CTR by position, calibration and group exposure
// from impressions and clicks.
type relevance struct {
	maxPos, maxGroups int
	posImp, posClick  []int64 // index position-1
	calN, calClick    [calBins]int64
	calSum            [calBins]float64
	nonProb           int64 // scores outside [0, 1], not calibrated
	groupExp          map[string]float64
	groupClick        map[string]int64
	otherGroups       int64 // items whose group did not fit
}

func newRelevance(maxPos, maxGroups int) *relevance {
	return &relevance{maxPos: maxPos, maxGroups: maxGroups, posImp: make([]int64, maxPos), posClick: make([]int64, maxPos),
		groupExp: map[string]float64{}, groupClick: map[string]int64{}}
}

// OtherGroup is the group under which items beyond the group bound are
// counted.
const OtherGroup = "(other)"

func itemGroup(it *personalize.Item) string {
	if it.Provider != "" {
		return it.Provider
	}
	return it.Category
}

func calBin(score float64) int {
	return min(int(score*calBins), calBins-1)
}

func (r *relevance) group(g string) string {
	if _, ok := r.groupExp[g]; ok || len(r.groupExp) < r.maxGroups {
		return g
	}
	r.otherGroups++
	return OtherGroup
}

func (r *relevance) impression(im *personalize.Impression) *pending {
	p := &pending{items: make([]servedItem, 0, len(im.Items))}
	for i := range im.Items {
		it := &im.Items[i]
		si := servedItem{id: it.ID, position: it.Position, score: it.Score, group: itemGroup(it)}
		if it.Position >= 1 && it.Position <= r.maxPos {
			r.posImp[it.Position-1]++
		}
		if it.Score >= 0 && it.Score <= 1 {
			b := calBin(it.Score)
			r.calN[b]++
			r.calSum[b] += it.Score
		} else {
			r.nonProb++
		}
		if si.group != "" && it.Position >= 1 {
			si.group = r.group(si.group)
			r.groupExp[si.group] += 1 / math.Log2(1+float64(it.Position))
		}
		p.items = append(p.items, si)
	}
	return p
}

func (r *relevance) click(it *servedItem) {
	if it.position >= 1 && it.position <= r.maxPos {
		r.posClick[it.position-1]++
	}
	if it.score >= 0 && it.score <= 1 {
		r.calClick[calBin(it.score)]++
	}
	if it.group != "" {
		r.groupClick[it.group]++
	}
}

func (r *relevance) ctr() []PositionCTR {
	var out []PositionCTR
	for i, n := range r.posImp {
		if n == 0 {
			continue
		}
		k := r.posClick[i]
		lo, hi := wilson(k, n)
		out = append(out, PositionCTR{Position: i + 1, Impressions: n, Clicks: k, CTR: round6(float64(k) / float64(n)), Lo: round6(lo), Hi: round6(hi)})
	}
	return out
}

func (r *relevance) calibration() *Calibration {
	c := &Calibration{}
	var errSum float64
	for b := range calBins {
		n := r.calN[b]
		bin := CalibrationBin{Lo: float64(b) / calBins, Hi: float64(b+1) / calBins, Count: n}
		if n > 0 {
			bin.MeanPredicted = round6(r.calSum[b] / float64(n))
			bin.Observed = round6(float64(r.calClick[b]) / float64(n))
			errSum += float64(n) * math.Abs(float64(r.calClick[b])/float64(n)-r.calSum[b]/float64(n))
			c.Count += n
		}
		c.Bins = append(c.Bins, bin)
	}
	if c.Count == 0 {
		return nil
	}
	c.ECE = round6(errSum / float64(c.Count))
	return c
}

func (r *relevance) exposure() []GroupExposure {
	var totExp float64
	var totClick int64
	for g, e := range r.groupExp {
		totExp += e
		totClick += r.groupClick[g]
	}
	if totExp == 0 {
		return nil
	}
	out := make([]GroupExposure, 0, len(r.groupExp))
	for g, e := range r.groupExp {
		ge := GroupExposure{Group: g, ExposureShare: round6(e / totExp)}
		if totClick > 0 {
			ge.RelevanceShare = round6(float64(r.groupClick[g]) / float64(totClick))
		}
		if ge.RelevanceShare > 0 {
			ge.Ratio = round6(ge.ExposureShare / ge.RelevanceShare)
		}
		out = append(out, ge)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ExposureShare != out[j].ExposureShare {
			return out[i].ExposureShare > out[j].ExposureShare
		}
		return out[i].Group < out[j].Group
	})
	return out
}

// units counts distinct units (pseudonymized user ids) per experiment arm,
// remembering at most max units per experiment; units beyond the bound are
// counted in overflow and not attributed to an arm.
type units struct {
	max       int
	maxExp    int
	exp       map[string]*expUnits
	overflow  int64
	expOrder  []string
	extraExps int64
}

type expUnits struct {
	seen  map[string]string // unit -> variant (first seen)
	count map[string]int64  // variant -> distinct units
}

func newUnits(maxUnits, maxExp int) *units {
	return &units{max: maxUnits, maxExp: maxExp, exp: map[string]*expUnits{}}
}

// expose records unit in experiment's variant; it reports whether the
// unit is new to the experiment.
func (u *units) expose(exp, variant, unit string) bool {
	if exp == "" || variant == "" || unit == "" {
		return false
	}
	e := u.exp[exp]
	if e == nil {
		if len(u.exp) >= u.maxExp {
			u.extraExps++
			return false
		}
		e = &expUnits{seen: map[string]string{}, count: map[string]int64{}}
		u.exp[exp] = e
		u.expOrder = append(u.expOrder, exp)
	}
	if _, ok := e.seen[unit]; ok {
		return false
	}
	if len(e.seen) >= u.max {
		u.overflow++
		return false
	}
	e.seen[unit] = variant
	e.count[variant]++
	return true
}

func (u *units) experiments(shares map[string]map[string]float64) []Experiment {
	names := append([]string(nil), u.expOrder...)
	sort.Strings(names)
	var out []Experiment
	for _, name := range names {
		e := u.exp[name]
		x := Experiment{Name: name}
		variants := make([]string, 0, len(e.count))
		for v := range e.count {
			variants = append(variants, v)
		}
		for v := range shares[name] {
			if _, ok := e.count[v]; !ok {
				variants = append(variants, v)
			}
		}
		sort.Strings(variants)
		counts := make([]int64, len(variants))
		sh := make([]float64, len(variants))
		var n int64
		for i, v := range variants {
			counts[i] = e.count[v]
			sh[i] = shares[name][v]
			n += counts[i]
			x.Arms = append(x.Arms, Arm{Variant: v, Units: counts[i], ExpectedShare: sh[i]})
		}
		if shares[name] == nil {
			sh = nil
		}
		p := srm(counts, sh)
		x.SRMPValue = round6(p)
		x.SRM = srmVerdict(p, n)
		out = append(out, x)
	}
	return out
}

func round6(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	if v == 0 {
		return 0
	}
	p := math.Pow(10, 6-math.Ceil(math.Log10(math.Abs(v))))
	if math.IsInf(p, 0) || p == 0 {
		return v
	}
	return math.Round(v*p) / p
}
