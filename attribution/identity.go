package attribution

import "github.com/rankscope/rankscope/personalize"

// pkey identifies a person: a user pseudonym, or a session pseudonym not
// linked to a user.
type pkey struct {
	anon bool // id is a session pseudonym not linked to a user
	id   string
}

// person is one tracked person: touchpoints and lift counters.
type person struct {
	key      pkey
	tps      []Touchpoint // sorted by time
	last     int64        // latest activity (unix ns)
	lastConv int64        // latest conversion processed; 0 none
	orphans  int32        // engagements in tps still waiting for their impression
	lift     personLift
}

// persons maps person keys to their state. Users and anonymous sessions
// live in two string-keyed maps: a string key hashes faster than a struct.
type persons struct {
	users, anon map[string]*person
}

func (m *persons) get(k pkey) *person {
	if k.anon {
		return m.anon[k.id]
	}
	return m.users[k.id]
}

func (m *persons) set(k pkey, p *person) {
	if k.anon {
		m.anon[k.id] = p
	} else {
		m.users[k.id] = p
	}
}

func (m *persons) del(k pkey) {
	if k.anon {
		delete(m.anon, k.id)
	} else {
		delete(m.users, k.id)
	}
}

func (m *persons) len() int { return len(m.users) + len(m.anon) }

// maxFree bounds the engine's free lists of person states.
const maxFree = 4096

// link is a session linked to a user, kept while the session is active.
type link struct {
	user string
	last int64
}

// identify resolves the person of an event. The rule: a user pseudonym is
// the person; a session pseudonym linked to a user (by a link event, or by
// an earlier event carrying both) is that user; otherwise the session is
// an anonymous person of its own. An event carrying both links them.
func (e *Engine) identify(user, session personalize.Pseudonym, tn int64) pkey {
	if !user.IsZero() {
		if !session.IsZero() {
			e.link(session.ID, user.ID, tn)
		}
		return pkey{id: user.ID}
	}
	if l := e.links[session.ID]; l != nil {
		l.last = max(l.last, tn)
		return pkey{id: l.user}
	}
	return pkey{anon: true, id: session.ID}
}

func (e *Engine) resolve(user, session personalize.Pseudonym) pkey {
	if !user.IsZero() {
		return pkey{id: user.ID}
	}
	if l := e.links[session.ID]; l != nil {
		return pkey{id: l.user}
	}
	return pkey{anon: true, id: session.ID}
}

func (e *Engine) link(session, user string, tn int64) {
	if l := e.links[session]; l != nil {
		if l.user != user {
			e.stats.LinkConflicts++
		}
		l.last = max(l.last, tn)
		return
	}
	for len(e.links) >= e.cfg.MaxPersons && len(e.lheap) > 0 {
		ent := e.lheap.pop()
		if e.links[ent.v] != nil {
			delete(e.links, ent.v)
			e.stats.EvictedEarly++
		}
	}
	e.links[session] = &link{user: user, last: tn}
	e.lheap.push(tn, session)
	if src := e.persons.anon[session]; src != nil {
		e.merge(src, pkey{id: user})
	}
}

// merge moves an anonymous session's state into its user.
func (e *Engine) merge(src *person, to pkey) {
	e.persons.del(src.key)
	dst := e.person(to, src.last)
	e.stats.Merges++
	merged := make([]Touchpoint, 0, len(src.tps)+len(dst.tps))
	a, b := src.tps, dst.tps
	for len(a) > 0 && len(b) > 0 {
		if a[0].at < b[0].at {
			merged, a = append(merged, a[0]), a[1:]
		} else {
			merged, b = append(merged, b[0]), b[1:]
		}
	}
	merged = append(append(merged, a...), b...)
	if over := len(merged) - e.cfg.MaxTouchpoints; over > 0 {
		e.stats.TouchpointsDropped += int64(over)
		merged = merged[over:]
	}
	dst.tps = merged
	dst.last = max(dst.last, src.last)
	dst.lastConv = max(dst.lastConv, src.lastConv)
	dst.orphans += src.orphans
	dst.lift.merge(&src.lift)
	e.recycle(src)
}

func (e *Engine) person(k pkey, tn int64) *person {
	p := e.persons.get(k)
	if p != nil {
		p.last = max(p.last, tn)
		return p
	}
	for e.persons.len() >= e.cfg.MaxPersons && len(e.pheap) > 0 {
		old := e.persons.get(e.pheap.pop().v)
		if old != nil {
			e.finalize(old)
			e.stats.EvictedEarly++
		}
	}
	if n := len(e.free); n > 0 {
		p = e.free[n-1]
		e.free = e.free[:n-1]
		*p = person{key: k, last: tn, tps: p.tps[:0], lift: personLift{arms: p.lift.arms[:0]}}
	} else {
		p = &person{key: k, last: tn}
	}
	e.persons.set(k, p)
	e.pheap.push(tn, k)
	if n := e.persons.len(); n > e.stats.PeakPersons {
		e.stats.PeakPersons = n
	}
	return p
}

// recycle keeps a forgotten person's state, with its touchpoint capacity,
// for the next new person (at most maxFree of them). Touchpoints are
// cleared so recycled states hold no impressions alive.
func (e *Engine) recycle(p *person) {
	clear(p.tps)
	if len(e.free) < maxFree {
		e.free = append(e.free, p)
	}
}
