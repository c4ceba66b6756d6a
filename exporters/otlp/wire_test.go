package otlp

import (
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// sdkRequest returns the request the SDK path (otlploghttp) sends for
// batch, decoded with the official protobuf types.
func sdkRequest(t *testing.T, res *resource.Resource, batch []personalize.Event) *collogspb.ExportLogsServiceRequest {
	t.Helper()
	var (
		mu   sync.Mutex
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	e := newExporter(t, Config{UseSDK: true, Resource: res, Transport: Transport{Endpoint: srv.URL}})
	require.NoError(t, e.Export(ctx(t), batch))
	require.NoError(t, e.Shutdown(ctx(t)))
	mu.Lock()
	defer mu.Unlock()
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(body, &req))
	return &req
}

// directRequest encodes batch with the direct path's encoder after some
// garbage already in the buffer, and decodes it with the official types.
func directRequest(t *testing.T, res *resource.Resource, batch []personalize.Event) (*collogspb.ExportLogsServiceRequest, int) {
	t.Helper()
	buf := []byte("garbage before the request")
	_, r := newRequestEncoder(res, ScopeName, DefaultMaxRequestBytes).encode(buf, batch, time.Now())
	require.Equal(t, len(batch), r.next, "one request")
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(r.req, &req))
	return &req, r.n
}

// clearObserved zeroes observed_time_unix_nano (the SDK stamps each
// record when it is emitted, the direct path each batch) after checking
// it is set and not before the event time's epoch.
func clearObserved(t *testing.T, req *collogspb.ExportLogsServiceRequest) {
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				require.NotZero(t, lr.ObservedTimeUnixNano)
				lr.ObservedTimeUnixNano = 0
			}
		}
	}
}

func testResources(t *testing.T) map[string]*resource.Resource {
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
	return map[string]*resource.Resource{"default": resource.Default(), "empty": resource.Empty(), "every type": rich}
}

// TestWireMatchesSDK is the differential test of the direct encoder: for
// random events of every type, its request decoded with the official
// protobuf types equals what the SDK path sends (observed time aside).
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

	batches := map[string][]personalize.Event{
		"edge cases": {
			{Type: personalize.EventImpression, Impression: big}, tiny,
			{}, // no payload: dropped by both paths
			{Type: personalize.EventImpression, Impression: special},
		},
	}
	for i := range 6 {
		batches["random "+string(rune('a'+i))] = events(uint64(510+i), 300)
	}
	for rname, res := range testResources(t) {
		for bname, batch := range batches {
			t.Run(rname+"/"+bname, func(t *testing.T) {
				want := sdkRequest(t, res, batch)
				got, n := directRequest(t, res, batch)
				clearObserved(t, want)
				clearObserved(t, got)
				require.Len(t, got.ResourceLogs, 1)
				require.Len(t, got.ResourceLogs[0].ScopeLogs, 1)
				assert.Len(t, got.ResourceLogs[0].ScopeLogs[0].LogRecords, n)
				if !proto.Equal(want, got) {
					w, g := want.ResourceLogs[0], got.ResourceLogs[0]
					require.True(t, proto.Equal(w.Resource, g.Resource), "resource\nsdk:    %v\ndirect: %v", prototext.Format(w.Resource), prototext.Format(g.Resource))
					wr, gr := w.ScopeLogs[0].LogRecords, g.ScopeLogs[0].LogRecords
					require.Len(t, gr, len(wr))
					for i := range wr {
						require.True(t, proto.Equal(wr[i], gr[i]), "record %d\nsdk:    %v\ndirect: %v", i, prototext.Format(wr[i]), prototext.Format(gr[i]))
					}
					t.Fatalf("requests differ outside resource and records\nsdk:    %v\ndirect: %v", prototext.Format(w), prototext.Format(g))
				}
			})
		}
	}
}

func TestWireNothingToSend(t *testing.T) {
	buf := []byte("keep")
	out, r := newRequestEncoder(resource.Default(), ScopeName, DefaultMaxRequestBytes).encode(buf, []personalize.Event{{}, {}}, time.Now())
	assert.Equal(t, "keep", string(out), "the buffer is restored")
	assert.Equal(t, encodeResult{next: 2, dropped: 2}, r)
}

func TestWirePreEpochTime(t *testing.T) {
	ev := personalizetest.RandomEvent(newRand(3), personalize.EventOutcome)
	ev.Outcome.Time = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)
	got, _ := directRequest(t, resource.Empty(), []personalize.Event{ev})
	want := sdkRequest(t, resource.Empty(), []personalize.Event{ev})
	lr := got.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	assert.Zero(t, lr.TimeUnixNano, "before the epoch: 0, as the SDK")
	assert.Equal(t, want.ResourceLogs[0].ScopeLogs[0].LogRecords[0].TimeUnixNano, lr.TimeUnixNano)
}

func TestVarintAndCloseLen(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<63 - 1, 1<<64 - 1} {
		var b [binary.MaxVarintLen64]byte
		n := binary.PutUvarint(b[:], v)
		assert.Equal(t, n, sizeVarint(v), "size of %d", v)
		assert.Equal(t, b[:n], appendVarint(nil, v), "encoding of %d", v)
	}
	for _, reserve := range []int{1, 2, 3} {
		for _, size := range []int{0, 1, 127, 128, 300, 16383, 16384, 70000} {
			b, at := openLen([]byte("ab"), 0x12, reserve)
			body := make([]byte, size)
			for i := range body {
				body[i] = byte(i)
			}
			b = append(b, body...)
			b = closeLen(b, at, reserve)
			want := append(appendVarint([]byte("ab\x12"), uint64(size)), body...)
			assert.Equal(t, want, b, "reserve %d, size %d", reserve, size)
		}
	}
}

// TestWireAllocs pins the direct encoder: a warm buffer, no allocation.
func TestWireAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	batch := events(77, 512)
	enc := newRequestEncoder(resource.Default(), ScopeName, DefaultMaxRequestBytes)
	buf, _ := enc.encode(nil, batch, time.Now())
	now := time.Now()
	allocs := testing.AllocsPerRun(20, func() {
		buf, _ = enc.encode(buf[:0], batch, now)
	})
	assert.Zero(t, allocs)
}
