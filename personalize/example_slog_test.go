package personalize_test

import (
	"errors"
	"log/slog"
	"os"

	"github.com/rankscope/rankscope/personalize"
)

// Route rankscope's background errors (export failures, drop reports) to a
// structured logger: set Config.ErrorHandler to SlogErrorHandler.
func ExampleSlogErrorHandler() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // no timestamps, for a stable output
			}
			return a
		}}))
	handle := personalize.SlogErrorHandler(logger)
	// personalize.Config{..., ErrorHandler: handle}; the instrument calls it
	// like this:
	handle(&personalize.DropError{Reason: personalize.DropQueueFull, Count: 42})
	handle(&personalize.DropError{Reason: personalize.DropExportFailed, Exporter: "otlp", Count: 512,
		Err: errors.New("connection refused")})
	handle(&personalize.ExportError{Exporter: "file", Op: "Shutdown", Err: errors.New("disk full")})
	// Output:
	// {"level":"WARN","msg":"rankscope: events dropped","reason":"queue_full","count":42}
	// {"level":"ERROR","msg":"rankscope: events dropped","reason":"export_failed","exporter":"otlp","count":512,"error":"connection refused"}
	// {"level":"ERROR","msg":"rankscope: exporter failed","exporter":"file","op":"Shutdown","error":"disk full"}
}
