package file_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
	"github.com/rankscope/rankscope/privacy/audit"
)

// TestAccessExportsExactlyTheSubject writes the corpus half plain, half
// encrypted into one directory and checks that Access writes the
// subject's records, and only them, byte for byte as stored, in order.
func TestAccessExportsExactlyTheSubject(t *testing.T) {
	id := identity(t)
	c := newCorpus(t, 20, 1200)
	dir := t.TempDir()
	half := len(c.events) / 2
	plain, sealed := *c, *c
	plain.events = c.events[:half]
	sealed.events = c.events[half:]
	plain.write(t, dir, file.Config{})
	sealed.write(t, dir, file.Config{Recipients: []age.Recipient{id.Recipient()}, MaxBytes: 64 << 10})
	stored := rawLines(t, dir, id)
	require.Len(t, stored, len(c.events))
	var want bytes.Buffer
	for i, l := range stored {
		if c.subject[i] {
			want.Write(l)
			want.WriteByte('\n')
		}
	}
	require.Positive(t, want.Len())

	var got bytes.Buffer
	st, err := file.Access(context.Background(), dir, &got, file.AccessConfig{Subject: c.subjectOf(t), Identities: []age.Identity{id}})
	require.NoError(t, err)
	assert.Equal(t, want.String(), got.String())
	assert.EqualValues(t, c.subjectCount(), st.Records)
	assert.EqualValues(t, got.Len(), st.Bytes)
	assert.Equal(t, c.linked, st.LinkedSessions)
	assert.Equal(t, len(fileNames(t, dir)), st.Files)
	// Every line reads back as an event of the schema.
	for _, l := range strings.Split(strings.TrimSuffix(got.String(), "\n"), "\n") {
		_, err := personalize.UnmarshalEvent([]byte(l))
		require.NoError(t, err)
	}

	// After the erasure there is nothing left to export; the Subject the
	// erasure returns (with the linked sessions) finds nothing either.
	est, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: c.subjectOf(t),
		Identities: []age.Identity{id}, Recipients: []age.Recipient{id.Recipient()}})
	require.NoError(t, err)
	for _, s := range []file.Subject{c.subjectOf(t), est.Subject} {
		got.Reset()
		st, err = file.Access(context.Background(), dir, &got, file.AccessConfig{Subject: s, Identities: []age.Identity{id}})
		require.NoError(t, err)
		assert.Zero(t, st.Records)
		assert.Empty(t, got.String())
	}
}

func TestAccessRefuses(t *testing.T) {
	c := newCorpus(t, 21, 200)
	dir := t.TempDir()
	c.write(t, dir, file.Config{Recipients: []age.Recipient{identity(t).Recipient()}})
	subj := c.subjectOf(t)
	for _, tc := range []struct {
		name string
		cfg  file.AccessConfig
		w    *bytes.Buffer
		want string
	}{
		{"no subject", file.AccessConfig{}, &bytes.Buffer{}, "AccessConfig.Subject: no user or session pseudonym"},
		{"empty session", file.AccessConfig{Subject: file.Subject{Sessions: []string{""}}}, &bytes.Buffer{}, "AccessConfig.Subject.Sessions[0]: empty"},
		{"nil writer", file.AccessConfig{Subject: subj}, nil, "nil writer"},
		{"accessor without audit", file.AccessConfig{Subject: subj, Accessor: "dpo"}, &bytes.Buffer{}, "AccessConfig.Accessor: set without"},
		{"audit fails", file.AccessConfig{Subject: subj, Audit: failingAuditor{}, Accessor: "dpo"}, &bytes.Buffer{}, "AccessConfig.Audit: disk full"},
		{"no identity", file.AccessConfig{Subject: subj}, &bytes.Buffer{}, "no ReadConfig.Identities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.w == nil {
				_, err = file.Access(context.Background(), dir, nil, tc.cfg)
			} else {
				_, err = file.Access(context.Background(), dir, tc.w, tc.cfg)
				assert.Zero(t, tc.w.Len(), "nothing written")
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestAccessAudited(t *testing.T) {
	c := newCorpus(t, 22, 200)
	dir := t.TempDir()
	c.write(t, dir, file.Config{})
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(audit.Config{Path: logPath})
	require.NoError(t, err)
	defer log.Close()
	subj := c.subjectOf(t)
	var out bytes.Buffer
	_, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: subj, Audit: log, Accessor: "dpo@example.org"})
	require.NoError(t, err)
	b, err := os.ReadFile(logPath)
	require.NoError(t, err)
	_, err = audit.Verify(bytes.NewReader(b), nil, nil)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"accessor":"dpo@example.org","action":"access","resource":"`+dir+`#subject=user:`+subj.Users[0]+`"`)
}

// TestAccessLinesItCannotExport checks the lines Access skips or fails on:
// a torn last line of an ".open" file (skipped, counted), an undecodable
// line with the subject's pseudonym (an error naming it, or counted with
// SkipMalformed), Parquet files (refused, or counted).
func TestAccessLinesItCannotExport(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	s, err := file.NewSubject(kr, "alice")
	require.NoError(t, err)
	alice := s.Users[0]
	evs := personalizetest.RandomEvents(seeded(23), 20)
	for i := range evs {
		if evs[i].Impression != nil {
			evs[i].Impression.UserID = personalize.Pseudonym{ID: alice}
		}
	}
	dir := t.TempDir()
	closed := filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl")
	writeLines(t, closed, evs)
	open := filepath.Join(dir, "events-20261102T100000.000000000Z-000001.jsonl.open")
	writeLines(t, open, evs[:2])
	f, err := os.OpenFile(open, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"type":"impression","user_id":"` + alice) // a writer's line in progress
	require.NoError(t, err)
	require.NoError(t, f.Close())
	mine := 0
	for _, e := range evs {
		if e.Impression != nil {
			mine++
		}
	}
	for _, e := range evs[:2] {
		if e.Impression != nil {
			mine++
		}
	}

	var out bytes.Buffer
	st, err := file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: s})
	require.NoError(t, err)
	assert.EqualValues(t, mine, st.Records)
	assert.Equal(t, 1, st.Torn)

	// A broken line holding her pseudonym in a closed file.
	b, err := os.ReadFile(closed)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(closed, append([]byte(`{"user_id":"`+alice+`"`+"\n"), b...), 0o600))
	out.Reset()
	_, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: s})
	var le *file.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, closed, le.File)
	assert.Equal(t, 1, le.Line)
	st, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: s, SkipMalformed: true})
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Undecodable)
	assert.EqualValues(t, mine, st.Records)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "part-0.parquet"), []byte("PAR1"), 0o600))
	_, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: s, SkipMalformed: true})
	require.ErrorContains(t, err, "holds 1 event files in a format Access cannot read")
	st, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: s, SkipMalformed: true, SkipOtherFormats: true})
	require.NoError(t, err)
	assert.Equal(t, 1, st.OtherFormats)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

func TestAccessWriteError(t *testing.T) {
	c := newCorpus(t, 24, 300)
	dir := t.TempDir()
	c.write(t, dir, file.Config{})
	_, err := file.Access(context.Background(), dir, failingWriter{}, file.AccessConfig{Subject: c.subjectOf(t)})
	require.ErrorContains(t, err, "pipe closed")
}
