package segment

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rankscope/rankscope/personalize"
)

// Dim is a set of segment dimensions (a bit mask).
type Dim uint8

// Dimensions.
const (
	DimDevice        Dim = 1 << iota // context attribute "device"
	DimRegion                        // context attribute "region"
	DimSurface                       // Impression.Surface
	DimSessionLength                 // bucket of the session's impression count
	DimArm                           // experiment arm "experiment/variant"

	// DimNone keeps no dimension: everything merges into the zero Key.
	DimNone Dim = 0
	// DimAll keeps every dimension.
	DimAll = DimDevice | DimRegion | DimSurface | DimSessionLength | DimArm
)

// MaxValueLen is the longest value a Keyer puts in a key, in bytes.
const MaxValueLen = 64

var dimNames = [...]string{"device", "region", "surface", "session", "arm"}

// String lists the dimensions of d joined by "+", or "none".
func (d Dim) String() string {
	if d == DimNone {
		return "none"
	}
	var b strings.Builder
	for i, n := range dimNames {
		if d&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('+')
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// Key identifies one segment. The zero Key is all traffic.
type Key struct {
	Device        string
	Region        string
	Surface       string
	SessionLength string
	Arm           string
}

// IsZero reports whether k is the all-traffic key.
func (k Key) IsZero() bool { return k == Key{} }

func (k *Key) field(i int) *string {
	switch i {
	case 0:
		return &k.Device
	case 1:
		return &k.Region
	case 2:
		return &k.Surface
	case 3:
		return &k.SessionLength
	default:
		return &k.Arm
	}
}

// Project returns k with only the dimensions in d kept.
func (k Key) Project(d Dim) Key {
	if d&DimDevice == 0 {
		k.Device = ""
	}
	if d&DimRegion == 0 {
		k.Region = ""
	}
	if d&DimSurface == 0 {
		k.Surface = ""
	}
	if d&DimSessionLength == 0 {
		k.SessionLength = ""
	}
	if d&DimArm == 0 {
		k.Arm = ""
	}
	return k
}

// String renders k as comma-separated name=value pairs in the fixed order
// device, region, surface, session, arm, leaving out empty dimensions. The
// zero key is "all". Values are escaped with [strconv.Quote] when they hold
// ',', '=', '"' or non-printable bytes, so [Parse] can read any key back.
func (k Key) String() string {
	if k.IsZero() {
		return "all"
	}
	var b []byte
	for i, n := range dimNames {
		v := *k.field(i)
		if v == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
		b = append(b, '=')
		if needsQuote(v) {
			b = strconv.AppendQuote(b, v)
		} else {
			b = append(b, v...)
		}
	}
	return string(b)
}

func needsQuote(v string) bool {
	if v == "all" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ',' || c == '=' || c == '"' || c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return false
}

// Parse reads the form written by [Key.String]. It rejects unknown or
// repeated dimension names and empty values.
func Parse(s string) (Key, error) {
	var k Key
	if s == "all" {
		return k, nil
	}
	if s == "" {
		return k, errors.New(`segment: Parse: empty key (the all-traffic key is "all")`)
	}
	var seen Dim
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return Key{}, fmt.Errorf("segment: Parse: expected name=value at %q", s)
		}
		name := s[:eq]
		i := dimIndex(name)
		if i < 0 {
			return Key{}, fmt.Errorf("segment: Parse: unknown dimension %q", name)
		}
		if seen&(1<<i) != 0 {
			return Key{}, fmt.Errorf("segment: Parse: dimension %q repeated", name)
		}
		seen |= 1 << i
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return Key{}, fmt.Errorf("segment: Parse: %s: bad quoted value: %v", name, err)
			}
			v, _ = strconv.Unquote(q)
			s = s[len(q):]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v = s[:end]
			if strings.ContainsAny(v, `="`) {
				return Key{}, fmt.Errorf("segment: Parse: %s: unquoted value %q holds '=' or '\"'", name, v)
			}
			s = s[end:]
		}
		if v == "" {
			return Key{}, fmt.Errorf("segment: Parse: %s: empty value", name)
		}
		*k.field(i) = v
		if len(s) > 0 {
			if s[0] != ',' || len(s) == 1 {
				return Key{}, fmt.Errorf("segment: Parse: expected ',' before %q", s)
			}
			s = s[1:]
		}
	}
	return k, nil
}

func dimIndex(name string) int {
	for i, n := range dimNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Config configures a [Keyer]. The zero value keeps every dimension with
// the default session buckets.
type Config struct {
	// Dims selects the dimensions put in keys; zero means DimAll.
	Dims Dim
	// Experiment names the experiment whose variant is the arm. Empty means
	// the first assignment of the impression.
	Experiment string
	// SessionBounds are the inclusive upper bounds of the session-length
	// buckets, strictly increasing and >= 1; a last open bucket follows.
	// Nil means {1, 3, 10}.
	SessionBounds []int
	// MaxSessions bounds the session counter (default 100,000).
	MaxSessions int
	// Normalize, if set, maps a raw dimension value to the value put in the
	// key (for example to fold rare regions into "other"). It must be safe
	// for concurrent use and should return a value from a small set.
	Normalize func(d Dim, value string) string
}

// Keyer derives segment keys from impressions. It is safe for concurrent
// use.
type Keyer struct {
	dims       Dim
	experiment string
	bounds     []int
	labels     []string
	normalize  func(Dim, string) string
	half       int

	mu   sync.Mutex
	cur  map[string]int
	prev map[string]int
}

// NewKeyer validates cfg and returns a Keyer.
func NewKeyer(cfg Config) (*Keyer, error) {
	k := &Keyer{dims: cfg.Dims, experiment: cfg.Experiment, normalize: cfg.Normalize}
	if k.dims == DimNone {
		k.dims = DimAll
	}
	if k.dims&^DimAll != 0 {
		return nil, fmt.Errorf("segment: Config.Dims: unknown bits %#x", uint8(k.dims&^DimAll))
	}
	k.bounds = cfg.SessionBounds
	if k.bounds == nil {
		k.bounds = []int{1, 3, 10}
	}
	if len(k.bounds) == 0 {
		return nil, errors.New("segment: Config.SessionBounds: must be nil (defaults) or non-empty")
	}
	for i, b := range k.bounds {
		if b < 1 || (i > 0 && b <= k.bounds[i-1]) {
			return nil, fmt.Errorf("segment: Config.SessionBounds[%d]: must be >= 1 and strictly increasing, got %v", i, k.bounds)
		}
	}
	k.bounds = append([]int(nil), k.bounds...)
	lo := 1
	for _, b := range k.bounds {
		if b == lo {
			k.labels = append(k.labels, strconv.Itoa(b))
		} else {
			k.labels = append(k.labels, strconv.Itoa(lo)+"-"+strconv.Itoa(b))
		}
		lo = b + 1
	}
	k.labels = append(k.labels, strconv.Itoa(lo)+"+")
	switch {
	case cfg.MaxSessions == 0:
		k.half = 50_000
	case cfg.MaxSessions < 2:
		return nil, fmt.Errorf("segment: Config.MaxSessions: must be >= 2 or 0 for the default, got %d", cfg.MaxSessions)
	default:
		k.half = cfg.MaxSessions / 2
	}
	k.cur = make(map[string]int)
	return k, nil
}

// Dims returns the dimensions the Keyer puts in keys.
func (k *Keyer) Dims() Dim { return k.dims }

// SessionBuckets returns the bucket labels in order ("1", "2-3", ...).
func (k *Keyer) SessionBuckets() []string { return append([]string(nil), k.labels...) }

// Key returns the segment of im and, when DimSessionLength is selected,
// counts im in its session. Call it once per impression.
func (k *Keyer) Key(im *personalize.Impression) Key {
	var key Key
	if k.dims&DimDevice != 0 {
		key.Device = k.value(DimDevice, im.Attr(personalize.AttrDevice))
	}
	if k.dims&DimRegion != 0 {
		key.Region = k.value(DimRegion, im.Attr(personalize.AttrRegion))
	}
	if k.dims&DimSurface != 0 {
		key.Surface = k.value(DimSurface, im.Surface)
	}
	if k.dims&DimArm != 0 {
		key.Arm = k.value(DimArm, arm(im, k.experiment))
	}
	if k.dims&DimSessionLength != 0 {
		id := im.SessionID.ID
		if id == "" {
			id = im.UserID.ID
		}
		if id != "" {
			key.SessionLength = k.labels[k.bucket(k.count(id))]
		}
	}
	return key
}

// Bucket returns the label of the session-length bucket holding n
// impressions (n >= 1).
func (k *Keyer) Bucket(n int) string { return k.labels[k.bucket(n)] }

func (k *Keyer) bucket(n int) int {
	for i, b := range k.bounds {
		if n <= b {
			return i
		}
	}
	return len(k.bounds)
}

func (k *Keyer) count(id string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, ok := k.cur[id]
	if !ok {
		n = k.prev[id]
		if len(k.cur) >= k.half {
			k.prev, k.cur = k.cur, make(map[string]int, k.half)
		}
	}
	n++
	k.cur[id] = n
	return n
}

func (k *Keyer) value(d Dim, v string) string {
	if k.normalize != nil {
		v = k.normalize(d, v)
	}
	if len(v) > MaxValueLen {
		v = v[:MaxValueLen]
	}
	return v
}

func arm(im *personalize.Impression, experiment string) string {
	for _, a := range im.Experiments {
		if experiment == "" || a.Experiment == experiment {
			return a.Experiment + "/" + a.Variant
		}
	}
	return ""
}
