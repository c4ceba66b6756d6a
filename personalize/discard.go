package personalize

import "context"

// DiscardExporter drops every batch it is given and reports success. Use it
// to measure latency in process without exporting events.
var DiscardExporter Exporter = discard{}

type discard struct{}

func (discard) Export(context.Context, []Event) error { return nil }
func (discard) ForceFlush(context.Context) error      { return nil }
func (discard) Shutdown(context.Context) error        { return nil }
func (discard) Name() string                          { return "discard" }
func (discard) Transient() bool                       { return true }
