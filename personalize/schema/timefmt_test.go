package schema

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// appendTime must write exactly what time.RFC3339Nano writes in UTC.
func TestAppendTimeMatchesRFC3339Nano(t *testing.T) {
	cases := []time.Time{
		time.Date(2026, 12, 4, 17, 3, 9, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 6, 1, 12, 0, 0, 120000000, time.FixedZone("x", -7*3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Now(),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		cases = append(cases, time.Unix(r.Int64N(253402300799), r.Int64N(1e9)))
	}
	for _, c := range cases {
		got, want := string(appendTime(nil, c)), c.UTC().Format(time.RFC3339Nano)
		if got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", c, got, want)
		}
	}
}

func FuzzAppendTime(f *testing.F) {
	f.Add(int64(0), int64(0))
	f.Add(int64(1764867789), int64(123456789))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		c := time.Unix(sec, nsec)
		if got, want := string(appendTime(nil, c)), c.UTC().Format(time.RFC3339Nano); got != want {
			t.Fatalf("appendTime(%d, %d) = %s, want %s", sec, nsec, got, want)
		}
	})
}

func BenchmarkAppendTime(b *testing.B) {
	t := time.Date(2026, 12, 4, 17, 3, 9, 123456789, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("appendTime", func(b *testing.B) {
		for b.Loop() {
			buf = appendTime(buf[:0], t)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		for b.Loop() {
			buf = t.UTC().AppendFormat(buf[:0], time.RFC3339Nano)
		}
	})
}

// Goroutines formatting times from neighbouring seconds share the cached
// second prefix; each must still get its own second's text.
func TestAppendTimeConcurrent(t *testing.T) {
	base := time.Date(2026, 12, 31, 23, 59, 58, 0, time.UTC)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			var buf []byte
			for range 20000 {
				c := base.Add(time.Duration(r.Int64N(3e9)))
				buf = appendTime(buf[:0], c)
				if want := c.Format(time.RFC3339Nano); string(buf) != want {
					errs <- string(buf) + " want " + want
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
