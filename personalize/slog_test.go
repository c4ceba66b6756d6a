package personalize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// syncBuffer is a bytes.Buffer safe for the instrument's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// jsonLogger returns a logger writing JSON lines without the time to buf.
func jsonLogger(buf *syncBuffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
}

func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		recs = append(recs, m)
	}
	return recs
}

func TestSlogErrorHandler(t *testing.T) {
	cause := errors.New("connection refused")
	tests := []struct {
		name string
		err  error
		want []map[string]any
	}{
		{"queue full is a warning", &personalize.DropError{Reason: personalize.DropQueueFull, Count: 12},
			[]map[string]any{{"level": "WARN", "msg": "rankscope: events dropped", "reason": "queue_full", "count": 12.0}}},
		{"backlog is a warning", &personalize.DropError{Reason: personalize.DropExporterBacklog, Exporter: "otlp", Count: 3},
			[]map[string]any{{"level": "WARN", "msg": "rankscope: events dropped", "reason": "exporter_backlog", "exporter": "otlp", "count": 3.0}}},
		{"wal full is a warning", &personalize.DropError{Reason: personalize.DropWALFull, Count: 1},
			[]map[string]any{{"level": "WARN", "msg": "rankscope: events dropped", "reason": "wal_full", "count": 1.0}}},
		{"export failure is an error with its cause", &personalize.DropError{Reason: personalize.DropExportFailed, Exporter: "webhook", Count: 512, Err: cause},
			[]map[string]any{{"level": "ERROR", "msg": "rankscope: events dropped", "reason": "export_failed", "exporter": "webhook", "count": 512.0, "error": "connection refused"}}},
		{"shutdown drops are errors", &personalize.DropError{Reason: personalize.DropShutdown, Exporter: "file", Count: 7},
			[]map[string]any{{"level": "ERROR", "msg": "rankscope: events dropped", "reason": "shutdown", "exporter": "file", "count": 7.0}}},
		{"export error", &personalize.ExportError{Exporter: "otlp", Op: "Shutdown", Err: cause},
			[]map[string]any{{"level": "ERROR", "msg": "rankscope: exporter failed", "exporter": "otlp", "op": "Shutdown", "error": "connection refused"}}},
		{"wal error", &personalize.WALError{Path: "/var/lib/wal/wal-1.jsonl", Op: "sync", Err: cause},
			[]map[string]any{{"level": "ERROR", "msg": "rankscope: write-ahead log failed", "op": "sync", "path": "/var/lib/wal/wal-1.jsonl", "error": "connection refused"}}},
		{"wrapped drop error", fmt.Errorf("flush: %w", &personalize.DropError{Reason: personalize.DropClosed, Count: 2}),
			[]map[string]any{{"level": "WARN", "msg": "rankscope: events dropped", "reason": "closed", "count": 2.0}}},
		{"joined errors give one record each", errors.Join(
			&personalize.DropError{Reason: personalize.DropExportFailed, Exporter: "a", Count: 1, Err: cause},
			&personalize.ExportError{Exporter: "b", Op: "ForceFlush", Err: cause}),
			[]map[string]any{
				{"level": "ERROR", "msg": "rankscope: events dropped", "reason": "export_failed", "exporter": "a", "count": 1.0, "error": "connection refused"},
				{"level": "ERROR", "msg": "rankscope: exporter failed", "exporter": "b", "op": "ForceFlush", "error": "connection refused"}}},
		{"other errors", errors.New("something else"),
			[]map[string]any{{"level": "ERROR", "msg": "rankscope: error", "error": "something else"}}},
		{"nil logs nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			personalize.SlogErrorHandler(jsonLogger(&buf, slog.LevelDebug))(tt.err)
			assert.Equal(t, tt.want, records(t, buf.String()))
		})
	}
}

func TestSlogErrorHandlerLevel(t *testing.T) {
	var buf syncBuffer
	h := personalize.SlogErrorHandler(jsonLogger(&buf, slog.LevelError))
	h(&personalize.DropError{Reason: personalize.DropQueueFull, Count: 1})
	assert.Empty(t, buf.String(), "a Warn drop below the logger's level")
	h(&personalize.DropError{Reason: personalize.DropExportFailed, Count: 1})
	assert.Len(t, records(t, buf.String()), 1)
}

func TestSlogErrorHandlerNilLogger(t *testing.T) {
	var buf syncBuffer
	old := slog.Default()
	t.Cleanup(func() { slog.SetDefault(old) })
	slog.SetDefault(jsonLogger(&buf, slog.LevelInfo))
	personalize.SlogErrorHandler(nil)(errors.New("x"))
	assert.Equal(t, []map[string]any{{"level": "ERROR", "msg": "rankscope: error", "error": "x"}}, records(t, buf.String()))
}

// An instrument whose exporter fails logs the failure through the handler.
func TestSlogErrorHandlerInstrument(t *testing.T) {
	var buf syncBuffer
	mem := personalizetest.NewMemoryExporter()
	mem.SetError(errors.New("backend down"))
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{mem}, BatchTimeout: 10 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(),
		ErrorHandler:  personalize.SlogErrorHandler(jsonLogger(&buf, slog.LevelDebug))})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, inst.Outcome(ctx, personalize.Outcome{RequestID: "r-1", User: "u-1", Item: "sku-1", Kind: personalize.OutcomeClick}))
	require.NoError(t, inst.Flush(ctx))
	_ = inst.Shutdown(ctx) // returns the export failure too
	recs := records(t, buf.String())
	require.NotEmpty(t, recs)
	assert.Equal(t, map[string]any{"level": "ERROR", "msg": "rankscope: events dropped", "reason": "export_failed",
		"exporter": "memory", "count": 1.0, "error": "backend down"}, recs[0])
}
