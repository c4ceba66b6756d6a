package personalize_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

func testModelMeta(model, version string, defs map[string]string) personalize.ModelMetadata {
	return personalize.ModelMetadata{Model: model, Version: version, FeatureSet: "fs-1",
		FeatureHash: personalize.FeatureHash(defs), TrainingSnapshot: "snap-1", Owner: "ranking"}
}

func modelRecords(mem *personalizetest.MemoryExporter) []*personalize.ModelMetadata {
	var out []*personalize.ModelMetadata
	for _, e := range mem.Events() {
		if e.Model != nil {
			out = append(out, e.Model)
		}
	}
	return out
}

// TestRegisterModelOncePerTriple: a (model, version, feature hash) triple
// is emitted once; the same model and version with other features is a
// second record; an invalid record is refused naming its field and
// counted; accepted records are counted by type.
func TestRegisterModelOncePerTriple(t *testing.T) {
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, nil, mem)
	ctx := context.Background()
	a := testModelMeta("two-tower", "v7", map[string]string{"ctr": "clicks / views"})
	require.NoError(t, in.RegisterModel(ctx, a))
	require.NoError(t, in.RegisterModel(ctx, a), "a repeat is a no-op")
	a.Owner = "someone else"
	require.NoError(t, in.RegisterModel(ctx, a), "the triple decides, not the other fields")
	conflict := testModelMeta("two-tower", "v7", map[string]string{"ctr": "clicks / impressions"})
	require.NoError(t, in.RegisterModel(ctx, conflict))
	require.NoError(t, in.RegisterModel(ctx, testModelMeta("two-tower", "v8", nil)))

	bad := testModelMeta("two-tower", "v9", nil)
	bad.FeatureHash = "not-hex"
	err := in.RegisterModel(ctx, bad)
	var ve *personalize.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.Equal(t, "feature_hash", ve.Field)
	bad.FeatureHash = ""
	bad.Version = ""
	require.ErrorAs(t, in.RegisterModel(ctx, bad), &ve)
	assert.Equal(t, "model_version", ve.Field)

	require.NoError(t, in.Flush(ctx))
	recs := modelRecords(mem)
	require.Len(t, recs, 3)
	assert.Equal(t, "ranking", recs[0].Owner, "the first registration is the record")
	for _, r := range recs {
		assert.Equal(t, "feed-ranker", r.Service)
		assert.False(t, r.EventID.IsZero())
		assert.False(t, r.Time.IsZero())
	}
	assert.NotEqual(t, recs[0].FeatureHash, recs[1].FeatureHash)
	st := in.Stats()
	assert.EqualValues(t, 3, st.Models)
	assert.EqualValues(t, 3, st.Accepted)
	assert.EqualValues(t, 1, st.Rejected["model.feature_hash"])
	assert.EqualValues(t, 1, st.Rejected["model.model_version"])
	require.NoError(t, in.Shutdown(ctx))
	require.ErrorIs(t, in.RegisterModel(ctx, testModelMeta("late", "1", nil)), personalize.ErrShutdown)
}

// TestRegisterModelIgnoresConsent: a model record is no one's personal
// data, so an opt-in policy nobody agreed to does not withhold it.
func TestRegisterModelIgnoresConsent(t *testing.T) {
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, func(c *personalize.Config) { c.Consent = &privacy.OptInSet{} }, mem)
	ctx := context.Background()
	require.NoError(t, in.RegisterModel(ctx, testModelMeta("m", "1", nil)))
	require.NoError(t, in.Outcome(ctx, personalize.Outcome{User: "u", Kind: personalize.OutcomeSignup}))
	require.NoError(t, in.Shutdown(ctx))
	assert.Len(t, modelRecords(mem), 1)
	assert.Equal(t, 1, mem.Len(), "the outcome is withheld")
	assert.EqualValues(t, 1, in.Stats().OptedOut)
}

// TestRegisterModelForgetsTheOldestPastTheBound: the registry holds
// MaxRegisteredModels triples; the oldest is forgotten first, so it is
// emitted again while the newest are still no-ops.
func TestRegisterModelForgetsTheOldestPastTheBound(t *testing.T) {
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, func(c *personalize.Config) { c.QueueSize = 4 * personalize.MaxRegisteredModels }, mem)
	ctx := context.Background()
	reg := func(i int) { require.NoError(t, in.RegisterModel(ctx, testModelMeta("m", strconv.Itoa(i), nil))) }
	for i := 0; i <= personalize.MaxRegisteredModels; i++ {
		reg(i)
	}
	reg(personalize.MaxRegisteredModels) // newest: remembered
	reg(0)                               // oldest: forgotten, emitted again
	require.NoError(t, in.Shutdown(ctx))
	assert.Len(t, modelRecords(mem), personalize.MaxRegisteredModels+2)
}

// TestConfigModels: New registers Config.Models and fails closed on an
// invalid entry, naming it.
func TestConfigModels(t *testing.T) {
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, func(c *personalize.Config) {
		c.Models = []personalize.ModelMetadata{testModelMeta("a", "1", nil), testModelMeta("b", "1", nil), testModelMeta("a", "1", nil)}
	}, mem)
	ctx := context.Background()
	require.NoError(t, in.RegisterModel(ctx, testModelMeta("b", "1", nil)), "already registered by New")
	require.NoError(t, in.Shutdown(ctx))
	assert.Len(t, modelRecords(mem), 2)
	assert.EqualValues(t, 2, in.Stats().Models)

	bad := testModelMeta("c", "1", nil)
	bad.FeatureHash = strings.ToUpper(bad.FeatureHash)
	_, err := personalize.New(personalize.Config{Service: "s", Pseudonymize: testKeyring(t), Exporters: []personalize.Exporter{personalizetest.NewMemoryExporter()},
		Models: []personalize.ModelMetadata{testModelMeta("a", "1", nil), bad}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.Models[1]")
	assert.Contains(t, err.Error(), "feature_hash")

	_, err = personalize.New(personalize.Config{Service: "s", Pseudonymize: testKeyring(t), Exporters: []personalize.Exporter{personalizetest.NewMemoryExporter()},
		Models: make([]personalize.ModelMetadata, personalize.MaxRegisteredModels+1)})
	require.ErrorContains(t, err, "Config.Models")
}

// TestRegisterModelDurable: in durable mode a model record goes through
// the write-ahead log like any event (consent skipped there too) and
// reaches the exporter.
func TestRegisterModelDurable(t *testing.T) {
	mem := personalizetest.NewMemoryExporter()
	in := newInst(t, func(c *personalize.Config) {
		c.WAL = personalize.WALConfig{Dir: t.TempDir()}
		c.Consent = &privacy.OptInSet{}
		c.Models = []personalize.ModelMetadata{testModelMeta("m", "1", nil)}
	}, mem)
	ctx := context.Background()
	require.NoError(t, in.RegisterModel(ctx, testModelMeta("m", "2", nil)))
	require.NoError(t, in.Shutdown(ctx))
	recs := modelRecords(mem)
	require.Len(t, recs, 2)
	assert.Equal(t, "feed-ranker", recs[1].Service)
	assert.EqualValues(t, 2, in.Stats().Models)
	assert.Zero(t, in.Stats().OptedOut)
}
