package attribution

// minHeap is a binary min-heap on at: the engine's eviction order of
// persons, session links and seen event ids, and its pending conversions.
type minHeap[T any] []heapEntry[T]

type heapEntry[T any] struct {
	at int64
	v  T
}

func (h *minHeap[T]) push(at int64, v T) {
	*h = append(*h, heapEntry[T]{at, v})
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *minHeap[T]) pop() heapEntry[T] {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	var zero heapEntry[T]
	s[n] = zero
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].at < s[l].at {
			m = r
		}
		if s[i].at <= s[m].at {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
