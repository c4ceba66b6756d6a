package dashtest

import (
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// Now is the fixed clock of the tests.
var Now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// WellFormed parses page as strict XML (the pages are written as
// polyglot markup) and fails on any error; it returns the count of each
// element name.
func WellFormed(t *testing.T, page string) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict = true
	d.Entity = map[string]string{}
	counts := map[string]int{}
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "page is not well-formed")
		switch tk := tok.(type) {
		case xml.StartElement:
			counts[tk.Name.Local]++
			stack = append(stack, tk.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	require.Empty(t, stack, "unclosed elements")
	require.Equal(t, 1, counts["html"])
	return counts
}

// Golden compares got with testdata/name, first rewriting the file when
// the test runs with -update.
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(got), "golden %s differs; rerun with -update if the change is intended", path)
}
