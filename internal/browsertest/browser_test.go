package browsertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/rankscope/rankscope/personalize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const chromiumPath = "/usr/bin/chromium"

// requireBrowser skips the test when Chromium is absent, unless
// RANKSCOPE_REQUIRE_BROWSER=1 makes its absence a failure.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("RANKSCOPE_REQUIRE_BROWSER") == "1" {
			t.Fatalf("RANKSCOPE_REQUIRE_BROWSER=1 but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("%s not installed (run .ci/browser.sh to install it)", chromiumPath)
	}
}

func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// browser starts a fresh headless Chromium and collects console errors and
// uncaught exceptions.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	requireBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browser{ctx: ctx}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				b.errors = append(b.errors, "console."+string(ev.Type))
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				b.errors = append(b.errors, "log: "+ev.Entry.Text)
			}
		}
	}))
	_, err := chromedp.Call(ctx, log.Enable, cdp.Empty{})
	require.NoError(t, err)
	_, err = chromedp.Call(ctx, runtime.Enable, cdp.Empty{})
	require.NoError(t, err)
	return b
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// look loads url and returns the number of chart svgs and the page text,
// saving a full-page screenshot to name.
func (b *browser) look(t *testing.T, url, name string) (int, string) {
	t.Helper()
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))))
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart').length`))
	require.NoError(t, err)
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(t, err)
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // PNG
	require.NoError(t, err)
	path := filepath.Join(artifactsDir(t), name)
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
	return n, text
}

// build compiles the example command pkg (relative to the repository
// root) into dir.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(cmd.Dir, pkg, "go.mod")); err == nil { // a nested module (examples/service)
		cmd = exec.Command("go", "build", "-o", out, ".")
		cmd.Dir = filepath.Join("..", "..", pkg)
	}
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build %s: %s", pkg, b)
	return out
}

var addrLine = regexp.MustCompile(`dashboard: (http://\S+)`)

func TestLiveDashboardInBrowser(t *testing.T) {
	b := newBrowser(t)
	bin := build(t, t.TempDir(), "examples/service")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-duration", "60s", "-rps", "150")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	require.True(t, sc.Scan(), "service printed nothing")
	m := addrLine.FindStringSubmatch(sc.Text())
	require.NotNil(t, m, "unexpected first line %q", sc.Text())
	url := m[1]
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	// let traffic flow so every panel has data
	deadline := time.Now().Add(20 * time.Second)
	var snap struct {
		Traffic struct {
			RequestsPerSecond float64 `json:"requests_per_second"`
		} `json:"traffic"`
		Pipeline    struct{ Accepted int64 } `json:"pipeline"`
		Latency     []struct{ Stage string } `json:"latency"`
		Calibration *struct{ Count int64 }   `json:"calibration"`
		Fairness    *struct{}                `json:"fairness"`
		Experiments []struct {
			Name string
			SRM  string
		} `json:"experiments"`
	}
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		resp, err := http.Get(url + "/json")
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&snap))
		resp.Body.Close()
		if snap.Pipeline.Accepted > 500 && len(snap.Experiments) > 0 && len(snap.Latency) >= 4 && snap.Calibration != nil && snap.Fairness != nil {
			break
		}
	}
	require.Greater(t, snap.Pipeline.Accepted, int64(500))

	n, text, problems := chartTextOverlaps(t, b, url, "live.png")
	assert.Empty(t, problems, "chart texts that overlap or are cut")
	assert.GreaterOrEqual(t, n, 8, "charts drawn: latency per stage, throughput, experiment, calibration, CTR, exposure, drift")
	for _, want := range []string{"Latency by stage", "total latency", "model_scoring", "last 1m", "p99", "p95 over 1m", "met", "requests/s", "events accepted",
		"ranker-v42", "Sample ratio", "expected calibration error", "NDCG@10", "Click-through rate by position", "Exposure per group", "disparate treatment",
		"studio-a", "goroutines", "GC pause", "user_age_days", "user_features", "Exporters", "dashboard"} {
		assert.Contains(t, text, want)
	}
	assert.Regexp(t, `\d+(\.\d+)? ms`, text, "latency numbers shown")
	assert.NotRegexp(t, `user-\d{6}`, text, "no raw user id")
	assert.NotRegexp(t, `session-\d{6}`, text, "no raw session id")
	// The page refreshes itself without JavaScript.
	refresh, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('meta[http-equiv=refresh]').content`))
	require.NoError(t, err)
	assert.Equal(t, "5", refresh)
	assert.Empty(t, b.consoleErrors(), "no console errors (a CSP violation would show here)")
}

// writeEvents writes a deterministic event file in the exporter's format:
// n rankings for 300 pseudonymous users in a two-arm experiment.
func writeEvents(t *testing.T, dir string, n int) (impressions int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	var buf []byte
	emit := func(e personalize.Event) {
		var err error
		buf, err = personalize.AppendJSON(buf, e)
		require.NoError(t, err)
		buf = append(buf, '\n')
	}
	for i := range n {
		u := rng.IntN(300)
		user := personalize.Pseudonym{ID: fmt.Sprintf("%032x", u*104729+1), KeyID: "k1"}
		arm := []string{"control", "treatment"}[u%2]
		at := t0.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(n))
		scoring := time.Duration(3+rng.IntN(15)) * time.Millisecond
		var items []personalize.Item
		for p := 1; p <= 8; p++ {
			items = append(items, personalize.Item{ID: fmt.Sprintf("sku-%d", rng.IntN(40)*8+p), Position: p, Score: 0.4 / float64(p),
				Category: []string{"news", "sport", "music", "film"}[rng.IntN(4)], Provider: []string{"studio-a", "studio-b", "indie"}[p%3]})
		}
		im := &personalize.Impression{EventID: personalize.NewEventID(), RequestID: fmt.Sprintf("r%d", i), Start: at.Add(-scoring - 4*time.Millisecond), End: at,
			Service: "feed-ranker", Surface: []string{"home_feed", "search", "email"}[i%3], UserID: user, Items: items,
			Experiments: []personalize.Assignment{{Experiment: "ranker-v42", Variant: arm}},
			Stages:      []personalize.StageTiming{{Name: "feature_retrieval", Duration: 4 * time.Millisecond}, {Name: "model_scoring", Offset: 4 * time.Millisecond, Duration: scoring}}}
		emit(personalize.Event{Type: personalize.EventImpression, Impression: im})
		impressions++
		for _, it := range items {
			if rng.Float64() < it.Score {
				emit(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: personalize.NewEventID(), RequestID: im.RequestID,
					Item: it.ID, Kind: personalize.OutcomeClick, Surface: im.Surface, UserID: user, Time: at.Add(time.Second), Service: "feed-ranker"}})
				if p := map[string]float64{"control": 0.04, "treatment": 0.07}[arm]; rng.Float64() < p*3 {
					emit(personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: personalize.NewEventID(), Item: it.ID,
						Kind: personalize.OutcomePurchase, Value: 25, Currency: "EUR", UserID: user, Time: at.Add(3 * time.Second), Service: "feed-ranker"}})
				}
			}
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "events-20261116T000000.000000000Z-000000.jsonl"), buf, 0o600))
	return impressions
}

func TestReportInBrowser(t *testing.T) {
	b := newBrowser(t)
	tmp := t.TempDir()
	bin := build(t, tmp, "examples/report")
	in := filepath.Join(tmp, "events")
	require.NoError(t, os.Mkdir(in, 0o700))
	imps := writeEvents(t, in, 4000)
	out := filepath.Join(tmp, "report.html")
	cmd := exec.Command(bin, "-in", in, "-o", out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)

	rep := readReport(t, filepath.Join(tmp, "report.json"))
	require.Equal(t, int64(imps), rep.Counts.Impressions)

	n, text, problems := chartTextOverlaps(t, b, "file://"+out, "report.png")
	assert.Empty(t, problems, "chart texts that overlap or are cut")
	assert.GreaterOrEqual(t, n, 8, "charts: experiment arms, lift, latency per stage, CTR, calibration, exposure, attribution")
	for _, want := range []string{"Executive summary", "Experiments", "ranker-v42", "adjusted p", "holm", "always-valid p", "sequential verdict",
		"Conversion lift per cohort", "Latency distributions", "Click-through rate by position", "examination (PBM)", "Calibration and ranking quality",
		"NDCG@10", "Diversity and exposure fairness", "disparate treatment", "Attribution by surface", "markov", "shapley",
		"home_feed", strconv.FormatInt(rep.Counts.Impressions, 10)} {
		assert.Contains(t, text, want)
	}
	require.GreaterOrEqual(t, len(rep.Summary), 5)
	for _, s := range rep.Summary {
		assert.Contains(t, text, s, "the executive summary is on the page")
	}
	assert.Empty(t, b.consoleErrors())
	require.NoError(t, os.WriteFile(filepath.Join(artifactsDir(t), "report.html"), mustRead(t, out), 0o644))
}

// report is the part of the report JSON the tests read.
type report struct {
	Summary     []string
	Counts      struct{ Impressions int64 }
	Experiments []struct {
		Name    string
		Metrics []struct {
			Name        string
			Comparisons []struct {
				Diff      float64
				Lo, Hi    float64
				AdjustedP float64 `json:"adjusted_p"`
			}
		}
	}
	Attribution struct {
		Models []struct {
			Model    string
			Surfaces []struct {
				Surface     string
				Conversions float64
				Lo, Hi      float64
			}
		}
	}
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	var rep report
	require.NoError(t, json.Unmarshal(mustRead(t, path), &rep))
	return rep
}

// TestReportAgreesWithTheExampleCommands runs examples/report,
// examples/experiment and examples/attribution over the same event files
// and checks that the report carries the numbers the other two print.
func TestReportAgreesWithTheExampleCommands(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "events")
	require.NoError(t, os.Mkdir(in, 0o700))
	writeEvents(t, in, 3000)
	run := func(pkg string, args ...string) string {
		out, err := exec.Command(build(t, tmp, pkg), args...).CombinedOutput()
		require.NoError(t, err, "%s: %s", pkg, out)
		return string(out)
	}
	run("examples/report", "-in", in, "-o", filepath.Join(tmp, "r.html"))
	rep := readReport(t, filepath.Join(tmp, "r.json"))
	expText := run("examples/experiment", "-in", in)
	attrText := run("examples/attribution", "-in", in)

	// examples/experiment: "treatment - control: +0.056775  95% CI [0.035556, 0.078022]  ...  adjusted p 8.447e-07"
	require.Len(t, rep.Experiments, 1)
	cmpLine := regexp.MustCompile(`treatment - control: ([-+][0-9.e+-]+)\s+95% CI \[([-0-9.e+]+), ([-0-9.e+]+)\].*adjusted p ([0-9.e+-]+)`)
	for _, m := range rep.Experiments[0].Metrics {
		i := strings.Index(expText, "\n"+m.Name+" ")
		require.GreaterOrEqual(t, i, 0, "metric %s in examples/experiment output", m.Name)
		g := cmpLine.FindStringSubmatch(expText[i:])
		require.NotNil(t, g, m.Name)
		c := m.Comparisons[0]
		for j, v := range []float64{c.Diff, c.Lo, c.Hi, c.AdjustedP} {
			printed, err := strconv.ParseFloat(g[j+1], 64)
			require.NoError(t, err)
			assert.InDelta(t, printed, v, 5e-4*math.Abs(printed)+1e-12, "%s field %d", m.Name, j) // printed to 5 significant digits
		}
	}
	// examples/attribution: "last_touch   230.0 [199.0, 262.0] ..." per surface, surfaces sorted by name.
	for _, m := range rep.Attribution.Models {
		line := regexp.MustCompile(`(?m)^` + m.Model + `\s+(.*)$`).FindStringSubmatch(attrText)
		require.NotNil(t, line, m.Model)
		cells := regexp.MustCompile(`([0-9.]+) \[([0-9.]+), ([0-9.]+)\]`).FindAllStringSubmatch(line[1], -1)
		require.Len(t, cells, len(m.Surfaces), m.Model)
		surfaces := append(m.Surfaces[:0:0], m.Surfaces...)
		sort.Slice(surfaces, func(i, j int) bool { return surfaces[i].Surface < surfaces[j].Surface })
		for k, s := range surfaces {
			for j, v := range []float64{s.Conversions, s.Lo, s.Hi} {
				printed, err := strconv.ParseFloat(cells[k][j+1], 64)
				require.NoError(t, err)
				assert.InDelta(t, printed, v, 0.051, "%s %s field %d", m.Model, s.Surface, j)
			}
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
