package segment

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize"
)

func imp(session, device, region, surface string, exps ...personalize.Assignment) *personalize.Impression {
	return &personalize.Impression{
		SessionID:   personalize.Pseudonym{ID: session},
		Surface:     surface,
		Context:     []personalize.Attr{{Key: personalize.AttrDevice, Value: device}, {Key: personalize.AttrRegion, Value: region}},
		Experiments: exps,
	}
}

func TestKeyStringParse(t *testing.T) {
	tests := []struct {
		name string
		key  Key
		want string
	}{
		{"zero", Key{}, "all"},
		{"device", Key{Device: "mobile"}, "device=mobile"},
		{"full", Key{"mobile", "eu", "home", "2-3", "exp/b"}, "device=mobile,region=eu,surface=home,session=2-3,arm=exp/b"},
		{"quoted", Key{Surface: `a,b="c"`}, `surface="a,b=\"c\""`},
		{"literal all", Key{Region: "all"}, "region=all"},
		{"unicode", Key{Region: "zürich"}, `region="zürich"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.key.String())
			back, err := Parse(tt.want)
			require.NoError(t, err)
			assert.Equal(t, tt.key, back)
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "device", "=x", "colour=red", "device=a,device=b", "device=", "device=a,", `device="a`, "device=a=b", `device="a"x`} {
		t.Run(s, func(t *testing.T) {
			_, err := Parse(s)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "segment: Parse: "), err.Error())
		})
	}
}

func TestProject(t *testing.T) {
	k := Key{"mobile", "eu", "home", "1", "e/a"}
	assert.Equal(t, Key{Device: "mobile", Arm: "e/a"}, k.Project(DimDevice|DimArm))
	assert.Equal(t, Key{}, k.Project(DimNone))
	assert.Equal(t, k, k.Project(DimAll))
	assert.Equal(t, "device+arm", (DimDevice | DimArm).String())
	assert.Equal(t, "none", DimNone.String())
}

func TestKeyer(t *testing.T) {
	k, err := NewKeyer(Config{Experiment: "ranker"})
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2-3", "4-10", "11+"}, k.SessionBuckets())
	exps := []personalize.Assignment{{Experiment: "other", Variant: "x"}, {Experiment: "ranker", Variant: "b"}}
	var got []string
	for range 12 {
		got = append(got, k.Key(imp("s1", "mobile", "eu", "home", exps...)).SessionLength)
	}
	assert.Equal(t, []string{"1", "2-3", "2-3", "4-10", "4-10", "4-10", "4-10", "4-10", "4-10", "4-10", "11+", "11+"}, got)
	key := k.Key(imp("s2", "tv", "us", "search", exps...))
	assert.Equal(t, Key{"tv", "us", "search", "1", "ranker/b"}, key)

	first, err := NewKeyer(Config{Dims: DimArm | DimDevice})
	require.NoError(t, err)
	assert.Equal(t, Key{Device: "tv", Arm: "other/x"}, first.Key(imp("s", "tv", "us", "search", exps...)))
}

func TestKeyerNormalizeAndTruncate(t *testing.T) {
	k, err := NewKeyer(Config{Dims: DimRegion | DimSurface, Normalize: func(d Dim, v string) string {
		if d == DimRegion && v != "eu" && v != "us" {
			return "other"
		}
		return v
	}})
	require.NoError(t, err)
	long := strings.Repeat("x", 100)
	key := k.Key(imp("s", "", "br", long))
	assert.Equal(t, "other", key.Region)
	assert.Len(t, key.Surface, MaxValueLen)
}

func TestKeyerBoundedSessions(t *testing.T) {
	k, err := NewKeyer(Config{Dims: DimSessionLength, MaxSessions: 4})
	require.NoError(t, err)
	for i := range 1000 {
		k.Key(imp(fmt.Sprint(i), "", "", ""))
	}
	k.mu.Lock()
	n := len(k.cur) + len(k.prev)
	k.mu.Unlock()
	assert.LessOrEqual(t, n, 4)
	// A session seen in the previous generation keeps counting.
	k2, _ := NewKeyer(Config{Dims: DimSessionLength, MaxSessions: 4})
	k2.Key(imp("a", "", "", ""))
	k2.Key(imp("b", "", "", ""))
	k2.Key(imp("c", "", "", "")) // rotates: {a,b} become previous
	assert.Equal(t, "2-3", k2.Key(imp("a", "", "", "")).SessionLength)
}

func TestKeyerConcurrent(t *testing.T) {
	k, err := NewKeyer(Config{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				k.Key(imp(fmt.Sprint(g, i%7), "d", "r", "s"))
			}
		})
	}
	wg.Wait()
}

func TestNewKeyerErrors(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Dims: 1 << 6}, "Config.Dims"},
		{Config{SessionBounds: []int{}}, "Config.SessionBounds"},
		{Config{SessionBounds: []int{2, 2}}, "Config.SessionBounds[1]"},
		{Config{SessionBounds: []int{0}}, "Config.SessionBounds[0]"},
		{Config{MaxSessions: 1}, "Config.MaxSessions"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := NewKeyer(tt.cfg)
			require.ErrorContains(t, err, tt.field)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"all", "device=mobile", `surface="a,b"`, "device=a,region=b,surface=c,session=1,arm=e/v", "x=", `arm="\xff"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(k.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %#v; its String %q does not parse: %v", s, k, k.String(), err)
		}
		if back != k {
			t.Fatalf("round trip of %q: %#v != %#v", s, back, k)
		}
	})
}
