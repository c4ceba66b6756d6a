package collectortest

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// decodeRequest decodes an OTLP/HTTP body with the official protobuf
// types and zeroes observed_time_unix_nano (the SDK stamps each record
// when it is emitted, the exporter each batch) after checking it is set.
func decodeRequest(t *testing.T, body []byte) *collogspb.ExportLogsServiceRequest {
	t.Helper()
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(body, &req))
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				require.NotZero(t, lr.ObservedTimeUnixNano)
				lr.ObservedTimeUnixNano = 0
			}
		}
	}
	return &req
}

// TestWireMatchesSDK is the differential test of the exporter's own
// protobuf encoder: for random events of every type, edge cases, and
// resources with every attribute type, the request it sends equals, once
// decoded with the official types, what the OpenTelemetry SDK's
// otlploghttp sends for the same records (sdkpath_test.go).
func TestWireMatchesSDK(t *testing.T) {
	rng := newRand(501)
	big := personalizetest.RandomImpression(rng, 400) // a record over 16 KiB: its length needs 3 bytes
	big.Context = append(big.Context, personalize.Attr{Key: "note", Value: strings.Repeat("y", 20000)})
	tiny := personalizetest.RandomEvent(rng, personalize.EventLink) // a record under 128 bytes
	tiny.Link.Service, tiny.Link.UserID, tiny.Link.SessionID = "", personalize.Pseudonym{ID: "u"}, personalize.Pseudonym{}
	special := personalizetest.RandomImpression(rng, 3)
	special.Items[0].Score, special.Items[1].Score = math.Copysign(0, -1), 1e308
	special.Items[2].Position = 1 << 40
	special.Stages = append(special.Stages, personalize.StageTiming{Name: "s", Offset: -5, Duration: 1})
	preEpoch := personalizetest.RandomEvent(rng, personalize.EventOutcome)
	preEpoch.Outcome.Time = preEpoch.Outcome.Time.AddDate(-60, 0, 0) // before 1970: time 0, as the SDK
	// A model lineage record.
	model := personalizetest.RandomEvent(rng, personalize.EventModel)

	batches := map[string][]personalize.Event{
		"edge cases": {
			{Type: personalize.EventImpression, Impression: big}, tiny,
			{}, // no payload: dropped by both
			{Type: personalize.EventImpression, Impression: special}, preEpoch, model,
		},
	}
	for i := range 4 {
		batches["random "+string(rune('a'+i))] = events(uint64(510+i), 300)
	}
	rich, err := resource.New(ctx(t), resource.WithSchemaURL("https://opentelemetry.io/schemas/1.26.0"),
		resource.WithAttributes(
			attribute.String("service.name", "feed"), attribute.Int64("pid", -42), attribute.Float64("load", 0.5),
			attribute.Bool("canary", false), attribute.StringSlice("tags", []string{"a", "", "c"}),
			attribute.Int64Slice("ports", []int64{80, -1}), attribute.Float64Slice("w", []float64{1.5}),
			attribute.BoolSlice("flags", []bool{true, false}), attribute.ByteSlice("raw", []byte{0, 1, 255}),
			attribute.Slice("mixed", attribute.StringValue("x"), attribute.Int64Value(3)),
			attribute.Map("deploy", attribute.String("region", "eu"), attribute.Int64("replicas", 3),
				attribute.Map("inner", attribute.Bool("deep", true))),
			attribute.String("long", strings.Repeat("x", 300)),
		))
	require.NoError(t, err)
	for rname, res := range map[string]*resource.Resource{"default": resource.Default(), "empty": resource.Empty(), "every type": rich} {
		for bname, batch := range batches {
			t.Run(rname+"/"+bname, func(t *testing.T) {
				want := decodeRequest(t, captureRequestRes(t, true, res, batch))
				got := decodeRequest(t, captureRequestRes(t, false, res, batch))
				if proto.Equal(want, got) {
					return
				}
				w, g := want.ResourceLogs[0], got.ResourceLogs[0]
				require.True(t, proto.Equal(w.Resource, g.Resource), "resource\nsdk:    %v\ndirect: %v", prototext.Format(w.Resource), prototext.Format(g.Resource))
				wr, gr := w.ScopeLogs[0].LogRecords, g.ScopeLogs[0].LogRecords
				require.Len(t, gr, len(wr))
				for i := range wr {
					require.True(t, proto.Equal(wr[i], gr[i]), "record %d\nsdk:    %v\ndirect: %v", i, prototext.Format(wr[i]), prototext.Format(gr[i]))
				}
				t.Fatalf("requests differ outside resource and records\nsdk:    %v\ndirect: %v", prototext.Format(w), prototext.Format(g))
			})
		}
	}
}
