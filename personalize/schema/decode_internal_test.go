package schema

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseNumbersMatchStrconv checks the decoder's number fast paths
// against strconv, which encoding/json uses, on the literals AppendJSON
// writes and on shapes near the fast paths' edges.
func TestParseNumbersMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var lits []string
	for range 20000 {
		f := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		lits = append(lits, strconv.FormatFloat(f, 'g', -1, 64))
		lits = append(lits, strconv.FormatFloat(math.Round(f*1e6)/1e6, 'f', -1, 64))
		lits = append(lits, strconv.FormatInt(rng.Int64()>>rng.IntN(64), 10))
		lits = append(lits, fmt.Sprintf("0.%0*d", rng.IntN(30), rng.IntN(1000)))
	}
	lits = append(lits, "0", "-0", "-0.0", "0.0000000000000000000001", "0.00000000000000000000001",
		"123456789012345", "1234567890123456", "9007199254740993", "0.1", "1.7976931348623157e308",
		"1e400", "-1e400", "1e-400", "5e-324", "99999999999999999999", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1.0", "1e2")
	for _, s := range lits {
		want, werr := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		require.Equal(t, werr == nil, ok, s)
		if ok {
			require.Equal(t, math.Float64bits(want), math.Float64bits(got), s)
		}
		wantI, ierr := strconv.ParseInt(s, 10, 64)
		gotI, iok := parseInt([]byte(s))
		require.Equal(t, ierr == nil, iok, s)
		require.Equal(t, wantI, gotI, s)

		// The fast paths' fused scanners, on a literal ending a member.
		d := &Decoder{data: []byte(s + ",")}
		got, ok = d.plainFloat()
		require.Equal(t, werr == nil, ok, s)
		if ok {
			require.Equal(t, math.Float64bits(want), math.Float64bits(got), s)
			require.Equal(t, len(s), d.pos, s)
		}
		d.pos = 0
		if gotI, iok = d.plainInt(); iok {
			require.NoError(t, ierr, s)
			require.Equal(t, wantI, gotI, s)
			require.Equal(t, len(s), d.pos, s)
		}
	}
}

func TestDecoderInternTableIsBounded(t *testing.T) {
	d := NewDecoder()
	for i := range 3 * MaxInternStrings {
		line := fmt.Sprintf(`{"schema_version":1,"type":"exposure","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z","user_id":"u","experiment":"e%d","variant":"v","surface":"%0100d"}`, i, i)
		e, err := d.Decode([]byte(line))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("e%d", i), e.Exposure.Experiment)
		assert.LessOrEqual(t, len(d.strs), MaxInternStrings)
		_, long := d.strs[e.Exposure.Surface]
		assert.False(t, long, "strings over MaxInternLen are not interned")
	}
}

func TestFoldMatchesEncodingJSON(t *testing.T) {
	// The keys encoding/json accepts for "service" under folding.
	for _, k := range []string{"SERVICE", "Service", "ſervice", "serviCE"} {
		assert.Equal(t, fService, eventKey([]byte(k)), k)
	}
	for _, k := range []string{"servic", "service ", "sérvice", "ſ"} {
		assert.Equal(t, fUnknown, eventKey([]byte(k)), k)
	}
	assert.Equal(t, fKind, eventKey([]byte("\u212aIND")), "Kelvin sign")
}

// TestFastPathsTakeAppendJSONOutput pins that the item and stage fast
// paths accept what AppendJSON writes (else they would silently cost a
// second parse of every element) and give up on anything else.
func TestFastPathsTakeAppendJSONOutput(t *testing.T) {
	im := &Impression{EventID: NewEventID(), RequestID: "r", UserID: Pseudonym{ID: "u"},
		Items: []Item{{ID: "a", Position: 1, Score: -0.25, Propensity: 0.5, Category: "c", Provider: "p"},
			{ID: "b", Position: 2, Score: 1e-9}},
		Stages: []StageTiming{{Name: "s", Offset: 5, Duration: 7, Status: StageTimeout, Detail: "ctx"},
			{Name: "t", Duration: 1}}}
	line, err := AppendJSON(nil, Event{Type: EventImpression, Impression: im})
	require.NoError(t, err)
	d := NewDecoder()
	at := func(key string) int { return bytes.Index(line, []byte(key)) + len(key) }

	d.data, d.pos = line, at(`"items":[`)
	var it wireItemSpans
	require.True(t, d.fastItem(&it))
	assert.Equal(t, "a", string(d.ids[it.id.off:it.id.off+it.id.n]))
	assert.Equal(t, wireItemSpans{id: it.id, category: it.category, provider: it.provider,
		hasPos: true, hasScore: true, position: 1, score: -0.25, propensity: 0.5}, it)
	require.True(t, d.lit(","))
	require.True(t, d.fastItem(&it))

	d.data, d.pos = line, at(`"stages":[`)
	var st wireStageSpans
	require.True(t, d.fastStage(&st))
	assert.Equal(t, "timeout", string(d.bytesOf(st.status)))
	assert.Equal(t, "ctx", string(d.bytesOf(st.detail)))

	for _, s := range []string{`{"id":"a","score":1,"position":1}`, `{ "id":"a","position":1,"score":1}`,
		`{"id":"\u0061","position":1,"score":1}`, `{"id":"a","position":1,"score":null}`,
		`{"id":"a","position":1.5,"score":1}`, `{"id":"a","position":1,"score":1,"x":1}`, `{"id":"é","position":1,"score":1}`} {
		d.data, d.pos = []byte(s), 0
		assert.False(t, d.fastItem(&wireItemSpans{}), s)
	}
}

func TestEventShapesListEveryMemberOnce(t *testing.T) {
	for _, sh := range []*shape{&eventShape, &outcomeShape, &exposureShape, &linkShape, &modelShape} {
		seen := map[int]bool{}
		for i, id := range sh.ids {
			require.NotEqual(t, fUnknown, id, sh.lits[i])
			require.False(t, seen[id], sh.lits[i])
			seen[id] = true
		}
		assert.Len(t, seen, len(eventFieldNames))
	}
}
