package otlp

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

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

// testResources are resources of every attribute type (the differential
// test against the SDK, in internal/collectortest, uses the same set).
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
	lr := got.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	assert.Zero(t, lr.TimeUnixNano, "before the epoch: 0, as the SDK (collectortest compares the two)")
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
