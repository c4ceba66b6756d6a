package otlp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

func modelEvent() personalize.Event {
	return personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{
		EventID: personalize.NewEventID(), Time: time.Date(2026, 11, 2, 9, 0, 0, 7, time.UTC), Service: "feed",
		Model: "two-tower", Version: "v7", FeatureSet: "fs-1",
		FeatureHash:      personalize.FeatureHash(map[string]string{"ctr": "clicks / views"}),
		TrainingSnapshot: "snap", Owner: "ranking"}}
}

// TestModelRecordOverTheWire sends a model lineage record among other
// events through each transport: it arrives as a log record named
// rankscope.model that decodes back to the same record.
func TestModelRecordOverTheWire(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t)
			e := newExporter(t, Config{Transport: Transport{Protocol: tr.proto, Endpoint: url}})
			batch := append(events(5, 3), modelEvent())
			require.NoError(t, e.Export(ctx(t), batch))
			got := s.delivered()
			require.Len(t, got, len(batch))
			assert.Equal(t, "rankscope.model", s.names[3])
			require.NotNil(t, got[3].Model)
			assert.Equal(t, *batch[3].Model, *got[3].Model)
		})
	}
	_, err := Decode(EventNameModel, time.Now(), nil)
	require.Error(t, err, "a record without attributes is not a model record")
}
