package tsc

import (
	"bytes"
	"os"
	"runtime"
	"sync"
)

// clocksourcePath is where Linux names its current clocksource.
const clocksourcePath = "/sys/devices/system/clocksource/clocksource0/current_clocksource"

var usable = sync.OnceValue(func() bool {
	return check(runtime.GOOS, invariant(), os.ReadFile)
})

// Usable reports whether [Ticks] may stand in for the monotonic clock
// between readings of it: see the package documentation. It reads the
// kernel's clocksource once, at the first call.
func Usable() bool { return usable() }

// check is Usable's decision, from the operating system, the processor's
// invariant-counter flag and a way to read the clocksource file.
func check(goos string, invariant bool, read func(string) ([]byte, error)) bool {
	if goos != "linux" || !invariant {
		return false
	}
	b, err := read(clocksourcePath)
	return err == nil && string(bytes.TrimSpace(b)) == "tsc"
}
