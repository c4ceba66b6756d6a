// Command governance walks through rankscope's privacy controls on a
// small simulated service, end to end:
//
//		go run ./examples/governance [-out DIR] [-users N] [-seed S]
//
//	 1. It records two months of traffic through the pipeline (personalize)
//	    into age-encrypted event files (exporters/file with Recipients),
//	    rotating the pseudonymization key between the months. Some users
//	    browse anonymously first (a session id only) and log in later (a
//	    link event ties the session to the user).
//	 2. It erases one user on request (file.Erase): their records under both
//	    keys and the anonymous records of their linked session.
//	 3. It answers another user's access request (file.Access) with their
//	    records as JSON lines.
//	 4. It verifies the hash-chained audit log every access above was
//	    recorded in (privacy/audit), and shows that an edited copy and a
//	    truncated copy fail verification.
//	 5. It releases a differentially private table of dwell time per
//	    surface (privacy/dp) until the dataset's budget is spent, and shows
//	    the refused release.
//
// Everything it writes goes under -out: the encrypted event files in
// events/, the age identity that reads them (age-identity.txt, a demo
// secret), the audit log and its head, and the access answer.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
	"github.com/rankscope/rankscope/privacy/audit"
	"github.com/rankscope/rankscope/privacy/dp"
)

func main() {
	o := options{}
	flag.StringVar(&o.out, "out", "rankscope-governance", "directory for everything the demo writes")
	flag.IntVar(&o.users, "users", 300, "simulated users")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.Parse()
	if err := run(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "governance:", err)
		os.Exit(1)
	}
}

type options struct {
	out   string
	users int
	seed  uint64
}

// The demo's secrets. A real service loads them from its secret store.
var (
	keyOctober  = privacy.Key{ID: "2026-10", Secret: []byte("governance-demo-key-october-not-a-secret")}
	keyNovember = privacy.Key{ID: "2026-11", Secret: []byte("governance-demo-key-november-not-a-secret")}
	auditKey    = []byte("governance-demo-audit-key-not-a-secret")
)

// The people of the demo.
const (
	officer    = "dpo@example.org" // who erases and exports, as the audit log records
	analyst    = "analyst@example.org"
	erasedUser = "user-000009"
	askingUser = "user-000042"
)

// surfaces are the segments of the DP table.
var surfaces = []string{"home_feed", "search", "product_page"}

// demo holds the paths and keys of one run.
type demo struct {
	dir, events         string
	auditLog, auditHead string
	identity            *age.X25519Identity
	keys                *privacy.Keyring // after rotation: both keys
	log                 *audit.Log
	written, anonymous  int // events recorded; anonymous sessions among them
}

func run(ctx context.Context, o options, w io.Writer) error {
	if o.users < 50 {
		return errors.New("-users must be at least 50 (the demo erases user 9 and exports user 42)")
	}
	d, err := setup(o.out)
	if err != nil {
		return err
	}
	defer d.log.Close()

	if err := d.record(ctx, o.users, o.seed); err != nil {
		return err
	}
	fmt.Fprintf(w, "recorded %d events of %d users in %s (age-encrypted, key rotated %s -> %s)\n",
		d.written, o.users, d.events, keyOctober.ID, keyNovember.ID)

	est, left, err := d.erase(ctx, erasedUser)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "erased %s: %d records removed (with %d linked anonymous sessions), %d of %d files rewritten; left: %d\n",
		erasedUser, est.Removed, est.LinkedSessions, est.Rewritten, est.Files, left)

	path, ast, err := d.access(ctx, askingUser)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "access request of %s: %d records -> %s\n", askingUser, ast.Records, path)

	tabs, refused, err := d.release()
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := tabs[0].WriteText(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "release %d refused: %v (each costs epsilon %g)\n\n", len(tabs)+1, refused, tabs[0].Epsilon)

	res, err := d.verify()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "audit log: %d records (erase, access, reads), chain and head verify\n", res.Records)
	edited, cut, err := d.tamper()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "edited copy:    %v\n", edited)
	fmt.Fprintf(w, "truncated copy: %v\n", cut)
	return nil
}

// setup clears the demo's outputs under out and makes the keys and the
// audit log.
func setup(out string) (*demo, error) {
	d := &demo{dir: out, events: filepath.Join(out, "events"),
		auditLog: filepath.Join(out, "audit.jsonl"), auditHead: filepath.Join(out, "audit.head")}
	for _, p := range []string{d.events, d.auditLog, d.auditHead} {
		if err := os.RemoveAll(p); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	var err error
	if d.identity, err = age.GenerateX25519Identity(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(out, "age-identity.txt"), []byte(d.identity.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	if d.keys, err = privacy.NewHMAC(keyNovember, keyOctober); err != nil {
		return nil, err
	}
	d.log, err = audit.Open(audit.Config{Path: d.auditLog, HeadFile: d.auditHead, Key: auditKey})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// record runs two months of traffic through the pipeline, one instrument
// and one encrypted file exporter per month, the second month under the
// rotated keyring. Each user makes three requests a month with a dwell on
// one item; every third user first browses anonymously, signs up in that
// session and is then linked to it.
func (d *demo) record(ctx context.Context, users int, seed uint64) error {
	october, err := privacy.NewHMAC(keyOctober)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 2026))
	months := []struct {
		keys  *privacy.Keyring
		start time.Time
	}{
		{october, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{d.keys, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	}
	for m, month := range months {
		exp, err := file.New(file.Config{Dir: d.events, Recipients: []age.Recipient{d.identity.Recipient()},
			MaxBytes: 128 << 10, Prefix: fmt.Sprintf("events-m%d", m+1)})
		if err != nil {
			return err
		}
		var pipelineErr error
		inst, err := personalize.New(personalize.Config{
			Service:      "feed-ranker",
			Pseudonymize: month.keys,
			Exporters:    []personalize.Exporter{exp},
			BlockTimeout: 10 * time.Second, // a demo keeps every event
			ErrorHandler: func(err error) { pipelineErr = errors.Join(pipelineErr, err) },
		})
		if err != nil {
			return err
		}
		for u := range users {
			user := fmt.Sprintf("user-%06d", u)
			session := fmt.Sprintf("sess-%06d-%d", u, m)
			at := month.start.Add(time.Duration(u) * time.Minute)
			if u%3 == 0 {
				anon := fmt.Sprintf("anon-%06d-%d", u, m)
				if err := inst.Outcome(ctx, personalize.Outcome{Session: anon, Kind: personalize.OutcomeSignup, Time: at}); err != nil {
					return err
				}
				if err := inst.Link(ctx, personalize.Link{User: user, Session: anon, Time: at}); err != nil {
					return err
				}
				d.written += 2
				d.anonymous++
			}
			for r := range 3 {
				surface := surfaces[(u+r)%len(surfaces)]
				_, inf := inst.Start(ctx, personalize.Request{User: user, Session: session, Surface: surface,
					Model: "ranker", ModelVersion: "v42", Time: at.Add(time.Duration(r) * time.Second),
					Context: []personalize.Attr{{Key: personalize.AttrDevice, Value: []string{"ios", "android", "desktop"}[u%3]}}})
				inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.9}, {ID: "sku-2", Position: 2, Score: 0.4}})
				if err := inf.End(nil); err != nil {
					return err
				}
				// Dwell grows with the surface's index, plus noise.
				dwell := time.Duration(10+10*((u+r)%len(surfaces))+rng.IntN(20)) * time.Second
				if err := inst.Outcome(ctx, personalize.Outcome{RequestID: inf.RequestID(), User: user, Session: session,
					Item: "sku-1", Kind: personalize.OutcomeDwell, Dwell: dwell, Surface: surface,
					Time: at.Add(time.Duration(r)*time.Second + dwell)}); err != nil {
					return err
				}
				d.written += 2
			}
		}
		if err := inst.Shutdown(ctx); err != nil { // shuts the exporter down: every file closed
			return err
		}
		if pipelineErr != nil {
			return pipelineErr
		}
	}
	return nil
}

// readConfig is how the demo reads the files: decrypting, and recording
// the read in the audit log as accessor's.
func (d *demo) readConfig(accessor string) file.ReadConfig {
	return file.ReadConfig{Identities: []age.Identity{d.identity}, Audit: d.log, Accessor: accessor}
}

// erase erases raw user and returns the erasure's stats and the records
// of the user an access request then still finds (0).
func (d *demo) erase(ctx context.Context, user string) (file.EraseStats, int64, error) {
	s, err := file.NewSubject(d.keys, user)
	if err != nil {
		return file.EraseStats{}, 0, err
	}
	st, err := file.Erase(ctx, d.events, file.EraseConfig{Subject: s, Identities: []age.Identity{d.identity},
		Recipients: []age.Recipient{d.identity.Recipient()}, Audit: d.log, Accessor: officer})
	if err != nil {
		return st, 0, err
	}
	check, err := file.Access(ctx, d.events, io.Discard, file.AccessConfig{Subject: st.Subject,
		Identities: []age.Identity{d.identity}, Audit: d.log, Accessor: officer})
	return st, check.Records, err
}

// access writes raw user's records to a file and returns its path.
func (d *demo) access(ctx context.Context, user string) (string, file.AccessStats, error) {
	s, err := file.NewSubject(d.keys, user)
	if err != nil {
		return "", file.AccessStats{}, err
	}
	path := filepath.Join(d.dir, "access-"+user+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", file.AccessStats{}, err
	}
	st, err := file.Access(ctx, d.events, f, file.AccessConfig{Subject: s, Identities: []age.Identity{d.identity},
		Audit: d.log, Accessor: officer})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, st, err
}

// release reads the dwell outcomes (an audited read) into a DP aggregator
// of dwell per surface and releases it until the budget refuses: the
// tables released, and the refusal.
func (d *demo) release() (tabs []*dp.Table, refused, err error) {
	budget, err := dp.NewBudget("dwell-2026-q4", 1.0, 0)
	if err != nil {
		return nil, nil, err
	}
	agg, err := dp.New(dp.Config{
		Budget:           budget,
		Epsilon:          0.5, // two releases fit in the budget
		Metrics:          []dp.Metric{dp.MetricCount, dp.MetricMean},
		MaxPartitions:    2,            // a user counts in at most two surfaces
		MaxContributions: 3,            // with at most three dwells each
		Lower:            0, Upper: 60, // seconds
		Segments: surfaces,
	})
	if err != nil {
		return nil, nil, err
	}
	_, err = d.readConfig(analyst).ReadDir(d.events, func(e personalize.Event) error {
		if o := e.Outcome; o != nil && o.Kind == personalize.OutcomeDwell && !o.UserID.IsZero() {
			return agg.Add(o.UserID.ID, o.Surface, o.Dwell.Seconds())
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for {
		tab, err := agg.Release()
		var spent *dp.BudgetError
		if errors.As(err, &spent) {
			return tabs, err, nil
		}
		if err != nil {
			return nil, nil, err
		}
		tabs = append(tabs, tab)
	}
}

// verify checks the audit log against its head.
func (d *demo) verify() (audit.Result, error) {
	head, err := audit.ReadHead(d.auditHead)
	if err != nil {
		return audit.Result{}, err
	}
	f, err := os.Open(d.auditLog)
	if err != nil {
		return audit.Result{}, err
	}
	defer f.Close()
	return audit.Verify(f, auditKey, &head)
}

// tamper writes two altered copies of the audit log, one with the
// erasure's accessor changed and one without its last record, and returns
// why each fails verification.
func (d *demo) tamper() (edited, truncated error, err error) {
	b, err := os.ReadFile(d.auditLog)
	if err != nil {
		return nil, nil, err
	}
	head, err := audit.ReadHead(d.auditHead)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n")
	copies := []string{
		strings.Replace(string(b), `"accessor":"`+officer+`"`, `"accessor":"someone@example.org"`, 1),
		strings.Join(lines[:len(lines)-1], ""),
	}
	var errs [2]error
	for i, c := range copies {
		path := filepath.Join(d.dir, []string{"audit-edited.jsonl", "audit-truncated.jsonl"}[i])
		if err := os.WriteFile(path, []byte(c), 0o600); err != nil {
			return nil, nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		_, errs[i] = audit.Verify(f, auditKey, &head)
		f.Close()
		if errs[i] == nil {
			return nil, nil, fmt.Errorf("the altered copy %s verified", path)
		}
	}
	return errs[0], errs[1], nil
}
