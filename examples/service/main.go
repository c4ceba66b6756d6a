// Command service is a small ranking service instrumented with rankscope.
// It ranks items for users at /rank, simulates its own traffic (raw user
// ids like user-000123, a two-arm experiment, three timed stages, clicks and
// purchases) and mounts the live dashboard at /debug/rankscope (JSON at
// /debug/rankscope/json).
//
// The dashboard shows what the measurement packages compute in process:
// latency and SLO verdicts from the instrument's latency.Tracker, pipeline
// books from inst.Stats, calibration, CTR by position and NDCG from a
// relevance.Analyzer, exposure fairness from a fairness.Tracker, exposures
// per arm and the sample-ratio check from an experiment.Collector, drift
// and freshness from a drift.Monitor, and the alerts an alert.Evaluator
// has firing. The analyzers are exporters of the same pipeline.
//
// It serves rankscope's own metrics (events accepted, exported, dropped,
// queue depth, export duration, stage latency...) in the Prometheus text
// format at /metrics: the instrument's MeterProvider is an OpenTelemetry
// SDK MeterProvider whose reader is the OpenTelemetry Prometheus exporter
// (go.opentelemetry.io/otel/exporters/prometheus), registered in its own
// prometheus.Registry served by promhttp. The Prometheus client is why
// this example is a module of its own: the rankscope module never
// requires it.
//
// The service name and the queue settings come from the environment
// (personalize.Config.FromEnv: OTEL_SERVICE_NAME, RANKSCOPE_QUEUE_SIZE...),
// with feed-ranker as the name when OTEL_SERVICE_NAME is unset. From the
// repository root:
//
//	go run -C examples/service . -addr 127.0.0.1:8080 -duration 2m -out rankscope-out
//	curl -s http://127.0.0.1:8080/metrics | grep rankscope_
//
// It prints "dashboard: http://ADDR/debug/rankscope" once it listens, and
// stops after -duration (0: on interrupt). The event files it writes to
// -out make the offline report (package dashboard/report):
//
//	go run ./examples/report -in rankscope-out -o report.html
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/alert"
	"github.com/rankscope/rankscope/personalize/dashboard"
	"github.com/rankscope/rankscope/personalize/drift"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/personalize/fairness"
	"github.com/rankscope/rankscope/personalize/relevance"
	"github.com/rankscope/rankscope/privacy"
)

type options struct {
	addr     string
	duration time.Duration
	out      string
	rps      int
	seed     uint64
	token    string
	// ready, if set, is called with the listening address.
	ready func(addr string)
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	flag.StringVar(&o.out, "out", "", "also write event files to this directory")
	flag.IntVar(&o.rps, "rps", 200, "simulated requests per second")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed of the simulated traffic")
	flag.StringVar(&o.token, "token", "", "if set, the dashboard requires ?token= or an X-Debug-Token header with this value")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

var stages = []struct {
	name       string
	medianMs   float64
	sigma      float64
	errorShare float64
}{{"feature_retrieval", 4, 0.4, 0.002}, {"candidate_generation", 2, 0.3, 0}, {"model_scoring", 9, 0.5, 0.004}}

// ranker is the service: it owns the instrument and ranks.
type ranker struct {
	inst  *personalize.Instrument
	drift *drift.Monitor
	mu    sync.Mutex
	rng   *rand.Rand
	start time.Time
}

func (r *ranker) float() float64 { r.mu.Lock(); defer r.mu.Unlock(); return r.rng.Float64() }
func (r *ranker) norm() float64  { r.mu.Lock(); defer r.mu.Unlock(); return r.rng.NormFloat64() }

func (r *ranker) sleep(median, sigma float64) {
	d := time.Duration(median * math.Exp(sigma*r.norm()) * float64(time.Millisecond))
	time.Sleep(min(d, 200*time.Millisecond))
}

// rank serves one ranking for a raw user id and returns the request id and
// the items.
func (r *ranker) rank(ctx context.Context, user, surface string) (personalize.RequestID, []personalize.Item, string, error) {
	n, _ := strconv.Atoi(user[len(user)-6:])
	arm := "control"
	if n%2 == 1 {
		arm = "treatment"
	}
	_, inf := r.inst.Start(ctx, personalize.Request{User: user, Session: fmt.Sprintf("session-%06d-%d", n, time.Now().Unix()/600), Surface: surface,
		Model: "ranker", ModelVersion: map[string]string{"control": "v41", "treatment": "v42"}[arm], FeatureSet: "fs-2026-11",
		Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: arm}},
		Context:     []personalize.Attr{{Key: personalize.AttrDevice, Value: []string{"ios", "android", "web"}[n%3]}}})
	var err error
	for _, s := range stages {
		st := inf.Stage(s.name)
		r.sleep(s.medianMs, s.sigma)
		var serr error
		if r.float() < s.errorShare {
			serr = errors.New("backend unavailable")
		}
		st.End(serr)
	}
	// drift: a feature whose distribution shifts after the first minute
	shift := 0.0
	if time.Since(r.start) > time.Minute {
		shift = 0.8
	}
	r.drift.Observe("user_age_days", 100*math.Exp(0.5*r.norm()+shift))
	r.drift.Observe("item_price", 20+5*r.norm())
	r.drift.ObserveAge("user_features", time.Duration((30+10*r.float())*float64(time.Second)))
	items := make([]personalize.Item, 10)
	for i := range items {
		p := i + 1
		items[i] = personalize.Item{ID: fmt.Sprintf("sku-%d", (n*7+p*13)%500), Position: p, Score: 0.35 / math.Sqrt(float64(p)),
			Propensity: 1, Category: []string{"news", "sport", "music", "film"}[(n+p)%4], Provider: []string{"studio-a", "studio-b", "indie"}[p%3]}
	}
	inf.Impress(items)
	err = inf.End(err)
	return inf.RequestID(), items, arm, err
}

// simulate acts as users: ranks, clicks, sometimes buys.
func (r *ranker) simulate(ctx context.Context, rps int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	tick := time.NewTicker(time.Second / time.Duration(max(rps, 1)))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 64)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		user := fmt.Sprintf("user-%06d", rng.IntN(5000))
		surface := []string{"home_feed", "search", "email"}[rng.IntN(3)]
		u1, u2 := rng.Float64(), rng.Float64()
		select {
		case sem <- struct{}{}:
		default:
			continue // the service is saturated; skip this simulated request
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, items, arm, _ := r.rank(context.Background(), user, surface)
			for _, it := range items {
				if u1 < it.Score*0.5 {
					_ = r.inst.Outcome(context.Background(), personalize.Outcome{RequestID: req, User: user, Item: it.ID, Kind: personalize.OutcomeClick, Surface: surface})
					buy := 0.05
					if arm == "treatment" {
						buy = 0.08
					}
					if u2 < buy {
						_ = r.inst.Outcome(context.Background(), personalize.Outcome{User: user, Item: it.ID, Kind: personalize.OutcomePurchase, Value: 19.99, Currency: "EUR", Surface: surface})
					}
					break
				}
				u1 -= it.Score * 0.5
			}
		}()
	}
}

func run(ctx context.Context, o options) error {
	secret := make([]byte, 32)
	for i := range secret { // a demo key; a real service loads its keys from a secret store
		secret[i] = byte(i*31 + 7)
	}
	kr, err := privacy.NewHMAC(privacy.Key{ID: "demo-1", Secret: secret})
	if err != nil {
		return err
	}
	col, err := dashboard.NewCollector(dashboard.CollectorConfig{})
	if err != nil {
		return err
	}
	slos := []latency.SLO{
		{Stage: latency.EndToEnd, P95: 40 * time.Millisecond, P99: 60 * time.Millisecond, MinCount: 20},
		{Stage: "model_scoring", P95: 25 * time.Millisecond, P99: 40 * time.Millisecond, MinCount: 20},
	}
	// Metrics for Prometheus: an SDK MeterProvider read by the OTel
	// Prometheus exporter, in a registry of its own served at /metrics.
	registry := prometheus.NewRegistry()
	promExp, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return err
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(promExp))
	defer func() { _ = meters.Shutdown(context.Background()) }()
	tracker, err := latency.NewTracker(latency.Config{SLOs: slos, MeterProvider: meters})
	if err != nil {
		return err
	}
	// In-process measurement: each is an exporter of the pipeline. The
	// simulated users act at once, so a ranking waits 5 s of event time for
	// its outcomes (a real service keeps the default 30 minutes).
	join := relevance.JoinConfig{Window: 5 * time.Second}
	rel, err := relevance.New(relevance.Config{Join: join})
	if err != nil {
		return err
	}
	fair, err := fairness.New(fairness.Config{Join: join})
	if err != nil {
		return err
	}
	exps, err := experiment.NewCollector(experiment.CollectorConfig{Experiments: []string{"ranker-v42"}, MaxUnits: 1 << 20})
	if err != nil {
		return err
	}
	design, err := experiment.New(experiment.Config{Name: "ranker-v42", Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	if err != nil {
		return err
	}
	exporters := []personalize.Exporter{col, rel, fair, exps}
	if o.out != "" {
		fe, err := file.New(file.Config{Dir: o.out})
		if err != nil {
			return err
		}
		exporters = append(exporters, fe)
	}
	cfg, err := personalize.Config{Pseudonymize: kr, Exporters: exporters, Latency: tracker, MeterProvider: meters,
		BatchTimeout: 200 * time.Millisecond, ErrorHandler: func(err error) { fmt.Fprintln(os.Stderr, "rankscope:", err) }}.FromEnv()
	if err != nil {
		return err
	}
	if cfg.Service == "" {
		cfg.Service = "feed-ranker" // OTEL_SERVICE_NAME unset
	}
	inst, err := personalize.New(cfg)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = inst.Shutdown(sctx)
	}()

	rng := rand.New(rand.NewPCG(o.seed, 1))
	ref := make([]float64, 5000)
	for i := range ref {
		ref[i] = 100 * math.Exp(0.5*rng.NormFloat64())
	}
	ageRef, err := drift.NewNumericReference("user_age_days", ref, drift.ReferenceConfig{})
	if err != nil {
		return err
	}
	for i := range ref {
		ref[i] = 20 + 5*rng.NormFloat64()
	}
	priceRef, err := drift.NewNumericReference("item_price", ref, drift.ReferenceConfig{})
	if err != nil {
		return err
	}
	dm, err := drift.New(drift.Config{References: []*drift.Reference{ageRef, priceRef}, Sources: []string{"user_features"}})
	if err != nil {
		return err
	}
	rules := append([]alert.Rule{
		{Name: "latency.p99_ms", Severity: alert.SeverityCritical, Enter: 60, Exit: 50},
		{Name: "latency.p95_ms", Severity: alert.SeverityRoutine, Enter: 40, Exit: 35},
	}, drift.DefaultRules(drift.Thresholds{}, 2*time.Minute, 10*time.Minute)...)
	alerts, err := alert.New(alert.Config{Handler: alert.Discard, Rules: rules})
	if err != nil {
		return err
	}
	r := &ranker{inst: inst, drift: dm, rng: rand.New(rand.NewPCG(o.seed, 2)), start: time.Now()}

	var authorize func(*http.Request) error
	if o.token != "" {
		authorize = func(req *http.Request) error {
			if req.Header.Get("X-Debug-Token") == o.token || req.URL.Query().Get("token") == o.token {
				return nil
			}
			return errors.New("bad token")
		}
	}
	dash, err := dashboard.New(dashboard.Config{Service: cfg.Service, Authorize: authorize, Sources: []dashboard.Source{
		col, // throughput and event age at arrival
		dashboard.LatencySource(inst.Latency()),
		dashboard.StatsSource(inst.Stats, 0),
		&dashboard.RuntimeSource{},
		dashboard.ExperimentSource(exps, 5*time.Second, experiment.AnalysisConfig{Experiment: "ranker-v42", Design: design}),
		dashboard.RelevanceSource(rel),
		dashboard.FairnessSource(fair),
		dashboard.DriftSource(dm.Report),
		dashboard.AlertSource(alerts.Active),
	}})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	dash.Register(mux, "/debug/rankscope")
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /rank", func(w http.ResponseWriter, req *http.Request) {
		user := req.URL.Query().Get("user")
		if len(user) < 6 {
			http.Error(w, "rank: query parameter user: want an id of at least 6 characters", http.StatusBadRequest)
			return
		}
		id, items, _, err := r.rank(req.Context(), user, "api")
		if err != nil {
			http.Error(w, "rank failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"request_id": id, "items": items})
	})
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("dashboard: http://%s/debug/rankscope\n", ln.Addr())
	if o.ready != nil {
		o.ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.simulate(ctx, o.rps, o.seed) }()
	go func() { // feed the alert rules once a second
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if s, ok := tracker.Summary(latency.EndToEnd, latency.WindowMinute); ok && s.Count > 0 {
					_ = alerts.Observe(ctx, now, "latency.p99_ms", "end_to_end", float64(s.P99)/1e6)
					_ = alerts.Observe(ctx, now, "latency.p95_ms", "end_to_end", float64(s.P95)/1e6)
				}
				_ = dm.Report().Alert(ctx, alerts, "")
			}
		}
	}()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
