// Command quickstart simulates a ranking service instrumented with
// rankscope and writes its events to local files, no server needed.
//
//	go run ./examples/quickstart [-out DIR] [-requests N] [-seed S]
//
// Synthetic users (raw ids user-000123) are split between the two arms of
// the experiment "ranker-v42"; each request runs three stages with
// realistic latencies (feature retrieval, model scoring, network), serves
// ten items sampled from a Plackett-Luce logging policy (so each item
// carries its propensity), and users click, dwell, sign up and purchase
// with a true lift in the treatment arm. Everything but the measured
// latencies and event ids is deterministic for a given seed.
//
// With -kafka host:port the events also go to a Kafka topic (-kafka-topic,
// default rankscope.events; it must exist) through exporters/kafka, beside
// the files.
//
// With -parquet DIR the events are also written as Parquet files in
// Hive-style partitions (DIR/dt=YYYY-MM-DD/hour=HH/) through
// exporters/parquet, for DuckDB, ClickHouse or Spark; DIR must not be
// inside -out.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
	"github.com/rankscope/rankscope/privacy"
)

func main() {
	var o options
	flag.StringVar(&o.out, "out", "rankscope-out", "directory for the event files")
	flag.IntVar(&o.requests, "requests", 20000, "number of simulated requests")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.IntVar(&o.concurrency, "concurrency", 128, "simulated concurrent requests")
	flag.IntVar(&o.days, "days", 14, "simulated days the requests are spread over")
	flag.StringVar(&o.kafka, "kafka", "", "also export to the Kafka broker at host:port")
	flag.StringVar(&o.kafkaTopic, "kafka-topic", "rankscope.events", "Kafka topic for -kafka")
	flag.StringVar(&o.parquet, "parquet", "", "also write Parquet partitions (dt=/hour=) to this directory, not inside -out")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

type options struct {
	out         string
	requests    int
	seed        uint64
	concurrency int
	days        int
	kafka       string // broker host:port; "" means no Kafka exporter
	kafkaTopic  string
	parquet     string // Parquet directory; "" means no Parquet exporter
}

// simStart is when the simulated traffic begins. Requests are spread over
// -days from there, so attribution windows, cohorts and lift over time
// have real spans to work with; latencies are still measured for real.
var simStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// demoKey is the pseudonymization key of this demo. A real service loads a
// secret of at least 32 random bytes from its secret store.
var demoKey = privacy.Key{ID: "demo-2026-11", Secret: []byte("rankscope-quickstart-demo-key-not-a-secret")}

const (
	experimentName = "ranker-v42"
	users          = 4000
	catalog        = 600
	listLen        = 10
)

var (
	surfaces  = []string{"home_feed", "search", "product_page"}
	devices   = []string{"mobile", "desktop", "tablet"}
	regions   = []string{"eu-west", "us-east", "ap-south"}
	providers = []string{"acme", "globex", "initech", "umbrella", "hooli"}
	category  = []string{"books", "music", "games", "garden", "kitchen", "sports"}
)

type tally struct {
	impressions, clicks [2]atomic.Int64
	purchases, signups  [2]atomic.Int64
	outcomes            atomic.Int64
	errs                atomic.Int64
}

func run(ctx context.Context, o options, w io.Writer) error {
	if o.requests < 0 || o.concurrency < 1 || o.days < 1 {
		return fmt.Errorf("-requests must be >= 0, -concurrency and -days >= 1")
	}
	if err := clearEvents(o.out); err != nil {
		return err
	}
	fileExp, err := file.New(file.Config{Dir: o.out})
	if err != nil {
		return err
	}
	exporters := []personalize.Exporter{fileExp}
	var kafkaExp *kafka.Exporter
	if o.kafka != "" {
		if kafkaExp, err = kafka.New(kafka.Config{Brokers: []string{o.kafka}, Topic: o.kafkaTopic}); err != nil {
			return err
		}
		exporters = append(exporters, kafkaExp)
	}
	var parquetExp *parquet.Exporter
	if o.parquet != "" {
		if err := clearPartitions(o.parquet); err != nil {
			return err
		}
		if parquetExp, err = parquet.New(parquet.Config{Dir: o.parquet, MaxOpenFiles: 64}); err != nil {
			return err
		}
		exporters = append(exporters, parquetExp)
	}
	keys, err := privacy.NewHMAC(demoKey)
	if err != nil {
		return err
	}
	// Latency objectives: the tracker checks them once a second and calls
	// OnBreach on every transition into breach and back.
	var breaches atomic.Int64
	tracker, err := latency.NewTracker(latency.Config{
		SLOs: []latency.SLO{
			{Stage: "model_scoring", P95: 15 * time.Millisecond, P99: 25 * time.Millisecond, MinCount: 100},
			{Stage: latency.EndToEnd, P95: 30 * time.Millisecond, P99: 50 * time.Millisecond, MinCount: 100},
		},
		OnBreach: func(b latency.Breach) {
			if !b.Recovered {
				breaches.Add(1)
			}
		},
	})
	if err != nil {
		return err
	}
	cfg := personalize.Config{
		Service:      "feed-ranker",
		Pseudonymize: keys,
		Exporters:    exporters,
		Latency:      tracker,
		ErrorHandler: func(err error) { fmt.Fprintln(os.Stderr, "rankscope:", err) },
		// Lineage: one record per model version the simulation serves, so
		// the report can say which feature definitions produced each
		// ranking. New refuses an invalid record.
		Models: quickstartModels(),
	}
	if parquetExp != nil || kafkaExp != nil {
		// The simulation emits two weeks of traffic in seconds, faster than
		// Parquet partitions (one per simulated hour) or a broker take it:
		// wait for room instead of shedding, as a batch job should. A live
		// service keeps the default and sheds at the door under overload.
		cfg.BlockTimeout = 5 * time.Second
	}
	inst, err := personalize.New(cfg)
	if err != nil {
		return err
	}
	// The experiment: a 50/50 split by a salted hash of the user id, and an
	// exposure event the first time each user meets an arm.
	ab, err := experiment.New(experiment.Config{Name: experimentName, Salt: fmt.Sprintf("%s-seed-%d", experimentName, o.seed),
		Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	if err != nil {
		return err
	}
	exposer, err := experiment.NewExposer(experiment.ExposerConfig{Emitter: inst})
	if err != nil {
		return err
	}
	sim := &simulation{inst: inst, ab: ab, exposer: exposer, seed: o.seed,
		step: time.Duration(o.days) * 24 * time.Hour / time.Duration(max(o.requests, 1))}
	start := time.Now()
	t := &sim.tally
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < o.concurrency; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(o.requests) {
					return
				}
				if err := sim.serve(ctx, int(i)); err != nil {
					t.errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if err := inst.Shutdown(ctx); err != nil {
		return err
	}
	err = summarize(w, inst, t, o, time.Since(start), breaches.Load())
	if kafkaExp != nil {
		ks := kafkaExp.Stats()
		fmt.Fprintf(w, "  kafka %s topic %s: delivered %d of %d events, dropped %d\n",
			o.kafka, o.kafkaTopic, ks.Delivered, ks.Accepted, ks.TotalDropped())
	}
	if parquetExp != nil {
		ps := parquetExp.Stats()
		fmt.Fprintf(w, "  parquet %s: %d events in finished files, %d failed\n", o.parquet, ps.Exported, ps.Failed)
	}
	return err
}

// clearPartitions removes the dt=... partition directories an earlier
// run left in dir.
func clearPartitions(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "dt=") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

type simulation struct {
	inst     *personalize.Instrument
	ab       *experiment.Experiment
	exposer  *experiment.Exposer
	seed     uint64
	step     time.Duration // simulated time between requests
	sessions sync.Map      // sessions already linked to their user
	tally    tally
}

// serve simulates one request and the user's reaction to it.
func (sim *simulation) serve(ctx context.Context, i int) error {
	inst, seed, t := sim.inst, sim.seed, &sim.tally
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	u := rng.IntN(users)
	user := fmt.Sprintf("user-%06d", u)
	userRng := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(u)))
	variant, _ := sim.ab.Assign(user)
	arm := 0
	if variant == "treatment" {
		arm = 1
	}
	device := devices[userRng.IntN(len(devices))]
	region := regions[userRng.IntN(len(regions))]
	surface := surfaces[rng.IntN(len(surfaces))]
	at := simStart.Add(time.Duration(i)*sim.step + time.Duration(rng.Int64N(int64(sim.step)+1)))
	// A new session every three simulated days.
	session := fmt.Sprintf("sess-%06d-%d", u, int(at.Sub(simStart)/(72*time.Hour)))
	if _, seen := sim.sessions.LoadOrStore(session, true); !seen {
		// Identity resolution for attribution: this session is this user's.
		if err := inst.Link(ctx, personalize.Link{User: user, Session: session, Time: at}); err != nil {
			return err
		}
	}
	assignments := []personalize.Assignment{{Experiment: experimentName, Variant: variant}}

	ctx, inf := inst.Start(ctx, personalize.Request{
		ID:   fmt.Sprintf("req-%d-%06d", seed, i),
		User: user, Session: session, Surface: surface, Channel: "app",
		Model: "ranker", ModelVersion: [2]string{"v41", "v42"}[arm], FeatureSet: "fs-2026-11",
		Experiments: assignments,
		Flags:       []personalize.Flag{{Key: "new-card-layout", Variant: [2]string{"off", "on"}[u%2]}},
		Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: device},
			{Key: personalize.AttrRegion, Value: region}, {Key: "user_agent", Value: "dropped-by-allow-list"}},
		Time: at,
	})
	// Stage 1: feature retrieval, 2 ms median; 1% time out and fall back.
	_, _ = latency.Time(ctx, "feature_retrieval", func(context.Context) (struct{}, error) {
		time.Sleep(lognormal(rng, 2*time.Millisecond, 0.5))
		if rng.Float64() < 0.01 {
			return struct{}{}, fmt.Errorf("feature store slow, cached features used: %w", latency.ErrFallback)
		}
		return struct{}{}, nil
	})
	// Stage 2: model scoring, 5 ms median, heavier tail in treatment.
	st := inf.Stage("model_scoring")
	time.Sleep(lognormal(rng, time.Duration(4+arm)*time.Millisecond, 0.4))
	var scoreErr error
	if rng.Float64() < 0.003 {
		scoreErr = fmt.Errorf("scorer: %w", context.DeadlineExceeded)
	}
	st.End(scoreErr)
	// Stage 3: network to the client, 1 ms median.
	net := inf.Stage("network")
	time.Sleep(lognormal(rng, time.Millisecond, 0.3))
	net.End(nil)

	if err := sim.exposer.ExposeAllAt(ctx, user, assignments, surface, at); err != nil {
		return err
	}
	items, rel := rank(rng, userRng, arm)
	inf.Impress(items)
	if err := inf.End(nil); err != nil {
		return err
	}
	t.impressions[arm].Add(1)
	reqID := inf.RequestID()
	// Position-based click model: P(click) = P(examine | position) * relevance.
	for k, it := range items {
		examine := 1 / math.Pow(float64(k+1), 0.8)
		if rng.Float64() >= examine*rel[k] {
			continue
		}
		t.clicks[arm].Add(1)
		clickAt := at.Add(time.Duration(2+rng.IntN(60)) * time.Second)
		emit(ctx, inst, t, personalize.Outcome{RequestID: reqID, User: user, Session: session, Item: it.ID,
			Kind: personalize.OutcomeClick, Channel: "app", Surface: surface, Time: clickAt})
		dwell := lognormal(rng, 20*time.Second, 0.8)
		emit(ctx, inst, t, personalize.Outcome{RequestID: reqID, User: user, Session: session, Item: it.ID,
			Kind: personalize.OutcomeDwell, Dwell: dwell, Surface: surface, Time: clickAt.Add(dwell)})
		// True lift: treatment converts 25% more often after a click.
		if rng.Float64() < 0.10*(1+0.25*float64(arm)) {
			t.purchases[arm].Add(1)
			emit(ctx, inst, t, personalize.Outcome{RequestID: reqID, User: user, Session: session, Item: it.ID,
				Kind: personalize.OutcomePurchase, Value: math.Round(30*math.Exp(0.6*rng.NormFloat64())*100) / 100, Currency: "EUR",
				Channel: "app", Surface: surface, Time: clickAt.Add(time.Duration(1+rng.IntN(30)) * time.Minute)})
		}
	}
	emit(ctx, inst, t, personalize.Outcome{RequestID: reqID, User: user, Session: session, Item: items[0].ID,
		Kind: personalize.OutcomeScroll, ScrollDepth: math.Min(1, rng.Float64()*1.2), Surface: surface,
		Time: at.Add(time.Duration(1+rng.IntN(20)) * time.Second)})
	if i%97 == 0 && rng.Float64() < 0.5 {
		t.signups[arm].Add(1)
		emit(ctx, inst, t, personalize.Outcome{User: user, Session: session, Kind: personalize.OutcomeSignup, Channel: "email",
			Time: at.Add(time.Duration(rng.IntN(120)) * time.Minute)})
	}
	return nil
}

func emit(ctx context.Context, inst *personalize.Instrument, t *tally, o personalize.Outcome) {
	if err := inst.Outcome(ctx, o); err != nil {
		t.errs.Add(1)
		return
	}
	t.outcomes.Add(1)
}

// rank samples a list from a Plackett-Luce policy over model scores and
// returns each item's propensity (the probability of choosing it at its
// position given the items above) and its true relevance for the user.
func rank(rng, userRng *rand.Rand, arm int) ([]personalize.Item, []float64) {
	const candidates = 40
	type cand struct {
		id                int
		score, rel, noise float64
		match             bool
	}
	taste := userRng.IntN(len(category))
	cands := make([]cand, candidates)
	for c := range cands {
		id := rng.IntN(catalog)
		base := 0.02
		if id%len(category) == taste {
			base = 0.12
		}
		// Treatment's model sees the user's taste more clearly.
		noise := rng.NormFloat64() * [2]float64{0.06, 0.03}[arm]
		cands[c] = cand{id: id, rel: base, score: base + noise, noise: noise, match: id%len(category) == taste}
	}
	items := make([]personalize.Item, 0, listLen)
	rel := make([]float64, 0, listLen)
	used := make([]bool, candidates)
	for pos := 1; pos <= listLen; pos++ {
		var total float64
		for c := range cands {
			if !used[c] {
				total += math.Exp(cands[c].score * 30)
			}
		}
		r := rng.Float64() * total
		pick := -1
		for c := range cands {
			if used[c] {
				continue
			}
			pick = c
			if r -= math.Exp(cands[c].score * 30); r <= 0 {
				break
			}
		}
		used[pick] = true
		c := cands[pick]
		items = append(items, personalize.Item{
			ID: fmt.Sprintf("sku-%04d", c.id), Position: pos, Score: math.Round(c.score*1e4) / 1e4,
			Propensity: math.Exp(c.score*30) / total,
			Category:   category[c.id%len(category)], Provider: providers[c.id%len(providers)],
		})
		if pos <= explainedPositions {
			items[len(items)-1].Explanation = explanation(c.match, c.noise)
		}
		rel = append(rel, c.rel)
	}
	return items, rel
}

func lognormal(rng *rand.Rand, median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(sigma*rng.NormFloat64()))
}

func clearEvents(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "events") && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func summarize(w io.Writer, inst *personalize.Instrument, t *tally, o options, took time.Duration, breaches int64) error {
	s := inst.Stats()
	var dropped int64 = s.QueueFull + s.Closed
	for _, e := range s.Exporters {
		dropped += e.Dropped()
	}
	fmt.Fprintf(w, "rankscope quickstart: %d requests in %.1fs (seed %d), simulated from %s over %d days\n",
		o.requests, took.Seconds(), o.seed, simStart.Format("2006-01-02"), o.days)
	fmt.Fprintf(w, "  impressions %d, outcomes %d, exposures %d, identity links %d, model records %d\n", s.Impressions, s.Outcomes, s.Exposures, s.Links, s.Models)
	fmt.Fprintf(w, "  accepted %d, exported %d, dropped %d, rejected %d\n", s.Accepted, s.Exporters[0].Exported, dropped, s.TotalRejected())
	fmt.Fprintf(w, "\n  experiment %s        requests   clicks  clicks/request  purchases\n", experimentName)
	for arm, name := range []string{"control", "treatment"} {
		imp, cl := t.impressions[arm].Load(), t.clicks[arm].Load()
		ctr := 0.0
		if imp > 0 {
			ctr = float64(cl) / float64(imp)
		}
		fmt.Fprintf(w, "  %-24s %11d %8d  %14.4f  %9d\n", name, imp, cl, ctr, t.purchases[arm].Load())
	}
	fmt.Fprintf(w, "\n  stage latency (last hour)   count     p50       p95       p99     degraded\n")
	tr := inst.Latency()
	stages := tr.Stages()
	sort.Strings(stages)
	for _, st := range stages {
		sum, ok := tr.Summary(st, latency.WindowHour)
		if !ok || sum.Count == 0 {
			continue
		}
		fmt.Fprintf(w, "  %-24s %8d %9s %9s %9s %8d\n", st, sum.Count, round(sum.P50), round(sum.P95), round(sum.P99),
			sum.Errors+sum.Timeouts+sum.Fallbacks)
	}
	fmt.Fprintf(w, "\n  SLO (last minute)            target   observed  ok\n")
	for _, r := range tr.CheckSLOs(time.Now()) {
		fmt.Fprintf(w, "  %-18s %-8s %9s %9s  %v\n", r.SLO.Stage, r.Target, round(r.Objective), round(r.Observed), r.OK)
	}
	fmt.Fprintf(w, "  breaches reported while running: %d\n", breaches)
	abs, _ := filepath.Abs(o.out)
	fmt.Fprintf(w, "\n  events written to %s (JSON lines, schema v%d; see docs/SCHEMA.md)\n", abs, personalize.SchemaVersion)
	fmt.Fprintf(w, "  next: go run ./examples/experiment -in %s   |   go run ./examples/report -in %s -o report.html\n", o.out, o.out)
	if t.errs.Load() > 0 {
		return fmt.Errorf("%d emits failed", t.errs.Load())
	}
	return nil
}

func round(d time.Duration) string {
	return d.Round(10 * time.Microsecond).String()
}

// quickstartModels are the lineage records of the two model versions the
// experiment compares: the same feature set, and v42 reads one feature
// more, so their feature hashes differ. They are stamped at the start of
// the simulated traffic, before any ranking they serve.
func quickstartModels() []personalize.ModelMetadata {
	features := map[string]string{
		"item_ctr_7d":            "clicks_7d / impressions_7d per item",
		"user_category_affinity": "share of the user's clicks in the item's category, 30 days",
		"recency_hours":          "hours since the item was published",
	}
	v41 := personalize.ModelMetadata{Time: simStart, Model: "ranker", Version: "v41", FeatureSet: "fs-2026-11",
		FeatureHash: personalize.FeatureHash(features), TrainingSnapshot: "clicks-2026-10-31", Owner: "ranking-team"}
	features["session_depth"] = "rankings seen earlier in the session"
	v42 := v41
	v42.Version, v42.FeatureHash = "v42", personalize.FeatureHash(features)
	return []personalize.ModelMetadata{v41, v42}
}
