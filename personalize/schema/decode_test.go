package schema_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// agree decodes line with UnmarshalEvent and with the encoding/json
// reference and fails t unless they agree: both succeed with deeply equal
// events that encode to the same bytes, or both fail with a
// *DecodeError; when the reference names a field (the line is JSON of the
// right types but not a valid event), the two errors are the same.
func agree(t testing.TB, line []byte) (schema.Event, error) {
	t.Helper()
	in := bytes.Clone(line)
	got, gotErr := schema.UnmarshalEvent(line)
	want, wantErr := schema.UnmarshalEventReference(line)
	if !bytes.Equal(in, line) {
		t.Fatalf("decoding modified the line %q", in)
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("decoders disagree on %q:\n  new:       %v\n  reference: %v", line, gotErr, wantErr)
	}
	if wantErr != nil {
		var gde, wde *schema.DecodeError
		if !errors.As(gotErr, &gde) || !errors.As(wantErr, &wde) {
			t.Fatalf("errors are %T and %T, want *schema.DecodeError", gotErr, wantErr)
		}
		if wde.Field != "" && (gde.Field != wde.Field || gotErr.Error() != wantErr.Error()) {
			t.Fatalf("decoders fail differently on %q:\n  new:       %v (field %q)\n  reference: %v (field %q)",
				line, gotErr, gde.Field, wantErr, wde.Field)
		}
		return got, gotErr
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoders disagree on %q:\n  new:       %+v\n  reference: %+v", line, payload(got), payload(want))
	}
	b1, err1 := schema.AppendJSON(nil, got)
	b2, err2 := schema.AppendJSON(nil, want)
	if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
		t.Fatalf("decoded events encode differently:\n  new:       %s\n  reference: %s", b1, b2)
	}
	return got, nil
}

func payload(e schema.Event) any {
	switch {
	case e.Impression != nil:
		return *e.Impression
	case e.Outcome != nil:
		return *e.Outcome
	case e.Exposure != nil:
		return *e.Exposure
	case e.Link != nil:
		return *e.Link
	case e.Model != nil:
		return *e.Model
	}
	return e
}

func TestDecodeRandomEventsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	events := personalizetest.RandomEvents(rng, 3000)
	dec := schema.NewDecoder()
	for i, e := range events {
		line, err := schema.AppendJSON(nil, e)
		require.NoError(t, err)
		got, err := agree(t, line)
		require.NoError(t, err, "event %d", i)
		again, err := dec.Decode(line)
		require.NoError(t, err)
		require.Equal(t, got, again, "a reused Decoder decodes like UnmarshalEvent")
		back, err := schema.AppendJSON(nil, got)
		require.NoError(t, err)
		require.Equal(t, string(line), string(back), "decode then encode is the identity")
	}
}

const (
	testEventID = "0193a6f1-7c2e-7d4b-8a1f-0123456789ab"
	outcomeHead = `{"schema_version":1,"type":"outcome","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00.5Z","request_id":"r","user_id":"u","item":"i","kind":"click"`
	impNoItems  = `{"schema_version":1,"type":"impression","event_id":"` + testEventID + `","time":"2026-11-02T09:00:01Z","start_time":"2026-11-02T09:00:00Z","request_id":"r","user_id":"u"`
	impHead     = impNoItems + `,"items":[{"id":"a","position":1,"score":0.5}]`
)

func outcomeWith(extra string) string    { return outcomeHead + extra + "}" }
func impressionWith(extra string) string { return impHead + extra + "}" }
func itemsWith(items string) string      { return impNoItems + `,"items":` + items + "}" }

func TestDecodeEdgeCasesMatchReference(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name  string
		line  string
		field string // "" with ok false: a JSON error
		ok    bool
		check func(t *testing.T, e schema.Event)
	}{
		{name: "plain outcome", line: outcomeWith(""), ok: true},
		{name: "trace context", line: outcomeWith(`,"trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00f067aa0ba902b7"`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", e.Outcome.TraceID.String())
				assert.Equal(t, "00f067aa0ba902b7", e.Outcome.SpanID.String())
			}},
		{name: "short trace id", line: outcomeWith(`,"trace_id":"4bf92f3577b34da6"`), field: "trace_id"},
		{name: "non-hex trace id", line: outcomeWith(`,"trace_id":"4bf92f3577b34da6a3ce929d0e0e473g"`), field: "trace_id"},
		{name: "all-zero span id", line: outcomeWith(`,"span_id":"0000000000000000"`), field: "span_id"},
		{name: "numeric span id", line: outcomeWith(`,"span_id":12`), field: "span_id"},
		{name: "all escapes", line: outcomeWith(`,"item":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\u2028"`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, "a\"b\\c/d\b\f\n\r\té😀\u2028", e.Outcome.Item)
			}},
		{name: "lone high surrogate", line: outcomeWith(`,"item":"\ud800x"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "\uFFFDx", e.Outcome.Item) }},
		{name: "high surrogate then non-surrogate escape", line: outcomeWith(`,"item":"\ud800\u0041"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "\uFFFDA", e.Outcome.Item) }},
		{name: "two high surrogates then low", line: outcomeWith(`,"item":"\ud800\ud83d\ude00"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "\uFFFD😀", e.Outcome.Item) }},
		{name: "lone low surrogate", line: outcomeWith(`,"item":"\udc00"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "\uFFFD", e.Outcome.Item) }},
		{name: "invalid UTF-8 bytes", line: outcomeWith(",\"item\":\"a\xffb\xed\xa0\x80\""), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "a\uFFFDb\uFFFD\uFFFD\uFFFD", e.Outcome.Item) }},
		{name: "valid multibyte UTF-8", line: outcomeWith(`,"surface":"île-de-france 東京"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "île-de-france 東京", e.Outcome.Surface) }},
		{name: "NUL escape", line: outcomeWith(`,"item":"\u0000"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "\x00", e.Outcome.Item) }},
		{name: "raw control character", line: outcomeWith(",\"item\":\"a\tb\"")},
		{name: "bad escape", line: outcomeWith(`,"item":"\x41"`)},
		{name: "single quote escape", line: outcomeWith(`,"item":"\'"`)},
		{name: "short unicode escape", line: outcomeWith(`,"item":"\u12"`)},
		{name: "non-hex unicode escape", line: outcomeWith(`,"item":"\u12g4"`)},
		{name: "unterminated string", line: outcomeHead + `,"item":"abc`},
		{name: "unterminated object", line: outcomeHead},
		{name: "trailing garbage", line: outcomeWith("") + "x"},
		{name: "two objects", line: outcomeWith("") + "{}"},
		{name: "trailing comma", line: outcomeWith(",")},
		{name: "missing colon", line: outcomeWith(`,"item" "x"`)},
		{name: "single-quoted key", line: outcomeWith(`,'item':"x"`)},
		{name: "leading zero", line: outcomeWith(`,"value":01`)},
		{name: "bare minus", line: outcomeWith(`,"value":-`)},
		{name: "dot without digits", line: outcomeWith(`,"value":1.`)},
		{name: "exponent without digits", line: outcomeWith(`,"value":1e+`)},
		{name: "plus sign", line: outcomeWith(`,"value":+1`)},
		{name: "NaN literal", line: outcomeWith(`,"value":NaN`)},
		{name: "truncated literal", line: outcomeWith(`,"value":nul`)},
		{name: "surrounding Unicode whitespace", line: "\v\u00a0 " + outcomeWith("") + " \u0085\t\n", ok: true},
		{name: "whitespace between tokens", line: "{ \"schema_version\" :\t1 ,\n\"type\"\r: \"link\" , \"event_id\":\"" + testEventID + "\",\"time\":\"2026-11-02T09:00:00Z\",\"user_id\":\"u\",\"session_id\":\"s\" }", ok: true},
		{name: "form feed is not JSON whitespace", line: "{\f\"schema_version\":1}"},
		{name: "huge float", line: outcomeWith(`,"value":1e400`)},
		{name: "tiny float underflows to zero", line: outcomeWith(`,"value":1e-400`), ok: true},
		{name: "negative zero", line: outcomeWith(`,"value":-0`), ok: true},
		{name: "long float", line: outcomeWith(`,"value":0.1000000000000000055511151231257827021181583404541015625`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, 0.1, e.Outcome.Value) }},
		{name: "max int64", line: outcomeWith(`,"dwell_ns":9223372036854775807`), ok: true},
		{name: "int64 overflow", line: outcomeWith(`,"dwell_ns":9223372036854775808`)},
		{name: "min int64", line: outcomeWith(`,"dwell_ns":-9223372036854775808`), field: "dwell_ns"},
		{name: "fractional integer", line: outcomeWith(`,"dwell_ns":1.0`)},
		{name: "exponent integer", line: outcomeWith(`,"dwell_ns":1e3`)},
		{name: "negative dwell", line: outcomeWith(`,"dwell_ns":-5`), field: "dwell_ns"},
		{name: "no schema_version", line: `{"type":"link"}`, field: "schema_version"},
		{name: "null schema_version", line: strings.Replace(outcomeWith(""), `"schema_version":1`, `"schema_version":null`, 1), field: "schema_version"},
		{name: "future schema_version", line: strings.Replace(outcomeWith(""), `"schema_version":1`, `"schema_version":2`, 1), field: "schema_version"},
		{name: "string schema_version", line: strings.Replace(outcomeWith(""), `"schema_version":1`, `"schema_version":"1"`, 1)},
		{name: "float schema_version", line: strings.Replace(outcomeWith(""), `"schema_version":1`, `"schema_version":1.0`, 1)},
		{name: "unknown type", line: outcomeWith(`,"type":"nope"`), field: "type"},
		{name: "numeric type", line: outcomeWith(`,"type":3`)},
		{name: "event id in braces", line: outcomeWith(`,"event_id":"{` + testEventID + `}"`), ok: true},
		{name: "event id without dashes", line: outcomeWith(`,"event_id":"` + strings.ReplaceAll(testEventID, "-", "") + `"`), ok: true},
		{name: "upper-case event id", line: outcomeWith(`,"event_id":"` + strings.ToUpper(testEventID) + `"`), ok: true},
		{name: "bad event id", line: outcomeWith(`,"event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ag"`), field: "event_id"},
		{name: "time with offset", line: outcomeWith(`,"time":"2026-11-02T11:00:00.25+02:00"`), ok: true},
		{name: "time with comma fraction", line: outcomeWith(`,"time":"2026-11-02T09:00:00,5Z"`), ok: true},
		{name: "time with 12 fraction digits", line: outcomeWith(`,"time":"2026-11-02T09:00:00.123456789123Z"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, 123456789, e.Outcome.Time.Nanosecond()) }},
		{name: "leap day", line: outcomeWith(`,"time":"2028-02-29T00:00:00Z"`), ok: true},
		{name: "no leap day", line: outcomeWith(`,"time":"2026-02-29T00:00:00Z"`), field: "time"},
		{name: "hour 24", line: outcomeWith(`,"time":"2026-11-02T24:00:00Z"`), field: "time"},
		{name: "lower-case t and z", line: outcomeWith(`,"time":"2026-11-02t09:00:00z"`), field: "time"},
		{name: "dot without fraction", line: outcomeWith(`,"time":"2026-11-02T09:00:00.Z"`), field: "time"},
		{name: "unknown fields with nested values", line: outcomeWith(`,"extra":{"a":[1,2.5e-3,{"b":null,"c":[true,false]}],"d":"\u0000\""},"x":[],"y":{}`), ok: true},
		{name: "unknown field with bad nested value", line: outcomeWith(`,"extra":{"a":[1,}]}`)},
		{name: "upper-case key", line: outcomeWith(`,"KIND":"dwell","Dwell_NS":5`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, schema.OutcomeDwell, e.Outcome.Kind)
				assert.EqualValues(t, 5, e.Outcome.Dwell)
			}},
		{name: "long s folds to s", line: outcomeWith(`,"ſervice":"svc"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "svc", e.Outcome.Service) }},
		{name: "Kelvin sign folds to k", line: outcomeWith(`,"\u212aind":"dwell"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, schema.OutcomeDwell, e.Outcome.Kind) }},
		{name: "escaped key", line: outcomeWith(`,"\u0073urface":"search"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "search", e.Outcome.Surface) }},
		{name: "repeated key, last wins", line: outcomeWith(`,"surface":"a","surface":"b"`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "b", e.Outcome.Surface) }},
		{name: "null keeps a string", line: outcomeWith(`,"surface":"a","surface":null`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Equal(t, "a", e.Outcome.Surface) }},
		{name: "null leaves a number", line: outcomeWith(`,"value":null,"dwell_ns":null,"scroll_depth":null,"degraded":null`), ok: true},
		{name: "number for a string", line: outcomeWith(`,"item":1`)},
		{name: "string for a number", line: outcomeWith(`,"value":"1"`)},
		{name: "string for a bool", line: outcomeWith(`,"degraded":"yes"`)},
		{name: "bool for a string", line: outcomeWith(`,"item":true`)},
		{name: "object for a string", line: outcomeWith(`,"item":{}`)},
		{name: "array for a string", line: outcomeWith(`,"item":["x"]`)},
		{name: "object for an array", line: outcomeWith(`,"experiments":{}`)},
		{name: "number in an item array", line: outcomeWith(`,"items":[1]`)},
		{name: "outcome ignores a bad context", line: outcomeWith(`,"context":5,"start_time":"x","status":"?"`), ok: true},
		{name: "nesting at the limit", line: outcomeWith(`,"x":` + deep(9999)), ok: true},
		{name: "nesting over the limit", line: outcomeWith(`,"x":` + deep(10000))},
		{name: "null document", line: `null`, field: "schema_version"},
		{name: "empty object", line: `{}`, field: "schema_version"},
		{name: "array document", line: `[]`},
		{name: "string document", line: `"x"`},
		{name: "number document", line: `1`},
		{name: "empty line", line: ``},
		{name: "blank line", line: " \t "},
		{name: "impression", line: impressionWith(""), ok: true},
		{name: "null item", line: itemsWith(`[null]`), field: "items[0].position"},
		{name: "item without score", line: itemsWith(`[{"id":"a","position":1}]`), field: "items[0].score"},
		{name: "null position", line: itemsWith(`[{"id":"a","position":1,"position":null,"score":1}]`), field: "items[0].position"},
		{name: "item position as float", line: itemsWith(`[{"id":"a","position":1.5,"score":1}]`)},
		{name: "duplicate positions", line: itemsWith(`[{"id":"a","position":1,"score":1},{"id":"b","position":1,"score":1}]`), field: "items[1].position"},
		{name: "empty items", line: itemsWith(`[]`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.NotNil(t, e.Impression.Items) }},
		{name: "null items", line: itemsWith(`null`), ok: true},
		{name: "repeated items array merges", line: impressionWith(`,"items":[{"id":"b"}]`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				require.Len(t, e.Impression.Items, 1)
				assert.Equal(t, "b", e.Impression.Items[0].ID)
				assert.Equal(t, 1, e.Impression.Items[0].Position)
			}},
		{name: "items nulled then repeated", line: impressionWith(`,"items":null,"items":[{"id":"b"}]`), field: "items[0].position"},
		{name: "items emptied then repeated", line: impressionWith(`,"items":[],"items":[{"id":"b","score":2}]`), field: "items[0].position"},
		{name: "item fields repeated", line: itemsWith(`[{"id":"a","position":1,"score":1,"ID":"b","Position":2}]`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, schema.Item{ID: "b", Position: 2, Score: 1}, e.Impression.Items[0])
			}},
		{name: "context in order with repeated keys", line: impressionWith(`,"context":{"a":"1","a":"2","b":"\u00e9"}`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, []schema.Attr{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}, {Key: "b", Value: "é"}}, e.Impression.Context)
			}},
		{name: "empty context", line: impressionWith(`,"context":{}`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Nil(t, e.Impression.Context) }},
		{name: "context value not a string", line: impressionWith(`,"context":{"a":"1","b":2,"c":[]}`), field: "context.b"},
		{name: "context not an object", line: impressionWith(`,"context":["a"]`), field: "context"},
		{name: "last context wins", line: impressionWith(`,"context":{"a":1},"context":{"a":"x"}`), ok: true},
		{name: "null context clears", line: impressionWith(`,"context":{"a":"x"},"context":null`), ok: true,
			check: func(t *testing.T, e schema.Event) { assert.Nil(t, e.Impression.Context) }},
		{name: "context syntax error", line: impressionWith(`,"context":{"a":"x",}`)},
		{name: "missing start_time", line: strings.Replace(impressionWith(""), `"start_time":"2026-11-02T09:00:00Z",`, "", 1), field: "start_time"},
		{name: "duration disagrees", line: impressionWith(`,"duration_ns":5`), field: "duration_ns"},
		{name: "duration agrees", line: impressionWith(`,"duration_ns":1000000000`), ok: true},
		{name: "unknown status", line: impressionWith(`,"status":"meh"`), field: "status"},
		{name: "stages", line: impressionWith(`,"stages":[{"name":"s","offset_ns":1,"duration_ns":2,"status":"timeout","detail":"d"},null]`), field: "stages[1].name"},
		{name: "bad stage status", line: impressionWith(`,"stages":[{"name":"s","status":"bad"}]`), field: "stages[0].status"},
		{name: "experiments and flags", line: impressionWith(`,"experiments":[{"experiment":"e","variant":"v","x":1}],"flags":[{"key":"k","variant":"on"}]`), ok: true,
			check: func(t *testing.T, e schema.Event) {
				assert.Equal(t, []schema.Assignment{{Experiment: "e", Variant: "v"}}, e.Impression.Experiments)
				assert.Equal(t, []schema.Flag{{Key: "k", Variant: "on"}}, e.Impression.Flags)
			}},
		{name: "experiment without variant", line: impressionWith(`,"experiments":[{"experiment":"e"}]`), field: "experiments[0].variant"},
		{name: "degraded bool", line: impressionWith(`,"degraded":true`), ok: true},
		{name: "exposure", line: `{"schema_version":1,"type":"exposure","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","user_id":"u","user_key_id":"k1","experiment":"e","variant":"v"}`, ok: true},
		{name: "exposure without variant", line: `{"schema_version":1,"type":"exposure","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","user_id":"u","experiment":"e"}`, field: "variant"},
		{name: "link without session", line: `{"schema_version":1,"type":"link","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","user_id":"u"}`, field: "session_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := agree(t, []byte(tt.line))
			if tt.ok {
				require.NoError(t, err)
				if tt.check != nil {
					tt.check(t, e)
				}
				return
			}
			require.Error(t, err)
			var de *schema.DecodeError
			require.ErrorAs(t, err, &de)
			if tt.field != "" {
				assert.Equal(t, tt.field, de.Field, "%v", err)
			} else if ref, rerr := schema.UnmarshalEventReference([]byte(tt.line)); rerr == nil {
				t.Fatalf("reference accepted %+v", ref)
			} else {
				var rde *schema.DecodeError
				require.ErrorAs(t, rerr, &rde)
				assert.Empty(t, rde.Field, "the reference sees a JSON error: %v", rerr)
			}
		})
	}
}

// mutate returns line changed in one of the ways a torn, hand-edited or
// future-version line differs from AppendJSON's output.
func mutate(rng *rand.Rand, line []byte) []byte {
	out := bytes.Clone(line)
	pos := rng.IntN(len(out) + 1)
	switch rng.IntN(8) {
	case 0: // replace a byte
		if pos < len(out) {
			const set = "{}[],:\"\\ u0123456789eE.+-ntfal\x00\x1f\x7f\xff\xc3"
			out[pos] = set[rng.IntN(len(set))]
		}
	case 1: // delete a range
		end := min(len(out), pos+1+rng.IntN(8))
		out = append(out[:pos], out[end:]...)
	case 2: // truncate
		out = out[:pos]
	case 3, 4: // insert a snippet
		snippets := []string{
			`,"x":{"y":[1,{"z":null}],"w":"\ud83d\ude00"}`, `"`, `\u00`, `\ud800`, " ", "\t\r\n", `null`,
			`,"kind":"dwell"`, `,"Items":[]`, `,"items":null`, `1e999`, `-0`, `,"context":{"a":1}`,
			`,"context":{"device":"ios"}`, `,"items":[{"id":"q","position":7,"score":1}]`, `,"degraded":false`,
			`,"schema_version":2`, `,"SCHEMA_VERSION":1`, `,"status":"timeout"`, `,"value":1.5`, `,"value":-1`,
			`,"duration_ns":0`, `,"time":"2026-11-02T09:00:00+01:00"`, `,"stages":[null]`, `,"flags":[{"key":"k"}]`,
			`,"experiments":[{"experiment":"e","variant":"v"}]`, `,"user_id":null`, `,"session_id":"\u00e9"`,
			`,"event_id":"` + strings.ReplaceAll(testEventID, "-", "") + `"`, "\xff", `\"`, `\n`, `[`, `]`, `{`, `}`,
		}
		s := snippets[rng.IntN(len(snippets))]
		out = append(out[:pos], append([]byte(s), out[pos:]...)...)
	case 5: // upper-case a letter (keys match case-insensitively)
		for i := pos; i < len(out); i++ {
			if 'a' <= out[i] && out[i] <= 'z' {
				out[i] -= 'a' - 'A'
				break
			}
		}
	case 6: // repeat a member
		if i := bytes.IndexByte(out[min(pos, len(out)):], ','); i >= 0 {
			i += pos
			if j := bytes.IndexByte(out[i+1:], ','); j >= 0 {
				member := bytes.Clone(out[i : i+1+j])
				out = append(out[:i], append(member, out[i:]...)...)
			}
		}
	case 7: // two mutations
		out = mutate(rng, mutate(rng, out))
	}
	return out
}

func TestDecodeMutatedLinesMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	events := personalizetest.RandomEvents(rng, 500)
	n := 30000
	if raceEnabled { // the race detector makes each decode ~10x slower
		n = 8000
	}
	if testing.Short() {
		n = 3000
	}
	var failed, decoded int
	for i := 0; i < n; i++ {
		line, err := schema.AppendJSON(nil, events[rng.IntN(len(events))])
		require.NoError(t, err)
		if _, err := agree(t, mutate(rng, line)); err != nil {
			failed++
		} else {
			decoded++
		}
	}
	// Both outcomes must be well represented for the comparison to mean
	// something.
	assert.Greater(t, failed, n/10)
	assert.Greater(t, decoded, n/10)
}

func TestDecoderEventsDoNotAliasTheLineOrEachOther(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	dec := schema.NewDecoder()
	var first schema.Event
	var firstJSON []byte
	buf := make([]byte, 0, 1<<12)
	for i, e := range personalizetest.RandomEvents(rng, 200) {
		var err error
		buf, err = schema.AppendJSON(buf[:0], e)
		require.NoError(t, err)
		got, err := dec.Decode(buf)
		require.NoError(t, err)
		if i == 0 {
			first = got
			firstJSON = bytes.Clone(buf)
		}
		for j := range buf { // scribble over the line
			buf[j] = 'x'
		}
	}
	again, err := schema.AppendJSON(nil, first)
	require.NoError(t, err)
	assert.Equal(t, string(firstJSON), string(again), "the first event survives later decodes and a reused line buffer")
}

func TestDecoderInternsRepeatedStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	dec := schema.NewDecoder()
	var a, b *schema.Impression
	for a == nil || b == nil {
		e := personalizetest.RandomEvent(rng, schema.EventImpression)
		line, err := schema.AppendJSON(nil, e)
		require.NoError(t, err)
		got, err := dec.Decode(line)
		require.NoError(t, err)
		if a == nil {
			a = got.Impression
		} else if got.Impression.Surface == a.Surface {
			b = got.Impression
		}
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	assert.True(t, same(a.Service, b.Service), "service")
	assert.True(t, same(a.Surface, b.Surface), "surface")
	assert.True(t, same(a.Model, b.Model), "model")
	assert.True(t, same(a.Stages[0].Name, b.Stages[0].Name), "stage name")
	assert.False(t, same(a.RequestID, b.RequestID), "ids are never shared")
}

func TestDecodeAllocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	im := personalizetest.RandomImpression(rng, 10)
	im.Experiments = []schema.Assignment{{Experiment: "e", Variant: "v"}}
	im.Flags = []schema.Flag{{Key: "k", Variant: "on"}}
	im.Context = []schema.Attr{{Key: "device", Value: "ios"}}
	impLine, err := schema.AppendJSON(nil, schema.Event{Type: schema.EventImpression, Impression: im})
	require.NoError(t, err)
	out := personalizetest.RandomEvent(rng, schema.EventOutcome)
	outLine, err := schema.AppendJSON(nil, out)
	require.NoError(t, err)
	exp := personalizetest.RandomEvent(rng, schema.EventExposure)
	expLine, err := schema.AppendJSON(nil, exp)
	require.NoError(t, err)

	dec := schema.NewDecoder()
	tests := []struct {
		name string
		line []byte
		max  float64
	}{
		// The payload struct and one string for all of its identifiers.
		{"outcome", outLine, 2},
		{"exposure", expLine, 2},
		// Plus one slice each for items, stages, experiments, flags and
		// context.
		{"impression", impLine, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dec.Decode(tt.line) // warm the intern table
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := dec.Decode(tt.line); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, allocs, tt.max)
			if raceEnabled {
				return // the race detector makes sync.Pool drop items at random
			}
			pooled := testing.AllocsPerRun(100, func() {
				if _, err := schema.UnmarshalEvent(tt.line); err != nil {
					t.Fatal(err)
				}
			})
			assert.LessOrEqual(t, pooled, tt.max)
		})
	}
}
