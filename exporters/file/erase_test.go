package file_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// The corpus's keys: "2026-10" made the first half of the events, then
// the ring rotated to "2026-11" as primary.
var (
	oldKey = privacy.Key{ID: "2026-10", Secret: []byte(strings.Repeat("o", 32))}
	newKey = privacy.Key{ID: "2026-11", Secret: []byte(strings.Repeat("n", 32))}
)

// subjectUser is the raw user whose records the tests erase.
const subjectUser = 3

// corpus is a generated event directory and the ground truth about it.
type corpus struct {
	kr     *privacy.Keyring // both keys, new primary
	events []personalize.Event
	// subject[i] reports whether events[i] is the subject's: made for raw
	// user subjectUser, or anonymous (no user id) in a session a link
	// event of that user names under the same key.
	subject []bool
	linked  int // distinct session pseudonyms the subject's link events name
}

// ids returns the event ids of the events keep selects, in order.
func (c *corpus) ids(keep func(i int) bool) []personalize.EventID {
	var out []personalize.EventID
	for i, e := range c.events {
		if keep(i) {
			out = append(out, e.ID())
		}
	}
	return out
}

func (c *corpus) subjectCount() int {
	n := 0
	for _, s := range c.subject {
		if s {
			n++
		}
	}
	return n
}

// newCorpus generates n events of 8 raw users with 4 sessions each, the
// first half pseudonymized under the old key, the rest under the new one.
// About a fifth of impressions and outcomes are anonymous (session only).
// The subject's link events name only its sessions 0 and 1, so its
// anonymous events in sessions 2 and 3 are not attributable and stay.
// Planted on purpose: another user's events in the subject's session 0
// (a shared device: they stay), and another user's outcome whose item id
// is the subject's pseudonym (bytes match, the record does not: it stays).
func newCorpus(t testing.TB, seed uint64, n int) *corpus {
	t.Helper()
	kOld, err := privacy.NewHMAC(oldKey)
	require.NoError(t, err)
	kNew, err := privacy.NewHMAC(newKey, oldKey)
	require.NoError(t, err)
	c := &corpus{kr: kNew}
	rng := rand.New(rand.NewPCG(seed, 13))
	evs := personalizetest.RandomEvents(rng, n)
	linked := map[string]bool{} // session pseudonyms the subject's links name
	type truth struct {
		owner     int
		anonymous bool
		session   string
	}
	truths := make([]truth, n)
	for i := range evs {
		kr := kOld
		if i >= n/2 {
			kr = kNew
		}
		u, s := rng.IntN(8), rng.IntN(4)
		e := &evs[i]
		anonymous := (e.Impression != nil || e.Outcome != nil) && rng.IntN(5) == 0
		if e.Link != nil && u == subjectUser {
			s %= 2
		}
		user, uk := kr.Pseudonymize(privacy.DomainUser, personalizetest.RawUserID(u))
		sessRaw := personalizetest.RawSessionID(u, s)
		if u == 4 && i%7 == 0 { // shared device
			sessRaw = personalizetest.RawSessionID(subjectUser, 0)
		}
		sess, sk := kr.Pseudonymize(privacy.DomainSession, sessRaw)
		up, sp := personalize.Pseudonym{ID: user, KeyID: uk}, personalize.Pseudonym{ID: sess, KeyID: sk}
		if anonymous {
			up = personalize.Pseudonym{}
		}
		switch {
		case e.Impression != nil:
			e.Impression.UserID, e.Impression.SessionID = up, sp
		case e.Outcome != nil:
			e.Outcome.UserID, e.Outcome.SessionID = up, sp
			if u == 5 && i%5 == 0 {
				e.Outcome.Item, _ = kr.Pseudonymize(privacy.DomainUser, personalizetest.RawUserID(subjectUser))
			}
		case e.Exposure != nil:
			e.Exposure.UserID = up
			sp = personalize.Pseudonym{}
		case e.Link != nil:
			e.Link.UserID, e.Link.SessionID = up, sp
			if u == subjectUser {
				linked[sp.ID] = true
			}
		}
		truths[i] = truth{owner: u, anonymous: anonymous, session: sp.ID}
	}
	c.events, c.linked = evs, len(linked)
	for _, tr := range truths {
		c.subject = append(c.subject, tr.owner == subjectUser && !tr.anonymous || tr.anonymous && linked[tr.session])
	}
	return c
}

// write exports the corpus into dir with cfg (small files, so there are
// many) and returns the directory's files.
func (c *corpus) write(t testing.TB, dir string, cfg file.Config) {
	t.Helper()
	cfg.Dir = dir
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 16 << 10
	}
	cfg.Encoders = 1
	exp, err := file.New(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	for i := 0; i < len(c.events); i += 50 {
		require.NoError(t, exp.Export(ctx, c.events[i:min(i+50, len(c.events))]))
	}
	require.NoError(t, exp.Shutdown(ctx))
}

func (c *corpus) subjectOf(t testing.TB) file.Subject {
	t.Helper()
	s, err := file.NewSubject(c.kr, personalizetest.RawUserID(subjectUser))
	require.NoError(t, err)
	return s
}

// rawLines returns every line of dir's event files, in read order.
func rawLines(t testing.TB, dir string, ids ...age.Identity) [][]byte {
	t.Helper()
	var out [][]byte
	_, err := file.ReadConfig{Identities: ids}.ReadLines(dir, func(l []byte) error {
		out = append(out, bytes.Clone(l))
		return nil
	})
	require.NoError(t, err)
	return out
}

// eventIDs reads dir and returns its events' ids in order.
func eventIDs(t testing.TB, dir string, ids ...age.Identity) []personalize.EventID {
	t.Helper()
	var out []personalize.EventID
	_, err := file.ReadConfig{Identities: ids}.ReadDir(dir, func(e personalize.Event) error {
		out = append(out, e.ID())
		return nil
	})
	require.NoError(t, err)
	return out
}

// snapshot maps each file name in dir to a hash of its bytes.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, de := range des {
		if de.Type().IsRegular() && de.Name() != ".erase.lock" {
			b, err := os.ReadFile(filepath.Join(dir, de.Name()))
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			out[de.Name()] = hex.EncodeToString(sum[:])
		}
	}
	return out
}

func TestEraseRemovesExactlyTheSubject(t *testing.T) {
	id := identity(t)
	for _, tc := range []struct {
		name string
		cfg  file.Config
	}{
		{"plain", file.Config{}},
		{"encrypted", file.Config{Recipients: []age.Recipient{id.Recipient()}, MaxBytes: 48 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCorpus(t, 1, 2000)
			dir := t.TempDir()
			c.write(t, dir, tc.cfg)
			before := rawLines(t, dir, id)
			require.Len(t, before, len(c.events))
			want := c.subjectCount()
			require.Greater(t, want, 20, "the corpus must give the subject records to erase")
			files := len(snapshot(t, dir))
			cfg := file.EraseConfig{Subject: c.subjectOf(t), Identities: []age.Identity{id}}
			if tc.cfg.Recipients != nil {
				cfg.Recipients = tc.cfg.Recipients
			}

			st, err := file.Erase(context.Background(), dir, cfg)
			require.NoError(t, err)
			assert.EqualValues(t, want, st.Removed)
			assert.Zero(t, st.Undecodable)
			assert.Equal(t, files, st.Files)
			require.Positive(t, c.linked)
			assert.Equal(t, c.linked, st.LinkedSessions)
			assert.Equal(t, 2, len(c.subjectOf(t).Users), "one pseudonym per key")
			assert.Len(t, st.Subject.Sessions, st.LinkedSessions)

			// Exactly the subject's events are gone, the rest in order.
			assert.Equal(t, c.ids(func(i int) bool { return !c.subject[i] }), eventIDs(t, dir, id))
			// The kept lines are the old lines byte for byte.
			var keptWant [][]byte
			for i, l := range before {
				if !c.subject[i] {
					keptWant = append(keptWant, l)
				}
			}
			assert.Equal(t, keptWant, rawLines(t, dir, id))
			// The files that held none were not touched; the others were.
			assert.Greater(t, st.Rewritten, 0)
			assert.LessOrEqual(t, st.Rewritten, files)
			after := snapshot(t, dir)
			assert.Len(t, after, files, "same files, no temporary left")
			if tc.cfg.Recipients != nil {
				for name := range after {
					assert.True(t, strings.HasSuffix(name, ".jsonl.age"), name)
					b, err := os.ReadFile(filepath.Join(dir, name))
					require.NoError(t, err)
					assert.True(t, bytes.HasPrefix(b, []byte("age-encryption.org/v1\n")), "%s is still an age file", name)
				}
			}

			// Idempotent: a second run finds nothing and rewrites nothing.
			st2, err := file.Erase(context.Background(), dir, cfg)
			require.NoError(t, err)
			assert.Zero(t, st2.Removed)
			assert.Zero(t, st2.Rewritten)
			assert.Equal(t, after, snapshot(t, dir))
		})
	}
}

// TestEraseCountsRewrites checks Rewritten against the files that held a
// record of the subject, by placing the subject in exactly two files.
func TestEraseCountsRewrites(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	dir := t.TempDir()
	rng := seeded(5)
	subj, _ := kr.Pseudonymize(privacy.DomainUser, "alice")
	for f := range 4 {
		evs := personalizetest.RandomEvents(rng, 10)
		if f == 1 || f == 3 {
			evs[4].Impression = personalizetest.RandomImpression(rng, 3)
			evs[4].Type = personalize.EventImpression
			evs[4].Outcome, evs[4].Exposure, evs[4].Link = nil, nil, nil
			evs[4].Impression.UserID = personalize.Pseudonym{ID: subj, KeyID: newKey.ID}
		}
		writeLines(t, filepath.Join(dir, "events-20261102T09000"+string(rune('0'+f))+".000000000Z-000000.jsonl"), evs)
	}
	s, err := file.NewSubject(kr, "alice")
	require.NoError(t, err)
	before := snapshot(t, dir)
	st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: s})
	require.NoError(t, err)
	assert.Equal(t, 4, st.Files)
	assert.Equal(t, 2, st.Rewritten)
	assert.EqualValues(t, 2, st.Removed)
	after := snapshot(t, dir)
	for name, h := range before {
		changed := strings.Contains(name, "T090001") || strings.Contains(name, "T090003")
		assert.Equal(t, changed, after[name] != h, name)
	}
}

// writeLines writes events as a closed plain event file.
func writeLines(t testing.TB, path string, evs []personalize.Event) {
	t.Helper()
	var b []byte
	for _, e := range evs {
		var err error
		b, err = personalize.AppendJSON(b, e)
		require.NoError(t, err)
		b = append(b, '\n')
	}
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

func TestEraseRefuses(t *testing.T) {
	id := identity(t)
	other, err := age.GenerateX25519Identity()
	require.NoError(t, err)
	c := newCorpus(t, 2, 300)
	plain, sealed := t.TempDir(), t.TempDir()
	c.write(t, plain, file.Config{})
	c.write(t, sealed, file.Config{Recipients: []age.Recipient{id.Recipient()}})
	subj := c.subjectOf(t)
	ids := []age.Identity{id}
	rcpt := []age.Recipient{id.Recipient()}
	for _, tc := range []struct {
		name string
		dir  string
		cfg  file.EraseConfig
		want string
	}{
		{"no subject", plain, file.EraseConfig{}, "EraseConfig.Subject: no user or session pseudonym"},
		{"empty pseudonym", plain, file.EraseConfig{Subject: file.Subject{Users: []string{""}}}, "EraseConfig.Subject.Users[0]: empty"},
		{"negative MaxLineBytes", plain, file.EraseConfig{Subject: subj, MaxLineBytes: -1}, "EraseConfig.MaxLineBytes"},
		{"accessor without audit", plain, file.EraseConfig{Subject: subj, Accessor: "dpo"}, "EraseConfig.Accessor: set without"},
		{"audit without accessor", plain, file.EraseConfig{Subject: subj, Audit: failingAuditor{}}, "EraseConfig.Accessor: required"},
		{"audit fails", plain, file.EraseConfig{Subject: subj, Audit: failingAuditor{}, Accessor: "dpo"}, "EraseConfig.Audit: disk full"},
		{"nil recipient", sealed, file.EraseConfig{Subject: subj, Identities: ids, Recipients: []age.Recipient{nil}}, "EraseConfig.Recipients[0]: is nil"},
		{"nil identity", sealed, file.EraseConfig{Subject: subj, Identities: []age.Identity{nil}, Recipients: rcpt}, "EraseConfig.Identities[0]: is nil"},
		{"encrypted, no identity", sealed, file.EraseConfig{Subject: subj, Recipients: rcpt}, "no ReadConfig.Identities"},
		{"encrypted, no recipients", sealed, file.EraseConfig{Subject: subj, Identities: ids}, "EraseConfig.Recipients: required to rewrite encrypted files"},
		{"recipients we cannot read back", sealed, file.EraseConfig{Subject: subj, Identities: ids,
			Recipients: []age.Recipient{other.Recipient()}}, "EraseConfig.Identities: none opens"},
		{"wrong identity", sealed, file.EraseConfig{Subject: subj, Identities: []age.Identity{other},
			Recipients: []age.Recipient{other.Recipient()}}, "nothing rewritten"},
		{"line too long", plain, file.EraseConfig{Subject: subj, MaxLineBytes: 200}, "line too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, tc.dir)
			_, err := file.Erase(context.Background(), tc.dir, tc.cfg)
			require.ErrorContains(t, err, tc.want)
			assert.Equal(t, before, snapshot(t, tc.dir), "nothing changed")
		})
	}
}

func TestEraseOtherFormats(t *testing.T) {
	c := newCorpus(t, 3, 300)
	dir := t.TempDir()
	c.write(t, dir, file.Config{})
	part := filepath.Join(dir, "dt=2026-11-02", "hour=09")
	require.NoError(t, os.MkdirAll(part, 0o700))
	for _, name := range []string{"part-0.parquet", "part-1.parquet", ".part-2.parquet.open", "_SUCCESS"} {
		require.NoError(t, os.WriteFile(filepath.Join(part, name), []byte("PAR1"), 0o600))
	}
	cfg := file.EraseConfig{Subject: c.subjectOf(t)}
	before := snapshot(t, dir)
	_, err := file.Erase(context.Background(), dir, cfg)
	require.ErrorContains(t, err, "holds 3 event files in a format Erase cannot rewrite")
	assert.ErrorContains(t, err, "part-0.parquet")
	assert.Equal(t, before, snapshot(t, dir))

	cfg.SkipOtherFormats = true
	st, err := file.Erase(context.Background(), dir, cfg)
	require.NoError(t, err)
	assert.Equal(t, 3, st.OtherFormats, "finished and in-progress Parquet files")
	assert.Equal(t, []string{filepath.Join(part, ".part-2.parquet.open"), filepath.Join(part, "part-0.parquet"),
		filepath.Join(part, "part-1.parquet")}, st.OtherFormatPaths)
	assert.EqualValues(t, c.subjectCount(), st.Removed)
	b, err := os.ReadFile(filepath.Join(part, "part-0.parquet"))
	require.NoError(t, err)
	assert.Equal(t, "PAR1", string(b), "left as it was")
}

func TestEraseUndecodableLines(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	s, err := file.NewSubject(kr, "alice")
	require.NoError(t, err)
	alice := s.Users[0]
	evs := personalizetest.RandomEvents(seeded(9), 4)
	var b []byte
	for _, e := range evs[:3] {
		b, _ = personalize.AppendJSON(b, e)
		b = append(b, '\n')
	}
	// Alice's impression with the second digit of her pseudonym written as a
	// JSON escape: no byte match, but the decoded record is hers.
	im := personalizetest.RandomImpression(seeded(10), 2)
	im.UserID = personalize.Pseudonym{ID: alice}
	hidden, err := personalize.AppendJSON(nil, personalize.Event{Type: personalize.EventImpression, Impression: im})
	require.NoError(t, err)
	hidden = bytes.Replace(hidden, []byte(alice), []byte(alice[:1]+fmt.Sprintf(`\u%04x`, alice[1])+alice[2:]), 1)
	require.NotContains(t, string(hidden), alice)
	lines := []string{
		`{"type":"impression","user_id":"` + alice + `",`, // cut, holds alice: removed, counted Undecodable
		`not json at all`,                    // holds no pseudonym of hers: kept as it is
		`{"type":"outcome","item":"\u0061"}`, // an escape, decoded, not an event: kept
		string(hidden),                       // removed, counted in Removed
	}
	content := string(b) + strings.Join(lines, "\n") + "\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: s})
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Removed)
	assert.EqualValues(t, 1, st.Undecodable)
	assert.Equal(t, 1, st.Rewritten)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(b)+lines[1]+"\n"+lines[2]+"\n", string(got))
}

// TestEraseLinkedBySessionOnly checks a subject given by a session alone
// (an anonymous visitor asking for erasure): its records without a user
// id go, a record with a user id in that session stays.
func TestEraseLinkedBySessionOnly(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	sess, _ := kr.Pseudonymize(privacy.DomainSession, "cookie-1")
	bob, _ := kr.Pseudonymize(privacy.DomainUser, "bob")
	evs := personalizetest.RandomEvents(seeded(4), 40)
	var mine int
	for i := range evs {
		if evs[i].Outcome == nil {
			continue
		}
		evs[i].Outcome.SessionID = personalize.Pseudonym{ID: sess}
		evs[i].Outcome.UserID = personalize.Pseudonym{}
		if i%2 == 0 {
			evs[i].Outcome.UserID = personalize.Pseudonym{ID: bob} // bob on that device: stays
		} else {
			mine++
		}
	}
	require.Positive(t, mine)
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl"), evs)
	st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: file.Subject{Sessions: []string{sess}}})
	require.NoError(t, err)
	assert.EqualValues(t, mine, st.Removed)
	assert.Len(t, eventIDs(t, dir), len(evs)-mine)
}

func TestEraseOpenFiles(t *testing.T) {
	id := identity(t)
	for _, tc := range []struct {
		name string
		cfg  file.Config
	}{
		{"plain", file.Config{}},
		{"encrypted", file.Config{Recipients: []age.Recipient{id.Recipient()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCorpus(t, 6, 400)
			dir := t.TempDir()
			tc.cfg.Dir, tc.cfg.Encoders = dir, 1
			exp, err := file.New(tc.cfg)
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, exp.Export(ctx, c.events))
			// The exporter is still writing: its file is ".open".
			cfg := file.EraseConfig{Subject: c.subjectOf(t), Identities: []age.Identity{id}, Recipients: tc.cfg.Recipients}
			before := snapshot(t, dir)
			st, err := file.Erase(ctx, dir, cfg)
			require.NoError(t, err)
			assert.Equal(t, 1, st.OpenSkipped)
			assert.Zero(t, st.Rewritten)
			assert.Equal(t, before, snapshot(t, dir), "an .open file is only read")
			if tc.cfg.Recipients == nil {
				assert.EqualValues(t, c.subjectCount(), st.LeftInOpen)
			} else {
				// Only whole 64 KiB chunks are on disk before the file finishes.
				assert.LessOrEqual(t, st.LeftInOpen, int64(c.subjectCount()))
			}

			// After rotation (Shutdown here), the same call erases them all.
			require.NoError(t, exp.Shutdown(ctx))
			st, err = file.Erase(ctx, dir, cfg)
			require.NoError(t, err)
			assert.EqualValues(t, c.subjectCount(), st.Removed)
			assert.Equal(t, c.ids(func(i int) bool { return !c.subject[i] }), eventIDs(t, dir, id))
		})
	}
}

// TestEraseCrashedWritersFile rewrites ".open" files a crashed writer left
// (IncludeOpen): a plain one with a torn last line, an encrypted one cut
// in its last chunk.
func TestEraseCrashedWritersFile(t *testing.T) {
	id := identity(t)
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	s, err := file.NewSubject(kr, "alice")
	require.NoError(t, err)
	alice := personalize.Pseudonym{ID: s.Users[0], KeyID: newKey.ID}
	evs := personalizetest.RandomEvents(seeded(8), 300)
	want := 0
	for i := range evs {
		if evs[i].Impression != nil && i%3 == 0 {
			evs[i].Impression.UserID = alice
			want++
		}
	}
	t.Run("plain, torn line", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl.open")
		writeLines(t, path, evs)
		torn := `{"type":"outcome","event_id":"01`
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString(torn)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: s, IncludeOpen: true})
		require.NoError(t, err)
		assert.EqualValues(t, want, st.Removed)
		assert.Equal(t, 1, st.Rewritten)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.True(t, strings.HasSuffix(string(b), "\n"+torn), "the torn line is kept as it was")
	})
	t.Run("encrypted, cut chunk", func(t *testing.T) {
		dir := t.TempDir()
		exp, err := file.New(file.Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}, Encoders: 1})
		require.NoError(t, err)
		require.NoError(t, exp.Export(context.Background(), evs))
		require.NoError(t, exp.Shutdown(context.Background()))
		names := fileNames(t, dir)
		require.Len(t, names, 1)
		closed := filepath.Join(dir, names[0])
		b, err := os.ReadFile(closed)
		require.NoError(t, err)
		open := closed + ".open"
		require.NoError(t, os.WriteFile(open, b[:len(b)-100], 0o600)) // cut in the last chunk
		require.NoError(t, os.Remove(closed))
		kept := eventIDs(t, dir, id) // the whole chunks before the cut
		require.NotEmpty(t, kept)

		cfg := file.EraseConfig{Subject: s, IncludeOpen: true, Identities: []age.Identity{id}, Recipients: []age.Recipient{id.Recipient()}}
		st, err := file.Erase(context.Background(), dir, cfg)
		require.NoError(t, err)
		assert.Equal(t, 1, st.TornDropped)
		assert.Equal(t, 1, st.Rewritten)
		var wantIDs []personalize.EventID
		removed := 0
		for _, e := range evs {
			if !slices.Contains(kept, e.ID()) {
				continue
			}
			if e.Impression != nil && e.Impression.UserID == alice {
				removed++
				continue
			}
			wantIDs = append(wantIDs, e.ID())
		}
		assert.EqualValues(t, removed, st.Removed)
		var torn []*file.TornLineError
		got := []personalize.EventID{}
		rs, err := file.ReadConfig{Identities: []age.Identity{id}}.ReadDir(dir, func(e personalize.Event) error {
			got = append(got, e.ID())
			return nil
		})
		require.NoError(t, err)
		torn = rs.Torn
		assert.Equal(t, wantIDs, got)
		assert.Empty(t, torn, "the rewritten stream is whole")
	})
}

func fileNames(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, de := range des {
		if de.Type().IsRegular() && de.Name()[0] != '.' {
			out = append(out, de.Name())
		}
	}
	return out
}

func TestEraseAudited(t *testing.T) {
	c := newCorpus(t, 7, 200)
	dir := t.TempDir()
	c.write(t, dir, file.Config{})
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(audit.Config{Path: logPath})
	require.NoError(t, err)
	defer log.Close()
	subj := c.subjectOf(t)
	_, err = file.Erase(context.Background(), dir, file.EraseConfig{Subject: subj, Audit: log, Accessor: "dpo@example.org"})
	require.NoError(t, err)
	b, err := os.ReadFile(logPath)
	require.NoError(t, err)
	res, err := audit.Verify(bytes.NewReader(b), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Records)
	assert.Contains(t, string(b), `"accessor":"dpo@example.org","action":"erase","resource":"`+dir+`#subject=user:`+subj.Users[0]+`"`)
}

// TestEraseWhileExporting erases closed files while an exporter keeps
// writing other users' events to the same directory and rotating: the
// subject's records, all in files closed before the erasure, are gone;
// every other record, old and new, is there. Run with -race.
func TestEraseWhileExporting(t *testing.T) {
	id := identity(t)
	c := newCorpus(t, 10, 1500)
	dir := t.TempDir()
	exp, err := file.New(file.Config{Dir: dir, Recipients: []age.Recipient{id.Recipient()}, MaxBytes: 32 << 10, Encoders: 1})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, exp.Export(ctx, c.events))
	require.NoError(t, exp.ForceFlush(ctx)) // rotates: every subject record is in a closed file

	more := personalizetest.RandomEvents(seeded(11), 3000) // random pseudonyms: never the subject's
	var wg sync.WaitGroup
	wg.Add(1)
	errc := make(chan error, 1)
	go func() {
		defer wg.Done()
		for i := 0; i < len(more); i += 100 {
			if err := exp.Export(ctx, more[i:i+100]); err != nil {
				errc <- err
				return
			}
			if i%500 == 0 {
				if err := exp.ForceFlush(ctx); err != nil {
					errc <- err
					return
				}
			}
		}
	}()
	cfg := file.EraseConfig{Subject: c.subjectOf(t), Identities: []age.Identity{id}, Recipients: []age.Recipient{id.Recipient()}}
	st, err := file.Erase(ctx, dir, cfg)
	wg.Wait()
	require.NoError(t, err)
	close(errc)
	require.NoError(t, <-errc)
	require.NoError(t, exp.Shutdown(ctx))
	assert.EqualValues(t, c.subjectCount(), st.Removed)

	got := eventIDs(t, dir, id)
	want := c.ids(func(i int) bool { return !c.subject[i] })
	for _, e := range more {
		want = append(want, e.ID())
	}
	assert.ElementsMatch(t, want, got)
}

func TestNewSubject(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey, oldKey)
	require.NoError(t, err)
	s, err := file.NewSubject(kr, "alice", "cookie-1", "cookie-2")
	require.NoError(t, err)
	assert.Equal(t, kr.PseudonymsOf(privacy.DomainUser, "alice"), s.Users)
	assert.Equal(t, append(kr.PseudonymsOf(privacy.DomainSession, "cookie-1"), kr.PseudonymsOf(privacy.DomainSession, "cookie-2")...), s.Sessions)
	assert.Len(t, s.Sessions, 4)
	for _, tc := range []struct {
		kr   *privacy.Keyring
		user string
		sess []string
		want string
	}{
		{nil, "alice", nil, "keyring"},
		{kr, "", nil, "user: empty"},
		{kr, "alice", []string{"x", ""}, "sessions[1]: empty"},
	} {
		_, err := file.NewSubject(tc.kr, tc.user, tc.sess...)
		assert.ErrorContains(t, err, tc.want)
	}
	_, err = file.NewSubject(nil, "alice")
	assert.True(t, errors.Is(err, privacy.ErrNoPseudonymizer))
}

// BenchmarkErase erases the corpus's subject (about one record in eight)
// from 4000 events, reading every file twice and rewriting the ones that
// held a record; bytes per op are the plaintext of the directory.
func BenchmarkErase(b *testing.B) {
	id := identity(b)
	for _, tc := range []struct {
		name string
		cfg  file.Config
	}{
		{"plain", file.Config{MaxBytes: 1 << 20}},
		{"age", file.Config{MaxBytes: 1 << 20, Recipients: []age.Recipient{id.Recipient()}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := newCorpus(b, 30, 4000)
			src := b.TempDir()
			c.write(b, src, tc.cfg)
			var size int64
			for _, l := range rawLines(b, src, id) {
				size += int64(len(l)) + 1
			}
			b.SetBytes(size)
			b.ReportAllocs()
			cfg := file.EraseConfig{Subject: c.subjectOf(b), Identities: []age.Identity{id}, Recipients: tc.cfg.Recipients}
			for range b.N {
				b.StopTimer()
				dir := b.TempDir()
				for _, name := range fileNames(b, src) {
					data, err := os.ReadFile(filepath.Join(src, name))
					require.NoError(b, err)
					require.NoError(b, os.WriteFile(filepath.Join(dir, name), data, 0o600))
				}
				b.StartTimer()
				st, err := file.Erase(context.Background(), dir, cfg)
				require.NoError(b, err)
				require.EqualValues(b, c.subjectCount(), st.Removed)
			}
		})
	}
}
