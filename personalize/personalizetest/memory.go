package personalizetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rankscope/rankscope/personalize"
)

// ErrShutdown is returned by [MemoryExporter.Export] after Shutdown.
var ErrShutdown = errors.New("personalizetest: exporter is shut down")

// DefaultMaxEvents is the number of events a [MemoryExporter] keeps before
// it drops and counts (see [MemoryExporter.SetMaxEvents]).
const DefaultMaxEvents = 1 << 20

// MemoryExporter is a [personalize.Exporter] that keeps deep copies of the
// events it receives, for tests. All methods are safe for concurrent use.
//
// It keeps at most [DefaultMaxEvents] events (or the bound set with
// SetMaxEvents); further events are dropped and counted in
// [MemoryStats].Dropped.
type MemoryExporter struct {
	mu      sync.Mutex
	events  []personalize.Event
	max     int
	err     error
	latency time.Duration
	stats   MemoryStats
	shut    bool
}

var (
	_ personalize.Exporter = (*MemoryExporter)(nil)
	_ personalize.Named    = (*MemoryExporter)(nil)
)

// MemoryStats counts the calls a [MemoryExporter] received.
type MemoryStats struct {
	Exports      int // Export calls, including failed ones
	Failed       int // Export calls that returned an error
	Events       int // events stored
	Dropped      int // events not stored because the bound was reached
	ForceFlushes int
	Shutdowns    int
}

// NewMemoryExporter returns an empty exporter.
func NewMemoryExporter() *MemoryExporter {
	return &MemoryExporter{max: DefaultMaxEvents}
}

// Name returns "memory".
func (m *MemoryExporter) Name() string { return "memory" }

// SetError makes every following Export fail with err, storing nothing,
// until SetError(nil).
func (m *MemoryExporter) SetError(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

// SetLatency makes every following Export wait d before storing, or until
// its context is done, in which case Export returns the context's error
// and stores nothing.
func (m *MemoryExporter) SetLatency(d time.Duration) {
	m.mu.Lock()
	m.latency = d
	m.mu.Unlock()
}

// SetMaxEvents bounds the number of stored events (n <= 0 restores
// [DefaultMaxEvents]).
func (m *MemoryExporter) SetMaxEvents(n int) {
	if n <= 0 {
		n = DefaultMaxEvents
	}
	m.mu.Lock()
	m.max = n
	m.mu.Unlock()
}

// Export stores deep copies of the batch's events. It returns the
// context's error if ctx is done, the injected error if one is set, and
// [ErrShutdown] after Shutdown; in these cases nothing is stored.
func (m *MemoryExporter) Export(ctx context.Context, batch []personalize.Event) error {
	m.mu.Lock()
	m.stats.Exports++
	latency, err := m.latency, m.err
	if m.shut {
		err = ErrShutdown
	}
	m.mu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && latency > 0 {
		timer := time.NewTimer(latency)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			err = ctx.Err()
		}
	}
	if err != nil {
		m.mu.Lock()
		m.stats.Failed++
		m.mu.Unlock()
		return err
	}
	copies := make([]personalize.Event, len(batch))
	for i := range batch {
		copies[i] = CloneEvent(batch[i])
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shut { // shut down while waiting
		m.stats.Failed++
		return ErrShutdown
	}
	room := max(m.max-len(m.events), 0)
	if len(copies) > room {
		m.stats.Dropped += len(copies) - room
		copies = copies[:room]
	}
	m.events = append(m.events, copies...)
	m.stats.Events += len(copies)
	return nil
}

// ForceFlush counts the call; stored events are always readable.
func (m *MemoryExporter) ForceFlush(ctx context.Context) error {
	m.mu.Lock()
	m.stats.ForceFlushes++
	m.mu.Unlock()
	return ctx.Err()
}

// Shutdown makes later Exports fail with [ErrShutdown]. It is idempotent;
// stored events stay readable.
func (m *MemoryExporter) Shutdown(context.Context) error {
	m.mu.Lock()
	m.stats.Shutdowns++
	m.shut = true
	m.mu.Unlock()
	return nil
}

// Events returns deep copies of the stored events in the order received.
func (m *MemoryExporter) Events() []personalize.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]personalize.Event, len(m.events))
	for i := range m.events {
		out[i] = CloneEvent(m.events[i])
	}
	return out
}

// Impressions returns deep copies of the stored impressions, in export
// order.
func (m *MemoryExporter) Impressions() []*personalize.Impression {
	var out []*personalize.Impression
	for _, e := range m.Events() {
		if e.Impression != nil {
			out = append(out, e.Impression)
		}
	}
	return out
}

// Len returns the number of stored events.
func (m *MemoryExporter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

// Stats returns the call counters.
func (m *MemoryExporter) Stats() MemoryStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Reset forgets the stored events and zeroes the counters. It does not
// undo Shutdown or clear an injected error or latency.
func (m *MemoryExporter) Reset() {
	m.mu.Lock()
	m.events = nil
	m.stats = MemoryStats{}
	m.mu.Unlock()
}
