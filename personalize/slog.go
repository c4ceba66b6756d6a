package personalize

import (
	"context"
	"errors"
	"log/slog"
)

// SlogErrorHandler returns a function for Config.ErrorHandler that logs
// rankscope's background errors to l (slog.Default() if l is nil), one
// record per error, with structured attributes instead of a formatted
// message:
//
//   - *[DropError]: message "rankscope: events dropped", attributes
//     reason (the [DropReason] name, as in the metric
//     rankscope.events.dropped), exporter (omitted for drops at the door),
//     count, and error when the drop has a cause. Drops by design under
//     load (queue_full, exporter_backlog, wal_full, closed) are logged at
//     Warn; drops caused by a failure (export_failed, shutdown, wal_error)
//     at Error.
//   - *[ExportError]: message "rankscope: exporter failed", attributes
//     exporter, op ("ForceFlush" or "Shutdown") and error, at Error.
//   - *[WALError]: message "rankscope: write-ahead log failed", attributes
//     op, path and error, at Error.
//   - anything else: message "rankscope: error", attribute error, at Error.
//
// The error is found with errors.As, so wrapped errors are recognized; an
// error joined with errors.Join is logged as one record per joined error.
// Error messages are logged as they are: rankscope's own carry no user
// ids, but an exporter's cause is whatever the exporter returned.
//
// The handler is called from the instrument's goroutines, several at once;
// it is safe for concurrent use as *slog.Logger is. Drops are reported
// aggregated (one *DropError per reason and exporter, at most about once
// a second), so logging them costs little even under overload.
func SlogErrorHandler(l *slog.Logger) func(error) {
	if l == nil {
		l = slog.Default()
	}
	return func(err error) { logError(l, err) }
}

func logError(l *slog.Logger, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			logError(l, e)
		}
		return
	}
	ctx := context.Background()
	var (
		de *DropError
		ee *ExportError
		we *WALError
	)
	switch {
	case errors.As(err, &de):
		level := slog.LevelError
		switch de.Reason {
		case DropQueueFull, DropExporterBacklog, DropWALFull, DropClosed:
			level = slog.LevelWarn
		}
		if !l.Enabled(ctx, level) {
			return
		}
		attrs := make([]slog.Attr, 0, 4)
		attrs = append(attrs, slog.String("reason", de.Reason.String()))
		if de.Exporter != "" {
			attrs = append(attrs, slog.String("exporter", de.Exporter))
		}
		attrs = append(attrs, slog.Int64("count", de.Count))
		if de.Err != nil {
			attrs = append(attrs, slog.String("error", de.Err.Error()))
		}
		l.LogAttrs(ctx, level, "rankscope: events dropped", attrs...)
	case errors.As(err, &ee):
		l.LogAttrs(ctx, slog.LevelError, "rankscope: exporter failed",
			slog.String("exporter", ee.Exporter), slog.String("op", ee.Op), errAttr(ee.Err))
	case errors.As(err, &we):
		l.LogAttrs(ctx, slog.LevelError, "rankscope: write-ahead log failed",
			slog.String("op", we.Op), slog.String("path", we.Path), errAttr(we.Err))
	default:
		l.LogAttrs(ctx, slog.LevelError, "rankscope: error", errAttr(err))
	}
}

func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.String("error", "")
	}
	return slog.String("error", err.Error())
}
