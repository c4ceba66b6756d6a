package relevance

// genMap is a map bounded to about 2*half entries: when the current
// generation holds half entries, the previous generation is dropped and the
// current one takes its place. Entries not touched for a whole generation
// are forgotten (an approximate LRU with O(1) work per access).
type genMap[K comparable, V any] struct {
	half      int
	cur, prev map[K]V
	forgotten int64
}

func newGenMap[K comparable, V any](max int) *genMap[K, V] {
	h := max / 2
	if h < 1 {
		h = 1
	}
	return &genMap[K, V]{half: h, cur: make(map[K]V)}
}

// get returns the value of k, promoting it to the current generation.
func (g *genMap[K, V]) get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	v, ok := g.prev[k]
	if ok {
		delete(g.prev, k)
		g.put(k, v)
	}
	return v, ok
}

func (g *genMap[K, V]) put(k K, v V) {
	if _, ok := g.cur[k]; !ok && len(g.cur) >= g.half {
		g.forgotten += int64(len(g.prev))
		g.prev, g.cur = g.cur, make(map[K]V, g.half)
	}
	g.cur[k] = v
}
