package attribution

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

var t0 = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// gen builds events with distinct ids.
type gen struct{ n uint64 }

func (g *gen) id() personalize.EventID {
	g.n++
	var id personalize.EventID
	for i := range 8 {
		id[15-i] = byte(g.n >> (8 * i))
	}
	id[0] = 0x01
	return id
}

func ps(id string) personalize.Pseudonym {
	if id == "" {
		return personalize.Pseudonym{}
	}
	return personalize.Pseudonym{ID: id}
}

func (g *gen) imp(at time.Duration, user, session, channel, surface, arm string, items ...string) personalize.Event {
	im := &personalize.Impression{EventID: g.id(), RequestID: fmt.Sprintf("req-%d", g.n),
		Start: t0.Add(at - time.Millisecond), End: t0.Add(at), Surface: surface, Channel: channel,
		UserID: ps(user), SessionID: ps(session)}
	if arm != "" {
		im.Experiments = []personalize.Assignment{{Experiment: "exp", Variant: arm}}
	}
	for i, it := range items {
		im.Items = append(im.Items, personalize.Item{ID: it, Position: i + 1, Score: 1})
	}
	return personalize.Event{Type: personalize.EventImpression, Impression: im}
}

func (g *gen) click(at time.Duration, user, session string, of personalize.Event, item string) personalize.Event {
	return personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: g.id(),
		RequestID: of.Impression.RequestID, UserID: ps(user), SessionID: ps(session), Item: item,
		Kind: personalize.OutcomeClick, Time: t0.Add(at)}}
}

func (g *gen) conv(at time.Duration, user, session string, value float64) personalize.Event {
	return personalize.Event{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: g.id(),
		UserID: ps(user), SessionID: ps(session), Kind: personalize.OutcomePurchase, Value: value, Time: t0.Add(at)}}
}

func (g *gen) link(at time.Duration, user, session string) personalize.Event {
	return personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{EventID: g.id(),
		UserID: ps(user), SessionID: ps(session), Time: t0.Add(at)}}
}

func run(t testing.TB, cfg Config, evs []personalize.Event) (*Report, *Engine) {
	t.Helper()
	e, err := New(cfg)
	require.NoError(t, err)
	for _, ev := range evs {
		require.NoError(t, e.Add(ev))
	}
	e.Close()
	return e.Report(), e
}

const day = 24 * time.Hour

func TestWindowsAndModels(t *testing.T) {
	var g gen
	i1 := g.imp(0, "u1", "", "email", "home", "control", "x")            // view, 30h before: outside 1d view window
	i2 := g.imp(20*time.Hour, "u1", "", "web", "search", "control", "y") // view, 10h before: eligible
	c1 := g.click(21*time.Hour, "u1", "", i1, "x")                       // click on i1 (email): eligible for 7d
	evs := []personalize.Event{i1, i2, c1, g.conv(30*time.Hour, "u1", "", 10),
		g.conv(40*time.Hour, "u2", "", 5)} // u2: no touchpoints
	rep, e := run(t, Config{}, evs)
	st := e.Stats()
	assert.EqualValues(t, 2, st.Conversions)
	assert.EqualValues(t, 1, st.Unattributed)

	last := rep.Model("last_touch")
	require.NotNil(t, last)
	assert.Equal(t, Credit{1, 10}, last.Attributed)
	assert.Equal(t, Credit{1, 5}, last.Unattributed)
	// Journey: i2 (web, 20h), c1 (email click, 21h); i1 is outside the view window.
	assert.Equal(t, map[string]Credit{"email": {1, 10}}, last.Channels)
	assert.Equal(t, map[string]Credit{"home": {1, 10}}, last.Surfaces) // click inherits the impression's surface
	assert.Equal(t, map[string]Credit{"x": {1, 10}}, last.Items)
	assert.Equal(t, map[string]Credit{"exp:control": {1, 10}}, last.Arms)
	first := rep.Model("first_touch")
	assert.Equal(t, map[string]Credit{"web": {1, 10}}, first.Channels)
	lin := rep.Model("linear")
	assert.Equal(t, map[string]Credit{"web": {0.5, 5}, "email": {0.5, 5}}, lin.Channels)

	t.Run("shorter click window drops the click", func(t *testing.T) {
		rep, _ := run(t, Config{ClickWindow: time.Hour}, evs)
		assert.Equal(t, map[string]Credit{"web": {1, 10}}, rep.Model("last_touch").Channels)
	})
	t.Run("longer view window admits the first impression", func(t *testing.T) {
		rep, _ := run(t, Config{ViewWindow: 2 * day}, evs)
		assert.Equal(t, map[string]Credit{"email": {1, 10}}, rep.Model("first_touch").Channels)
	})
}

func TestIdentityLinking(t *testing.T) {
	var g gen
	evs := []personalize.Event{
		g.imp(0, "", "phone", "app", "feed", ""),                   // anonymous on a phone
		g.imp(time.Hour, "", "laptop", "web", "home", ""),          // anonymous on a laptop
		g.link(2*time.Hour, "alice", "phone"),                      // login on the phone
		g.imp(3*time.Hour, "alice", "laptop", "web", "search", ""), // both ids: implicit link
		g.conv(4*time.Hour, "", "phone", 7),                        // converts on the phone session
	}
	rep, e := run(t, Config{}, evs)
	lin := rep.Model("linear")
	require.InDelta(t, 1, lin.Attributed.Conversions, 1e-12)
	require.InDelta(t, 7, lin.Attributed.Value, 1e-12)
	assert.InDeltaMapValues(t, map[string]float64{"app": 1.0 / 3, "web": 2.0 / 3}, conversions(lin.Channels), 1e-12)
	assert.EqualValues(t, 2, e.Stats().Merges)

	t.Run("conflicting link keeps the first user", func(t *testing.T) {
		var g gen
		evs := []personalize.Event{g.link(0, "alice", "s1"), g.link(time.Minute, "bob", "s1"),
			g.imp(time.Hour, "", "s1", "web", "home", ""), g.conv(2*time.Hour, "alice", "", 1)}
		rep, e := run(t, Config{}, evs)
		assert.EqualValues(t, 1, e.Stats().LinkConflicts)
		assert.Equal(t, Credit{1, 1}, rep.Model("last_touch").Attributed)
	})
	t.Run("link after the lateness bound does not reach back", func(t *testing.T) {
		var g gen
		evs := []personalize.Event{g.imp(0, "", "s1", "web", "home", ""), g.conv(time.Hour, "alice", "", 1),
			g.link(2*time.Hour, "alice", "s1")}
		rep, _ := run(t, Config{}, evs)
		assert.Equal(t, Credit{1, 1}, rep.Model("last_touch").Unattributed)
	})
}

func conversions(m map[string]Credit) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = v.Conversions
	}
	return out
}

func TestDedupAndLateness(t *testing.T) {
	var g gen
	imp := g.imp(0, "u", "", "web", "home", "")
	cv := g.conv(time.Hour, "u", "", 3)
	t.Run("duplicates counted once", func(t *testing.T) {
		rep, e := run(t, Config{}, []personalize.Event{imp, imp, cv, cv})
		assert.EqualValues(t, 2, e.Stats().Duplicates)
		assert.Equal(t, Credit{1, 3}, rep.Model("linear").Attributed)
	})
	t.Run("touchpoint arriving late within bound is used", func(t *testing.T) {
		rep, e := run(t, Config{Lateness: 2 * time.Hour}, []personalize.Event{cv, imp})
		assert.Zero(t, e.Stats().Late)
		assert.Equal(t, Credit{1, 3}, rep.Model("linear").Attributed)
	})
	t.Run("beyond the bound it is dropped", func(t *testing.T) {
		rep, e := run(t, Config{Lateness: 30 * time.Minute}, []personalize.Event{cv, imp})
		assert.EqualValues(t, 1, e.Stats().Late)
		assert.Equal(t, Credit{1, 3}, rep.Model("linear").Unattributed)
	})
	t.Run("invalid events", func(t *testing.T) {
		e, err := New(Config{})
		require.NoError(t, err)
		require.ErrorContains(t, e.Add(personalize.Event{}), "no payload")
		require.ErrorContains(t, e.Export(context.Background(), []personalize.Event{{}, imp}), "1 invalid events")
		require.NoError(t, e.Shutdown(context.Background()))
		require.ErrorIs(t, e.Add(imp), ErrClosed)
	})
}

// randomStream returns a stream of persons with journeys over channels
// (in event-time order) and its conversions.
func randomStream(seed uint64, persons int, channels []string) []personalize.Event {
	r := rand.New(rand.NewPCG(seed, 1))
	var g gen
	var evs []personalize.Event
	for p := range persons {
		user := fmt.Sprintf("u%d", p)
		start := time.Duration(p) * time.Minute
		n := 1 + r.IntN(20)
		at := start
		var last personalize.Event
		for range n {
			at += time.Duration(1+r.IntN(60)) * time.Second
			ch := channels[r.IntN(len(channels))]
			last = g.imp(at, user, "", ch, "s-"+ch, []string{"control", "treatment"}[p%2], "i1", "i2")
			evs = append(evs, last)
			if r.IntN(3) == 0 {
				at += time.Second
				evs = append(evs, g.click(at, user, "", last, "i2"))
			}
		}
		if r.IntN(2) == 0 {
			evs = append(evs, g.conv(at+time.Second, user, "", float64(1+r.IntN(100))))
		}
	}
	// Sort by time (persons interleave).
	sortEvents(evs)
	return evs
}

func sortEvents(evs []personalize.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time().Before(evs[j-1].Time()); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

func TestPropertiesCreditsSum(t *testing.T) {
	evs := randomStream(1, 300, []string{"a", "b", "c", "d"})
	rep, e := run(t, Config{Bootstrap: Bootstrap{Replicates: 20, Seed: 7}}, evs)
	st := e.Stats()
	require.Empty(t, rep.Errors)
	var totalConv, totalValue float64
	for _, ev := range evs {
		if o := ev.Outcome; o != nil && o.Kind == personalize.OutcomePurchase {
			totalConv++
			totalValue += o.Value
		}
	}
	require.EqualValues(t, totalConv, st.Conversions)
	require.Len(t, rep.Models, 7)
	for _, m := range rep.Models {
		t.Run(m.Model, func(t *testing.T) {
			assert.InDelta(t, totalConv, m.Attributed.Conversions+m.Unattributed.Conversions, 1e-9)
			assert.InDelta(t, totalValue, m.Attributed.Value+m.Unattributed.Value, 1e-6)
			for name, dim := range map[string]map[string]Credit{"channels": m.Channels, "surfaces": m.Surfaces, "items": m.Items, "arms": m.Arms} {
				var c Credit
				for _, v := range dim {
					c.add(v.Conversions, v.Value)
				}
				assert.InDelta(t, m.Attributed.Conversions, c.Conversions, 1e-9, name)
				assert.InDelta(t, m.Attributed.Value, c.Value, 1e-6, name)
			}
			require.Len(t, m.Intervals, len(m.Channels))
			for ch, iv := range m.Intervals {
				assert.LessOrEqual(t, iv.Lo, iv.Hi, ch)
				assert.Greater(t, iv.Hi, 0.0, ch)
			}
		})
	}
}

func TestPropertyAbsentChannel(t *testing.T) {
	evs := randomStream(2, 200, []string{"a", "b", "c"})
	base, _ := run(t, Config{}, evs)
	// An engine that has interned a channel no journey ever uses.
	e, err := New(Config{})
	require.NoError(t, err)
	e.dims[dimChannel].id("never")
	for _, ev := range evs {
		require.NoError(t, e.Add(ev))
	}
	e.Close()
	got := e.Report()
	for i := range base.Models {
		assert.Equal(t, base.Models[i].Model, got.Models[i].Model)
		assert.NotContains(t, got.Models[i].Channels, "never")
		assert.InDeltaMapValues(t, conversions(base.Models[i].Channels), conversions(got.Models[i].Channels), 1e-9, base.Models[i].Model)
	}
}

func TestPropertyOrderWithinLateness(t *testing.T) {
	evs := randomStream(3, 200, []string{"a", "b", "c"})
	cfg := Config{Lateness: 10 * time.Minute, Bootstrap: Bootstrap{Replicates: 10, Seed: 1}}
	base, _ := run(t, cfg, evs)
	// Shuffle events locally: each moves by at most a few minutes of event time.
	r := rand.New(rand.NewPCG(9, 9))
	shuf := append([]personalize.Event(nil), evs...)
	for i := range shuf {
		j := i + r.IntN(5)
		if j < len(shuf) && shuf[j].Time().Sub(shuf[i].Time()) < 5*time.Minute {
			shuf[i], shuf[j] = shuf[j], shuf[i]
		}
	}
	got, e := run(t, cfg, shuf)
	assert.Zero(t, e.Stats().Late)
	for i := range base.Models {
		m := base.Models[i].Model
		assert.InDeltaMapValues(t, conversions(base.Models[i].Channels), conversions(got.Models[i].Channels), 1e-9, m)
		for ch, iv := range base.Models[i].Intervals {
			assert.InDelta(t, iv.Lo, got.Models[i].Intervals[ch].Lo, 1e-9, m)
			assert.InDelta(t, iv.Hi, got.Models[i].Intervals[ch].Hi, 1e-9, m)
		}
	}
}

func TestBootstrapSeeded(t *testing.T) {
	evs := randomStream(4, 150, []string{"a", "b"})
	a, _ := run(t, Config{Bootstrap: Bootstrap{Replicates: 50, Seed: 42}}, evs)
	b, _ := run(t, Config{Bootstrap: Bootstrap{Replicates: 50, Seed: 42}}, evs)
	c, _ := run(t, Config{Bootstrap: Bootstrap{Replicates: 50, Seed: 43}}, evs)
	for i := range a.Models {
		assert.Equal(t, a.Models[i].Intervals, b.Models[i].Intervals)
		assert.NotEqual(t, a.Models[i].Intervals, c.Models[i].Intervals)
		for ch, iv := range a.Models[i].Intervals {
			pt := a.Models[i].Channels[ch].Conversions
			assert.True(t, iv.Lo <= pt && pt <= iv.Hi, "%s %s: %v not in %v", a.Models[i].Model, ch, pt, iv)
		}
	}
}

// The engine's Markov result equals the standalone model over the same
// paths (journeys of the stream, nulls included).
func TestEngineMarkovMatchesPaths(t *testing.T) {
	evs := randomStream(5, 200, []string{"a", "b", "c"})
	var m Markov
	cfg := Config{OnJourney: func(j *Journey) {
		var path []string
		for _, tp := range j.Touchpoints {
			path = append(path, tp.Channel)
		}
		if j.Converted {
			require.NoError(t, m.AddPath(path, 1, 0, j.Value))
		} else {
			require.NoError(t, m.AddPath(path, 0, 1, 0))
		}
	}}
	rep, _ := run(t, cfg, evs)
	sol, err := m.Solve()
	require.NoError(t, err)
	got := rep.Model("markov")
	for i, ch := range sol.Channels {
		assert.InDelta(t, sol.Credit[i].Conversions, got.Channels[ch].Conversions, 1e-9, ch)
	}
}

// A long stream: memory (tracked persons, links, dedup ids, pending
// conversions) stays bounded by the window, not by the stream length.
func TestBoundedMemoryLongStream(t *testing.T) {
	const persons = 60000
	e, err := New(Config{ClickWindow: time.Hour, ViewWindow: time.Hour, Lateness: time.Minute})
	require.NoError(t, err)
	var g gen
	maxSeen, maxLinks := 0, 0
	for p := range persons {
		at := time.Duration(p) * time.Minute // one new person a minute for ~42 days
		user, sess := fmt.Sprintf("u%d", p), fmt.Sprintf("s%d", p)
		im := g.imp(at, "", sess, "web", "home", "")
		require.NoError(t, e.Add(im))
		require.NoError(t, e.Add(g.link(at+time.Second, user, sess)))
		require.NoError(t, e.Add(g.click(at+2*time.Second, "", sess, im, "")))
		if p%2 == 0 {
			require.NoError(t, e.Add(g.conv(at+3*time.Second, user, "", 1)))
		}
		if p%1000 == 0 {
			e.mu.Lock()
			maxSeen = max(maxSeen, len(e.seen))
			maxLinks = max(maxLinks, len(e.links))
			e.mu.Unlock()
		}
	}
	st := e.Stats()
	// One person a minute, state kept for window + lateness (61 min) plus
	// the heap's lazy slack: far below the 60000 persons of the stream.
	assert.LessOrEqual(t, st.PeakPersons, 70)
	assert.LessOrEqual(t, st.ActivePersons, 70)
	assert.LessOrEqual(t, maxLinks, 70)
	assert.LessOrEqual(t, maxSeen, 10) // ids kept only within the lateness bound
	// The heap also holds stale entries of anonymous sessions merged into
	// their user, until their time passes: at most one per session.
	assert.LessOrEqual(t, len(e.pheap), 140)
	assert.Greater(t, st.Evicted, int64(persons-100))
	e.Close()
	rep := e.Report()
	assert.Equal(t, Credit{persons / 2, persons / 2}, rep.Model("last_touch").Attributed)
	assert.EqualValues(t, persons/2, rep.Stats.NullJourneys)
}

func TestCaps(t *testing.T) {
	var g gen
	var evs []personalize.Event
	for p := range 10 {
		for k := range 5 {
			evs = append(evs, g.imp(time.Duration(p*5+k)*time.Second, fmt.Sprintf("u%d", p), "", fmt.Sprintf("ch%d", k), "s", ""))
		}
	}
	_, e := run(t, Config{MaxPersons: 3, MaxTouchpoints: 2, MaxKeys: 3}, evs)
	st := e.Stats()
	assert.EqualValues(t, 7, st.EvictedEarly)
	assert.EqualValues(t, 30, st.TouchpointsDropped)
	assert.Equal(t, 3, st.PeakPersons)
	assert.Positive(t, st.KeysOverflowed)
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{ClickWindow: -1}, "Config.ClickWindow"},
		{Config{ViewWindow: -1}, "Config.ViewWindow"},
		{Config{Lateness: -1}, "Config.Lateness"},
		{Config{Level: 1.5}, "Config.Level"},
		{Config{MaxPersons: -1}, "Config.MaxPersons"},
		{Config{Bootstrap: Bootstrap{Replicates: -1}}, "Config.Bootstrap.Replicates"},
		{Config{Rules: []Rule{PositionBased{First: 0.7, Last: 0.7}}}, "PositionBased"},
		{Config{Rules: []Rule{Linear{}, Linear{}}}, "duplicate"},
		{Config{Rules: []Rule{nil}}, "Config.Rules[0]"},
		{Config{Conversions: []Conversion{{Kind: personalize.OutcomeClick}}}, "engagement"},
		{Config{Lift: LiftConfig{Period: -time.Hour}}, "Config.Lift.Period"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := New(tc.cfg)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestShapleyTooManyChannelsReported(t *testing.T) {
	var chs []string
	for i := range 20 {
		chs = append(chs, fmt.Sprintf("c%02d", i))
	}
	var g gen
	var evs []personalize.Event
	for i, ch := range chs {
		evs = append(evs, g.imp(time.Duration(i)*time.Second, "u", "", ch, "s", ""))
	}
	evs = append(evs, g.conv(time.Minute, "u", "", 1))
	rep, _ := run(t, Config{MaxTouchpoints: 30}, evs)
	require.ErrorContains(t, rep.Errors["shapley"], "at most 16")
	require.NotNil(t, rep.Model("markov"))
	assert.False(t, math.IsNaN(rep.Model("markov").Attributed.Conversions))
}

// TestArmNamesBounded: arm names are reused but always right, in any
// order and past the table's bound (which empties it).
func TestArmNamesBounded(t *testing.T) {
	e, err := New(Config{})
	require.NoError(t, err)
	for round := range 3 {
		for i := range maxArmNames + 10 {
			exp, v := "exp"+strconv.Itoa(i%7), "v"+strconv.Itoa((i*31+round)%(maxArmNames+5))
			im := &personalize.Impression{Experiments: []personalize.Assignment{{Experiment: exp, Variant: v}}}
			require.Equal(t, exp+":"+v, e.armOf(im))
			require.LessOrEqual(t, len(e.armNames), maxArmNames)
		}
	}
}

// TestItemBloom: every item of a ranking is in its fingerprint (no false
// negatives, whatever the ids), and most other ids are not.
func TestItemBloom(t *testing.T) {
	im := &personalize.Impression{}
	for i := range 300 {
		im.Items = append(im.Items, personalize.Item{ID: fmt.Sprintf("sku-%d-%c", i*7919, 'a'+i%26)})
	}
	im.Items = append(im.Items, personalize.Item{ID: ""}, personalize.Item{ID: "x"}, personalize.Item{ID: "é"})
	for start := 0; start < len(im.Items); start += 10 {
		sub := &personalize.Impression{Items: im.Items[start:min(start+10, len(im.Items))]}
		b := itemBloom(sub)
		for _, it := range sub.Items {
			assert.NotZero(t, b&itemBit(it.ID), "item %q", it.ID)
		}
	}
	ten := &personalize.Impression{}
	for i := range 10 {
		ten.Items = append(ten.Items, personalize.Item{ID: fmt.Sprintf("item-%d", i)})
	}
	b, misses := itemBloom(ten), 0
	for i := 10; i < 1010; i++ {
		if b&itemBit(fmt.Sprintf("item-%d", i)) == 0 {
			misses++
		}
	}
	assert.Greater(t, misses, 500, "the fingerprint should rule out most other ids")
}

// TestTouchpointCapacityStaysZero: a person's spare touchpoint capacity
// (reused by slot without clearing) must hold no pointers, or it would
// keep impressions alive. Drive drops (a small MaxTouchpoints), merges,
// evictions and recycling, then check every tracked and recycled state;
// and drop several old touchpoints at once through slot directly.
func TestTouchpointCapacityStaysZero(t *testing.T) {
	e, err := New(Config{MaxTouchpoints: 5, ClickWindow: time.Hour, ViewWindow: time.Hour})
	require.NoError(t, err)
	s := newBenchStream()
	var evs []personalize.Event
	for range 400 {
		evs = s.journey(evs)
	}
	for i, ev := range evs {
		if i%7 <= 1 && ev.Impression != nil { // anonymous sessions, then linked (merged) by an event carrying both
			im := *ev.Impression
			im.SessionID = personalize.Pseudonym{ID: "s-" + im.UserID.ID}
			if i%7 == 0 {
				im.UserID = personalize.Pseudonym{}
			}
			ev.Impression = &im
		}
		require.NoError(t, e.Add(ev))
		if i%50 == 49 {
			check := func(p *person) {
				for k, tp := range p.tps[len(p.tps):cap(p.tps)] {
					require.Zero(t, tp, "person %v: capacity slot %d not zero", p.key, len(p.tps)+k)
				}
			}
			for _, m := range []map[string]*person{e.persons.users, e.persons.anon} {
				for _, p := range m {
					check(p)
				}
			}
			for _, p := range e.free { // recycled: everything cleared
				for k, tp := range p.tps[:cap(p.tps)] {
					require.Zero(t, tp, "recycled person: slot %d not zero", k)
				}
			}
		}
	}
	require.Positive(t, e.Stats().TouchpointsDropped)
	require.Positive(t, e.Stats().Evicted)
	require.Positive(t, e.Stats().Merges)

	// Several touchpoints past the horizon dropped by one slot call.
	e2, err := New(Config{MaxTouchpoints: 4, ClickWindow: time.Hour, ViewWindow: time.Hour})
	require.NoError(t, err)
	im := &personalize.Impression{}
	p := &person{}
	for at := range int64(4) {
		p.tps = append(p.tps, Touchpoint{at: at + 1, Kind: TouchImpression, imp: im, Channel: "c"})
	}
	e2.maxT = 3*int64(time.Nanosecond) + e2.maxWin + 1 // horizon just past at=3: three are dropped
	tp := e2.slot(p)
	require.Len(t, p.tps, 2)
	require.Zero(t, *tp)
	for k, tp := range p.tps[len(p.tps):cap(p.tps)] {
		require.Zero(t, tp, "spare slot %d after a drop", len(p.tps)+k)
	}
}
