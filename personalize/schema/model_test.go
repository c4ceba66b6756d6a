package schema_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/schema"
)

// TestFeatureHashVector checks FeatureHash against digests computed
// outside Go with coreutils:
//
//	printf '3:ctr,23:clicks / impressions 7d,7:recency,18:hours since update,' | sha256sum
//	printf '' | sha256sum
func TestFeatureHashVector(t *testing.T) {
	defs := map[string]string{"recency": "hours since update", "ctr": "clicks / impressions 7d"}
	assert.Equal(t, "996fabe1af2aba2e68a23a990ec7a42c79147147ab98902c8668130bb78edd80", schema.FeatureHash(defs))
	assert.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", schema.FeatureHash(nil))

	// Length prefixes keep boundaries: moving a byte between name and
	// definition, or between features, changes the hash.
	assert.NotEqual(t, schema.FeatureHash(map[string]string{"ab": "c"}), schema.FeatureHash(map[string]string{"a": "bc"}))
	assert.NotEqual(t, schema.FeatureHash(map[string]string{"a": "b,1:c"}), schema.FeatureHash(map[string]string{"a": "b", "c": ""}))
	changed := map[string]string{"recency": "hours since update", "ctr": "clicks / impressions 30d"}
	assert.NotEqual(t, schema.FeatureHash(defs), schema.FeatureHash(changed))
	assert.NoError(t, (&schema.ModelMetadata{Model: "m", Version: "1", FeatureHash: schema.FeatureHash(defs)}).Validate())
}

func testModel() *schema.ModelMetadata {
	id, _ := schema.ParseEventID(testEventID)
	return &schema.ModelMetadata{EventID: id, Time: time.Date(2026, 11, 2, 9, 0, 0, 5, time.UTC), Service: "feed-ranker",
		Model: "two-tower", Version: "2026-11-01", FeatureSet: "fs-7", FeatureHash: strings.Repeat("0a", 32),
		TrainingSnapshot: "s3://snapshots/2026-10-31", Owner: "ranking-team"}
}

func TestModelRoundTrip(t *testing.T) {
	m := testModel()
	line, err := schema.AppendJSON(nil, schema.Event{Type: schema.EventModel, Model: m})
	require.NoError(t, err)
	assert.Equal(t, `{"schema_version":1,"type":"model","event_id":"`+testEventID+`","time":"2026-11-02T09:00:00.000000005Z",`+
		`"service":"feed-ranker","model":"two-tower","model_version":"2026-11-01","feature_set":"fs-7","feature_hash":"`+strings.Repeat("0a", 32)+`",`+
		`"training_snapshot":"s3://snapshots/2026-10-31","owner":"ranking-team"}`, string(line))
	got, err := agree(t, line)
	require.NoError(t, err)
	require.Equal(t, schema.EventModel, got.Type)
	require.NotNil(t, got.Model)
	assert.Equal(t, *m, *got.Model)
	assert.Equal(t, m.EventID, got.ID())
	assert.True(t, m.Time.Equal(got.Time()))
	assert.Equal(t, "", got.ConsentBasis())

	// Optional fields absent; keys in another order and case-folded.
	min := `{"type":"model","OWNER":"x","schema_version":1,"event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","Model":"m","model_version":"v","feature_hash":"` + strings.Repeat("f", 64) + `"}`
	got, err = agree(t, []byte(min))
	require.NoError(t, err)
	assert.Equal(t, schema.ModelMetadata{EventID: m.EventID, Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Model: "m", Version: "v",
		FeatureHash: strings.Repeat("f", 64), Owner: "x"}, *got.Model)

	// A model record ignores other types' fields, as every type does.
	_, err = agree(t, []byte(strings.TrimSuffix(min, "}")+`,"user_id":"u","items":[],"kind":"click"}`))
	require.NoError(t, err)
}

func TestModelDecodeErrorsNameTheField(t *testing.T) {
	head := `{"schema_version":1,"type":"model","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z"`
	hash := `,"feature_hash":"` + strings.Repeat("ab", 32) + `"`
	for _, c := range []struct{ line, field string }{
		{head + `,"model_version":"v"` + hash + `}`, "model"},
		{head + `,"model":"m"` + hash + `}`, "model_version"},
		{head + `,"model":"m","model_version":"v"}`, "feature_hash"},
		{head + `,"model":"m","model_version":"v","feature_hash":"ABCD` + strings.Repeat("0", 60) + `"}`, "feature_hash"},
		{head + `,"model":"m","model_version":"v","feature_hash":"abc"}`, "feature_hash"},
		{head + `,"model":"` + strings.Repeat("m", 257) + `","model_version":"v"` + hash + `}`, "model"},
		{head + `,"model":"m","model_version":"v"` + hash + `,"owner":"` + strings.Repeat("o", 257) + `"}`, "owner"},
		{head + `,"model":7,"model_version":"v"` + hash + `}`, ""},
	} {
		_, err := agree(t, []byte(c.line))
		require.Error(t, err, c.line)
		var de *schema.DecodeError
		require.True(t, errors.As(err, &de), "%T", err)
		if c.field != "" {
			assert.Equal(t, c.field, de.Field, c.line)
			assert.Contains(t, err.Error(), c.field)
		}
	}
}

func TestModelValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(m *schema.ModelMetadata)
		field  string
		reason string
	}{
		{"valid", func(*schema.ModelMetadata) {}, "", ""},
		{"sha512 length", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("9", 128) }, "", ""},
		{"md5 length", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("9", 32) }, "", ""},
		{"no model", func(m *schema.ModelMetadata) { m.Model = "" }, "model", "missing"},
		{"no version", func(m *schema.ModelMetadata) { m.Version = "" }, "model_version", "missing"},
		{"no hash", func(m *schema.ModelMetadata) { m.FeatureHash = "" }, "feature_hash", "missing"},
		{"short hash", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("a", 30) }, "feature_hash", "out_of_range"},
		{"long hash", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("a", 130) }, "feature_hash", "out_of_range"},
		{"odd hash", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("a", 63) }, "feature_hash", "out_of_range"},
		{"upper-case hash", func(m *schema.ModelMetadata) { m.FeatureHash = "A" + strings.Repeat("a", 63) }, "feature_hash", "invalid"},
		{"non-hex hash", func(m *schema.ModelMetadata) { m.FeatureHash = strings.Repeat("g", 64) }, "feature_hash", "invalid"},
		{"long feature set", func(m *schema.ModelMetadata) { m.FeatureSet = strings.Repeat("f", 257) }, "feature_set", "too_long"},
		{"long snapshot", func(m *schema.ModelMetadata) { m.TrainingSnapshot = strings.Repeat("s", 257) }, "training_snapshot", "too_long"},
		{"bad utf-8", func(m *schema.ModelMetadata) { m.Owner = "\xff" }, "owner", "invalid"},
		{"year 10000", func(m *schema.ModelMetadata) { m.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "time", "out_of_range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := testModel()
			c.edit(m)
			err := schema.Event{Type: schema.EventModel, Model: m}.Validate()
			if c.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *schema.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			assert.Equal(t, schema.EventModel, ve.Event)
			assert.Equal(t, c.field, ve.Field)
			assert.Equal(t, c.reason, ve.Reason)
			assert.Contains(t, err.Error(), "invalid model: "+c.field)
		})
	}
	// A model payload under another type is refused.
	err := schema.Event{Type: schema.EventLink, Model: testModel()}.Validate()
	require.Error(t, err)
}

func TestModelSizeBound(t *testing.T) {
	m := testModel()
	m.Owner = strings.Repeat("\x01", schema.MaxModelFieldBytes)
	ev := schema.Event{Type: schema.EventModel, Model: m}
	require.NoError(t, schema.CheckSize(&ev))
	line, err := schema.AppendJSON(nil, ev)
	require.NoError(t, err)
	assert.Less(t, len(line), 4096)
}
