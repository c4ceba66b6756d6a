package personalizetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// Harness tells [TestExporter] how to build the exporter under test and
// read back what it delivered.
type Harness struct {
	// New returns a fresh exporter with its read-back functions. Required.
	// The suite shuts every instance down before the subtest ends; New may
	// register further cleanup with t.Cleanup.
	New func(t *testing.T) Instance

	// Unordered is set for exporters that may deliver events in another
	// order than they received them; delivered events are then compared as
	// a multiset.
	Unordered bool
}

// Instance is one exporter under test.
type Instance struct {
	Exporter personalize.Exporter

	// Delivered returns every event the exporter has delivered to its
	// destination so far, decoded back. The suite calls it after ForceFlush
	// or Shutdown returned. Required.
	Delivered func() ([]personalize.Event, error)

	// Written, if set, returns every byte the exporter wrote to its
	// destination (files, request bodies); the suite scans it for raw
	// identifiers.
	Written func() ([]byte, error)
}

// TestExporter runs the conformance suite every [personalize.Exporter]
// must pass, as subtests of t:
//
//   - EmptyBatch: nil and empty batches succeed and deliver nothing.
//   - EveryEventOnce: events of several batches of all event types arrive
//     exactly once, with every field (compared by their
//     [personalize.AppendJSON] encoding), in order unless
//     Harness.Unordered.
//   - ForceFlushDelivers: after each Export and ForceFlush, everything
//     exported so far is readable.
//   - DoesNotRetainBatch: overwriting the caller's batch slice after Export
//     returns changes nothing delivered, and the events themselves are not
//     modified.
//   - ShutdownDelivers: Shutdown without ForceFlush delivers what was
//     exported.
//   - ShutdownIdempotent: a second Shutdown returns nil; Export after
//     Shutdown returns an error.
//   - CanceledContext: Export with a canceled context returns an error
//     wrapping context.Canceled and the exporter keeps working; ForceFlush
//     with a canceled context returns promptly.
//   - ConcurrentForceFlush: ForceFlush concurrent with Export (run it with
//     -race) loses and duplicates nothing.
//   - NoRawIDs: with Instance.Written set, no raw identifier of events
//     carrying both raw ids and pseudonyms appears in the output.
//   - Name: an exporter implementing [personalize.Named] has a non-empty name.
func TestExporter(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("personalizetest: Harness.New is required")
	}
	s := &suite{h: h}
	t.Run("EmptyBatch", s.emptyBatch)
	t.Run("EveryEventOnce", s.everyEventOnce)
	t.Run("ForceFlushDelivers", s.forceFlushDelivers)
	t.Run("DoesNotRetainBatch", s.doesNotRetainBatch)
	t.Run("ShutdownDelivers", s.shutdownDelivers)
	t.Run("ShutdownIdempotent", s.shutdownIdempotent)
	t.Run("CanceledContext", s.canceledContext)
	t.Run("ConcurrentForceFlush", s.concurrentForceFlush)
	t.Run("NoRawIDs", s.noRawIDs)
	t.Run("Name", s.name)
}

type suite struct{ h Harness }

// opTimeout bounds every call the suite makes, so a hung exporter fails
// the test instead of blocking it.
const opTimeout = 10 * time.Second

func (s *suite) start(t *testing.T) Instance {
	t.Helper()
	in := s.h.New(t)
	if in.Exporter == nil || in.Delivered == nil {
		t.Fatal("personalizetest: Harness.New must return an Instance with Exporter and Delivered set")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := in.Exporter.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown at cleanup: %v", err)
		}
	})
	return in
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustExport(t *testing.T, in Instance, batch []personalize.Event) {
	t.Helper()
	if err := in.Exporter.Export(ctxT(t), batch); err != nil {
		t.Fatalf("Export(%d events): %v", len(batch), err)
	}
}

func mustFlush(t *testing.T, in Instance) {
	t.Helper()
	if err := in.Exporter.ForceFlush(ctxT(t)); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
}

// encodeAll returns the AppendJSON encoding of each event.
func encodeAll(t *testing.T, events []personalize.Event) [][]byte {
	t.Helper()
	out := make([][]byte, len(events))
	for i, e := range events {
		b, err := personalize.AppendJSON(nil, e)
		if err != nil {
			t.Fatalf("event %d: AppendJSON: %v", i, err)
		}
		out[i] = b
	}
	return out
}

// checkDelivered compares what the instance delivered with want.
func (s *suite) checkDelivered(t *testing.T, in Instance, want []personalize.Event) {
	t.Helper()
	got, err := in.Delivered()
	if err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	g, w := encodeAll(t, got), encodeAll(t, want)
	if s.h.Unordered {
		slices.SortFunc(g, bytes.Compare)
		slices.SortFunc(w, bytes.Compare)
	}
	if len(g) != len(w) {
		t.Errorf("delivered %d events, want %d", len(g), len(w))
	}
	for i := range min(len(g), len(w)) {
		if !bytes.Equal(g[i], w[i]) {
			t.Fatalf("delivered event %d differs:\n got %s\nwant %s", i, g[i], w[i])
		}
	}
}

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

func (s *suite) emptyBatch(t *testing.T) {
	in := s.start(t)
	mustExport(t, in, nil)
	mustExport(t, in, []personalize.Event{})
	mustFlush(t, in)
	s.checkDelivered(t, in, nil)
}

func (s *suite) everyEventOnce(t *testing.T) {
	in := s.start(t)
	rng := seeded(1)
	var all []personalize.Event
	for _, n := range []int{1, 7, 64, 3, 250} {
		batch := RandomEvents(rng, n)
		if n == 64 { // make sure every type is present
			for typ := personalize.EventImpression; typ <= personalize.EventModel; typ++ {
				batch[typ] = RandomEvent(rng, typ)
			}
		}
		mustExport(t, in, batch)
		all = append(all, batch...)
	}
	mustFlush(t, in)
	s.checkDelivered(t, in, all)
}

func (s *suite) forceFlushDelivers(t *testing.T) {
	in := s.start(t)
	rng := seeded(2)
	var all []personalize.Event
	for i := range 4 {
		batch := RandomEvents(rng, 1+i*10)
		mustExport(t, in, batch)
		all = append(all, batch...)
		mustFlush(t, in)
		s.checkDelivered(t, in, all)
	}
}

func (s *suite) doesNotRetainBatch(t *testing.T) {
	in := s.start(t)
	rng := seeded(3)
	batch := RandomEvents(rng, 50)
	want := make([]personalize.Event, len(batch))
	for i := range batch {
		want[i] = CloneEvent(batch[i])
	}
	wantJSON := encodeAll(t, want)
	mustExport(t, in, batch)
	events := slices.Clone(batch)
	// The pipeline reuses its batch slice: overwrite every element.
	other := RandomEvents(rng, len(batch))
	copy(batch, other)
	mustFlush(t, in)
	s.checkDelivered(t, in, want)
	for i, b := range encodeAll(t, events) {
		if !bytes.Equal(b, wantJSON[i]) {
			t.Fatalf("Export modified event %d:\n got %s\nwant %s", i, b, wantJSON[i])
		}
	}
}

func (s *suite) shutdownDelivers(t *testing.T) {
	in := s.start(t)
	batch := RandomEvents(seeded(4), 40)
	mustExport(t, in, batch)
	if err := in.Exporter.Shutdown(ctxT(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	s.checkDelivered(t, in, batch)
}

func (s *suite) shutdownIdempotent(t *testing.T) {
	in := s.start(t)
	batch := RandomEvents(seeded(5), 5)
	mustExport(t, in, batch)
	for i := range 2 {
		if err := in.Exporter.Shutdown(ctxT(t)); err != nil {
			t.Fatalf("Shutdown #%d: %v", i+1, err)
		}
	}
	if err := in.Exporter.Export(ctxT(t), RandomEvents(seeded(6), 3)); err == nil {
		t.Fatal("Export after Shutdown returned nil, want an error")
	}
	_ = in.Exporter.ForceFlush(ctxT(t)) // must not panic; the result is not specified
	s.checkDelivered(t, in, batch)
}

func (s *suite) canceledContext(t *testing.T) {
	in := s.start(t)
	rng := seeded(7)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	first := RandomEvents(rng, 20)
	err := in.Exporter.Export(canceled, first)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Export with a canceled context returned %v, want an error wrapping context.Canceled", err)
	}
	second := RandomEvents(rng, 20)
	mustExport(t, in, second)
	done := make(chan error, 1)
	go func() { done <- in.Exporter.ForceFlush(canceled) }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("ForceFlush with a canceled context returned %v, want nil or context.Canceled", err)
		}
	case <-time.After(opTimeout):
		t.Fatal("ForceFlush with a canceled context did not return")
	}
	mustFlush(t, in)
	got, err := in.Delivered()
	if err != nil {
		t.Fatalf("Delivered: %v", err)
	}
	// The second batch arrives whole; of the first, whatever arrived
	// arrived once.
	count := map[string]int{}
	for _, b := range encodeAll(t, got) {
		count[string(b)]++
	}
	for i, b := range encodeAll(t, second) {
		if count[string(b)] != 1 {
			t.Errorf("event %d of the batch after the canceled one delivered %d times, want 1", i, count[string(b)])
		}
	}
	for i, b := range encodeAll(t, first) {
		if count[string(b)] > 1 {
			t.Errorf("event %d of the canceled batch delivered %d times", i, count[string(b)])
		}
	}
	if len(got) > len(first)+len(second) {
		t.Errorf("delivered %d events, at most %d were exported", len(got), len(first)+len(second))
	}
}

func (s *suite) concurrentForceFlush(t *testing.T) {
	in := s.start(t)
	rng := seeded(8)
	batches := make([][]personalize.Event, 40)
	var all []personalize.Event
	for i := range batches {
		batches[i] = RandomEvents(rng, 25)
		all = append(all, batches[i]...)
	}
	ctx := ctxT(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := in.Exporter.ForceFlush(ctx); err != nil {
					errs <- fmt.Errorf("ForceFlush: %w", err)
					return
				}
			}
		})
	}
	for _, b := range batches {
		if err := in.Exporter.Export(ctx, b); err != nil {
			errs <- fmt.Errorf("Export: %w", err)
			break
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	mustFlush(t, in)
	s.checkDelivered(t, in, all)
}

func (s *suite) noRawIDs(t *testing.T) {
	in := s.start(t)
	if in.Written == nil {
		t.Skip("Instance.Written not set")
	}
	events, raw := RawIDEvents(seeded(9), 300)
	mustExport(t, in, events)
	mustFlush(t, in)
	data, err := in.Written()
	if err != nil {
		t.Fatalf("Written: %v", err)
	}
	if len(data) == 0 {
		t.Fatal("Written returned no bytes after exporting 300 events")
	}
	if err := ScanRawIDs(data, raw); err != nil {
		t.Fatal(err)
	}
}

// ScanRawIDs returns an error naming the first raw identifier found in
// data and its offset, or nil when none of raw occurs. Empty strings in
// raw are ignored.
func ScanRawIDs(data []byte, raw []string) error {
	// One pass over data: at each offset, look up the substring of every
	// distinct id length in a set. Linear in len(data) times the number of
	// distinct lengths, instead of one full scan per id.
	set := make(map[string]struct{}, len(raw))
	var lengths []int
	for _, id := range raw {
		if id == "" {
			continue
		}
		if _, dup := set[id]; !dup {
			set[id] = struct{}{}
			if !slices.Contains(lengths, len(id)) {
				lengths = append(lengths, len(id))
			}
		}
	}
	for i := range data {
		for _, n := range lengths {
			if i+n <= len(data) {
				if _, hit := set[string(data[i:i+n])]; hit {
					return fmt.Errorf("personalizetest: raw identifier %q found in exported output at byte %d", data[i:i+n], i)
				}
			}
		}
	}
	return nil
}

func (s *suite) name(t *testing.T) {
	in := s.start(t)
	n, ok := in.Exporter.(personalize.Named)
	if !ok {
		t.Skip("exporter does not implement personalize.Named")
	}
	if n.Name() == "" {
		t.Error("Name() is empty")
	}
}
