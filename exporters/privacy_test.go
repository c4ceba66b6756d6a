// Package exporters_test holds the tests that span every exporter.
package exporters_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/exporters/webhook"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

// capture is an HTTP endpoint that keeps every request body, decompressed.
type capture struct {
	mu     sync.Mutex
	bodies [][]byte
	status int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rd = zr
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.bodies = append(c.bodies, b)
	status := c.status
	c.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if r.URL.Path == "/v1/logs" {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	w.WriteHeader(http.StatusOK)
}

func (c *capture) all() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Join(c.bodies, []byte{'\n'})
}

// TestRawIdentifiersNeverLeaveTheProcess runs thousands of events with raw
// user and session ids through the real pipeline into every exporter (file,
// webhook, OTLP over HTTP, a dead-letter exporter, and a webhook whose
// endpoint refuses everything so its dead-letter path and errors are
// exercised), then scans every byte each one wrote or sent, and every
// error message the pipeline reported, for the raw ids.
func TestRawIdentifiersNeverLeaveTheProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fileExp, err := file.New(file.Config{Dir: dir, MaxBytes: 64 << 10}) // rotate a lot
	require.NoError(t, err)

	hook := &capture{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	hookExp, err := webhook.New(webhook.Config{URL: hookSrv.URL + "/events", Name: "webhook"})
	require.NoError(t, err)

	refusing := &capture{status: http.StatusBadRequest}
	refuseSrv := httptest.NewServer(refusing)
	defer refuseSrv.Close()
	var dlMu sync.Mutex
	var deadLettered []byte
	refuseExp, err := webhook.New(webhook.Config{URL: refuseSrv.URL + "/events", Name: "refused",
		DeadLetter: func(_ context.Context, dl webhook.DeadLetter) {
			dlMu.Lock()
			defer dlMu.Unlock()
			deadLettered = append(deadLettered, []byte(fmt.Sprint(dl.Reason, dl.Status))...)
			for _, e := range dl.Events {
				deadLettered, _ = personalize.AppendJSON(append(deadLettered, '\n'), e)
			}
		}})
	require.NoError(t, err)

	collector := &capture{}
	otlpSrv := httptest.NewServer(collector)
	defer otlpSrv.Close()
	otlpExp, err := otlp.New(otlp.Config{Transport: otlp.Transport{Protocol: "http/protobuf",
		Endpoint: otlpSrv.URL, Compression: "none"}})
	require.NoError(t, err)

	dead := personalizetest.NewMemoryExporter()
	keys, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("a-test-secret-of-at-least-32-bytes!!")})
	require.NoError(t, err)
	var errMu sync.Mutex
	var errs []string
	inst, err := personalize.New(personalize.Config{
		Service: "feed-ranker", Pseudonymize: keys,
		Exporters:  []personalize.Exporter{fileExp, hookExp, refuseExp, otlpExp},
		DeadLetter: dead, BatchSize: 128, MeterProvider: sdkmetric.NewMeterProvider(),
		// Block rather than drop: this test needs every event delivered to
		// every exporter, whatever the HTTP round trips cost.
		BlockTimeout: 10 * time.Second,
		ErrorHandler: func(err error) { errMu.Lock(); errs = append(errs, err.Error()); errMu.Unlock() },
	})
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(1, 2))
	var raw []string
	for i := 0; i < 3000; i++ {
		user := personalizetest.RawUserID(rng.IntN(500))
		session := personalizetest.RawSessionID(i%500, i%3)
		raw = append(raw, user, session)
		_, inf := inst.Start(ctx, personalize.Request{User: user, Session: session, Surface: "home_feed",
			Context: []personalize.Attr{{Key: "device", Value: "mobile"}, {Key: "email", Value: user + "@example.com"}}})
		items := []personalize.Item{{ID: "sku-1", Position: 1, Score: 0.5, Propensity: 0.4}, {ID: "sku-2", Position: 2, Score: 0.25}}
		if i%50 == 0 {
			items[1].Propensity = 1.5 // rejected: goes to the dead-letter exporter
		}
		inf.Impress(items)
		_ = inf.End(nil)
		require.NoError(t, inst.Outcome(ctx, personalize.Outcome{RequestID: inf.RequestID(), User: user, Session: session,
			Item: "sku-1", Kind: personalize.OutcomeClick}))
		if i%10 == 0 {
			require.NoError(t, inst.Link(ctx, personalize.Link{User: user, Session: session}))
			require.NoError(t, inst.Expose(ctx, personalize.Exposure{User: user, Experiment: "e", Variant: "b"}))
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Shutdown summarizes what the refusing endpoint did not take.
	err = inst.Shutdown(sctx)
	var de *personalize.DropError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "refused", de.Exporter)

	s := inst.Stats()
	require.Greater(t, s.Accepted, int64(6000))
	for _, e := range s.Exporters {
		if e.Name != "refused" {
			assert.Equal(t, s.Accepted, e.Exported, "%s delivered everything", e.Name)
		}
	}
	require.NotNil(t, s.DeadLetter)
	assert.EqualValues(t, 60, s.DeadLetter.Exported)

	var written []byte
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	require.Greater(t, len(files), 1, "rotation produced several files")
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		written = append(written, b...)
	}
	var deadJSON []byte
	for _, e := range dead.Events() {
		deadJSON, _ = personalize.AppendJSON(append(deadJSON, '\n'), e)
	}
	errMu.Lock()
	errText := []byte(fmt.Sprint(errs))
	errMu.Unlock()
	dlMu.Lock()
	refusedDL := append([]byte(nil), deadLettered...)
	dlMu.Unlock()
	sinks := map[string][]byte{
		"file": written, "webhook": hook.all(), "refusing endpoint": refusing.all(),
		"webhook dead letters": refusedDL, "otlp": collector.all(), "dead-letter exporter": deadJSON,
		"error handler": errText,
	}
	for name, data := range sinks {
		if name != "error handler" {
			require.NotEmpty(t, data, "%s received nothing: the scan would prove nothing", name)
		}
		assert.NoError(t, personalizetest.ScanRawIDs(data, raw), name)
	}
	// The pseudonyms, on the other hand, are there.
	p, _ := keys.Pseudonymize(privacy.DomainUser, raw[0])
	for _, name := range []string{"file", "webhook", "otlp"} {
		assert.True(t, bytes.Contains(sinks[name], []byte(p)), "%s carries pseudonyms", name)
	}
}
