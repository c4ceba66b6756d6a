package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/internal/dashtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return dashtest.Now }
	}
	h, err := New(cfg)
	require.NoError(t, err)
	return h
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestLiveJSONGolden(t *testing.T) {
	h := newTestHandler(t, Config{Service: "feed-ranker", Sources: []Source{fakeSource()}})
	rec := get(t, h, http.MethodGet, "/debug/rankscope/json")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	dashtest.Golden(t, "live.json.golden", rec.Body.Bytes())
	var back Snapshot
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &back))
	assert.Equal(t, "feed-ranker", back.Service)
}

func TestLiveHTML(t *testing.T) {
	h := newTestHandler(t, Config{Service: "feed-ranker", Sources: []Source{fakeSource(), &RuntimeSource{}}})
	rec := get(t, h, http.MethodGet, "/debug/rankscope")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	counts := dashtest.WellFormed(t, page)
	assert.GreaterOrEqual(t, counts["svg"], 8, "one chart per panel")
	assert.Zero(t, counts["script"], "no JavaScript")
	assert.Zero(t, counts["link"], "no external style sheets")
	assert.Zero(t, counts["img"], "no external images")
	for _, ext := range []string{"src=", `href="http`, "url(", "@import", "<iframe", "<object"} {
		assert.NotContains(t, page, ext, "no external assets")
	}
	assert.Contains(t, page, `<meta http-equiv="refresh" content="5"/>`)
	assert.Equal(t, CSP, rec.Header().Get("Content-Security-Policy"))
	for _, want := range []string{"feed-ranker", "model_scoring", "breached", "queue_full", "ranker-v42", "provider-a",
		"user_age_days", "latency.p99_ms", "2 critical, 1 routine", "unhealthy", "ECE 0.02", "goroutines",
		// every drift statistic with its unit and meaning, also beside an alert's value
		"<dt>Wasserstein (reference standard deviations)</dt>", "0.498 sd", "drift.wasserstein.critical</td><td>user_age_days</td><td>0.498</td><td>0.4</td><td>2026-11-20 11:00:00 UTC</td><td class=\"wrap\">Wasserstein (reference standard deviations): how far",
		"<dt>PSI (no unit)</dt>", "<dt>KS (share, 0 to 1)</dt>", "<dt>JS (0 to 1)</dt>", "p99 latency (milliseconds): 99% of requests took at most this long",
		// exposure share over relevance share, 1 at parity
		"<th>exposure share ÷ relevance share</th>", "<td>70%</td><td>50%</td><td>55%</td><td>1.4</td>"} {
		assert.Contains(t, page, want)
	}
	assert.Equal(t, strings.Count(page, "<svg"), strings.Count(page, "</svg>"))
}

func TestMethodsAuthAndHead(t *testing.T) {
	var calls atomic.Int32
	h := newTestHandler(t, Config{
		Sources: []Source{SourceFunc(func(context.Context, *Snapshot) error { calls.Add(1); return nil })},
		Authorize: func(r *http.Request) error {
			if r.Header.Get("X-Token") != "ok" {
				return errors.New("secret detail")
			}
			return nil
		},
	})
	tests := []struct {
		method, token string
		code          int
	}{
		{http.MethodPost, "ok", http.StatusMethodNotAllowed},
		{http.MethodDelete, "ok", http.StatusMethodNotAllowed},
		{http.MethodGet, "", http.StatusForbidden},
		{http.MethodGet, "ok", http.StatusOK},
		{http.MethodHead, "ok", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.token, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, "/debug/rankscope", nil)
			req.Header.Set("X-Token", tt.token)
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.code, rec.Code)
			assert.NotContains(t, rec.Body.String(), "secret detail")
			if tt.method == http.MethodHead {
				assert.Zero(t, rec.Body.Len())
				assert.NotEmpty(t, rec.Header().Get("Content-Length"))
			}
		})
	}
	assert.Equal(t, int32(1), calls.Load(), "refused requests compute nothing; the two allowed share one cached snapshot")
}

func TestSnapshotCachedForCacheFor(t *testing.T) {
	var calls atomic.Int32
	now := dashtest.Now
	h := newTestHandler(t, Config{
		CacheFor: time.Second,
		Now:      func() time.Time { return now },
		Sources:  []Source{SourceFunc(func(context.Context, *Snapshot) error { calls.Add(1); return nil })},
	})
	for range 5 {
		get(t, h, http.MethodGet, "/x/json")
	}
	assert.Equal(t, int32(1), calls.Load())
	now = now.Add(1100 * time.Millisecond)
	get(t, h, http.MethodGet, "/x")
	assert.Equal(t, int32(2), calls.Load())
}

func TestRowsCappedAndCounted(t *testing.T) {
	h := newTestHandler(t, Config{MaxRows: 3, Sources: []Source{SourceFunc(func(_ context.Context, s *Snapshot) error {
		for range 10 {
			s.Drift = append(s.Drift, FeatureDrift{Feature: "f", Status: "ok"})
			s.Alerts = append(s.Alerts, Alert{Rule: "r", Severity: "routine"})
		}
		return nil
	})}})
	s := h.Snapshot(context.Background())
	assert.Len(t, s.Drift, 3)
	assert.Len(t, s.Alerts, 3)
	assert.Equal(t, map[string]int{"drift": 7, "alerts": 7}, s.Truncated)
	page := get(t, h, http.MethodGet, "/").Body.String()
	dashtest.WellFormed(t, page)
	assert.Contains(t, page, "Rows left out")
}

func TestFailingAndPanickingSourcesDoNotBreakThePage(t *testing.T) {
	var errs []error
	h := newTestHandler(t, Config{
		ErrorHandler: func(err error) { errs = append(errs, err) },
		Sources: []Source{
			SourceFunc(func(context.Context, *Snapshot) error { return errors.New("user-000123 not found") }),
			SourceFunc(func(context.Context, *Snapshot) error { panic("boom") }),
			fakeSource(),
		}})
	rec := get(t, h, http.MethodGet, "/")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	dashtest.WellFormed(t, page)
	assert.Contains(t, page, "2 panel source(s) failed")
	assert.NotContains(t, page, "user-000123", "source error text is never shown")
	assert.Contains(t, page, "model_scoring")
	require.Len(t, errs, 2)
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"nil source", Config{Sources: []Source{nil}}, "Config.Sources[0]"},
		{"negative cache", Config{CacheFor: -1}, "Config.CacheFor"},
		{"negative rows", Config{MaxRows: -1}, "Config.MaxRows"},
		{"fast refresh", Config{Refresh: time.Millisecond}, "Config.Refresh"},
		{"negative timeout", Config{SourceTimeout: -1}, "Config.SourceTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRegisterServesBothPaths(t *testing.T) {
	h := newTestHandler(t, Config{Sources: []Source{fakeSource()}})
	mux := http.NewServeMux()
	h.Register(mux, "/debug/rankscope/")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, ctype := range map[string]string{"/debug/rankscope": "text/html; charset=utf-8", "/debug/rankscope/json": "application/json", "/debug/rankscope.json": "application/json"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, ctype, resp.Header.Get("Content-Type"), path)
	}
}
