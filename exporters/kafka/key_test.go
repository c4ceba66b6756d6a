package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rankscope/rankscope/personalize"
)

func TestRecordKey(t *testing.T) {
	u, s := personalize.Pseudonym{ID: "u-pseudo", KeyID: "k1"}, personalize.Pseudonym{ID: "s-pseudo", KeyID: "k1"}
	for _, tc := range []struct {
		name string
		ev   personalize.Event
		want string
	}{
		{"impression user", personalize.Event{Type: personalize.EventImpression,
			Impression: &personalize.Impression{UserID: u, SessionID: s, RequestID: "req-1"}}, "u-pseudo"},
		{"impression session", personalize.Event{Type: personalize.EventImpression,
			Impression: &personalize.Impression{SessionID: s, RequestID: "req-1"}}, "s-pseudo"},
		{"impression request", personalize.Event{Type: personalize.EventImpression,
			Impression: &personalize.Impression{RequestID: "req-1"}}, "req-1"},
		{"outcome user", personalize.Event{Type: personalize.EventOutcome,
			Outcome: &personalize.Outcome{UserID: u, SessionID: s, RequestID: "req-1"}}, "u-pseudo"},
		{"outcome session", personalize.Event{Type: personalize.EventOutcome,
			Outcome: &personalize.Outcome{SessionID: s, RequestID: "req-1"}}, "s-pseudo"},
		{"outcome request", personalize.Event{Type: personalize.EventOutcome,
			Outcome: &personalize.Outcome{RequestID: "req-1"}}, "req-1"},
		{"outcome raw ids are never keys", personalize.Event{Type: personalize.EventOutcome,
			Outcome: &personalize.Outcome{User: "raw-user", Session: "raw-session"}}, ""},
		{"exposure", personalize.Event{Type: personalize.EventExposure,
			Exposure: &personalize.Exposure{UserID: u, User: "raw-user"}}, "u-pseudo"},
		{"exposure without user", personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{}}, ""},
		{"link user", personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{UserID: u, SessionID: s}}, "u-pseudo"},
		{"link session", personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{SessionID: s}}, "s-pseudo"},
		{"model record: its model name", personalize.Event{Type: personalize.EventModel, Model: &personalize.ModelMetadata{
			Model: "two-tower", Version: "v7", FeatureHash: "00112233445566778899aabbccddeeff", Owner: "ranking"}}, "two-tower"},
		{"no payload", personalize.Event{Type: personalize.EventOutcome}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, recordKey(tc.ev))
		})
	}
}

// Zigzag varint lengths from the Kafka protocol guide's record format
// (varints as in protobuf's sint): 0, -1, 63 and -64 take one byte; 64
// and -65 two; 8191 two; 8192 three.
func TestVarintLen(t *testing.T) {
	for v, want := range map[int64]int{0: 1, -1: 1, 63: 1, -64: 1, 64: 2, -65: 2, 8191: 2, 8192: 3, 1 << 20: 4, 1 << 30: 5} {
		assert.Equal(t, want, varintLen(v), "varintLen(%d)", v)
	}
	// A record of key "k" and a 10-byte value: 1+1+1 (attributes,
	// timestamp and offset deltas) + 1+1 (key) + 1+10 (value) + 1
	// (headers) = 17 bytes, its length 1 byte, after 65 bytes of framing.
	assert.Equal(t, 65+1+17, batchBytes(1, 10))
	// A nil key is length -1 (one byte) and no key bytes.
	assert.Equal(t, 65+1+16, batchBytes(0, 10))
}

func TestClassify(t *testing.T) {
	for err, want := range map[error]DropReason{
		fmt.Errorf("%w (uncompressed_bytes=9)", kerr.MessageTooLarge): DropTooLarge,
		kgo.ErrClientClosed:                   DropShutdown,
		context.DeadlineExceeded:              DropDeadline,
		fmt.Errorf("x: %w", context.Canceled): DropDeadline,
		kerr.TopicAuthorizationFailed:         DropFailed,
		errors.New("boom"):                    DropFailed,
	} {
		assert.Equal(t, want, classify(err), "%v", err)
	}
	for r := DropReason(0); r < numDropReasons; r++ {
		assert.NotEqual(t, "unknown", r.String())
	}
	assert.Equal(t, "unknown", numDropReasons.String())
}

func TestExportErrorMessage(t *testing.T) {
	e := &ExportError{Events: 10, Acked: 6, Dropped: map[DropReason]int{DropTooLarge: 1, DropDeadline: 2}, Pending: 1,
		Err: errors.New("first")}
	assert.Equal(t, "kafka: 4 of 10 events not delivered (too_large 1, deadline 2, pending 1): first", e.Error())
	assert.Equal(t, 6, e.Delivered())
	var d interface{ Delivered() int } // what the pipeline looks for
	require.True(t, errors.As(error(e), &d))
	assert.Equal(t, "kafka: 1 of 1 events not delivered", (&ExportError{Events: 1}).Error())
}

// With nothing listening, Export fails by its deadline with an error
// naming the broker, and counts every event; no goroutine is left
// (TestMain runs goleak).
func TestExportBrokerDown(t *testing.T) {
	var reported []error
	e, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Topic: "rankscope.events", DialTimeout: 100 * time.Millisecond,
		ErrorHandler: func(err error) { reported = append(reported, err) }})
	require.NoError(t, err)
	batch := []personalize.Event{{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
		EventID: personalize.NewEventID(), UserID: personalize.Pseudonym{ID: "u1"}, Experiment: "x", Variant: "a",
		Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Service: "s"}}}
	batch = append(batch, batch[0], batch[0])
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	err = e.Export(ctx, batch)
	took := time.Since(start)
	var ee *ExportError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 0, ee.Delivered())
	assert.Equal(t, map[DropReason]int{DropUnavailable: 3}, ee.Dropped)
	assert.Contains(t, err.Error(), "brokers 127.0.0.1:1 unreachable")
	assert.Contains(t, err.Error(), "connection refused")
	// Not a timing assertion: a hang would be the default retry budget (30s).
	assert.Less(t, took, 10*time.Second, "Export must end near its deadline")

	// The events are accounted for.
	st := e.Stats()
	assert.Equal(t, uint64(3), st.Accepted)
	assert.Equal(t, map[DropReason]uint64{DropUnavailable: 3}, st.Dropped)
	assert.Equal(t, st.Accepted, st.Delivered+st.TotalDropped()+uint64(st.Pending))
	assert.Equal(t, uint64(1), st.FailedExports)
	assert.Empty(t, reported)

	// Empty batches, done contexts and Shutdown.
	require.NoError(t, e.Export(t.Context(), nil))
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	assert.ErrorIs(t, e.Export(done, batch), context.Canceled)
	require.NoError(t, e.Shutdown(t.Context()))
	require.NoError(t, e.Shutdown(t.Context()), "idempotent")
	assert.ErrorIs(t, e.Export(t.Context(), batch), ErrShutdown)
	assert.Equal(t, uint64(3), e.Stats().Accepted, "nothing accepted after Shutdown or with a done context")
}

// When the deadline cuts the last connection attempt short, the error
// still says why the attempts before it failed: a dialer that refuses
// once and then hangs until its context ends (as a loaded machine or a
// black-holed route would) must not leave only "context deadline
// exceeded" in the message.
func TestBrokersDownNamesLastDialFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	var calls atomic.Int32
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		if calls.Add(1) == 1 {
			return nil, refused
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	e, err := New(Config{Brokers: []string{"127.0.0.1:9"}, Topic: "rankscope.events", DialTimeout: 10 * time.Second,
		ClientOptions: []kgo.Opt{kgo.Dialer(dial)}})
	require.NoError(t, err)
	batch := []personalize.Event{{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
		EventID: personalize.NewEventID(), UserID: personalize.Pseudonym{ID: "u1"}, Experiment: "x", Variant: "a",
		Time: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Service: "s"}}}
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	err = e.Export(ctx, batch)
	require.Error(t, err)
	assert.GreaterOrEqual(t, calls.Load(), int32(2), "the client dialled again after the refusal")
	assert.Contains(t, err.Error(), "brokers 127.0.0.1:9 unreachable")
	assert.Contains(t, err.Error(), refused.Error())
	require.NoError(t, e.Shutdown(t.Context()))
}
