package kafkatest

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// userEvents returns n events of the given users, their event ids and
// user pseudonyms in the order made.
func userEvents(rng *rand.Rand, users, n int) []personalize.Event {
	evs := personalizetest.RandomEvents(rng, n)
	for i := range evs {
		p := personalizetest.UserPseudonym(rng.IntN(users))
		switch ev := evs[i]; {
		case ev.Impression != nil:
			ev.Impression.UserID = p
		case ev.Outcome != nil:
			ev.Outcome.UserID = p
		case ev.Exposure != nil:
			ev.Exposure.UserID = p
		case ev.Link != nil:
			ev.Link.UserID = p
		}
	}
	return evs
}

func userOf(ev personalize.Event) string {
	switch {
	case ev.Impression != nil:
		return ev.Impression.UserID.ID
	case ev.Outcome != nil:
		return ev.Outcome.UserID.ID
	case ev.Exposure != nil:
		return ev.Exposure.UserID.ID
	case ev.Link != nil:
		return ev.Link.UserID.ID
	}
	return ""
}

// Every event delivered once, keyed by its user's pseudonym, each user's
// events in one partition and in export order.
func TestDeliveryAndPerUserOrder(t *testing.T) {
	for _, comp := range []kafka.Compression{kafka.CompressionZstd, kafka.CompressionLZ4, kafka.CompressionNone} {
		t.Run(comp.String(), func(t *testing.T) {
			c := startCluster(t, 4)
			e := newExporter(t, kafka.Config{Brokers: c.ListenAddrs(), Compression: comp})
			rng := rand.New(rand.NewPCG(7, uint64(comp)))
			var sent []personalize.Event
			for range 40 {
				batch := userEvents(rng, 64, 1+rng.IntN(200))
				require.NoError(t, e.Export(t.Context(), batch))
				sent = append(sent, batch...)
			}
			st := checkBooks(t, e)
			assert.Equal(t, uint64(len(sent)), st.Delivered)
			assert.Zero(t, st.Pending)

			got := consume(t, c.ListenAddrs(), len(sent))
			require.Len(t, got, len(sent))
			want := map[personalize.EventID][]byte{}
			order := map[string][]personalize.EventID{} // per user, export order
			for _, ev := range sent {
				b, err := personalize.AppendJSON(nil, ev)
				require.NoError(t, err)
				want[ev.ID()] = b
				order[userOf(ev)] = append(order[userOf(ev)], ev.ID())
			}
			partOf := map[string]int32{}
			seen := map[string][]personalize.EventID{}
			// consume returns each partition's records in offset order.
			for _, r := range got {
				id := r.event.ID()
				b, ok := want[id]
				require.True(t, ok, "unknown or duplicate event %s", id)
				delete(want, id)
				assert.Equal(t, string(b), string(r.value), "the record value is the event's JSON line")
				assert.Equal(t, userOf(r.event), r.key, "keyed by the user's pseudonym")
				if p, ok := partOf[r.key]; ok {
					assert.Equal(t, p, r.partition, "user %s in two partitions", r.key)
				}
				partOf[r.key] = r.partition
				seen[r.key] = append(seen[r.key], id)
			}
			assert.Empty(t, want, "every event delivered")
			for u, ids := range order {
				assert.Equal(t, ids, seen[u], "user %s: events in export order", u)
			}
			parts := map[int32]bool{}
			for _, p := range partOf {
				parts[p] = true
			}
			assert.Greater(t, len(parts), 1, "64 users spread over several partitions")
		})
	}
}

// The broker is down when the exporter starts: Export ends by its
// deadline, names the broker and counts every event; when a broker
// listens there, the next Export delivers.
func TestBrokerDownAtStart(t *testing.T) {
	port := freePort(t)
	var reported []error
	var mu sync.Mutex
	e := newExporter(t, kafka.Config{Brokers: []string{addr(port)}, DialTimeout: 200 * time.Millisecond,
		ErrorHandler: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	rng := rand.New(rand.NewPCG(1, 2))
	batch := userEvents(rng, 8, 50)
	for range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		start := time.Now()
		err := e.Export(ctx, batch)
		took := time.Since(start)
		cancel()
		var ee *kafka.ExportError
		require.ErrorAs(t, err, &ee)
		assert.Contains(t, err.Error(), "brokers "+addr(port)+" unreachable")
		assert.Equal(t, 0, ee.Delivered())
		assert.Equal(t, map[kafka.DropReason]int{kafka.DropUnavailable: 50}, ee.Dropped)
		// A hang would last the client's 30s retry budget.
		assert.Less(t, took, 5*time.Second, "Export ends near its deadline")
	}
	st := checkBooks(t, e)
	assert.Equal(t, map[kafka.DropReason]uint64{kafka.DropUnavailable: 100}, st.Dropped)

	c := startCluster(t, 2, kfake.Ports(port))
	require.NoError(t, e.Export(t.Context(), batch), "delivers once a broker listens")
	st = checkBooks(t, e)
	assert.Equal(t, uint64(50), st.Delivered)
	assert.Len(t, consume(t, c.ListenAddrs(), 50), 50)
	mu.Lock()
	assert.Empty(t, reported)
	mu.Unlock()
}

// The broker dies between Exports and during one, then comes back from
// its data directory. Every event counted delivered is in the log exactly
// once; every other is counted dropped; nothing pending after Shutdown.
func TestBrokerDiesMidRun(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.Ports(port), kfake.DataDir(dir))
	require.NoError(t, err)
	var mu sync.Mutex
	var reported []error
	e, err := kafka.New(kafka.Config{Brokers: []string{addr(port)}, Topic: topic, DialTimeout: 200 * time.Millisecond,
		ErrorHandler: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	exported := map[personalize.EventID]bool{}
	notAcked := 0 // events not acknowledged when their Export returned
	export := func(n int, timeout time.Duration) error {
		batch := userEvents(rng, 16, n)
		for _, ev := range batch {
			exported[ev.ID()] = true
		}
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		start := time.Now()
		err := e.Export(ctx, batch)
		assert.Less(t, time.Since(start), timeout+5*time.Second, "Export ends near its deadline")
		if ee := (*kafka.ExportError)(nil); errors.As(err, &ee) {
			require.Equal(t, n, ee.Events)
			notAcked += ee.Events - ee.Acked
		}
		return err
	}
	for range 5 {
		require.NoError(t, export(100, 10*time.Second))
	}

	// Dies between Exports.
	c.Close()
	err = export(100, 700*time.Millisecond)
	var ee *kafka.ExportError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 0, ee.Delivered())
	assert.Contains(t, err.Error(), addr(port))
	checkBooks(t, e)

	// Dies during an Export: the broker goes away once it has received
	// the first produce request of the batch.
	c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.Ports(port), kfake.DataDir(dir))
	require.NoError(t, err)
	require.NoError(t, export(50, 10*time.Second), "delivers again once the broker is back")
	var once sync.Once
	dead := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() { go func() { c.Close(); close(dead) }() })
		return nil, errors.New("dying"), true // closes the connection
	})
	err = export(300, time.Second)
	<-dead
	require.ErrorAs(t, err, &ee)
	assert.Less(t, ee.Delivered(), 300)
	checkBooks(t, e)

	// Back again: later Exports deliver; records pending from the dead
	// broker may be delivered late or dropped, each counted.
	c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topic), kfake.Ports(port), kfake.DataDir(dir))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, export(100, 10*time.Second))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Shutdown(ctx))
	st := checkBooks(t, e)
	assert.Zero(t, st.Pending, "nothing pending after Shutdown")
	assert.Equal(t, uint64(len(exported)), st.Accepted)
	// What the Exports did not confirm settled later, each either way:
	// acknowledged late (the client kept the records through the outage
	// and sent them to the broker back from its data directory) or dropped.
	assert.Positive(t, notAcked)
	assert.Equal(t, uint64(notAcked), st.Late+st.TotalDropped())

	got := consume(t, c.ListenAddrs(), int(st.Delivered))
	inLog := map[personalize.EventID]int{}
	for _, r := range got {
		require.True(t, exported[r.event.ID()], "an event that was never exported")
		inLog[r.event.ID()]++
	}
	for id, n := range inLog {
		assert.Equal(t, 1, n, "event %s written %d times (the idempotent producer must not duplicate)", id, n)
	}
	// Delivered events are in the log; an event counted dropped may also
	// be there (its request reached the broker before it died, the answer
	// did not): counted lost, never silently.
	assert.GreaterOrEqual(t, uint64(len(inLog)), st.Delivered)
	assert.LessOrEqual(t, uint64(len(inLog)), st.Accepted)
	t.Logf("accepted %d, delivered %d (late %d), dropped %v, in log %d", st.Accepted, st.Delivered, st.Late, st.Dropped, len(inLog))
}

// bigImpression returns an impression of n items.
func bigImpression(rng *rand.Rand, user string, n int) personalize.Event {
	im := personalizetest.RandomImpression(rng, n)
	im.UserID = personalize.Pseudonym{ID: user}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

// Oversized records: the topic's max.message.bytes (64 KiB) is read from
// the broker and enforced per record; the rest of the batch is delivered.
func TestOversizedRecord(t *testing.T) {
	c := startCluster(t, 2)
	const small = "rankscope.small"
	createTopic(t, c.ListenAddrs(), small, 2, map[string]string{"max.message.bytes": "65536"})
	var mu sync.Mutex
	var tooLarge []*kafka.TooLargeError
	e := newExporter(t, kafka.Config{Brokers: c.ListenAddrs(), Topic: small, ErrorHandler: func(err error) {
		var tl *kafka.TooLargeError
		if errors.As(err, &tl) {
			mu.Lock()
			tooLarge = append(tooLarge, tl)
			mu.Unlock()
		}
	}})
	rng := rand.New(rand.NewPCG(5, 6))
	batch := userEvents(rng, 8, 100)
	batch = append(batch[:40], append([]personalize.Event{bigImpression(rng, "whale", 2000)}, batch[40:]...)...)
	batch = append(batch, bigImpression(rng, "whale-2", 5000))
	err := e.Export(t.Context(), batch)
	var ee *kafka.ExportError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 100, ee.Delivered(), "the other events are delivered")
	assert.Equal(t, map[kafka.DropReason]int{kafka.DropTooLarge: 2}, ee.Dropped)
	st := checkBooks(t, e)
	assert.Equal(t, 65536, st.MaxMessageBytes, "the topic's limit, read from the broker")
	assert.Equal(t, map[kafka.DropReason]uint64{kafka.DropTooLarge: 2}, st.Dropped)
	mu.Lock()
	require.Len(t, tooLarge, 2)
	assert.Equal(t, "whale", tooLarge[0].Key)
	assert.Greater(t, tooLarge[0].Bytes, 65536)
	assert.Equal(t, 65536, tooLarge[0].Limit)
	mu.Unlock()

	got := consumeTopic(t, c.ListenAddrs(), small, 100)
	assert.Len(t, got, 100)
}

// The exporter's size check agrees with franz-go's to the byte: a record
// whose single-record batch is exactly Config.MaxMessageBytes is sent
// (franz-go would fail it as MessageTooLarge if it counted one byte more)
// and one byte over is dropped by the exporter.
func TestRecordSizeBoundary(t *testing.T) {
	c := startCluster(t, 1)
	const limit = 4096
	e := newExporter(t, kafka.Config{Brokers: c.ListenAddrs(), MaxMessageBytes: limit, Compression: kafka.CompressionNone})
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	mk := func(pad int) personalize.Event {
		return personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{EventID: personalize.NewEventID(),
			UserID: personalize.Pseudonym{ID: "u1"}, Experiment: "x", Variant: strings.Repeat("v", pad), Time: at, Service: "s"}}
	}
	// batch size of a pad: 65 bytes of framing, the record and its length.
	size := func(pad int) int {
		b, err := personalize.AppendJSON(nil, mk(pad))
		require.NoError(t, err)
		rec := 3 + 1 + 2 + varint(len(b)) + len(b) + 1 // attrs, deltas; key "u1"; value; headers
		return 65 + varint(rec) + rec
	}
	pad := limit
	for size(pad) > limit {
		pad--
	}
	require.Equal(t, limit, size(pad), "a padding that fills the batch exactly")
	require.NoError(t, e.Export(t.Context(), []personalize.Event{mk(pad)}), "exactly at the limit: sent")
	err := e.Export(t.Context(), []personalize.Event{mk(pad + 1)})
	var ee *kafka.ExportError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, map[kafka.DropReason]int{kafka.DropTooLarge: 1}, ee.Dropped)
	var tl *kafka.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, limit+1, tl.Bytes)
	st := checkBooks(t, e)
	assert.Equal(t, uint64(1), st.Delivered)
}

func varint(n int) int {
	u, l := uint64(n)<<1, 1
	for u >= 0x80 {
		u >>= 7
		l++
	}
	return l
}

// An Export that returns at its deadline leaves records the broker has
// not answered pending; Shutdown flushes them: delivered late, counted.
func TestShutdownFlushesPending(t *testing.T) {
	c := startCluster(t, 1)
	e, err := kafka.New(kafka.Config{Brokers: c.ListenAddrs(), Topic: topic})
	require.NoError(t, err)
	release := make(chan struct{})
	var once sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		once.Do(func() { c.SleepControl(func() { <-release }) })
		return nil, nil, false // then handled normally
	})
	batch := userEvents(rand.New(rand.NewPCG(9, 9)), 4, 30)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err = e.Export(ctx, batch)
	cancel()
	var ee *kafka.ExportError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 0, ee.Delivered())
	assert.Positive(t, ee.Pending, "records sent and not answered stay pending")
	assert.Equal(t, int64(ee.Pending), e.Stats().Pending)
	checkBooks(t, e)

	close(release)
	sctx, scancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer scancel()
	require.NoError(t, e.Shutdown(sctx))
	st := checkBooks(t, e)
	assert.Zero(t, st.Pending)
	assert.Equal(t, uint64(ee.Pending), st.Late, "the pending records were delivered late")
	assert.Len(t, consume(t, c.ListenAddrs(), int(st.Delivered)), int(st.Delivered))
}

// Shutdown concurrent with an Export in flight: the Export finishes and
// its events are delivered; later Exports are refused.
func TestShutdownDuringExport(t *testing.T) {
	c := startCluster(t, 2)
	e, err := kafka.New(kafka.Config{Brokers: c.ListenAddrs(), Topic: topic, Linger: 50 * time.Millisecond})
	require.NoError(t, err)
	batch := userEvents(rand.New(rand.NewPCG(1, 1)), 10, 500)
	done := make(chan error, 1)
	go func() { done <- e.Export(t.Context(), batch) }()
	time.Sleep(10 * time.Millisecond) // let the Export start (not a timing assertion)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.Shutdown(ctx))
	require.NoError(t, <-done)
	st := checkBooks(t, e)
	assert.Equal(t, uint64(500), st.Delivered)
	assert.ErrorIs(t, e.Export(t.Context(), batch), kafka.ErrShutdown)
	assert.Len(t, consume(t, c.ListenAddrs(), 500), 500)
}

// The broker dies and stays dead. Records left pending stay within
// Config.MaxBufferedBytes: later Exports wait for room until their
// deadline and drop their events (deadline); Shutdown ends by its own
// deadline and counts what the client still held (shutdown).
func TestBrokerStaysDead(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topic))
	require.NoError(t, err)
	const bound = 64 << 10
	e, err := kafka.New(kafka.Config{Brokers: c.ListenAddrs(), Topic: topic, DialTimeout: 100 * time.Millisecond,
		MaxMessageBytes: 16 << 10, MaxBufferedBytes: bound})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(11, 12))
	require.NoError(t, e.Export(t.Context(), userEvents(rng, 8, 50)))
	c.Close()

	var deadlineDrops int
	for range 4 {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		start := time.Now()
		err := e.Export(ctx, userEvents(rng, 8, 40)) // ~40 KiB encoded
		cancel()
		assert.Less(t, time.Since(start), 5*time.Second, "Export ends near its deadline")
		var ee *kafka.ExportError
		require.ErrorAs(t, err, &ee)
		deadlineDrops += ee.Dropped[kafka.DropDeadline]
		checkBooks(t, e)
	}
	st := e.Stats()
	assert.Positive(t, st.Pending, "the first Export after the death leaves its records pending")
	assert.Positive(t, deadlineDrops, "later Exports find no room within the bound and drop")

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	err = e.Shutdown(ctx)
	assert.Less(t, time.Since(start), 6*time.Second, "Shutdown ends near its deadline")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dropped in total as shutdown")
	st = checkBooks(t, e)
	assert.Zero(t, st.Pending)
	assert.Equal(t, uint64(50), st.Delivered)
	assert.Positive(t, st.Dropped[kafka.DropShutdown])
	t.Logf("%+v", st)
}
