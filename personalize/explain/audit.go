package explain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rankscope/rankscope/internal/exactsum"
	"github.com/rankscope/rankscope/personalize/schema"
)

// AuditConfig configures an [Audit]. The zero value of every field means
// its documented default.
type AuditConfig struct {
	// Window is the length of a window, a whole number of seconds,
	// aligned to the Unix epoch in UTC (an hour starts on the hour, a day
	// at midnight UTC). Default one hour.
	Window time.Duration
	// MaxWindows bounds the windows kept; when a newer window would pass
	// it, the oldest is dropped, and impressions older than every kept
	// window are not counted (both counted in Stats). Default 168 (a week
	// of hours).
	MaxWindows int
	// MaxFeatures bounds the features tracked per window; the
	// contributions of further features go to Window.Other and are counted
	// in Stats.OverflowContributions. Default 64.
	MaxFeatures int
	// Threshold is the top feature's share of a window above which the
	// window is flagged Concentrated, in (0, 1]. Default 0.5: one feature
	// carries more than half of all absolute contribution.
	Threshold float64
}

// Default values of AuditConfig.
const (
	DefaultWindow      = time.Hour
	DefaultMaxWindows  = 168
	DefaultMaxFeatures = 64
	DefaultThreshold   = 0.5
)

// Audit accumulates the feature reliance of explained impressions per
// time window. It is safe for concurrent use.
type Audit struct {
	cfg AuditConfig

	mu      sync.Mutex
	windows map[int64]*window // by window index (Unix time / Window)
	stats   Stats
}

// Stats count what an Audit saw and what its bounds left out.
type Stats struct {
	// Impressions and Items are every impression and item added;
	// Explained and ExplainedItems those with an explanation.
	Impressions, Explained int64
	Items, ExplainedItems  int64
	DroppedWindows         int64 // windows dropped past MaxWindows
	LateImpressions        int64 // impressions older than every kept window when full
	OverflowContributions  int64 // contributions of features past MaxFeatures
}

type window struct {
	impressions, explained int64
	items, explainedItems  int64
	features               map[string]*exactsum.Sum
	other                  exactsum.Sum
	overflow               int64
}

// NewAudit validates cfg and returns an empty audit.
func NewAudit(cfg AuditConfig) (*Audit, error) {
	switch {
	case cfg.Window < 0 || cfg.Window%time.Second != 0:
		return nil, fmt.Errorf("explain: AuditConfig.Window: must be a positive whole number of seconds, got %v", cfg.Window)
	case cfg.MaxWindows < 0:
		return nil, fmt.Errorf("explain: AuditConfig.MaxWindows: must be >= 0, got %d", cfg.MaxWindows)
	case cfg.MaxFeatures < 0:
		return nil, fmt.Errorf("explain: AuditConfig.MaxFeatures: must be >= 0, got %d", cfg.MaxFeatures)
	case !(cfg.Threshold >= 0 && cfg.Threshold <= 1):
		return nil, fmt.Errorf("explain: AuditConfig.Threshold: must be in (0, 1], got %v", cfg.Threshold)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxWindows == 0 {
		cfg.MaxWindows = DefaultMaxWindows
	}
	if cfg.MaxFeatures == 0 {
		cfg.MaxFeatures = DefaultMaxFeatures
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	return &Audit{cfg: cfg, windows: map[int64]*window{}}, nil
}

// Config returns the audit's configuration with defaults filled in.
func (a *Audit) Config() AuditConfig { return a.cfg }

// index returns the window index of t: floor(t / Window) since the epoch,
// in whole seconds (Window is a whole number of seconds), so every time of
// the schema (years 0000..9999) has one.
func (a *Audit) index(t time.Time) int64 {
	ws := int64(a.cfg.Window / time.Second)
	s := t.Unix()
	i := s / ws
	if s%ws < 0 {
		i--
	}
	return i
}

// window returns the window of index i, creating it (and dropping the
// oldest past MaxWindows), or nil when i is older than every kept window
// of a full audit.
func (a *Audit) window(i int64) *window {
	if w := a.windows[i]; w != nil {
		return w
	}
	if len(a.windows) >= a.cfg.MaxWindows {
		oldest := int64(0)
		first := true
		for k := range a.windows {
			if first || k < oldest {
				oldest, first = k, false
			}
		}
		if i < oldest {
			return nil
		}
		delete(a.windows, oldest)
		a.stats.DroppedWindows++
	}
	w := &window{features: map[string]*exactsum.Sum{}}
	a.windows[i] = w
	return w
}

// Add counts one impression in the window of its time (im.End). Items
// without an explanation count toward the shares of explained items and
// impressions only.
func (a *Audit) Add(im *schema.Impression) {
	if im == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Impressions++
	a.stats.Items += int64(len(im.Items))
	w := a.window(a.index(im.End))
	if w == nil {
		a.stats.LateImpressions++
		return
	}
	w.impressions++
	w.items += int64(len(im.Items))
	explained := false
	for i := range im.Items {
		ex := im.Items[i].Explanation
		if len(ex) == 0 {
			continue
		}
		explained = true
		w.explainedItems++
		a.stats.ExplainedItems++
		for _, c := range ex {
			w.add(c.Feature, abs(c.Value), a.cfg.MaxFeatures, &a.stats)
		}
	}
	if explained {
		w.explained++
		a.stats.Explained++
	}
}

func (w *window) add(feature string, v float64, maxFeatures int, st *Stats) {
	s := w.features[feature]
	if s == nil {
		if len(w.features) >= maxFeatures {
			w.other.Add(v)
			w.overflow++
			st.OverflowContributions++
			return
		}
		s = new(exactsum.Sum)
		w.features[feature] = s
	}
	s.Add(v)
}

// AddEvent adds e's impression, if it has one; other events are ignored.
// It has the signature of file.ReadDir's callback.
func (a *Audit) AddEvent(e schema.Event) error {
	if e.Impression != nil {
		a.Add(e.Impression)
	}
	return nil
}

// ErrConfigMismatch is returned by Merge for audits of different
// configurations.
var ErrConfigMismatch = errors.New("explain: audits have different configurations")

// Merge adds o's windows and counts into a, as if a had seen o's
// impressions too. Both must have the same configuration. When no window
// overflowed its features, the result equals one audit over both inputs
// exactly (sums are exact); past the bounds it stays bounded.
func (a *Audit) Merge(o *Audit) error {
	if a == o {
		return errors.New("explain: an audit cannot merge itself")
	}
	if a.cfg != o.cfg {
		return ErrConfigMismatch
	}
	o.mu.Lock()
	idx := make([]int64, 0, len(o.windows))
	copies := make(map[int64]*window, len(o.windows))
	for i, w := range o.windows {
		idx = append(idx, i)
		copies[i] = w.clone()
	}
	ost := o.stats
	o.mu.Unlock()
	slices.Sort(idx)

	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.Impressions += ost.Impressions
	a.stats.Explained += ost.Explained
	a.stats.Items += ost.Items
	a.stats.ExplainedItems += ost.ExplainedItems
	a.stats.DroppedWindows += ost.DroppedWindows
	a.stats.LateImpressions += ost.LateImpressions
	a.stats.OverflowContributions += ost.OverflowContributions
	for _, i := range idx {
		src := copies[i]
		w := a.window(i)
		if w == nil {
			a.stats.LateImpressions += src.impressions
			continue
		}
		w.impressions += src.impressions
		w.explained += src.explained
		w.items += src.items
		w.explainedItems += src.explainedItems
		w.other.Merge(&src.other)
		w.overflow += src.overflow
		names := make([]string, 0, len(src.features))
		for f := range src.features {
			names = append(names, f)
		}
		slices.Sort(names) // which features overflow does not depend on map order
		for _, f := range names {
			s := w.features[f]
			if s == nil {
				if len(w.features) >= a.cfg.MaxFeatures {
					w.other.Merge(src.features[f])
					w.overflow++
					a.stats.OverflowContributions++
					continue
				}
				s = new(exactsum.Sum)
				w.features[f] = s
			}
			s.Merge(src.features[f])
		}
	}
	return nil
}

func (w *window) clone() *window {
	c := *w
	c.features = make(map[string]*exactsum.Sum, len(w.features))
	for f, s := range w.features {
		v := *s
		c.features[f] = &v
	}
	return &c
}

// Window is one time window of the audit.
type Window struct {
	Start, End time.Time
	// Impressions and Items are all of the window's; Explained and
	// ExplainedItems those with an explanation.
	Impressions, Explained int64
	Items, ExplainedItems  int64
	// Total is the sum of |contribution| over every explained item.
	Total float64
	// Features are the tracked features by share, largest first (ties by
	// name); Other is the share of the features past MaxFeatures.
	Features []Share
	Other    float64
	// Top is the feature with the largest share ("" without explained
	// items), TopShare its share, and HHI the Herfindahl index: the sum of
	// the squared shares of the tracked features, 1/n for n equal
	// features, 1 for one feature (Other counts as one more share).
	Top      string
	TopShare float64
	HHI      float64
	// Concentrated is set when TopShare exceeds AuditConfig.Threshold.
	Concentrated bool
	// TopChanged is set when the previous window with explained items
	// had another top feature.
	TopChanged bool
	// Previous is that window's top feature when TopChanged.
	Previous string
}

// Share is one feature's part of a window's absolute contribution.
type Share struct {
	Feature string
	Total   float64 // sum of |contribution|
	Share   float64 // Total / Window.Total
}

// Windows returns the kept windows in time order, with their shares,
// concentration and flags.
func (a *Audit) Windows() []Window {
	a.mu.Lock()
	defer a.mu.Unlock()
	idx := make([]int64, 0, len(a.windows))
	for i := range a.windows {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	out := make([]Window, 0, len(idx))
	prevTop := ""
	for _, i := range idx {
		w := a.windows[i]
		start := time.Unix(i*int64(a.cfg.Window/time.Second), 0).UTC()
		r := Window{Start: start, End: start.Add(a.cfg.Window), Impressions: w.impressions, Explained: w.explained,
			Items: w.items, ExplainedItems: w.explainedItems}
		var total exactsum.Sum
		total.Merge(&w.other)
		for f, s := range w.features {
			total.Merge(s)
			r.Features = append(r.Features, Share{Feature: f, Total: s.Float64()})
		}
		r.Total = total.Float64()
		slices.SortFunc(r.Features, func(x, y Share) int {
			switch {
			case x.Total > y.Total:
				return -1
			case x.Total < y.Total:
				return 1
			}
			return strings.Compare(x.Feature, y.Feature)
		})
		if r.Total > 0 {
			for k := range r.Features {
				s := r.Features[k].Total / r.Total
				r.Features[k].Share = s
				r.HHI += s * s
			}
			r.Other = w.other.Float64() / r.Total
			r.HHI += r.Other * r.Other
			if len(r.Features) > 0 && r.Features[0].Total > 0 {
				r.Top, r.TopShare = r.Features[0].Feature, r.Features[0].Share
			}
			r.Concentrated = r.TopShare > a.cfg.Threshold
			if r.Top != "" {
				if prevTop != "" && prevTop != r.Top {
					r.TopChanged, r.Previous = true, prevTop
				}
				prevTop = r.Top
			}
		}
		out = append(out, r)
	}
	return out
}

// Stats returns the audit's counts.
func (a *Audit) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}
