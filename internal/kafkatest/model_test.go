package kafkatest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
)

// A model lineage record travels like any event: its value is its JSON
// line, which decodes back to the record, and its key is the model name
// (it has no user).
func TestModelRecordKeyedByModelName(t *testing.T) {
	c := startCluster(t, 2)
	e := newExporter(t, kafka.Config{Brokers: c.ListenAddrs()})
	m := &personalize.ModelMetadata{EventID: personalize.NewEventID(), Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		Service: "feed-ranker", Model: "two-tower", Version: "v7", FeatureSet: "fs-1",
		FeatureHash: personalize.FeatureHash(map[string]string{"ctr": "clicks / views"}), TrainingSnapshot: "snap", Owner: "ranking"}
	require.NoError(t, e.Export(t.Context(), []personalize.Event{{Type: personalize.EventModel, Model: m}}))
	got := consume(t, c.ListenAddrs(), 1)
	require.Len(t, got, 1)
	assert.Equal(t, "two-tower", got[0].key)
	require.NotNil(t, got[0].event.Model)
	assert.Equal(t, *m, *got[0].event.Model)
}
