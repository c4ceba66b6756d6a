package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
	"github.com/rankscope/rankscope/privacy/audit"
	"github.com/rankscope/rankscope/privacy/dp"
)

// glog, which Google's DP library imports, starts a flush goroutine in its
// init function that lives as long as the process: not a leak of ours.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/golang/glog.(*fileSink).flushDaemon"))
}

const testUsers = 60

// recorded sets up a demo in a temporary directory and records its
// traffic.
func recorded(t *testing.T) *demo {
	t.Helper()
	d, err := setup(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { d.log.Close() })
	require.NoError(t, d.record(context.Background(), testUsers, 1))
	return d
}

// plaintext decrypts every event file with the demo's identity, without
// the library's reader: the age files must stand on their own.
func plaintext(t *testing.T, d *demo) (files int, text []byte) {
	t.Helper()
	des, err := os.ReadDir(d.events)
	require.NoError(t, err)
	for _, de := range des {
		if de.Name()[0] == '.' {
			continue
		}
		require.True(t, strings.HasSuffix(de.Name(), ".jsonl.age"), "%s is not a closed encrypted file", de.Name())
		b, err := os.ReadFile(filepath.Join(d.events, de.Name()))
		require.NoError(t, err)
		r, err := age.Decrypt(bytes.NewReader(b), d.identity)
		require.NoError(t, err, de.Name())
		p, err := io.ReadAll(r)
		require.NoError(t, err, de.Name())
		text = append(text, p...)
		files++
	}
	return files, text
}

// events decodes plaintext lines.
func events(t *testing.T, text []byte) []personalize.Event {
	t.Helper()
	var out []personalize.Event
	for _, l := range bytes.Split(bytes.TrimSuffix(text, []byte("\n")), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		e, err := personalize.UnmarshalEvent(l)
		require.NoError(t, err)
		out = append(out, e)
	}
	return out
}

// truth returns the pseudonyms of raw user u as the simulation made them:
// the user id under each month's key, and the anonymous session ids it
// later linked (users divisible by 3), each under its month's key only.
func truth(t *testing.T, u int) (users, sessions []string) {
	t.Helper()
	for m, k := range []privacy.Key{keyOctober, keyNovember} {
		kr, err := privacy.NewHMAC(k)
		require.NoError(t, err)
		p, _ := kr.Pseudonymize(privacy.DomainUser, fmt.Sprintf("user-%06d", u))
		users = append(users, p)
		if u%3 == 0 {
			s, _ := kr.Pseudonymize(privacy.DomainSession, fmt.Sprintf("anon-%06d-%d", u, m))
			sessions = append(sessions, s)
		}
	}
	return users, sessions
}

// owned reports whether e is a record of the user with these pseudonyms.
func owned(e personalize.Event, users, sessions []string) bool {
	var user, session string
	switch {
	case e.Impression != nil:
		user, session = e.Impression.UserID.ID, e.Impression.SessionID.ID
	case e.Outcome != nil:
		user, session = e.Outcome.UserID.ID, e.Outcome.SessionID.ID
	case e.Exposure != nil:
		user = e.Exposure.UserID.ID
	case e.Link != nil:
		user = e.Link.UserID.ID
	}
	if user != "" {
		return slices.Contains(users, user)
	}
	return slices.Contains(sessions, session)
}

func TestRecordWritesEncryptedPseudonymizedEvents(t *testing.T) {
	d := recorded(t)
	files, text := plaintext(t, d)
	assert.Greater(t, files, 1)
	evs := events(t, text)
	assert.Len(t, evs, d.written)
	assert.Equal(t, 2*testUsers/3, d.anonymous, "every third user, each month")
	assert.Equal(t, 12*testUsers+2*d.anonymous, d.written, "per user 6 impressions and 6 dwells; a signup and a link per anonymous session")
	assert.NotContains(t, string(text), "user-0000", "raw user ids never reach the files")
	assert.NotContains(t, string(text), "anon-0000", "nor raw session ids")
	keys := map[string]int{}
	for _, e := range evs {
		if e.Impression != nil {
			keys[e.Impression.UserID.KeyID]++
		}
	}
	assert.Equal(t, map[string]int{keyOctober.ID: 3 * testUsers, keyNovember.ID: 3 * testUsers}, keys, "half the traffic under each key")
	_, err := file.ReadDir(d.events, func(personalize.Event) error { return nil })
	assert.ErrorIs(t, err, file.ErrNoIdentity, "the files cannot be read without the identity")
}

func TestEraseRemovesTheUserUnderBothKeys(t *testing.T) {
	d := recorded(t)
	users, sessions := truth(t, 9)
	require.Len(t, sessions, 2)
	_, before := plaintext(t, d)
	want := 0
	for _, e := range events(t, before) {
		if owned(e, users, sessions) {
			want++
		}
	}
	require.Equal(t, 16, want, "6 impressions, 6 dwells, 2 links, 2 anonymous signups")

	st, left, err := d.erase(context.Background(), "user-000009")
	require.NoError(t, err)
	assert.EqualValues(t, want, st.Removed)
	assert.Equal(t, 2, st.LinkedSessions)
	assert.Zero(t, left)
	_, after := plaintext(t, d)
	for _, p := range append(users, sessions...) {
		assert.NotContains(t, string(after), p, "no trace of the erased user's pseudonyms")
	}
	assert.Len(t, events(t, after), d.written-want, "every other record is still there")
}

func TestAccessAnswersWithTheUsersRecords(t *testing.T) {
	d := recorded(t)
	users, sessions := truth(t, 42)
	_, text := plaintext(t, d)
	var want []personalize.EventID
	for _, e := range events(t, text) {
		if owned(e, users, sessions) {
			want = append(want, e.ID())
		}
	}
	path, st, err := d.access(context.Background(), "user-000042")
	require.NoError(t, err)
	assert.EqualValues(t, len(want), st.Records)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var got []personalize.EventID
	for _, e := range events(t, b) {
		got = append(got, e.ID())
	}
	assert.ElementsMatch(t, want, got)
}

func TestAuditLogVerifiesAndTamperingIsCaught(t *testing.T) {
	d := recorded(t)
	ctx := context.Background()
	_, _, err := d.erase(ctx, "user-000009")
	require.NoError(t, err)
	_, _, err = d.access(ctx, "user-000042")
	require.NoError(t, err)
	res, err := d.verify()
	require.NoError(t, err)
	assert.Equal(t, 3, res.Records, "erase, the access that checks it, the access request")

	edited, cut, err := d.tamper()
	require.NoError(t, err)
	var ve *audit.VerifyError
	require.ErrorAs(t, edited, &ve)
	assert.Contains(t, ve.Problem, "hash does not match")
	require.ErrorAs(t, cut, &ve)
	assert.Contains(t, ve.Problem, "truncated")
	// The originals still verify: tamper wrote copies.
	_, err = d.verify()
	assert.NoError(t, err)
}

func TestReleaseUntilTheBudgetIsSpent(t *testing.T) {
	d := recorded(t)
	tabs, refused, err := d.release()
	require.NoError(t, err)
	require.Len(t, tabs, 2, "epsilon 1 buys two releases of 0.5")
	var be *dp.BudgetError
	require.ErrorAs(t, refused, &be)
	assert.ErrorIs(t, refused, dp.ErrBudgetSpent)
	for _, tab := range tabs {
		require.Len(t, tab.Rows, len(surfaces))
		// Each user dwells twice on each surface; bounded to two surfaces,
		// a user adds 4 to the counts' total. The noise of the sum of
		// three independent counts has sd sqrt(3)·StdDev.
		total, sd := 0.0, 0.0
		for _, r := range tab.Rows {
			total += r.Count.Value
			sd = r.Count.StdDev
			assert.True(t, r.Mean.Lower <= r.Mean.Upper && r.Mean.Value >= 0 && r.Mean.Value <= 60)
		}
		assert.Positive(t, sd)
		assert.InDelta(t, 4*testUsers, total, 6*math.Sqrt(3)*sd)
	}
	assert.Equal(t, 1, countAudit(t, d), "the release read the files once, audited")
}

func countAudit(t *testing.T, d *demo) int {
	t.Helper()
	res, err := d.verify()
	require.NoError(t, err)
	return res.Records
}

// TestRunPrintsEachStep runs the whole demo and checks what it prints
// against the state it left.
func TestRunPrintsEachStep(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), options{out: dir, users: testUsers, seed: 3}, &out))
	text := out.String()
	t.Log("\n" + text)
	assert.LessOrEqual(t, strings.Count(text, "\n"), 16, "short output")
	m := regexp.MustCompile(`erased user-000009: (\d+) records removed \(with 2 linked anonymous sessions\), \d+ of \d+ files rewritten; left: 0`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	assert.Equal(t, "16", m[1])
	m = regexp.MustCompile(`access request of user-000042: (\d+) records -> (\S+)`).FindStringSubmatch(text)
	require.NotNil(t, m, text)
	b, err := os.ReadFile(m[2])
	require.NoError(t, err)
	n, _ := strconv.Atoi(m[1])
	assert.Equal(t, n, bytes.Count(b, []byte("\n")))
	assert.Contains(t, text, "release 3 refused: ")
	assert.Contains(t, text, "budget spent")
	assert.Regexp(t, `audit log: 4 records`, text)
	assert.Contains(t, text, "edited copy:    audit: verify: ")
	assert.Contains(t, text, "truncated copy: audit: verify: ")
	for _, s := range surfaces {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+s+` +~`), text, "a DP row per surface, marked ~")
	}

	// A second run starts over in the same directory.
	out.Reset()
	require.NoError(t, run(context.Background(), options{out: dir, users: testUsers, seed: 3}, &out))
	assert.Regexp(t, `audit log: 4 records`, out.String())
	assert.Error(t, run(context.Background(), options{out: dir, users: 10}, io.Discard))
}
