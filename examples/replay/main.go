// Command replay backtests candidate ranking policies on logged traffic.
//
// It simulates a shop whose logging policy is epsilon-greedy (its own top
// list, or with probability epsilon a uniformly random list) and records
// the propensity of every shown item; writes impressions and clicks as
// event files with exporters/file; reads them back with file.ReadDir; and
// estimates, for each candidate policy, the click-through rate per slot
// with IPS, clipped IPS, SNIPS, the direct method, doubly robust and
// self-normalized doubly robust, next
// to the true value known from the simulation.
//
//	go run ./examples/replay -n 50000
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/replay"
)

const (
	catalog = 20
	slots   = 5
)

// world is the simulated truth: item i has attractiveness ctr[i], slot k
// is examined with probability bias[k] (position-based click model).
type world struct {
	ctr    [catalog]float64
	bias   [slots]float64
	top    [slots]int // the logger's own list
	eps    float64
	rng    *rand.Rand
	scores [catalog]float64 // the candidate model's scores
}

func newWorld(seed uint64, eps float64) *world {
	w := &world{eps: eps, rng: rand.New(rand.NewPCG(seed, 11))}
	for i := range w.ctr {
		w.ctr[i] = 0.02 + 0.3*float64(i)/catalog // item 19 is the most attractive
		// The candidate model sees the truth through noise.
		w.scores[i] = w.ctr[i] + 0.05*w.rng.NormFloat64()
	}
	for k := range w.bias {
		w.bias[k] = 1 / float64(k+1)
	}
	w.top = [slots]int{5, 9, 2, 14, 7} // an outdated model's favourites
	return w
}

// propensity is the logger's marginal probability of item at slot k.
func (w *world) propensity(item, k int) float64 {
	p := w.eps / catalog
	if w.top[k] == item {
		p += 1 - w.eps
	}
	return p
}

func (w *world) list() [slots]int {
	if w.rng.Float64() >= w.eps {
		return w.top
	}
	perm := w.rng.Perm(catalog)
	var l [slots]int
	copy(l[:], perm)
	return l
}

// truth is the expected clicks per slot of a deterministic list.
func (w *world) truth(list [slots]int) float64 {
	var v float64
	for k, it := range list {
		v += w.ctr[it] * w.bias[k]
	}
	return v / slots
}

// id draws a reproducible event id (real services use
// personalize.NewEventID).
func (w *world) id() personalize.EventID {
	var id personalize.EventID
	binary.LittleEndian.PutUint64(id[:8], w.rng.Uint64())
	binary.LittleEndian.PutUint64(id[8:], w.rng.Uint64())
	return id
}

func (w *world) simulate(ctx context.Context, dir string, n int) error {
	exp, err := file.New(file.Config{Dir: dir})
	if err != nil {
		return err
	}
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var batch []personalize.Event
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(i) * 100 * time.Millisecond)
		l := w.list()
		im := &personalize.Impression{EventID: w.id(), RequestID: "req-" + strconv.Itoa(i), Start: t, End: t.Add(15 * time.Millisecond),
			Service: "shop", Surface: "home", UserID: personalize.Pseudonym{ID: "user-" + strconv.Itoa(w.rng.IntN(2000))}}
		for k, it := range l {
			im.Items = append(im.Items, personalize.Item{ID: "item-" + strconv.Itoa(it), Position: k + 1, Score: w.scores[it], Propensity: w.propensity(it, k)})
		}
		batch = append(batch, personalize.Event{Type: personalize.EventImpression, Impression: im})
		for k, it := range l {
			if w.rng.Float64() < w.ctr[it]*w.bias[k] {
				batch = append(batch, personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: w.id(),
					RequestID: im.RequestID, Item: im.Items[k].ID, Kind: personalize.OutcomeClick, Time: im.End.Add(3 * time.Second), UserID: im.UserID, Service: "shop"}})
			}
		}
		if len(batch) >= 512 {
			if err := exp.Export(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := exp.Export(ctx, batch); err != nil {
		return err
	}
	return exp.Shutdown(ctx)
}

type candidate struct {
	name  string
	list  [slots]int
	truth float64
}

func itemNumber(id string) int {
	n, _ := strconv.Atoi(id[len("item-"):])
	return n
}

// fixedList shows list whatever the context: at slot k, list[k], which
// is either one of the logged items or an item outside the log.
func fixedList(list [slots]int) replay.Policy {
	return replay.PolicyFunc(func(c *replay.Context, dist [][]float64) error {
		for k := range dist {
			outside := 1.0
			for i, it := range c.Items {
				if itemNumber(it.ID) == list[k] {
					dist[k][i], outside = 1, 0
				}
			}
			dist[k][len(c.Items)] = outside
		}
		return nil
	})
}

type row struct {
	candidate
	result replay.Result
}

// evaluate simulates n impressions into dir, reads them back and
// evaluates the candidates.
func evaluate(ctx context.Context, dir string, n int, seed uint64) ([]row, file.ReadStats, error) {
	w := newWorld(seed, 0.3)
	if err := w.simulate(ctx, dir, n); err != nil {
		return nil, file.ReadStats{}, err
	}
	byScore := make([]int, catalog)
	for i := range byScore {
		byScore[i] = i
	}
	slices.SortFunc(byScore, func(a, b int) int {
		switch {
		case w.scores[a] > w.scores[b]:
			return -1
		case w.scores[a] < w.scores[b]:
			return 1
		}
		return 0
	})
	var model [slots]int
	copy(model[:], byScore)
	cands := []candidate{
		{name: "logger's own list", list: w.top},
		{name: "new model", list: model},
		{name: "reverse of new model", list: [slots]int{byScore[catalog-1], byScore[catalog-2], byScore[catalog-3], byScore[catalog-4], byScore[catalog-5]}},
	}
	evs := make([]*replay.Evaluator, len(cands))
	for i := range cands {
		cands[i].truth = w.truth(cands[i].list)
		e, err := replay.New(replay.Config{Policy: fixedList(cands[i].list), Slots: slots, Seed: seed, Clip: 20})
		if err != nil {
			return nil, file.ReadStats{}, err
		}
		evs[i] = e
	}
	stats, err := file.ReadDir(dir, func(ev personalize.Event) error {
		for _, e := range evs {
			if err := e.Add(ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, stats, err
	}
	rows := make([]row, len(evs))
	for i, e := range evs {
		if err := e.Flush(); err != nil {
			return nil, stats, err
		}
		r, err := e.Result()
		if err != nil {
			return nil, stats, err
		}
		rows[i] = row{cands[i], r}
	}
	return rows, stats, nil
}

// legend says what the table's columns mean.
const legend = `
Values are clicks per slot. truth: the candidate's value known from the
simulation; logged: the logging policy's observed value.
rounds: logged actions evaluated, one per slot of each impression
(impressions x slots; events also count clicks, so they are not rounds).
ESS: effective sample size (sum w)^2 / sum w^2 over the rounds, w = the
candidate's probability of the logged item / the logger's propensity;
how many rounds the IPS estimate is worth (at most rounds; the share in
parentheses). no support: share of rounds whose logged item the candidate
would never show (w = 0); IPS and DR learn from the other rounds only,
so near 100% the estimates rest on few rounds and their intervals widen.
`

func run(ctx context.Context, out io.Writer, dir string, n int, seed uint64) error {
	rows, stats, err := evaluate(ctx, dir, n, seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "read %d events from %d file(s); logger: epsilon-greedy, epsilon 0.3, %d items, %d slots\n\n", stats.Events, stats.Files, catalog, slots)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\ttruth\tlogged\tIPS [95% interval]\tclipped IPS\tSNIPS\tDM\tDR [95% interval]\tSNDR\trounds\tESS\tno support\t")
	for _, row := range rows {
		r := row.result
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f [%.4f, %.4f]\t%.4f\t%.4f\t%.4f\t%.4f [%.4f, %.4f]\t%.4f\t%d\t%.0f (%.0f%%)\t%.0f%%\t\n", row.name, row.truth, r.Logged.Value,
			r.IPS.Value, r.IPS.Lower, r.IPS.Upper, r.ClippedIPS.Value, r.SNIPS.Value, r.DM.Value, r.DR.Value, r.DR.Lower, r.DR.Upper, r.SNDR.Value,
			r.Rounds, r.Diagnostics.EffectiveSampleSize, 100*r.Diagnostics.EffectiveSampleSize/float64(r.Rounds), 100*r.Diagnostics.NoSupportShare)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprint(out, legend)
	return err
}

func main() {
	n := flag.Int("n", 50000, "impressions to simulate")
	dir := flag.String("dir", "", "directory for the event files (default: a temporary directory, removed at exit)")
	seed := flag.Uint64("seed", 1, "simulation and bootstrap seed")
	flag.Parse()
	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "rankscope-replay-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(tmp)
		d = tmp
	}
	if err := run(context.Background(), os.Stdout, d, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}
