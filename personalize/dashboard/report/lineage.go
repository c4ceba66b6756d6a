package report

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/chart"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// DefaultMaxModels bounds the lineage section's rows when Config.MaxModels
// is 0: distinct (model, version, feature set) triples seen in
// impressions, and separately distinct (model, version) pairs seen in
// model records.
const DefaultMaxModels = 256

// maxHashesPerModel bounds the distinct feature hashes kept per (model,
// version); one is the norm, two already a conflict.
const maxHashesPerModel = 8

// Lineage is the report's lineage section: which models, versions and
// feature sets served the rankings, over which span, joined on (model,
// model_version) with the model lineage records (event type "model",
// personalize.Instrument.RegisterModel) that say which feature
// definitions, training data and owner stand behind them.
type Lineage struct {
	Models []ModelLineage `json:"models"`
	// Impressions counts the impressions in Models; Unregistered those of
	// them whose (model, version) has no lineage record, and
	// UnregisteredShare their share.
	Impressions       int64       `json:"impressions"`
	Unregistered      int64       `json:"unregistered"`
	UnregisteredShare panel.Float `json:"unregistered_share"`
	// Unnamed counts impressions that name no model (nothing to join).
	Unnamed int64 `json:"unnamed"`
	// Conflicts lists each (model, version) registered with more than one
	// feature hash: the same name and version stood for different feature
	// definitions, so its impressions cannot be attributed to one.
	Conflicts []LineageConflict `json:"conflicts,omitempty"`
	// Records lists the lineage records of models no impression named.
	Records []ModelRecord `json:"records,omitempty"`
	// MaxModels is the bound in force; OverflowImpressions and
	// OverflowRecords count what arrived past it (left out of the rows).
	MaxModels           int   `json:"max_models"`
	OverflowImpressions int64 `json:"overflow_impressions,omitempty"`
	OverflowRecords     int64 `json:"overflow_records,omitempty"`
}

// ModelLineage is one (model, version, feature set) seen in impressions,
// with its lineage record when there is one.
type ModelLineage struct {
	Model       string    `json:"model"`
	Version     string    `json:"version"`
	FeatureSet  string    `json:"feature_set,omitempty"`
	Impressions int64     `json:"impressions"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	// Registered says a lineage record of (Model, Version) was read; its
	// fields follow (the first record's, when several).
	Registered bool `json:"registered"`
	ModelRecord
	// FeatureSetMismatch is set when the record names a feature set other
	// than the impressions'.
	FeatureSetMismatch bool `json:"feature_set_mismatch,omitempty"`
	// Conflict is set when (Model, Version) was registered with more than
	// one feature hash (see Lineage.Conflicts).
	Conflict bool `json:"conflict,omitempty"`
}

// ModelRecord is what a lineage record says of a model version.
type ModelRecord struct {
	RecordModel      string    `json:"record_model,omitempty"`
	RecordVersion    string    `json:"record_version,omitempty"`
	RecordFeatureSet string    `json:"record_feature_set,omitempty"`
	FeatureHash      string    `json:"feature_hash,omitempty"`
	TrainingSnapshot string    `json:"training_snapshot,omitempty"`
	Owner            string    `json:"owner,omitempty"`
	RegisteredAt     time.Time `json:"registered_at,omitzero"`
}

// LineageConflict is one (model, version) registered with several
// feature hashes.
type LineageConflict struct {
	Model   string   `json:"model"`
	Version string   `json:"version"`
	Hashes  []string `json:"feature_hashes"`
	// MoreHashes counts hashes past the 8 kept.
	MoreHashes int `json:"more_hashes,omitempty"`
}

type servedKey struct{ model, version, featureSet string }

type servedAgg struct {
	n           int64
	first, last time.Time
}

type modelKey struct{ model, version string }

type recordAgg struct {
	first  ModelRecord // the earliest record
	hashes []string    // distinct, in arrival order, at most maxHashesPerModel
	more   int
}

// lineageAgg is the Builder's lineage state: at most max served triples
// and max registered pairs, each a few strings and counters.
type lineageAgg struct {
	max      int
	served   map[servedKey]*servedAgg
	records  map[modelKey]*recordAgg
	unnamed  int64
	overImp  int64
	overRecs int64
}

func newLineageAgg(max int) *lineageAgg {
	return &lineageAgg{max: max, served: map[servedKey]*servedAgg{}, records: map[modelKey]*recordAgg{}}
}

func (l *lineageAgg) impression(im *personalize.Impression) {
	if im.Model == "" {
		l.unnamed++
		return
	}
	k := servedKey{im.Model, im.ModelVersion, im.FeatureSet}
	s := l.served[k]
	if s == nil {
		if len(l.served) >= l.max {
			l.overImp++
			return
		}
		s = &servedAgg{first: im.End, last: im.End}
		l.served[k] = s
	}
	s.n++
	if im.End.Before(s.first) {
		s.first = im.End
	}
	if im.End.After(s.last) {
		s.last = im.End
	}
}

func (l *lineageAgg) record(m *personalize.ModelMetadata) {
	k := modelKey{m.Model, m.Version}
	r := l.records[k]
	rec := ModelRecord{RecordModel: m.Model, RecordVersion: m.Version, RecordFeatureSet: m.FeatureSet, FeatureHash: m.FeatureHash,
		TrainingSnapshot: m.TrainingSnapshot, Owner: m.Owner, RegisteredAt: m.Time.UTC()}
	if r == nil {
		if len(l.records) >= l.max {
			l.overRecs++
			return
		}
		l.records[k] = &recordAgg{first: rec, hashes: []string{m.FeatureHash}}
		return
	}
	if m.Time.Before(r.first.RegisteredAt) {
		r.first = rec
	}
	if !slices.Contains(r.hashes, m.FeatureHash) {
		if len(r.hashes) < maxHashesPerModel {
			r.hashes = append(r.hashes, m.FeatureHash)
		} else {
			r.more++
		}
	}
}

// report joins impressions and records; nil when neither named a model.
func (l *lineageAgg) report() *Lineage {
	if len(l.served) == 0 && len(l.records) == 0 && l.overImp == 0 && l.overRecs == 0 {
		return nil
	}
	out := &Lineage{Unnamed: l.unnamed, MaxModels: l.max, OverflowImpressions: l.overImp, OverflowRecords: l.overRecs}
	named := map[modelKey]bool{}
	for k, s := range l.served {
		ml := ModelLineage{Model: k.model, Version: k.version, FeatureSet: k.featureSet, Impressions: s.n,
			First: s.first.UTC(), Last: s.last.UTC()}
		mk := modelKey{k.model, k.version}
		named[mk] = true
		out.Impressions += s.n
		if r := l.records[mk]; r != nil {
			ml.Registered = true
			ml.ModelRecord = r.first
			ml.FeatureSetMismatch = r.first.RecordFeatureSet != "" && r.first.RecordFeatureSet != k.featureSet
			ml.Conflict = len(r.hashes) > 1
		} else {
			out.Unregistered += s.n
		}
		out.Models = append(out.Models, ml)
	}
	slices.SortFunc(out.Models, func(a, b ModelLineage) int {
		return strings.Compare(a.Model+"\x00"+a.Version+"\x00"+a.FeatureSet, b.Model+"\x00"+b.Version+"\x00"+b.FeatureSet)
	})
	for k, r := range l.records {
		if len(r.hashes) > 1 {
			out.Conflicts = append(out.Conflicts, LineageConflict{Model: k.model, Version: k.version,
				Hashes: slices.Clone(r.hashes), MoreHashes: r.more})
		}
		if !named[k] {
			out.Records = append(out.Records, r.first)
		}
	}
	slices.SortFunc(out.Conflicts, func(a, b LineageConflict) int {
		return strings.Compare(a.Model+"\x00"+a.Version, b.Model+"\x00"+b.Version)
	})
	slices.SortFunc(out.Records, func(a, b ModelRecord) int {
		return strings.Compare(a.RecordModel+"\x00"+a.RecordVersion, b.RecordModel+"\x00"+b.RecordVersion)
	})
	out.UnregisteredShare = page.Float(float64(out.Unregistered) / float64(out.Impressions))
	return out
}

// lineageNotes are the section's sentences for the summary and notes.
func lineageNotes(r *Report) (summary, notes []string) {
	l := r.Lineage
	if l == nil {
		return nil, nil
	}
	if l.Unregistered > 0 {
		summary = append(summary, fmt.Sprintf("%s of %s rankings (%s) came from model versions with no lineage record: which feature definitions produced them is unknown.",
			chart.Num(float64(l.Unregistered)), chart.Num(float64(l.Impressions)), page.Pct(float64(l.UnregisteredShare))))
	} else if l.Impressions > 0 {
		summary = append(summary, fmt.Sprintf("Every one of the %s rankings that name a model joins a lineage record (feature hash, training snapshot, owner).",
			chart.Num(float64(l.Impressions))))
	}
	for _, c := range l.Conflicts {
		summary = append(summary, fmt.Sprintf("Model %s version %s was registered with %d different feature hashes: the same version stood for different feature definitions.",
			c.Model, c.Version, len(c.Hashes)+c.MoreHashes))
	}
	if l.OverflowImpressions > 0 || l.OverflowRecords > 0 {
		notes = append(notes, fmt.Sprintf("Lineage keeps the first %d (model, version, feature set) triples and (model, version) records: %d impressions and %d lineage records past that were left out.",
			l.MaxModels, l.OverflowImpressions, l.OverflowRecords))
	}
	return summary, notes
}

// shortHash abbreviates a feature hash for the page (the JSON has it
// whole).
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

var _ = template.Must(tmpl.New("lineage").Funcs(template.FuncMap{"shortHash": shortHash}).Parse(lineageHTML))

const lineageHTML = `<section class="wide" id="lineage">
<h2>Lineage</h2>
{{with .R.Lineage}}{{if .Unregistered}}<p class="warnbox">{{.Unregistered}} of {{.Impressions}} rankings ({{pct .UnregisteredShare}}) came from model versions with no lineage record.</p>{{end}}
{{range .Conflicts}}<p class="warnbox">{{.Model}} {{.Version}} was registered with {{len .Hashes}}{{if .MoreHashes}}+{{.MoreHashes}}{{end}} feature hashes: {{range $i, $h := .Hashes}}{{if $i}}, {{end}}{{shortHash $h}}{{end}}.</p>{{end}}
{{if .Models}}<table><tr><th>model</th><th>version</th><th>feature set</th><th>rankings</th><th>first</th><th>last</th><th>feature hash</th><th>training snapshot</th><th>owner</th><th>registered</th></tr>
{{range .Models}}<tr><td>{{.Model}}</td><td>{{.Version}}</td><td>{{.FeatureSet}}{{if .FeatureSetMismatch}} <span class="badge warn">record: {{.RecordFeatureSet}}</span>{{end}}</td><td>{{.Impressions}}</td><td>{{ts .First}}</td><td>{{ts .Last}}</td>{{if .Registered}}<td title="{{.FeatureHash}}">{{shortHash .FeatureHash}}{{if .Conflict}} <span class="badge warn">conflict</span>{{end}}</td><td>{{.TrainingSnapshot}}</td><td>{{.Owner}}</td><td>{{ts .RegisteredAt}}</td>{{else}}<td colspan="4"><span class="badge warn">no lineage record</span></td>{{end}}</tr>
{{end}}</table>{{end}}
{{with .Records}}<p class="muted">Registered but not seen in these rankings: {{range $i, $r := .}}{{if $i}}; {{end}}{{$r.RecordModel}} {{$r.RecordVersion}} ({{shortHash $r.FeatureHash}}){{end}}.</p>{{end}}
{{if .Unnamed}}<p class="muted">{{.Unnamed}} rankings name no model and cannot be joined.</p>{{end}}
<p class="muted">Joined on (model, model_version) with the model lineage records (personalize.Instrument.RegisterModel). A record says which feature definitions the service declared, by hash; it does not prove the model read them.</p>
{{else}}<p class="muted">No ranking names a model and no lineage record was read.</p>{{end}}
</section>
`
