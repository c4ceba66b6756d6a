package otlp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// limitTransports are the transports of the request-limit tests; sink
// starts a receiver refusing requests over limit bytes as the Collector
// does (HTTP 400, gRPC ResourceExhausted).
var limitTransports = []limitTransport{
	{"grpc", ProtocolGRPC, false, grpcSinkLimit},
	{"http", ProtocolHTTPProtobuf, false, httpSinkLimit},
	{"http/gzip", ProtocolHTTPProtobuf, true, httpSinkLimit},
}

type limitTransport struct {
	name  string
	proto Protocol
	gzip  bool
	sink  func(testing.TB, int) (*sink, string)
}

func (tr limitTransport) transport(endpoint string) Transport {
	t := Transport{Protocol: tr.proto, Endpoint: endpoint}
	if tr.gzip {
		t.Compression = CompressionGzip
	}
	return t
}

// hugeItems is an impression of n items (minimal ones, so a million
// stay cheap to build): too large for any request by its item count.
func hugeItems(seed uint64, n int) personalize.Event {
	im := personalizetest.RandomImpression(newRand(seed), 1)
	im.Items = make([]personalize.Item, n)
	for i := range im.Items {
		im.Items[i] = personalize.Item{ID: "sku-1", Position: i + 1, Score: 0.5}
	}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

// hugeContext is an impression of 3 items with a context value of n
// bytes: too large only once encoded.
func hugeContext(seed uint64, n int) personalize.Event {
	im := personalizetest.RandomImpression(newRand(seed), 3)
	im.Context = append(im.Context, personalize.Attr{Key: "note", Value: strings.Repeat("n", n)})
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

// deadLetters records what reaches Config.DeadLetter and ErrorHandler.
type deadLetters struct {
	mu      sync.Mutex
	ids     []personalize.EventID
	reasons []string
	errs    []*TooLargeError
	handled []error
}

func (d *deadLetters) config(cfg Config) Config {
	cfg.DeadLetter = func(_ context.Context, dl DeadLetter) {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, ev := range dl.Events {
			d.ids = append(d.ids, ev.ID())
			d.reasons = append(d.reasons, dl.Reason)
		}
		var tl *TooLargeError
		if errors.As(dl.Err, &tl) {
			d.errs = append(d.errs, tl)
		}
	}
	cfg.ErrorHandler = func(err error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.handled = append(d.handled, err)
	}
	return cfg
}

// requireIdentity checks the accounting identity of Stats.
func requireIdentity(t *testing.T, st Stats, passed int) {
	t.Helper()
	require.Equal(t, uint64(passed), st.Exported+st.Failed+st.Rejected+st.Dropped+st.DeadLettered,
		"Exported + Failed + Rejected + Dropped + DeadLettered counts every event: %+v", st)
}

// TestRequestLimit: a batch larger than Config.MaxRequestBytes goes out in
// several requests, each within the limit, every event once and in order;
// an event too large for a request alone (by its item count, or once
// encoded) is dead-lettered as too_large and the rest is delivered, on
// both protocols.
func TestRequestLimit(t *testing.T) {
	const limit = 64 << 10
	for _, tr := range limitTransports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t, limit)
			var dl deadLetters
			e := newExporter(t, dl.config(Config{Transport: tr.transport(url), MaxRequestBytes: limit}))
			good := events(60, 300)
			byItems, byContext := hugeItems(61, 10_000), hugeContext(62, 100<<10)
			batch := append([]personalize.Event{}, good[:100]...)
			batch = append(batch, byItems)
			batch = append(batch, good[100:200]...)
			batch = append(batch, byContext, personalize.Event{}) // and one without payload
			batch = append(batch, good[200:]...)

			require.NoError(t, e.Export(ctx(t), batch), "the too-large events do not fail the batch")
			assert.Equal(t, encodeAll(good), encodeAll(s.delivered()), "every other event, once, in order")
			sizes := s.requestSizes()
			require.Greater(t, len(sizes), 1, "split")
			for i, n := range sizes {
				assert.LessOrEqual(t, n, limit, "request %d", i)
			}

			assert.Equal(t, []personalize.EventID{byItems.ID(), byContext.ID()}, dl.ids)
			assert.Equal(t, []string{ReasonTooLarge, ReasonTooLarge}, dl.reasons)
			require.Len(t, dl.errs, 2)
			assert.True(t, dl.errs[0].AtLeast, "refused by its item count, not encoded")
			assert.False(t, dl.errs[1].AtLeast, "encoded, then refused")
			for _, tl := range dl.errs {
				assert.Greater(t, tl.Bytes, limit)
				assert.Equal(t, limit, tl.Limit)
				assert.Equal(t, personalize.EventImpression, tl.Type)
			}
			require.Len(t, dl.handled, 2, "reported to the error handler")
			assert.ErrorContains(t, dl.handled[0], "otlp: impression "+byItems.ID().String()+" not sent (too_large)")
			assert.ErrorContains(t, dl.handled[1], "over Config.MaxRequestBytes (65536)")

			st := e.Stats()
			assert.Equal(t, Stats{Exported: 300, Dropped: 1, DeadLettered: 2, Batches: 1, Requests: uint64(len(sizes))}, st)
			requireIdentity(t, st, len(batch))
		})
	}
}

// TestRequestLimitDefault is the fault found against a real Collector: an
// impression of a million items in a batch of 512. With the default limit
// (4 MiB, gRPC's max receive message size) the 511 others reach a
// receiver with the Collector's default limits (gRPC 4 MiB, HTTP 20 MiB);
// and a batch of good events over 4 MiB is split, not refused.
func TestRequestLimitDefault(t *testing.T) {
	huge := hugeItems(66, 1_000_000)
	for _, tr := range limitTransports {
		t.Run(tr.name, func(t *testing.T) {
			limit := 0 // gRPC's default
			if tr.proto == ProtocolHTTPProtobuf {
				limit = 20 << 20 // the Collector's HTTP default
			}
			s, url := tr.sink(t, limit)
			var dl deadLetters
			e := newExporter(t, dl.config(Config{Transport: tr.transport(url)}))
			good := events(63, 511)
			batch := append(append([]personalize.Event{}, good[:300]...), huge)
			batch = append(batch, good[300:]...)
			require.NoError(t, e.Export(ctx(t), batch))
			assert.Equal(t, encodeAll(good), encodeAll(s.delivered()))
			assert.Equal(t, []personalize.EventID{huge.ID()}, dl.ids)
			st := e.Stats()
			assert.Equal(t, uint64(511), st.Exported)
			assert.Equal(t, uint64(1), st.DeadLettered)
			requireIdentity(t, st, len(batch))

			if tr.gzip {
				return // the split itself is the same on every transport; keep -race runs short
			}
			big := make([]personalize.Event, 10) // 6 MB of records
			for i := range big {
				big[i] = hugeContext(uint64(70+i), 600<<10)
			}
			require.NoError(t, e.Export(ctx(t), big))
			assert.Equal(t, encodeAll(append(good, big...)), encodeAll(s.delivered()))
			assert.Equal(t, uint64(3), e.Stats().Requests, "one, then two for the batch over 4 MiB")
		})
	}
}

// TestRequestLimitFailedRequest: when one request of a split batch fails,
// its events are counted Failed, the other requests are still sent, and
// Export returns the error.
func TestRequestLimitFailedRequest(t *testing.T) {
	const limit = 64 << 10
	for _, tr := range limitTransports {
		t.Run(tr.name, func(t *testing.T) {
			s, url := tr.sink(t, limit)
			s.mu.Lock()
			s.fail = func(n int) error {
				if n == 2 {
					return errors.New("down")
				}
				return nil
			}
			s.mu.Unlock()
			tp := tr.transport(url)
			tp.Retry.Disabled = true
			e := newExporter(t, Config{Transport: tp, MaxRequestBytes: limit})
			batch := events(65, 300)
			err := e.Export(ctx(t), batch)
			require.ErrorContains(t, err, "otlp: export of ")
			got := s.delivered()
			st := e.Stats()
			assert.Positive(t, st.Failed)
			assert.Equal(t, uint64(len(got)), st.Exported)
			assert.Equal(t, encodeAll(batch[len(batch)-1:]), encodeAll(got[len(got)-1:]), "requests after the failed one are sent")
			assert.Equal(t, uint64(1), st.Batches)
			assert.Equal(t, uint64(1), st.FailedBatches)
			assert.Greater(t, st.Requests, uint64(2))
			requireIdentity(t, st, len(batch))
		})
	}
}

func TestNewValidatesMaxRequestBytes(t *testing.T) {
	big, err := resource.New(ctx(t), resource.WithAttributes(attribute.String("blob", strings.Repeat("b", 4000))))
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative", Config{MaxRequestBytes: -1}, "otlp: Config.MaxRequestBytes: must be 0 (default 4194304) or between 1024 and 2147483647, got -1"},
		{"below 1 KiB", Config{MaxRequestBytes: 1023}, "otlp: Config.MaxRequestBytes"},
		{"over 2 GiB", Config{MaxRequestBytes: 1 << 31}, "otlp: Config.MaxRequestBytes"},
		{"smaller than the resource", Config{MaxRequestBytes: 4000, Resource: big}, "otlp: Config.MaxRequestBytes: 4000 leaves no room for records"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
	for _, n := range []int{0, 1024, 4100} {
		e, err := New(Config{MaxRequestBytes: n, Resource: resource.Empty(), Transport: Transport{Endpoint: "http://127.0.0.1:1"}})
		require.NoError(t, err)
		require.NoError(t, e.Shutdown(ctx(t)))
	}
}

// records decodes the log records of an encoded request.
func records(t *testing.T, req []byte) []*logspb.LogRecord {
	t.Helper()
	var m collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(req, &m))
	require.Len(t, m.ResourceLogs, 1)
	require.Len(t, m.ResourceLogs[0].ScopeLogs, 1)
	return m.ResourceLogs[0].ScopeLogs[0].LogRecords
}

// recordBytes is the size of a record in ScopeLogs (tag, length, record).
func recordBytes(lr *logspb.LogRecord) int { return sizeLen(proto.Size(lr)) }

// TestEncodeSplitsAtLimit: encode fills each request as far as the limit
// allows (the next record would not have fit), and the requests together
// carry the records of the unsplit request.
func TestEncodeSplitsAtLimit(t *testing.T) {
	for rname, res := range testResources(t) {
		t.Run(rname, func(t *testing.T) {
			batch := events(91, 200)
			batch = append(batch[:50], append([]personalize.Event{{}}, batch[50:]...)...)
			now := time.Now()
			_, whole := newRequestEncoder(res, ScopeName, DefaultMaxRequestBytes).encode(nil, batch, now)
			want := records(t, whole.req)
			for _, limit := range []int{8 << 10, 40000} {
				enc := newRequestEncoder(res, ScopeName, limit)
				var got []*logspb.LogRecord
				dropped := 0
				for from := 0; from < len(batch); {
					scratch, m := enc.measure(nil, batch[from:], now)
					_, r := enc.encode([]byte("junk"), batch[from:], now)
					require.Positive(t, r.n)
					require.Empty(t, enc.tooLarge)
					assert.Equal(t, encodeResult{next: r.next, n: r.n, dropped: r.dropped}, m, "measure splits as encode does")
					assert.Empty(t, scratch)
					assert.Less(t, cap(scratch), 16<<10, "measure holds one record at a time")
					require.LessOrEqual(t, len(r.req), limit)
					recs := records(t, r.req)
					require.Len(t, recs, r.n)
					size := 0
					for _, lr := range recs {
						size += recordBytes(lr)
					}
					require.Equal(t, len(r.req), enc.requestSize(size), "requestSize is exact")
					if from+r.next < len(batch) { // stopped before an encodable event
						next := want[len(got)+len(recs)]
						assert.Greater(t, enc.requestSize(size+recordBytes(next)), limit, "the next record would not have fit")
					}
					got = append(got, recs...)
					dropped += r.dropped
					from += r.next
				}
				require.Len(t, got, len(want))
				for i := range want {
					require.True(t, proto.Equal(want[i], got[i]), "record %d (limit %d)", i, limit)
				}
				assert.Equal(t, 1, dropped)
			}
		})
	}
}

// TestEncodeTooLarge: a record exactly at the limit is sent; one byte
// less and it is refused with the exact size; an impression whose items
// alone exceed the limit is refused before it is encoded.
func TestEncodeTooLarge(t *testing.T) {
	ev := hugeContext(92, 5000)
	now := time.Now()
	_, r := newRequestEncoder(resource.Default(), ScopeName, DefaultMaxRequestBytes).encode(nil, []personalize.Event{ev}, now)
	exact := len(r.req)

	enc := newRequestEncoder(resource.Default(), ScopeName, exact)
	_, r = enc.encode(nil, []personalize.Event{ev}, now)
	assert.Equal(t, 1, r.n, "fits at exactly the limit")
	assert.Empty(t, enc.tooLarge)

	enc = newRequestEncoder(resource.Default(), ScopeName, exact-1)
	out, r := enc.encode([]byte("keep"), []personalize.Event{ev}, now)
	assert.Equal(t, encodeResult{next: 1}, r)
	assert.Equal(t, "keep", string(out), "the buffer is restored")
	assert.Equal(t, []oversized{{index: 0, size: exact}}, enc.tooLarge)

	// Between two sendable events, the too-large one is skipped and the
	// request goes on.
	small := events(93, 2)
	out, r = enc.encode(nil, []personalize.Event{small[0], ev, small[1]}, now)
	assert.Equal(t, 2, r.n)
	assert.Equal(t, 3, r.next)
	assert.Equal(t, []oversized{{index: 1, size: exact}}, enc.tooLarge)

	_, m := enc.measure(nil, []personalize.Event{small[0], ev, small[1]}, now)
	assert.Equal(t, encodeResult{next: 3, n: 2}, m)
	assert.Equal(t, []oversized{{index: 1, size: exact}}, enc.tooLarge, "measured as encoded")

	items := hugeItems(94, 1000)
	enc = newRequestEncoder(resource.Default(), ScopeName, 10000)
	out, r = enc.encode(out[:0], []personalize.Event{items}, now)
	assert.Empty(t, out, "not encoded")
	assert.Equal(t, encodeResult{next: 1}, r)
	require.Len(t, enc.tooLarge, 1)
	assert.True(t, enc.tooLarge[0].atMin)
	assert.Equal(t, enc.requestSize(minItemRecordBytes*1000), enc.tooLarge[0].size)
}

// TestMinRecordSizeIsLowerBound: the bound used to refuse impressions
// without encoding them never exceeds a record's size, for random events
// and for the smallest items (empty id, position 0, score 0).
func TestMinRecordSizeIsLowerBound(t *testing.T) {
	batch := events(95, 500)
	tiny := personalizetest.RandomImpression(newRand(96), 0)
	tiny.Context, tiny.Experiments, tiny.Flags, tiny.Stages = nil, nil, nil, nil
	tiny.Items = make([]personalize.Item, 300) // zero items
	batch = append(batch, personalize.Event{Type: personalize.EventImpression, Impression: tiny})
	enc := newRequestEncoder(resource.Empty(), ScopeName, DefaultMaxRequestBytes)
	for i := range batch {
		_, r := enc.encode(nil, batch[i:i+1], time.Now())
		recs := records(t, r.req)
		require.Len(t, recs, 1)
		assert.LessOrEqual(t, minRecordSize(batch[i].Impression), recordBytes(recs[0]), "event %d", i)
	}
	assert.Equal(t, 300*minItemRecordBytes, minRecordSize(tiny))
}

// TestFitsIsExact: the budget shortcut never changes the answer of the
// exact size, around the budget and around the varint boundaries.
func TestFitsIsExact(t *testing.T) {
	for rname, res := range testResources(t) {
		for _, limit := range []int{1 << 10, 4096, 16383, 16384, 16400, 1<<21 + 3, DefaultMaxRequestBytes} {
			enc := newRequestEncoder(res, ScopeName, limit)
			if enc.requestSize(0) >= limit {
				continue // New refuses it
			}
			for _, center := range []int{0, enc.budget, limit - enc.requestSize(0), 127, 16383, 1<<21 - 1} {
				for r := max(center-40, 0); r <= center+40; r++ {
					require.Equal(t, enc.requestSize(r) <= limit, enc.fits(r), "%s: limit %d, records %d", rname, limit, r)
				}
			}
		}
	}
}

// TestTransient: the exporter keeps nothing of a batch after Export (it
// encodes the events into the request), so it lets the pipeline recycle
// them, unless a DeadLetter callback, which may keep events, is set.
func TestTransient(t *testing.T) {
	tr := Transport{Protocol: ProtocolHTTPProtobuf, Endpoint: "http://127.0.0.1:1"}
	exp, err := New(Config{Transport: tr})
	require.NoError(t, err)
	defer exp.Shutdown(context.Background())
	assert.True(t, exp.Transient())
	withDL, err := New(Config{Transport: tr, DeadLetter: func(context.Context, DeadLetter) {}})
	require.NoError(t, err)
	defer withDL.Shutdown(context.Background())
	assert.False(t, withDL.Transient())
}
