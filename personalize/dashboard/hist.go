package dashboard

import (
	"math"
	"time"
)

// Latency histograms: log-spaced buckets from histMinMs to histMaxMs with
// growth factor histGamma. A quantile is reported as the geometric middle
// of its bucket, so its relative error is at most sqrt(histGamma)-1 (2.5%)
// for values inside the range; values below or above it are reported as
// the range's ends.
const (
	histMinMs = 0.001  // 1 µs
	histMaxMs = 100000 // 100 s
	histGamma = 1.05
)

var (
	histLogGamma = math.Log(histGamma)
	// histBuckets counts the in-range buckets; index 0 is underflow and
	// histBuckets+1 overflow.
	histBuckets = int(math.Ceil(math.Log(histMaxMs/histMinMs) / histLogGamma))
)

type hist struct {
	counts   []uint64
	n        uint64
	sumMs    float64
	degraded uint64
}

func newHist() *hist { return &hist{counts: make([]uint64, histBuckets+2)} }

func histIndex(ms float64) int {
	switch {
	case !(ms >= histMinMs): // also NaN
		return 0
	case ms >= histMaxMs:
		return histBuckets + 1
	}
	i := int(math.Log(ms/histMinMs)/histLogGamma) + 1
	return min(i, histBuckets)
}

// bucketLo returns the lower edge of bucket i in milliseconds.
func bucketLo(i int) float64 {
	if i <= 0 {
		return 0
	}
	return histMinMs * math.Pow(histGamma, float64(i-1))
}

func (h *hist) add(ms float64, degraded bool) {
	h.counts[histIndex(ms)]++
	h.n++
	if ms > 0 && !math.IsInf(ms, 0) {
		h.sumMs += ms
	}
	if degraded {
		h.degraded++
	}
}

func (h *hist) reset() {
	clear(h.counts)
	h.n, h.sumMs, h.degraded = 0, 0, 0
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sumMs += o.sumMs
	h.degraded += o.degraded
}

// quantile returns the q-quantile in milliseconds (nearest rank), 0 when
// empty.
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			switch i {
			case 0:
				return histMinMs
			case histBuckets + 1:
				return histMaxMs
			}
			return bucketLo(i) * math.Sqrt(histGamma)
		}
	}
	return histMaxMs
}

func (h *hist) summary(window string) Quantiles {
	q := Quantiles{Window: window, Count: h.n, Degraded: h.degraded}
	if h.n > 0 {
		q.MeanMs = round3(h.sumMs / float64(h.n))
		q.P50Ms = round3(h.quantile(0.50))
		q.P95Ms = round3(h.quantile(0.95))
		q.P99Ms = round3(h.quantile(0.99))
	}
	return q
}

// buckets coarsens the histogram into at most maxBars bars spanning its
// non-empty range.
func (h *hist) buckets(maxBars int) []Bucket {
	first, last := -1, -1
	for i, c := range h.counts {
		if c > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	per := (last - first + maxBars) / maxBars
	var out []Bucket
	for i := first; i <= last; i += per {
		b := Bucket{LoMs: round3(bucketLo(i)), HiMs: round3(bucketLo(min(i+per, histBuckets+1)))}
		if i == 0 {
			b.LoMs = 0
		}
		if i+per > histBuckets+1 {
			b.HiMs = histMaxMs
		}
		for j := i; j < i+per && j <= last; j++ {
			b.Count += h.counts[j]
		}
		out = append(out, b)
	}
	return out
}

func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	if a := math.Abs(v); a >= 1e-3 && a < 1e12 {
		p := math.Pow(10, 3-math.Ceil(math.Log10(a)))
		return math.Round(v*p) / p
	}
	return v
}

// ring is a sliding window of histograms: n slots of width slot each,
// indexed by time. Memory: n histograms of histBuckets+2 counters.
type ring struct {
	slot   time.Duration
	slots  []*hist
	epochs []int64
}

func newRing(slot time.Duration, n int) *ring {
	r := &ring{slot: slot, slots: make([]*hist, n), epochs: make([]int64, n)}
	for i := range r.slots {
		r.slots[i] = newHist()
		r.epochs[i] = math.MinInt64
	}
	return r
}

func (r *ring) add(t time.Time, ms float64, degraded bool) {
	e := t.UnixNano() / int64(r.slot)
	i := int(uint64(e) % uint64(len(r.slots)))
	switch {
	case r.epochs[i] == e:
	case r.epochs[i] < e:
		r.slots[i].reset()
		r.epochs[i] = e
	default: // older than the window
		return
	}
	r.slots[i].add(ms, degraded)
}

// sum merges the slots inside the window ending at now into a fresh
// histogram.
func (r *ring) sum(now time.Time) *hist {
	cur := now.UnixNano() / int64(r.slot)
	h := newHist()
	for i, e := range r.epochs {
		if e <= cur && e > cur-int64(len(r.slots)) {
			h.merge(r.slots[i])
		}
	}
	return h
}

// windows keeps the minute (6 x 10 s), hour (12 x 5 min) and day (24 x 1 h)
// windows of one latency series: 42 histograms, about 130 KB.
type windows struct {
	minute, hour, day *ring
}

func newWindows() *windows {
	return &windows{
		minute: newRing(10*time.Second, 6),
		hour:   newRing(5*time.Minute, 12),
		day:    newRing(time.Hour, 24),
	}
}

func (w *windows) add(t time.Time, ms float64, degraded bool) {
	w.minute.add(t, ms, degraded)
	w.hour.add(t, ms, degraded)
	w.day.add(t, ms, degraded)
}

func (w *windows) stage(name string, now time.Time, slo SLO) StageLatency {
	m, h, d := w.minute.sum(now), w.hour.sum(now), w.day.sum(now)
	s := StageLatency{Stage: name, SLO: slo, Windows: []Quantiles{m.summary(WindowMinute), h.summary(WindowHour), d.summary(WindowDay)}}
	for _, x := range []*hist{h, d, m} {
		if x.n > 0 {
			s.Histogram = x.buckets(40)
			break
		}
	}
	return s
}
