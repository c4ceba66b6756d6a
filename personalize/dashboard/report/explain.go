package report

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/explain"
)

// ExplanationsConfig configures the report's explanations section
// (package personalize/explain).
type ExplanationsConfig struct {
	// Audit configures the feature reliance audit: window (default one
	// day here, as reports span days; the audit's own default is an hour),
	// bounds and the concentration threshold (default 0.5).
	Audit explain.AuditConfig
	// Labels are the display labels of the "why am I seeing this" sample
	// (see explain.Options.Labels); nil shows feature names.
	Labels map[string]string
	// TopFeatures is how many features each window row lists. Default 5.
	TopFeatures int
}

// Explanations is the explanations section: how many impressions and
// items carried an explanation, the feature reliance per window, and one
// rendered "why am I seeing this" sample. Nil when no impression had an
// explanation.
type Explanations struct {
	Impressions     int64   `json:"impressions"`
	Explained       int64   `json:"explained_impressions"`
	ImpressionShare float64 `json:"impression_share"`
	Items           int64   `json:"items"`
	ExplainedItems  int64   `json:"explained_items"`
	ItemShare       float64 `json:"item_share"`
	// Window is the audit window; Threshold the top share above which a
	// window is flagged concentrated.
	Window    string              `json:"window"`
	Threshold float64             `json:"threshold"`
	Windows   []ExplanationWindow `json:"windows"`
	// Concentrated and TopChanges count the flagged windows.
	Concentrated int `json:"concentrated_windows"`
	TopChanges   int `json:"top_changes"`
	// Sample is the first explained item of the input (in file order),
	// rendered for a user.
	Sample *ExplanationSample `json:"sample,omitempty"`
}

// ExplanationWindow is one audit window: its top features by share of
// the absolute contribution, the Herfindahl index and the flags.
type ExplanationWindow struct {
	Start        time.Time      `json:"start"`
	Explained    int64          `json:"explained_impressions"`
	Features     []FeatureShare `json:"features"`
	Rest         float64        `json:"rest_share"` // share of the features not listed (and past the audit's bound)
	Top          string         `json:"top"`
	TopShare     float64        `json:"top_share"`
	HHI          float64        `json:"hhi"`
	Concentrated bool           `json:"concentrated"`
	TopChanged   bool           `json:"top_changed"`
	Previous     string         `json:"previous_top,omitempty"`
}

// FeatureShare is a feature's share of a window's absolute contribution.
type FeatureShare struct {
	Feature string  `json:"feature"`
	Share   float64 `json:"share"`
}

// ExplanationSample is one item's explanation as a user would read it.
type ExplanationSample struct {
	Position int    `json:"position"`
	Why      string `json:"why"`
}

// explanations accumulates the section.
type explanations struct {
	cfg    ExplanationsConfig
	audit  *explain.Audit
	sample *ExplanationSample
}

func newExplanations(cfg ExplanationsConfig) (*explanations, error) {
	if cfg.TopFeatures < 0 {
		return nil, fmt.Errorf("report: Config.Explanations.TopFeatures: must be >= 0, got %d", cfg.TopFeatures)
	}
	if cfg.TopFeatures == 0 {
		cfg.TopFeatures = 5
	}
	if cfg.Audit.Window == 0 {
		cfg.Audit.Window = 24 * time.Hour
	}
	a, err := explain.NewAudit(cfg.Audit)
	if err != nil {
		return nil, fmt.Errorf("report: Config.Explanations: %w", err)
	}
	return &explanations{cfg: cfg, audit: a}, nil
}

func (x *explanations) add(im *personalize.Impression) {
	x.audit.Add(im)
	if x.sample != nil {
		return
	}
	for i := range im.Items {
		if len(im.Items[i].Explanation) == 0 {
			continue
		}
		why := explain.Why(im.Items[i], explain.Options{Labels: x.cfg.Labels, Negative: true})
		if why != "" {
			x.sample = &ExplanationSample{Position: im.Items[i].Position, Why: why}
			return
		}
	}
}

func (x *explanations) report(r *Report) {
	st := x.audit.Stats()
	if st.Explained == 0 {
		return
	}
	cfg := x.audit.Config()
	e := &Explanations{Impressions: st.Impressions, Explained: st.Explained, Items: st.Items, ExplainedItems: st.ExplainedItems,
		ImpressionShare: float64(st.Explained) / float64(st.Impressions), Window: durationText(cfg.Window),
		Threshold: cfg.Threshold, Sample: x.sample}
	if st.Items > 0 {
		e.ItemShare = float64(st.ExplainedItems) / float64(st.Items)
	}
	for _, w := range x.audit.Windows() {
		if w.Explained == 0 {
			continue
		}
		ew := ExplanationWindow{Start: w.Start, Explained: w.Explained, Top: w.Top, TopShare: w.TopShare, HHI: w.HHI,
			Concentrated: w.Concentrated, TopChanged: w.TopChanged, Previous: w.Previous, Rest: w.Other}
		for k, f := range w.Features {
			if k < x.cfg.TopFeatures {
				ew.Features = append(ew.Features, FeatureShare{Feature: f.Feature, Share: f.Share})
			} else {
				ew.Rest += f.Share
			}
		}
		if ew.Concentrated {
			e.Concentrated++
		}
		if ew.TopChanged {
			e.TopChanges++
		}
		e.Windows = append(e.Windows, ew)
	}
	if st.DroppedWindows+st.LateImpressions+st.OverflowContributions > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("Explanations: %d audit windows dropped past the bound, %d impressions older than every kept window, %d contributions of features past the bound (counted as the rest).",
			st.DroppedWindows, st.LateImpressions, st.OverflowContributions))
	}
	r.Explanations = e
}

// featureList formats a window's features: "recency 42%, price 30%".
func featureList(fs []FeatureShare) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s %.0f%%", f.Feature, f.Share*100)
	}
	return strings.Join(parts, ", ")
}

var _ = template.Must(tmpl.New("explanations").Funcs(template.FuncMap{"features": featureList}).Parse(`
<section id="explanations">
<h2>Explanations</h2>
{{with .R.Explanations}}<div class="tiles">
<div class="tile"><b>{{pct .ImpressionShare}}</b><span>of rankings explained ({{.Explained}} of {{.Impressions}})</span></div>
<div class="tile"><b>{{pct .ItemShare}}</b><span>of items explained ({{.ExplainedItems}} of {{.Items}})</span></div>
<div class="tile"><b>{{.Concentrated}}</b><span>windows concentrated on one feature (top share above {{pct .Threshold}})</span></div>
<div class="tile"><b>{{.TopChanges}}</b><span>changes of the top feature</span></div>
</div>
{{with .Sample}}<p>Why am I seeing this? (the first explained item, position {{.Position}}): <q>{{.Why}}</q></p>{{end}}
<table><tr><th>window ({{.Window}}, UTC)</th><th>explained rankings</th><th>top features by share of |contribution|</th><th>rest</th><th>HHI</th><th>flags</th></tr>
{{range .Windows}}<tr><td>{{.Start.Format "2006-01-02 15:04"}}</td><td>{{.Explained}}</td><td>{{features .Features}}</td><td>{{pct .Rest}}</td><td>{{num .HHI}}</td><td>{{if .Concentrated}}concentrated on {{.Top}} ({{pct .TopShare}}){{end}}{{if and .Concentrated .TopChanged}}; {{end}}{{if .TopChanged}}top was {{.Previous}}{{end}}</td></tr>
{{end}}</table>
<p class="muted">Contributions are the model's own attributions of its scores (personalize/explain), not causal effects: a large share says the model leans on a feature. HHI is the Herfindahl index of the shares (1 = one feature carries everything).</p>{{else}}<p class="muted">No explained rankings.</p>{{end}}
</section>
`))
