package attribution

// Dimensions of a touchpoint, indexing Engine.dims.
const (
	dimChannel = iota
	dimSurface
	dimItem
	dimArm
)

// intern names tp's channel (Config.Channel) and sets its dimension ids.
func (e *Engine) intern(tp *Touchpoint) {
	tp.Channel = e.cfg.Channel(tp)
	tp.ch = e.dims[dimChannel].id(tp.Channel)
	tp.surf = e.dims[dimSurface].id(tp.Surface)
	tp.it = e.dims[dimItem].id(tp.Item)
	tp.arm = e.dims[dimArm].id(tp.Arm)
}

// interner maps the values of one dimension to dense ids, up to max
// values; the rest share the id of KeyOther.
type interner struct {
	index    map[string]int32
	names    []string
	max      int
	overflow *int64
	none     int32 // id of KeyNone, -1 until seen
	// cache is a direct-mapped cache in front of index: most values
	// repeat, and the decoder's interned strings share their bytes, so a
	// hit costs a string compare that stops at the pointer.
	cache [64]internSlot
}

type internSlot struct {
	s  string
	id int32
}

func newInterner(maxKeys int, overflow *int64) interner {
	in := interner{index: make(map[string]int32), max: maxKeys, overflow: overflow, none: -1}
	for i := range in.cache {
		in.cache[i].id = -1
	}
	return in
}

func (in *interner) id(s string) int32 {
	if s == "" {
		if in.none < 0 {
			in.none = in.lookup(KeyNone)
		}
		return in.none
	}
	c := &in.cache[(uint(len(s))*31+uint(s[0])*7+uint(s[len(s)-1])+uint(s[len(s)/2])*131)%uint(len(in.cache))]
	if c.id >= 0 && c.s == s {
		return c.id
	}
	id := in.lookup(s)
	if in.names[id] == s { // not grouped under KeyOther: overflows count per use
		c.s, c.id = s, id
	}
	return id
}

func (in *interner) lookup(s string) int32 {
	if id, ok := in.index[s]; ok {
		return id
	}
	if len(in.names) >= in.max && s != KeyOther {
		*in.overflow++
		return in.lookup(KeyOther)
	}
	id := int32(len(in.names))
	in.index[s] = id
	in.names = append(in.names, s)
	return id
}
