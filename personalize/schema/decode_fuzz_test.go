package schema_test

import (
	"math/rand/v2"
	"testing"

	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// FuzzDecode checks the hand-written decoder against the encoding/json
// reference on arbitrary lines: both accept or both reject; accepted lines
// decode to deeply equal events with the same AppendJSON bytes; a line
// that is JSON but not a valid event fails with the same field and
// message. Neither may panic. Run it with
//
//	go test ./personalize -run '^$' -fuzz FuzzDecode -fuzztime 60s
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, e := range personalizetest.RandomEvents(rng, 30) {
		line, err := schema.AppendJSON(nil, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
		f.Add(mutate(rng, line))
	}
	for _, s := range []string{
		outcomeWith(`,"item":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800\udc00x"`),
		outcomeWith(",\"item\":\"\xff\xed\xa0\x80\""),
		outcomeWith(`,"KIND":"dwell","ſervice":"s","\u212aind":"scroll","scroll_depth":0.5`),
		outcomeWith(`,"extra":{"a":[1,2.5e-3,{"b":null}]},"value":1e400`),
		outcomeWith(`,"time":"2026-11-02T11:00:00,25+02:00","event_id":"{` + testEventID + `}"`),
		impressionWith(`,"items":[{"id":"b"}],"context":{"a":"1","a":2},"stages":[null]`),
		itemsWith(`[null,{"id":"x","position":2,"score":-0,"propensity":1}]`),
		`{"schema_version":1,"type":"model","event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","model":"m","model_version":"v","feature_set":"f","feature_hash":"00112233445566778899aabbccddeeff","training_snapshot":"s","owner":"o"}`,
		`{"type":"model","schema_version":1,"event_id":"` + testEventID + `","time":"2026-11-02T09:00:00Z","MODEL":"m","model_version":"v","feature_hash":"0011223344556677889","owner":7}`,
		"\v null \u0085", `{}`, `[]`, `"x"`, ``, `{"schema_version":1`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		agree(t, line)
	})
}
