package latency

import (
	"sync/atomic"
	"time"
)

// anchor is a recent time.Now reading; Now extends it by the monotonic
// time elapsed since.
var anchor atomic.Pointer[time.Time]

// anchorTTL bounds how long Now extends one wall-clock reading.
const anchorTTL = time.Second

// Now returns the current time like time.Now, with a monotonic reading,
// for less: it reads the wall clock at most about once a second per
// process and otherwise adds the monotonic time elapsed since that reading,
// which is cheaper on hosts (such as many VMs) where reading the wall
// clock is slow. The wall-clock part can lag a clock step (an NTP jump)
// by up to a second and drifts by at most the clock's slew over a second
// (under a millisecond); durations between two readings are exact, being
// monotonic. The request path of this module uses it for stage and
// inference timestamps.
func Now() time.Time {
	if a := anchor.Load(); a != nil {
		if d := time.Since(*a); d >= 0 && d < anchorTTL {
			return a.Add(d)
		}
	}
	t := time.Now()
	anchor.Store(&t)
	return t
}
