package schema_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/rankscope/rankscope/personalize/schema"
)

func TestFileNames(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 123, time.FixedZone("CET", 3600))
	name := schema.FileName("events", at, 7)
	assert.Equal(t, "events-20261102T080000.000000123Z-000007.jsonl", name)
	ts, seq, ok := schema.ParseFileName(name)
	assert.True(t, ok)
	assert.Equal(t, "20261102T080000.000000123Z", ts)
	assert.Equal(t, "7", seq)
	_, seq, ok = schema.ParseFileName(schema.FileName("a-b", at, 12345678))
	assert.True(t, ok, "prefixes may hold dashes")
	assert.Equal(t, "12345678", seq)
	for _, bad := range []string{"events.jsonl", "events-x-1.jsonl", "events-20261102T080000.000000123Z-.jsonl",
		"events-20261102T080000.000000123Z-1.txt", "20261102T080000.000000123Z-1.jsonl", ""} {
		_, _, ok := schema.ParseFileName(bad)
		assert.False(t, ok, bad)
	}
}

func FuzzParseFileName(f *testing.F) {
	f.Add("events-20261102T080000.000000123Z-000007.jsonl")
	f.Add("a--1.jsonl")
	f.Fuzz(func(t *testing.T, s string) {
		ts, seq, ok := schema.ParseFileName(s)
		if !ok {
			return
		}
		at, err := time.Parse(schema.FileTimeLayout, ts)
		if err != nil {
			t.Fatalf("accepted time stamp %q: %v", ts, err)
		}
		if len(seq) > 0 && seq[0] == '0' {
			t.Fatalf("seq %q keeps a leading zero", seq)
		}
		_ = at
	})
}
