package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rankscope/rankscope/personalize/dashboard/internal/page"
)

// Config configures a [Handler]. The zero value of every field means its
// documented default.
type Config struct {
	// Service names the service in the page title.
	Service string
	// Sources fill the snapshot, in order. A source that fails is counted
	// in Snapshot.SourceErrors and its error passed to ErrorHandler; the
	// page still renders what the others provided.
	Sources []Source
	// Authorize, if set, is called for every request before anything is
	// computed; a non-nil error answers 403 Forbidden (the error's text is
	// not shown). Use it to require the service's own authentication
	// ([Audited] also records each view). Default [LoopbackOnly]: only
	// requests that arrive on a loopback address are served.
	Authorize func(r *http.Request) error
	// Refresh is the page's meta-refresh interval. Default 5s; negative
	// disables refreshing.
	Refresh time.Duration
	// CacheFor is how long a built snapshot is reused, bounding the cost
	// of many viewers to one build per interval. Default 1s.
	CacheFor time.Duration
	// MaxRows caps every list in the snapshot (stages, experiments, arms,
	// bins, groups, features, alerts ...). Default 50. Rows cut are counted
	// in Snapshot.Truncated.
	MaxRows int
	// SourceTimeout bounds the time all sources together may take for one
	// snapshot. Default 2s.
	SourceTimeout time.Duration
	// ErrorHandler receives source errors. Default: ignore.
	ErrorHandler func(error)
	// Now returns the current time. Default time.Now; set in tests.
	Now func() time.Time
}

// Default values of [Config].
const (
	DefaultRefresh       = 5 * time.Second
	DefaultCacheFor      = time.Second
	DefaultMaxRows       = 50
	DefaultSourceTimeout = 2 * time.Second
)

// Handler serves the live page (HTML) and its data (JSON). It is read-only:
// it answers GET and HEAD only. It is safe for concurrent use.
//
// Mounted at a prefix P (see [Handler.Register]), it serves HTML at P and
// JSON at P/json (also P.json). Any path ending in "/json" or ".json" gets
// JSON; every other path gets HTML.
type Handler struct {
	cfg   Config
	start time.Time

	mu      sync.Mutex // held while building, so concurrent viewers share one build
	cached  *Snapshot
	builtAt time.Time
}

var _ http.Handler = (*Handler)(nil)

// New validates cfg and returns a handler.
func New(cfg Config) (*Handler, error) {
	for i, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("dashboard: Config.Sources[%d]: is nil", i)
		}
	}
	switch {
	case cfg.CacheFor < 0:
		return nil, fmt.Errorf("dashboard: Config.CacheFor: must be >= 0, got %v", cfg.CacheFor)
	case cfg.MaxRows < 0:
		return nil, fmt.Errorf("dashboard: Config.MaxRows: must be >= 0, got %d", cfg.MaxRows)
	case cfg.SourceTimeout < 0:
		return nil, fmt.Errorf("dashboard: Config.SourceTimeout: must be >= 0, got %v", cfg.SourceTimeout)
	case cfg.Refresh > 0 && cfg.Refresh < time.Second:
		return nil, fmt.Errorf("dashboard: Config.Refresh: must be >= 1s or negative to disable, got %v", cfg.Refresh)
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = DefaultCacheFor
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.SourceTimeout == 0 {
		cfg.SourceTimeout = DefaultSourceTimeout
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = func(error) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Authorize == nil {
		cfg.Authorize = LoopbackOnly
	}
	return &Handler{cfg: cfg, start: cfg.Now()}, nil
}

// Register mounts h on mux at prefix (e.g. "/debug/rankscope") and at the
// JSON sibling prefix+"/json".
func (h *Handler) Register(mux *http.ServeMux, prefix string) {
	prefix = "/" + strings.Trim(prefix, "/")
	mux.Handle(prefix, h)
	mux.Handle(prefix+"/", h)
	mux.Handle(prefix+".json", h)
}

// Snapshot returns the current snapshot, building it if the cached one is
// older than Config.CacheFor. The returned value is shared: do not modify
// it.
func (h *Handler) Snapshot(ctx context.Context) *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.cfg.Now()
	if h.cached != nil && now.Sub(h.builtAt) < h.cfg.CacheFor && !now.Before(h.builtAt) {
		return h.cached
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.SourceTimeout)
	defer cancel()
	s := &Snapshot{Service: h.cfg.Service, Time: now.UTC(), UptimeSeconds: page.Round3(now.Sub(h.start).Seconds())}
	for i, src := range h.cfg.Sources {
		if err := ctx.Err(); err != nil {
			s.SourceErrors += len(h.cfg.Sources) - i
			h.cfg.ErrorHandler(fmt.Errorf("dashboard: sources %d..%d skipped: %w", i, len(h.cfg.Sources)-1, err))
			break
		}
		if err := collect(ctx, src, s); err != nil {
			s.SourceErrors++
			h.cfg.ErrorHandler(fmt.Errorf("dashboard: source %d: %w", i, err))
		}
	}
	capRows(s, h.cfg.MaxRows)
	h.cached, h.builtAt = s, now
	return s
}

// collect runs one source, turning a panic into an error so one broken
// panel cannot take the page (or the service) down.
func collect(ctx context.Context, src Source, s *Snapshot) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return src.Collect(ctx, s)
}

func capSlice[T any](s []T, n int, name string, trunc map[string]int) []T {
	if len(s) > n {
		trunc[name] += len(s) - n
		return s[:n]
	}
	return s
}

// capRows enforces Config.MaxRows on every list of s.
func capRows(s *Snapshot, n int) {
	tr := map[string]int{}
	s.Latency = capSlice(s.Latency, n, "latency", tr)
	for i := range s.Latency {
		s.Latency[i].Histogram = capSlice(s.Latency[i].Histogram, n, "latency.histogram", tr)
		s.Latency[i].Objectives = capSlice(s.Latency[i].Objectives, n, "latency.objectives", tr)
	}
	if s.Traffic != nil {
		s.Traffic.Series = capSlice(s.Traffic.Series, 2*n, "traffic.series", tr)
	}
	if p := s.Pipeline; p != nil {
		p.Dropped = capSlice(p.Dropped, n, "pipeline.dropped", tr)
		p.Rejected = capSlice(p.Rejected, n, "pipeline.rejected", tr)
		p.Exporters = capSlice(p.Exporters, n, "pipeline.exporters", tr)
	}
	s.Experiments = capSlice(s.Experiments, n, "experiments", tr)
	for i := range s.Experiments {
		s.Experiments[i].Arms = capSlice(s.Experiments[i].Arms, n, "experiments.arms", tr)
	}
	if s.Calibration != nil {
		s.Calibration.Bins = capSlice(s.Calibration.Bins, n, "calibration.bins", tr)
	}
	s.CTRByPosition = capSlice(s.CTRByPosition, n, "ctr_by_position", tr)
	if s.Fairness != nil {
		s.Fairness.Groups = capSlice(s.Fairness.Groups, n, "fairness.groups", tr)
	}
	s.Drift = capSlice(s.Drift, n, "drift", tr)
	s.Freshness = capSlice(s.Freshness, n, "freshness", tr)
	s.Alerts = capSlice(s.Alerts, n, "alerts", tr)
	s.Notes = capSlice(s.Notes, n, "notes", tr)
	if len(s.Extra) > n {
		keys := make([]string, 0, len(s.Extra))
		for k := range s.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys[n:] {
			delete(s.Extra, k)
		}
		tr["extra"] += len(keys) - n
	}
	if len(tr) > 0 {
		s.Truncated = tr
	}
}

var errMethod = errors.New("method not allowed")

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, errMethod.Error(), http.StatusMethodNotAllowed)
		return
	}
	if h.cfg.Authorize != nil {
		if err := h.cfg.Authorize(r); err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
	}
	snap := h.Snapshot(r.Context())
	var buf bytes.Buffer
	if strings.HasSuffix(r.URL.Path, "/json") || strings.HasSuffix(r.URL.Path, ".json") {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(snap); err != nil {
			http.Error(w, "encoding failed", http.StatusInternalServerError)
			h.cfg.ErrorHandler(fmt.Errorf("dashboard: json: %w", err))
			return
		}
		hdr.Set("Content-Type", "application/json")
	} else {
		if err := renderLive(&buf, snap, h.cfg.Refresh); err != nil {
			http.Error(w, "rendering failed", http.StatusInternalServerError)
			h.cfg.ErrorHandler(fmt.Errorf("dashboard: html: %w", err))
			return
		}
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Content-Security-Policy", CSP)
	}
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(buf.Bytes())
}

// CSP is the Content-Security-Policy of the HTML pages: nothing may be
// loaded or run; only the inline style sheet applies.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
