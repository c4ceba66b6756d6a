// Command auditverify checks an audit log written by package
// privacy/audit: every record's hash and link, and, given the head file
// kept apart from the log, that the log was not cut short.
//
//	go run ./privacy/audit/cmd/auditverify -log audit.jsonl -head audit.head -key-file audit.key
//
// The key file holds the log's HMAC key as hex (64 or more digits); omit
// it for an unkeyed (plain SHA-256) log. It exits 0 and prints the
// number of records and the head when the log verifies, 1 with the first
// problem when it does not, 2 on bad usage.
package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rankscope/rankscope/privacy/audit"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("auditverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	logPath := fs.String("log", "", "audit log file (required)")
	headPath := fs.String("head", "", "head file kept apart from the log (detects truncation)")
	keyPath := fs.String("key-file", "", "file holding the HMAC key as hex")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *logPath == "" {
		fmt.Fprintln(stderr, "auditverify: -log is required")
		return 2
	}
	var key []byte
	if *keyPath != "" {
		b, err := os.ReadFile(*keyPath)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		key, err = hex.DecodeString(string(bytes.TrimSpace(b)))
		if err != nil || len(key) < 32 {
			fmt.Fprintln(stderr, "auditverify: -key-file: want at least 64 hex digits")
			return 2
		}
	}
	var head *audit.Head
	if *headPath != "" {
		h, err := audit.ReadHead(*headPath)
		if err != nil {
			fmt.Fprintln(stderr, "auditverify:", err)
			return 2
		}
		head = &h
	}
	f, err := os.Open(*logPath)
	if err != nil {
		fmt.Fprintln(stderr, "auditverify:", err)
		return 2
	}
	defer f.Close()
	res, err := audit.Verify(f, key, head)
	if err != nil {
		fmt.Fprintf(stdout, "FAIL %s after %d good records\n", err, res.Records)
		return 1
	}
	fmt.Fprintf(stdout, "ok: %d records, head seq %d hash %s", res.Records, res.Last.Seq, res.Last.Hash)
	if head == nil {
		fmt.Fprint(stdout, " (no -head: truncation at the end is not detectable)")
	}
	if res.Ahead > 0 {
		fmt.Fprintf(stdout, " (%d records beyond the head file)", res.Ahead)
	}
	fmt.Fprintln(stdout)
	return 0
}
