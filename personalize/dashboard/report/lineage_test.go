package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
)

var lineageT0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func servedBy(i int, model, version, fs string, at time.Duration) personalize.Event {
	end := lineageT0.Add(at)
	return personalize.Event{Type: personalize.EventImpression, Impression: &personalize.Impression{
		EventID: personalize.NewEventID(), RequestID: "r" + string(rune('a'+i)), Start: end.Add(-time.Millisecond), End: end,
		UserID: personalize.Pseudonym{ID: "u"}, Surface: "home", Model: model, ModelVersion: version, FeatureSet: fs,
		Items: []personalize.Item{{ID: "i", Position: 1, Score: 0.5}}}}
}

func registered(model, version, fs, hash string, at time.Duration) personalize.Event {
	return personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: personalize.NewEventID(),
		Time: lineageT0.Add(at), Model: model, Version: version, FeatureSet: fs, FeatureHash: hash,
		TrainingSnapshot: "snap-" + version, Owner: "team-" + model}}
}

// TestLineageJoinsImpressionsWithRecords builds the section from
// hand-made events: two model versions with records (one of them
// registered under two feature hashes, the other with a feature set the
// impressions do not use), one version without a record, an impression
// naming no model, and a record no impression names. Records may arrive
// after the impressions they describe.
func TestLineageJoinsImpressionsWithRecords(t *testing.T) {
	hA, hB, hC, hD := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64), strings.Repeat("d", 64)
	evs := []personalize.Event{
		registered("ranker", "v1", "fs1", hA, 0),
		servedBy(0, "ranker", "v1", "fs1", time.Hour),
		servedBy(1, "ranker", "v1", "fs1", 3*time.Hour),
		servedBy(2, "ranker", "v1", "fs1", 2*time.Hour),
		servedBy(3, "ranker", "v2", "fs1", time.Hour),
		servedBy(4, "ranker", "v2", "fs1", 4*time.Hour),
		servedBy(5, "twotower", "7", "fs2", 5*time.Hour),
		servedBy(6, "", "", "", 5*time.Hour),
		registered("ranker", "v1", "fs1", hB, 6*time.Hour), // same version, other features
		registered("ranker", "v1", "fs1", hA, 7*time.Hour), // a repeat: not a third hash
		registered("twotower", "7", "fs9", hC, 8*time.Hour),
		registered("unseen", "3", "", hD, 9*time.Hour),
	}
	r := buildReport(t, evs)
	l := r.Lineage
	require.NotNil(t, l)
	assert.EqualValues(t, 7, r.Counts.Impressions, "records are not counted as rankings")
	assert.EqualValues(t, 6, l.Impressions)
	assert.EqualValues(t, 2, l.Unregistered, "ranker v2 has no record")
	assert.InDelta(t, 2.0/6, float64(l.UnregisteredShare), 5e-6, "rounded to six digits as every report figure")
	assert.EqualValues(t, 1, l.Unnamed)
	require.Len(t, l.Models, 3)

	v1, v2, tt := l.Models[0], l.Models[1], l.Models[2]
	assert.Equal(t, [3]string{"ranker", "v1", "fs1"}, [3]string{v1.Model, v1.Version, v1.FeatureSet})
	assert.EqualValues(t, 3, v1.Impressions)
	assert.Equal(t, lineageT0.Add(time.Hour), v1.First)
	assert.Equal(t, lineageT0.Add(3*time.Hour), v1.Last)
	assert.True(t, v1.Registered)
	assert.Equal(t, hA, v1.FeatureHash, "the earliest record's fields")
	assert.Equal(t, "snap-v1", v1.TrainingSnapshot)
	assert.Equal(t, "team-ranker", v1.Owner)
	assert.Equal(t, lineageT0, v1.RegisteredAt)
	assert.True(t, v1.Conflict)
	assert.False(t, v1.FeatureSetMismatch)

	assert.Equal(t, "v2", v2.Version)
	assert.False(t, v2.Registered)
	assert.EqualValues(t, 2, v2.Impressions)
	assert.Empty(t, v2.FeatureHash)

	assert.Equal(t, "twotower", tt.Model)
	assert.True(t, tt.Registered)
	assert.True(t, tt.FeatureSetMismatch, "record fs9, impressions fs2")
	assert.False(t, tt.Conflict)

	assert.Equal(t, []LineageConflict{{Model: "ranker", Version: "v1", Hashes: []string{hA, hB}}}, l.Conflicts)
	require.Len(t, l.Records, 1)
	assert.Equal(t, "unseen", l.Records[0].RecordModel)

	summary := strings.Join(r.Summary, " ")
	assert.Contains(t, summary, "2 of 6 rankings (33.3%) came from model versions with no lineage record")
	assert.Contains(t, summary, "Model ranker version v1 was registered with 2 different feature hashes")

	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	page := buf.String()
	dashtest.WellFormed(t, page)
	assert.Contains(t, page, `<section class="wide" id="lineage">`)
	assert.Contains(t, page, "2 of 6 rankings (33.3%) came from model versions with no lineage record.")
	assert.Contains(t, page, "ranker v1 was registered with 2 feature hashes: aaaaaaaaaaaa…, bbbbbbbbbbbb….")
	assert.Contains(t, page, "no lineage record</span>")
	assert.Contains(t, page, "record: fs9")
	assert.Contains(t, page, "Registered but not seen in these rankings: unseen 3 (dddddddddddd…).")
	assert.Contains(t, page, "1 rankings name no model")
}

// TestLineageAllRegistered: when every named model version has a record
// the section says so and raises no flag.
func TestLineageAllRegistered(t *testing.T) {
	h := strings.Repeat("e", 64)
	r := buildReport(t, []personalize.Event{servedBy(0, "m", "1", "", 0), registered("m", "1", "", h, time.Hour)})
	require.NotNil(t, r.Lineage)
	assert.Zero(t, r.Lineage.Unregistered)
	assert.Zero(t, float64(r.Lineage.UnregisteredShare))
	assert.Empty(t, r.Lineage.Conflicts)
	assert.Contains(t, strings.Join(r.Summary, " "), "Every one of the 1 rankings that name a model joins a lineage record")
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	assert.NotContains(t, buf.String(), "no lineage record</span>")
}

// TestLineageBounded: past MaxModels distinct triples (and pairs of
// records), events are counted, not kept, and a note says so.
func TestLineageBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxModels = 2
	b, err := NewBuilder(cfg)
	require.NoError(t, err)
	h := strings.Repeat("f", 64)
	for i, v := range []string{"1", "2", "3", "3", "1"} {
		require.NoError(t, b.Add(servedBy(i, "m", v, "", time.Duration(i)*time.Minute)))
		require.NoError(t, b.Add(registered("m", v, "", h, time.Duration(i)*time.Minute)))
	}
	r := b.Report()
	l := r.Lineage
	require.NotNil(t, l)
	assert.Len(t, l.Models, 2)
	assert.EqualValues(t, 3, l.Impressions)
	assert.EqualValues(t, 2, l.OverflowImpressions)
	assert.EqualValues(t, 2, l.OverflowRecords)
	assert.Contains(t, strings.Join(r.Notes, " "), "2 impressions and 2 lineage records past that were left out")

	_, err = NewBuilder(Config{MaxModels: -1})
	require.ErrorContains(t, err, "Config.MaxModels")
}

// TestLineageAbsentWithoutModels: events that name no model and carry no
// record leave the section out (the JSON has no "lineage").
func TestLineageAbsentWithoutModels(t *testing.T) {
	r := buildReport(t, dashtest.Events(200))
	assert.Nil(t, r.Lineage)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, r))
	assert.Contains(t, buf.String(), "No ranking names a model and no lineage record was read.")
}
