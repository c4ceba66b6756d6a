package drift

import (
	"fmt"
	"sort"
	"sync"

	"github.com/rankscope/rankscope/personalize/segment"
)

// DefaultMaxSegments is the default bound of [Segmented].
const DefaultMaxSegments = 64

// Segmented keeps one [Monitor] per segment, all built from one Config.
// At most maxSegments monitors exist; observations for further segments go
// to the overflow monitor, reported under the key Region "(overflow)", so
// memory stays bounded whatever the traffic. It is safe for concurrent
// use.
type Segmented struct {
	cfg      Config
	max      int
	mu       sync.RWMutex
	monitors map[segment.Key]*Monitor
	overflow *Monitor
}

// OverflowKey is the key under which [Segmented] reports the segments
// beyond its bound.
var OverflowKey = segment.Key{Region: "(overflow)"}

// NewSegmented validates cfg and returns a Segmented bounded to
// maxSegments monitors (0 means [DefaultMaxSegments]).
func NewSegmented(cfg Config, maxSegments int) (*Segmented, error) {
	if maxSegments < 0 {
		return nil, fmt.Errorf("drift: NewSegmented: maxSegments: must be >= 0, got %d", maxSegments)
	}
	if maxSegments == 0 {
		maxSegments = DefaultMaxSegments
	}
	of, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return &Segmented{cfg: cfg, max: maxSegments, monitors: map[segment.Key]*Monitor{}, overflow: of}, nil
}

// For returns the monitor of segment k, creating it on first use.
func (s *Segmented) For(k segment.Key) *Monitor {
	s.mu.RLock()
	m := s.monitors[k]
	s.mu.RUnlock()
	if m != nil {
		return m
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m = s.monitors[k]; m != nil {
		return m
	}
	if len(s.monitors) >= s.max {
		return s.overflow
	}
	m, _ = New(s.cfg) // cfg was validated by NewSegmented
	s.monitors[k] = m
	return m
}

// SegmentReport is one segment's report.
type SegmentReport struct {
	Key    segment.Key
	Report Report
}

// Reports returns every segment's report sorted by key string, the
// overflow monitor's last when it saw anything.
func (s *Segmented) Reports() []SegmentReport {
	s.mu.RLock()
	out := make([]SegmentReport, 0, len(s.monitors)+1)
	for k, m := range s.monitors {
		out = append(out, SegmentReport{Key: k, Report: m.Report()})
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Key.String() < out[j].Key.String() })
	if r := s.overflow.Report(); hasData(r) {
		out = append(out, SegmentReport{Key: OverflowKey, Report: r})
	}
	return out
}

func hasData(r Report) bool {
	for _, f := range r.Features {
		if f.Count > 0 {
			return true
		}
	}
	for _, f := range r.Sources {
		if f.Count > 0 {
			return true
		}
	}
	return false
}

// Reset resets every segment's monitor (their keys are kept).
func (s *Segmented) Reset() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.monitors {
		m.Reset()
	}
	s.overflow.Reset()
}
