package attribution

import "github.com/rankscope/rankscope/personalize"

// maxArmNames bounds the engine's table of arm names.
const maxArmNames = 1024

// pendingConv is a conversion waiting for the lateness bound.
type pendingConv struct {
	o   *personalize.Outcome
	seq uint64
}

func (e *Engine) armOf(im *personalize.Impression) string {
	if e.cfg.Experiment != "" {
		return im.Variant(e.cfg.Experiment)
	}
	if len(im.Experiments) > 0 {
		a := im.Experiments[0]
		// Arms repeat: reuse the "experiment:variant" strings built rather
		// than allocate one per impression (the last one first, then a
		// table of at most maxArmNames, emptied when full).
		c := &e.armCache
		if c.arm != "" && a.Experiment == c.exp && a.Variant == c.variant {
			return c.arm
		}
		k := [2]string{a.Experiment, a.Variant}
		arm, ok := e.armNames[k]
		if !ok {
			if len(e.armNames) >= maxArmNames {
				clear(e.armNames)
			}
			arm = a.Experiment + ":" + a.Variant
			e.armNames[k] = arm
		}
		c.exp, c.variant, c.arm = a.Experiment, a.Variant, arm
		return arm
	}
	return ""
}

func (e *Engine) impression(im *personalize.Impression, tn int64) {
	e.stats.Impressions++
	p := e.person(e.identify(im.UserID, im.SessionID, tn), tn)
	// The touchpoint is built in its slot: a local would escape through
	// Config.Channel and cost an allocation per event.
	tp := e.slot(p)
	*tp = Touchpoint{EventID: im.EventID, Time: im.End, Kind: TouchImpression, Channel: im.Channel,
		Surface: im.Surface, RequestID: im.RequestID, imp: im, at: tn, Arm: e.armOf(im), items: itemBloom(im)}
	e.intern(tp)
	surface, arm := tp.Surface, tp.Arm
	e.place(p)
	// Engagements that arrived before their impression inherit from it now.
	for i := 0; p.orphans > 0 && i < len(p.tps); i++ {
		c := &p.tps[i]
		if c.Kind != TouchImpression && !c.inherited && c.RequestID == im.RequestID {
			e.inherit(c, im, surface, arm)
			e.intern(c)
			p.orphans--
		}
	}
	p.lift.impressions++
	for _, a := range im.Experiments {
		p.lift.assign(a.Experiment, a.Variant, tn)
	}
}

func (e *Engine) outcome(o *personalize.Outcome, tn int64) {
	if o.Kind.IsConversion() {
		if !e.cfg.isConversion(o) {
			e.stats.Ignored++
			return
		}
		e.person(e.identify(o.UserID, o.SessionID, tn), tn) // keeps the person alive until attributed
		e.seq++
		e.pending.push(tn, pendingConv{o: o, seq: e.seq})
		return
	}
	e.stats.Engagements++
	p := e.person(e.identify(o.UserID, o.SessionID, tn), tn)
	kind := TouchEngagement
	if o.Kind == personalize.OutcomeClick {
		kind = TouchClick
		p.lift.clicks++
	}
	// The impression it follows, looked up before slot may drop old
	// touchpoints.
	var (
		srcImp          *personalize.Impression
		srcSurf, srcArm string
	)
	for i := len(p.tps) - 1; i >= 0; i-- {
		src := &p.tps[i]
		if src.imp == nil || src.RequestID != o.RequestID {
			continue
		}
		srcImp, srcSurf, srcArm = src.imp, src.Surface, src.Arm
		break
	}
	tp := e.slot(p)
	*tp = Touchpoint{EventID: o.EventID, Time: o.Time, Kind: kind, Channel: o.Channel,
		Surface: o.Surface, Item: o.Item, RequestID: o.RequestID, at: tn,
		rawChannel: o.Channel, rawSurface: o.Surface}
	if srcImp != nil {
		e.inherit(tp, srcImp, srcSurf, srcArm)
	}
	e.intern(tp)
	e.place(p)
}

// inherit fills an engagement's missing fields from its impression. The
// engagement's own channel and surface, when the outcome named them, win.
func (e *Engine) inherit(tp *Touchpoint, im *personalize.Impression, surface, arm string) {
	tp.inherited = true
	tp.Surface, tp.Channel = tp.rawSurface, tp.rawChannel
	if tp.Surface == "" {
		tp.Surface = surface
	}
	if tp.Channel == "" {
		tp.Channel = im.Channel
	}
	tp.Arm = arm
	tp.Position = position(im, tp.Item)
}

// itemBit is a one-bit fingerprint of an item id from its length and
// last two bytes: cheap enough to take for every item of an impression
// while its items are fresh from decoding, and enough to skip most
// rankings without the converting item when a conversion looks back
// through a journey, instead of reading their items again from memory.
func itemBit(id string) uint64 {
	n := uint(len(id))
	if n == 0 {
		return 1
	}
	h := n*0x9e + uint(id[n-1])*0x3d
	if n > 1 {
		h += uint(id[n-2]) * 0x1f
	}
	return 1 << ((h ^ h>>6) & 63)
}

// itemBloom is the union of the ranking's item fingerprints (a 64-bit
// Bloom filter with one hash): a zero bit means the item is not there.
func itemBloom(im *personalize.Impression) uint64 {
	var b uint64
	for i := range im.Items {
		b |= itemBit(im.Items[i].ID)
	}
	return b
}

func position(im *personalize.Impression, item string) int {
	n := len(item)
	if n == 0 {
		return 0
	}
	last := item[n-1]
	for i := range im.Items {
		// Length and last byte first: ids of one catalog often share a
		// prefix, and this avoids a call per item.
		if id := im.Items[i].ID; len(id) == n && id[n-1] == last && id == item {
			return im.Items[i].Position
		}
	}
	return 0
}

// slot makes room for one more touchpoint of p (dropping the oldest when
// MaxTouchpoints is reached) and returns it, zero, at the end of p.tps.
// The caller fills it and calls place.
func (e *Engine) slot(p *person) *Touchpoint {
	if len(p.tps) >= e.cfg.MaxTouchpoints {
		horizon := e.maxT - e.late - e.maxWin
		n := 0
		for n < len(p.tps) && p.tps[n].at < horizon {
			n++
		}
		if n == 0 {
			n = 1
			e.stats.TouchpointsDropped++
		}
		p.tps = append(p.tps[:0], p.tps[n:]...)
		clear(p.tps[len(p.tps):cap(p.tps)][:n])
		// Dropped touchpoints may have been orphans: recount.
		p.orphans = 0
		for i := range p.tps {
			if c := &p.tps[i]; c.Kind != TouchImpression && !c.inherited {
				p.orphans++
			}
		}
	}
	if n := len(p.tps); n < cap(p.tps) {
		// The caller assigns the whole slot, so it needs no clearing
		// (clearing costs write barriers while the GC runs). The spare
		// capacity holds no pointers anyway (new, or cleared by recycle
		// and by the drop above), so it keeps no impression alive.
		p.tps = p.tps[:n+1]
	} else {
		p.tps = append(p.tps, Touchpoint{})
	}
	return &p.tps[len(p.tps)-1]
}

// place counts and sorts the touchpoint slot returned, now filled.
func (e *Engine) place(p *person) {
	if tp := &p.tps[len(p.tps)-1]; tp.Kind != TouchImpression && !tp.inherited {
		p.orphans++
	}
	for i := len(p.tps) - 1; i > 0 && p.tps[i-1].at > p.tps[i].at; i-- {
		p.tps[i-1], p.tps[i] = p.tps[i], p.tps[i-1]
	}
}

// convert attributes one conversion whose lateness bound has passed.
func (e *Engine) convert(pc pendingConv) {
	o := pc.o
	tn := o.Time.UnixNano()
	e.stats.Conversions++
	j := &e.journey
	*j = Journey{Touchpoints: j.Touchpoints[:0], Converted: true, Time: o.Time, Kind: o.Kind,
		Name: o.Name, Value: o.Value, EventID: o.EventID}
	k := e.resolve(o.UserID, o.SessionID)
	j.Person = k.id
	bit := itemBit(o.Item)
	if p := e.persons.get(k); p != nil {
		for i := range p.tps {
			tp := &p.tps[i]
			if tp.at > tn {
				break
			}
			win := e.click
			if tp.Kind == TouchImpression {
				win = e.view
			}
			if tn-tp.at > win {
				continue
			}
			j.Touchpoints = append(j.Touchpoints, *tp)
			if tp.Kind == TouchImpression && o.Item != "" {
				c := &j.Touchpoints[len(j.Touchpoints)-1]
				if tp.items&bit == 0 {
					continue // not in the ranking: skip reading its items
				}
				if pos := position(tp.imp, o.Item); pos > 0 {
					c.Item, c.Position = o.Item, pos
					c.it = e.dims[dimItem].id(o.Item)
				}
			}
		}
		p.lastConv = max(p.lastConv, tn)
		p.lift.conversions++
		p.lift.value += o.Value
	}
	e.emit(j)
}

// finalize emits a person's non-converting tail and lift, and forgets it.
func (e *Engine) finalize(p *person) {
	e.persons.del(p.key)
	defer e.recycle(p)
	e.lift.add(&p.lift)
	j := &e.journey
	*j = Journey{Touchpoints: j.Touchpoints[:0], Person: p.key.id}
	for i := range p.tps {
		if p.tps[i].at > p.lastConv {
			j.Touchpoints = append(j.Touchpoints, p.tps[i])
		}
	}
	if len(j.Touchpoints) == 0 {
		return
	}
	j.Time = j.Touchpoints[len(j.Touchpoints)-1].Time
	j.EventID = nullID(j)
	e.stats.NullJourneys++
	e.emit(j)
}
