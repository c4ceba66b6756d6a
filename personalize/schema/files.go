package schema

import (
	"strconv"
	"strings"
	"time"
)

// Event files: the naming rules every writer and reader of JSON-lines
// event files shares (the file exporter writes them, exporters/file reads
// them, durable mode's write-ahead log names its segments with FileExt).
// An event file is named
//
//	<prefix>-<UTC creation time as FileTimeLayout>-<seq>.jsonl
//
// and carries the extra suffix OpenExt while it is being written. Readers
// order such files by creation time, then sequence number.
const (
	FileExt        = ".jsonl"
	OpenExt        = ".open"
	FileTimeLayout = "20060102T150405.000000000Z"
)

// FileName returns the closed name of the file a writer with prefix
// created at t as its seq-th file.
func FileName(prefix string, t time.Time, seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	if len(s) < 6 {
		s = strings.Repeat("0", 6-len(s)) + s
	}
	return prefix + "-" + t.UTC().Format(FileTimeLayout) + "-" + s + FileExt
}

// ParseFileName splits a closed event file's base name (as FileName
// makes it) into its creation time stamp and its sequence number as
// digits without leading zeros, which order files when compared by length
// then bytes. ok is false for a name of another form.
func ParseFileName(base string) (ts, seq string, ok bool) {
	s, ok := strings.CutSuffix(base, FileExt)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return "", "", false
	}
	seq, s = s[i+1:], s[:i]
	j := strings.LastIndexByte(s, '-')
	if j < 0 {
		return "", "", false
	}
	ts = s[j+1:]
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil || seq == "" {
		return "", "", false
	}
	if _, err := time.Parse(FileTimeLayout, ts); err != nil {
		return "", "", false
	}
	return ts, strings.TrimLeft(seq, "0"), true
}
