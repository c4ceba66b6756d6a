package schema

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// appendTime must write exactly what time.RFC3339Nano writes in UTC.
func TestAppendTimeMatchesRFC3339Nano(t *testing.T) {
	cases := []time.Time{
		time.Unix(0, 0), // the zero second must not match the empty cache
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
		cases = append(cases, time.Unix(-r.Int64N(62167219200), r.Int64N(1e9))) // years 0000..1969
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
// Timestamps from many different days, as replayed or generated events
// carry, are formatted without allocating: the day cache is one word.
func TestAppendTimeAllocatesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	times := make([]time.Time, 64)
	for i := range times {
		times[i] = time.Unix(r.Int64N(253402300799), r.Int64N(1e9))
	}
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(10, func() {
		for _, c := range times {
			buf = appendTime(buf[:0], c)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations formatting %d timestamps from different days", allocs, len(times))
	}
}

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

// Validation takes the years 0000..9999 in UTC, to the nanosecond at both
// ends, and names the field and year of a time outside them.
func TestValidateYearBounds(t *testing.T) {
	cases := []struct {
		at time.Time
		ok bool
	}{
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC), false},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{time.Date(10000, 1, 1, 0, 30, 0, 0, time.FixedZone("plus1", 3600)), true}, // 9999 in UTC
	}
	for _, c := range cases {
		im := Impression{RequestID: "r", Start: c.at, End: c.at}
		err := im.ValidateUnidentified()
		if c.ok != (err == nil) {
			t.Errorf("%v: err = %v", c.at, err)
			continue
		}
		var ve *ValidationError
		if !c.ok && (!errors.As(err, &ve) || ve.Field != "time" || ve.Reason != "out_of_range" ||
			!strings.Contains(ve.Detail, strconv.Itoa(c.at.UTC().Year()))) {
			t.Errorf("%v: err = %#v, want time out_of_range naming the year", c.at, err)
		}
	}
}
