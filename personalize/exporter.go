package personalize

import "context"

// Exporter receives batches of events.
//
// The pipeline calls Export from one goroutine per exporter, never
// concurrently for the same exporter; ForceFlush and Shutdown may be called
// concurrently with Export. Export must not retain the batch slice after it
// returns and must not modify the events (they are shared with other
// exporters); it may keep the payload pointers for reading. Export should
// honor ctx's deadline. After Shutdown, the pipeline does not call the
// exporter again.
type Exporter interface {
	Export(ctx context.Context, batch []Event) error
	ForceFlush(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// Transient is an optional interface of an [Exporter] whose Export keeps no
// reference to the batch or to any of its events once it returns: it
// encodes or copies what it needs (strings inside events may be kept; they
// are never reused). When every exporter of an Instrument (the dead-letter
// exporter aside) implements it and returns true, the pipeline reuses the
// memory of each impression once every exporter has settled its batch,
// which takes most of the allocation off the request path. Exporters that
// keep events, such as the in-process analyses and the test exporters,
// must not implement it or must return false.
type Transient interface {
	Transient() bool
}

// ExportFunc adapts a function to an [Exporter] whose ForceFlush and
// Shutdown do nothing.
type ExportFunc func(ctx context.Context, batch []Event) error

// Export calls f.
func (f ExportFunc) Export(ctx context.Context, batch []Event) error { return f(ctx, batch) }

// ForceFlush does nothing.
func (ExportFunc) ForceFlush(context.Context) error { return nil }

// Shutdown does nothing.
func (ExportFunc) Shutdown(context.Context) error { return nil }

var _ Exporter = ExportFunc(nil)

// Named is an optional interface an exporter implements to name itself in
// metrics, stats and errors. Without it the exporter is named by its index.
type Named interface {
	Name() string
}
