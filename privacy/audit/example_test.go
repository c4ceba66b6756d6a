package audit_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rankscope/rankscope/privacy/audit"
)

// Record two reads, verify the log, then show that an edit is detected.
func Example() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	key := bytes.Repeat([]byte{1}, 32) // use 32 random secret bytes
	log, err := audit.Open(audit.Config{
		Path:     filepath.Join(dir, "audit.jsonl"),
		HeadFile: filepath.Join(dir, "audit.head"), // keep on other storage
		Key:      key,
	})
	if err != nil {
		panic(err)
	}
	_ = log.Append("alice@example.com", "read", "/var/lib/rankscope/events")
	_ = log.Append("dpo@example.com", "export", "user:7f3a")
	_ = log.Close()

	data, _ := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	head, _ := audit.ReadHead(filepath.Join(dir, "audit.head"))
	res, err := audit.Verify(bytes.NewReader(data), key, &head)
	fmt.Println(res.Records, err)

	edited := bytes.Replace(data, []byte("alice"), []byte("mallo"), 1)
	_, err = audit.Verify(bytes.NewReader(edited), key, &head)
	fmt.Println(err)

	cut := data[:bytes.IndexByte(data, '\n')+1]
	_, err = audit.Verify(bytes.NewReader(cut), key, &head)
	fmt.Println(err)
	// Output:
	// 2 <nil>
	// audit: verify: line 1 (seq 1): hash does not match the record (edited, or the wrong key)
	// audit: verify: log ends at seq 1, head says 2: truncated
}
