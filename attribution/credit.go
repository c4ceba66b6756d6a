package attribution

// emit credits a journey to every model (rules, Markov chain, Shapley
// coalitions, and their bootstrap replicates) and passes it to
// Config.OnJourney.
func (e *Engine) emit(j *Journey) {
	if j.Converted && len(j.Touchpoints) == 0 {
		e.stats.Unattributed++
		e.unattributed.add(1, j.Value)
		if e.reps > 0 {
			e.cfg.Bootstrap.weights(j.EventID, e.wbuf)
			if e.unattrReps == nil {
				e.unattrReps = make([]float64, e.reps)
			}
			for b, w := range e.wbuf {
				e.unattrReps[b] += w
			}
		}
		if e.cfg.OnJourney != nil {
			e.cfg.OnJourney(j)
		}
		return
	}
	if e.reps > 0 {
		e.cfg.Bootstrap.weights(j.EventID, e.wbuf)
	}
	e.ids = e.ids[:0]
	for i := range j.Touchpoints {
		e.ids = append(e.ids, j.Touchpoints[i].ch)
	}
	if j.Converted {
		if cap(e.rw) < len(j.Touchpoints) {
			e.rw = make([]float64, len(j.Touchpoints))
		}
		w := e.rw[:len(j.Touchpoints)]
		for r := range e.rules {
			ra := &e.rules[r]
			ra.rule.Weights(j, w)
			for i := range j.Touchpoints {
				tp := &j.Touchpoints[i]
				ra.add(tp, w[i], w[i]*j.Value)
				if e.reps > 0 {
					ra.reps.add(tp.ch, e.wbuf, w[i])
				}
			}
		}
		if e.coal != nil || e.chain != nil {
			e.spreadJourney(j)
		}
		if e.coal != nil {
			e.coal.observe(e.ids, j.Value, 1)
			for b, w := range e.wbuf {
				e.coalReps[b].observe(e.ids, j.Value, w)
			}
		}
	}
	if e.chain != nil {
		e.chain.observe(e.ids, j.Converted, j.Value, 1)
		for b, w := range e.wbuf {
			e.chainReps[b].observe(e.ids, j.Converted, j.Value, w)
		}
	}
	if e.cfg.OnJourney != nil {
		e.cfg.OnJourney(j)
	}
}

// spreadJourney records, per channel, how the channel's touchpoints in
// converting journeys fall on surfaces, items and arms; the global models'
// channel credit is spread over those in the same proportions.
func (e *Engine) spreadJourney(j *Journey) {
	n := len(e.dims[dimChannel].names)
	if len(e.counts) < n {
		e.counts = make([]int32, n)
	}
	for _, id := range e.ids {
		e.counts[id]++
	}
	for i := range j.Touchpoints {
		tp := &j.Touchpoints[i]
		e.spread.add(tp, 1/float64(e.counts[tp.ch]))
	}
	for _, id := range e.ids {
		e.counts[id] = 0
	}
}

type ruleAgg struct {
	rule Rule
	dims [4][]Credit
	reps repSums
}

func (r *ruleAgg) add(tp *Touchpoint, conv, val float64) {
	for d, id := range [4]int32{tp.ch, tp.surf, tp.it, tp.arm} {
		s := r.dims[d]
		if int(id) >= len(s) {
			s = append(s, make([]Credit, int(id)+1-len(s))...)
			r.dims[d] = s
		}
		s[id].Conversions += conv
		s[id].Value += val
	}
}

// spread holds, per channel and dimension value, the fraction of the
// channel's converting presence.
type spread struct {
	total []float64          // per channel: converting journeys containing it
	share map[uint64]float64 // (channel, dim, id) -> presence
}

func spreadKey(ch int32, d int, id int32) uint64 {
	return uint64(ch)<<34 | uint64(d)<<32 | uint64(uint32(id))
}

func (s *spread) add(tp *Touchpoint, f float64) {
	if s.share == nil {
		s.share = make(map[uint64]float64)
	}
	if int(tp.ch) >= len(s.total) {
		s.total = append(s.total, make([]float64, int(tp.ch)+1-len(s.total))...)
	}
	s.total[tp.ch] += f
	s.share[spreadKey(tp.ch, dimSurface, tp.surf)] += f
	s.share[spreadKey(tp.ch, dimItem, tp.it)] += f
	s.share[spreadKey(tp.ch, dimArm, tp.arm)] += f
}
