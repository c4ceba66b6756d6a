package peerbench

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
)

// key names one benchmark: mode, contender and GOMAXPROCS.
type key struct {
	mode  string // "sequential", "parallel" or "paced"
	name  string
	procs int
}

// result is one run of a benchmark, per inference.
type result struct {
	n         int
	ns, cpu   float64 // caller wall ns/op; process cpu-ns/op (-1: unknown)
	delivered float64 // events on disk per inference
	perSec    float64 // events on disk per wall second
	dropped   float64 // drops reported to the caller per inference
	allocs    float64 // heap allocations per inference, all goroutines, timed loop
	lineBytes float64 // bytes on disk per delivered event (0: not on disk)
	caller    float64 // paced: caller wall ns per inference, in the instrumentation
	rate      float64 // paced: inferences per second achieved
}

var results = struct {
	sync.Mutex
	m       map[key][]result // one entry per round (-count), its final run
	pending map[[2]string]bool
}{m: map[key][]result{}, pending: map[[2]string]bool{}}

// record keeps r as the current round's result for k. The testing package
// runs each benchmark first with b.N = 1 (at whatever GOMAXPROCS is set
// then), then, per -cpu value and per -count, with the b.N it measures:
// for -benchtime Nx once, for a duration growing until the run is long
// enough, each measured round preceded by another b.N = 1 run except the
// first. So a b.N = 1 run only marks that the benchmark's next measured
// run starts a new round, and any later run replaces the round's result:
// each round ends with its final run. Runs with b.N = 1 are not shown.
func record(k key, r result) {
	results.Lock()
	defer results.Unlock()
	bench := [2]string{k.mode, k.name}
	if r.n == 1 {
		results.pending[bench] = true
		return
	}
	rs := results.m[k]
	if results.pending[bench] || len(rs) == 0 {
		rs = append(rs, r)
		results.pending[bench] = false
	} else {
		rs[len(rs)-1] = r
	}
	results.m[k] = rs
}

// median returns the per-field median of the rounds.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return result{
		n:         rs[len(rs)-1].n,
		ns:        pick(func(r result) float64 { return r.ns }),
		cpu:       pick(func(r result) float64 { return r.cpu }),
		delivered: pick(func(r result) float64 { return r.delivered }),
		perSec:    pick(func(r result) float64 { return r.perSec }),
		dropped:   pick(func(r result) float64 { return r.dropped }),
		allocs:    pick(func(r result) float64 { return r.allocs }),
		lineBytes: pick(func(r result) float64 { return r.lineBytes }),
		caller:    pick(func(r result) float64 { return r.caller }),
		rate:      pick(func(r result) float64 { return r.rate }),
	}
}

// summary formats this run's results and the ratios between contenders;
// "" when no benchmark ran.
func summary() string {
	results.Lock()
	defer results.Unlock()
	if len(results.m) == 0 {
		return ""
	}
	med := map[key]result{}
	rounds := 0
	var procs []int
	for k, rs := range results.m {
		med[k] = median(rs)
		rounds = max(rounds, len(rs))
		if !slices.Contains(procs, k.procs) {
			procs = append(procs, k.procs)
		}
	}
	slices.Sort(procs)
	order := map[string]int{}
	for i, c := range Contenders {
		order[c.Name] = i
	}

	var sb strings.Builder
	fmt.Fprintf(&sb, "\npeerbench summary: this run, median of %d round(s) per benchmark; parallel mode = %d goroutines\n\n", rounds, Goroutines)
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tcontender\tprocs\tN\tns/op\tcpu-ns/op\tallocs/op\tdelivered/op\tdelivered/s\tdropped/op\tcpu-ns/delivered\tB/event\t")
	keys := make([]key, 0, len(med))
	for k := range med {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.mode != b.mode {
			return a.mode > b.mode // sequential, parallel, paced
		}
		if a.procs != b.procs {
			return a.procs < b.procs
		}
		return order[a.name] < order[b.name]
	})
	for _, k := range keys {
		r := med[k]
		perDelivered := -1.0
		if r.cpu >= 0 && r.delivered > 0 {
			perDelivered = r.cpu / r.delivered
		}
		lineBytes := "-"
		if r.lineBytes > 0 {
			lineBytes = fmt.Sprintf("%.0f", r.lineBytes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%s\t%.1f\t%.4f\t%.0f\t%.4f\t%s\t%s\t\n", k.mode, k.name, k.procs, r.n, r.ns,
			num(r.cpu, "%.0f"), r.allocs, r.delivered, r.perSec, r.dropped, num(perDelivered, "%.0f"), lineBytes)
	}
	tw.Flush()

	type col struct {
		mode  string
		procs int
	}
	var cols []col
	for _, p := range procs {
		for _, m := range []string{"sequential", "parallel"} {
			if hasMode(med, m, p) {
				cols = append(cols, col{m, p})
			}
		}
	}
	get := func(c col, name string) (result, bool) {
		r, ok := med[key{mode: c.mode, name: name, procs: c.procs}]
		return r, ok
	}
	ratio := func(c col, a, b string, f func(result) float64) string {
		ra, oka := get(c, a)
		rb, okb := get(c, b)
		if !oka || !okb || f(ra) <= 0 || f(rb) <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", f(ra)/f(rb))
	}
	// roundRange is the lowest and highest a ÷ b over the rounds, pairing
	// each round of a with the same round of b: the rounds interleave the
	// contenders, so round i of both ran in the same pass.
	roundRange := func(c col, a, b string, f func(result) float64) string {
		return ratioRange(results.m[key{mode: c.mode, name: a, procs: c.procs}],
			results.m[key{mode: c.mode, name: b, procs: c.procs}], f)
	}
	value := func(c col, a string, f func(result) float64, format string) string {
		r, ok := get(c, a)
		if !ok {
			return "-"
		}
		return fmt.Sprintf(format, f(r))
	}
	cpu := func(r result) float64 { return r.cpu }
	ns := func(r result) float64 { return r.ns }
	del := func(r result) float64 { return r.delivered }
	perSec := func(r result) float64 { return r.perSec }

	if len(cols) > 0 { // a paced-only run has no spinning-mode ratios
		fmt.Fprintf(&sb, "\nratios (a ÷ b; below 1 means a is cheaper or, for delivered, delivers less)\n\n")
		tw = tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "ratio\t"
		for _, c := range cols {
			head += fmt.Sprintf("%s GOMAXPROCS=%d\t", c.mode, c.procs)
		}
		fmt.Fprintln(tw, head)
		row := func(label string, cell func(col) string) {
			line := label + "\t"
			for _, c := range cols {
				line += cell(c) + "\t"
			}
			fmt.Fprintln(tw, line)
		}
		for _, rs := range []string{"rankscope/default", "rankscope/block"} {
			for _, peer := range []string{"otel/tuned", "zap"} {
				row("cpu-ns/op "+rs+" ÷ "+peer, func(c col) string { return ratio(c, rs, peer, cpu) })
			}
		}
		// The target's spread: one run's median hides how far the
		// rounds moved on a noisy machine.
		row("cpu-ns/op rankscope/block ÷ zap, rounds lo–hi", func(c col) string { return roundRange(c, "rankscope/block", "zap", cpu) })
		for _, rs := range []string{"rankscope/default", "rankscope/block"} {
			for _, peer := range []string{"otel/tuned", "zap"} {
				row("ns/op "+rs+" ÷ "+peer, func(c col) string { return ratio(c, rs, peer, ns) })
			}
		}
		// What the line costs against zap's, and what the pipeline adds to it.
		row("cpu-ns/op floor/file ÷ zap", func(c col) string { return ratio(c, "floor/file", "zap", cpu) })
		row("cpu-ns/op rankscope/block ÷ floor/file", func(c col) string { return ratio(c, "rankscope/block", "floor/file", cpu) })
		row("delivered/op rankscope/default", func(c col) string { return value(c, "rankscope/default", del, "%.4f") })
		row("delivered/op rankscope/block", func(c col) string { return value(c, "rankscope/block", del, "%.4f") })
		row("delivered/op rankscope/default ÷ block", func(c col) string { return ratio(c, "rankscope/default", "rankscope/block", del) })
		row("delivered/s rankscope/default ÷ block", func(c col) string { return ratio(c, "rankscope/default", "rankscope/block", perSec) })
		tw.Flush()
	}

	pacedSummary(&sb, med, results.m, procs)

	if len(procs) > 1 && hasMode(med, "parallel", procs[0]) {
		fmt.Fprintf(&sb, "\nparallel delivered/s by GOMAXPROCS (scaling)\n\n")
		tw = tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "contender\t"
		for _, p := range procs {
			head += fmt.Sprintf("GOMAXPROCS=%d\t", p)
		}
		fmt.Fprintln(tw, head+fmt.Sprintf("%d÷%d\t", procs[len(procs)-1], procs[0]))
		for _, c := range Contenders {
			line := c.Name + "\t"
			for _, p := range procs {
				line += value(col{"parallel", p}, c.Name, perSec, "%.0f") + "\t"
			}
			lo, okl := get(col{"parallel", procs[0]}, c.Name)
			hi, okh := get(col{"parallel", procs[len(procs)-1]}, c.Name)
			if okl && okh && lo.perSec > 0 {
				line += fmt.Sprintf("%.2f\t", hi.perSec/lo.perSec)
			} else {
				line += "-\t"
			}
			fmt.Fprintln(tw, line)
		}
		tw.Flush()
	}
	return sb.String()
}

// ratioRange returns "lo–hi", the lowest and highest f(a[i]) ÷ f(b[i])
// over the rounds both have, or "-" when there is none.
func ratioRange(a, b []result, f func(result) float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range min(len(a), len(b)) {
		if f(a[i]) <= 0 || f(b[i]) <= 0 {
			continue
		}
		r := f(a[i]) / f(b[i])
		lo, hi = min(lo, r), max(hi, r)
	}
	if math.IsInf(lo, 1) {
		return "-"
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

// valueRange returns "lo–hi", the lowest and highest f over the rounds,
// or "-" when there is none.
func valueRange(rs []result, f func(result) float64) string {
	if len(rs) == 0 {
		return "-"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		lo, hi = min(lo, f(r)), max(hi, f(r))
	}
	return fmt.Sprintf("%.0f–%.0f", lo, hi)
}

// hasMode reports whether any result of mode at procs was recorded.
func hasMode(med map[key]result, mode string, procs int) bool {
	for k := range med {
		if k.mode == mode && k.procs == procs {
			return true
		}
	}
	return false
}

// pacedSummary appends the paced mode's table (BenchmarkPaced): caller
// time and CPU per inference at PacedRate, rankscope's ratios to zap, and
// the caller's time in the fastest and slowest rounds.
func pacedSummary(sb *strings.Builder, med map[key]result, rounds map[key][]result, procs []int) {
	if !slices.ContainsFunc(procs, func(p int) bool { return hasMode(med, "paced", p) }) {
		return
	}
	fmt.Fprintf(sb, "\npaced: %d inferences/s from one goroutine, in bursts of %d (BenchmarkPaced)\n\n", PacedRate, PacedBurst)
	tw := tabwriter.NewWriter(sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "contender\tprocs\tcaller-ns/op\tcpu-ns/op\tdelivered/op\trate/s\tcaller ÷ zap\tcpu ÷ zap\tcaller-ns per round\t")
	for _, p := range procs {
		z, zok := med[key{mode: "paced", name: "zap", procs: p}]
		for _, name := range pacedContenders {
			r, ok := med[key{mode: "paced", name: name, procs: p}]
			if !ok {
				continue
			}
			callerRatio, cpuRatio := "-", "-"
			if zok && z.caller > 0 && name != "zap" {
				callerRatio = fmt.Sprintf("%.2f", r.caller/z.caller)
				if r.cpu > 0 && z.cpu > 0 {
					cpuRatio = fmt.Sprintf("%.2f", r.cpu/z.cpu)
				}
			}
			k := key{mode: "paced", name: name, procs: p}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%.4f\t%.0f\t%s\t%s\t%s\t\n", name, p, r.caller, num(r.cpu, "%.0f"),
				r.delivered, r.rate, callerRatio, cpuRatio, valueRange(rounds[k], func(r result) float64 { return r.caller }))
		}
	}
	tw.Flush()
}

func num(v float64, format string) string {
	if v < 0 || math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// TestPacedSummary checks the paced table's ratios on made-up results,
// and that a run of the paced mode alone prints no spinning-mode ratios.
func TestPacedSummary(t *testing.T) {
	results.Lock()
	saved := results.m
	results.m = map[key][]result{
		{mode: "paced", name: "zap", procs: 1}:             {{n: 10, caller: 4000, cpu: 5000, delivered: 1, rate: 1e5}},
		{mode: "paced", name: "rankscope/block", procs: 1}: {{n: 10, caller: 1000, cpu: 3000, delivered: 1, rate: 1e5}, {n: 10, caller: 1200, cpu: 3000, delivered: 1, rate: 1e5}},
	}
	results.Unlock()
	defer func() {
		results.Lock()
		results.m = saved
		results.Unlock()
	}()
	s := summary()
	var line string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "rankscope/block") && strings.Contains(l, "3000") {
			line = l
		}
	}
	// The median caller of 1000 and 1200 is 1100: ÷ 4000 is 0.275.
	if f := strings.Fields(line); len(f) != 9 || f[6] != "0.28" || f[7] != "0.60" || f[8] != "1000–1200" {
		t.Errorf("paced row %q: want caller ÷ zap 0.28, cpu ÷ zap 0.60 and rounds 1000–1200\n%s", line, s)
	}
	if strings.Contains(s, "ratios (a ÷ b") {
		t.Errorf("spinning-mode ratios printed for a paced-only run:\n%s", s)
	}
}

// TestRatioRange pairs the rounds of two contenders by index and skips
// rounds without a figure.
func TestRatioRange(t *testing.T) {
	cpu := func(r result) float64 { return r.cpu }
	a := []result{{cpu: 600}, {cpu: 700}, {cpu: -1}, {cpu: 500}}
	b := []result{{cpu: 1000}, {cpu: 1000}, {cpu: 1000}}
	if got := ratioRange(a, b, cpu); got != "0.60–0.70" {
		t.Errorf("ratioRange = %q, want 0.60–0.70 (the fourth round of a has no pair)", got)
	}
	if got := ratioRange(nil, b, cpu); got != "-" {
		t.Errorf("ratioRange without rounds = %q, want -", got)
	}
	if got := valueRange([]result{{cpu: 3}, {cpu: 1}, {cpu: 2}}, cpu); got != "1–3" {
		t.Errorf("valueRange = %q, want 1–3", got)
	}
}
