package attribution

// Report is the output of the engine: one Result per model (the rules in
// configuration order, then "markov" and "shapley"), the lift report and
// the counters.
type Report struct {
	Models []Result
	Lift   Lift
	Stats  Stats
	// Errors holds models that could not be solved (for example Shapley
	// with more than MaxShapleyChannels channels), keyed by model name.
	Errors map[string]error
}

// Model returns the result of the named model, or nil.
func (r *Report) Model(name string) *Result {
	for i := range r.Models {
		if r.Models[i].Model == name {
			return &r.Models[i]
		}
	}
	return nil
}

// Report returns the results so far. Conversions still waiting for the
// lateness bound are not included; non-converting journeys count for the
// Markov model only once their person is evicted (call [Engine.Close] at
// the end of a stream). Lift includes the persons still tracked.
func (e *Engine) Report() *Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep := &Report{Stats: e.snapshotStats()}
	names := e.dims[dimChannel].names
	level := e.cfg.Level
	var buf []float64
	for i := range e.rules {
		ra := &e.rules[i]
		res := e.newResult(ra.rule.Name())
		for d := range ra.dims {
			for id, c := range ra.dims[d] {
				if c.Conversions != 0 || c.Value != 0 {
					res.dim(d)[e.dims[d].names[id]] = c
				}
			}
		}
		for _, c := range ra.dims[dimChannel] {
			res.Attributed.add(c.Conversions, c.Value)
		}
		if e.reps > 0 {
			res.Intervals = make(map[string]Interval)
			for ch := range res.Channels {
				res.Intervals[ch] = ra.reps.interval(int(e.dims[dimChannel].index[ch]), level, buf)
			}
		}
		rep.Models = append(rep.Models, *res)
	}
	if e.chain != nil {
		sol, err := e.chain.solve(names)
		if err != nil {
			rep.addError("markov", err)
		} else {
			res := e.newResult("markov")
			res.Details = sol
			e.globalCredit(res, sol.Credit)
			if e.reps > 0 {
				res.Intervals = e.replicateIntervals(func(b int) ([]string, []Credit, error) {
					s, err := e.chainReps[b].solve(names)
					if err != nil {
						return nil, nil, err
					}
					return s.Channels, s.Credit, nil
				})
			}
			rep.Models = append(rep.Models, *res)
		}
	}
	if e.coal != nil {
		sol, err := e.coal.solve(names)
		if err != nil {
			rep.addError("shapley", err)
		} else {
			res := e.newResult("shapley")
			res.Details = sol
			credit := make([]Credit, len(names))
			for i, ch := range sol.Channels {
				credit[e.dims[dimChannel].index[ch]] = sol.Credit[i]
			}
			e.globalCredit(res, credit)
			if e.reps > 0 {
				res.Intervals = e.replicateIntervals(func(b int) ([]string, []Credit, error) {
					s, err := e.coalReps[b].solve(names)
					if err != nil {
						return nil, nil, err
					}
					return s.Channels, s.Credit, nil
				})
			}
			rep.Models = append(rep.Models, *res)
		}
	}
	live := make([]*personLift, 0, e.persons.len())
	for _, m := range []map[string]*person{e.persons.users, e.persons.anon} {
		for _, p := range m {
			live = append(live, &p.lift)
		}
	}
	rep.Lift = e.lift.report(live)
	return rep
}

func (r *Report) addError(model string, err error) {
	if r.Errors == nil {
		r.Errors = make(map[string]error)
	}
	r.Errors[model] = err
}

func (e *Engine) newResult(name string) *Result {
	return &Result{Model: name, Unattributed: e.unattributed, Channels: map[string]Credit{},
		Surfaces: map[string]Credit{}, Items: map[string]Credit{}, Arms: map[string]Credit{}}
}

func (r *Result) dim(d int) map[string]Credit {
	switch d {
	case dimChannel:
		return r.Channels
	case dimSurface:
		return r.Surfaces
	case dimItem:
		return r.Items
	}
	return r.Arms
}

// globalCredit sets a global model's channel credit (indexed by channel
// id) and spreads it over surfaces, items and arms in proportion to each
// channel's touchpoints in converting journeys.
func (e *Engine) globalCredit(res *Result, credit []Credit) {
	for id, c := range credit {
		if c.Conversions == 0 && c.Value == 0 {
			continue
		}
		res.Channels[e.dims[dimChannel].names[id]] = c
		res.Attributed.add(c.Conversions, c.Value)
	}
	for key, f := range e.spread.share {
		ch := int(key >> 34)
		d := int(key>>32) & 3
		id := int32(uint32(key))
		if ch >= len(credit) || e.spread.total[ch] == 0 {
			continue
		}
		c := credit[ch]
		frac := f / e.spread.total[ch]
		m := res.dim(d)
		name := e.dims[d].names[id]
		cur := m[name]
		cur.add(frac*c.Conversions, frac*c.Value)
		m[name] = cur
	}
	for d := dimSurface; d <= dimArm; d++ {
		m := res.dim(d)
		for k, c := range m {
			if c.Conversions == 0 && c.Value == 0 {
				delete(m, k)
			}
		}
	}
}

func (e *Engine) replicateIntervals(solve func(b int) ([]string, []Credit, error)) map[string]Interval {
	perCh := make(map[string][]float64)
	for b := range e.reps {
		chs, credit, err := solve(b)
		if err != nil {
			continue
		}
		seen := make(map[string]bool, len(chs))
		for i, ch := range chs {
			perCh[ch] = append(perCh[ch], credit[i].Conversions)
			seen[ch] = true
		}
		for ch := range perCh {
			if !seen[ch] {
				perCh[ch] = append(perCh[ch], 0)
			}
		}
	}
	out := make(map[string]Interval, len(perCh))
	a := (1 - e.cfg.Level) / 2
	for ch, xs := range perCh {
		for len(xs) < e.reps { // channels first seen in a later replicate
			xs = append(xs, 0)
		}
		out[ch] = Interval{percentile(xs, a), percentile(xs, 1-a)}
	}
	return out
}
