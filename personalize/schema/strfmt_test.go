package schema

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// jsonString is encoding/json's encoding of s without HTML escaping, the
// reference appendString follows.
func jsonString(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// appendString must write what encoding/json writes, whether the byte to
// escape falls in the eight-byte fast path, in its tail, or nowhere.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "a", "sku-0001", "0193a5c8-6f1e-7cc2-b1a4-5d2e8f9a0b1c", `quote"d`, `back\slash`,
		"tab\there", "nl\n", "bs\b ff\f", "\x00\x1f\x7f", "héllo", "日本語の文字列", "bad\xffutf8", "\u2028\u2029",
		"exactly8", "12345678\"", "1234567\\", "abcdefghijklmno\x01", "<html>&amp;", strings.Repeat("x", 100) + "\x02"}
	specials := []byte{'"', '\\', '\n', 0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xe2, 0xff, '<'}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			if r.IntN(8) == 0 {
				b[i] = specials[r.IntN(len(specials))]
			} else {
				b[i] = byte('a' + r.IntN(26))
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := string(appendString(nil, s)), jsonString(t, s); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("sku-0001")
	f.Add("12345678\"")
	f.Add("bad\xffutf8\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), jsonString(t, s); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
