package audit_test

import (
	"encoding/json"
	"os"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func readFile(tb interface{ Fatal(...any) }, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
