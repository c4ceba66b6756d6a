package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// Subject is one person as the event files know them: the pseudonyms
// (personalize.Pseudonym.ID) of their user id and of session ids of
// theirs, under every key that may have made records. Build it with
// [NewSubject] from the raw ids and the keyring.
//
// Records are matched on the pseudonym alone, not on its key id: a
// pseudonym is 128 bits of HMAC output, so one made under another key
// coincides with it with probability about 2⁻¹²⁸, and a record whose
// key_id is missing is still found.
type Subject struct {
	Users    []string // user pseudonyms
	Sessions []string // session pseudonyms
}

// NewSubject returns the subject whose raw user id is user, with the raw
// session ids sessions (optional: sessions linked to the user by link
// events in the files are found without them), pseudonymized under every
// key of kr ([privacy.Keyring.PseudonymsOf]).
func NewSubject(kr *privacy.Keyring, user string, sessions ...string) (Subject, error) {
	if kr == nil {
		return Subject{}, fmt.Errorf("file: NewSubject: keyring: %w", privacy.ErrNoPseudonymizer)
	}
	if user == "" {
		return Subject{}, errors.New("file: NewSubject: user: empty")
	}
	s := Subject{Users: kr.PseudonymsOf(privacy.DomainUser, user)}
	for i, raw := range sessions {
		if raw == "" {
			return Subject{}, fmt.Errorf("file: NewSubject: sessions[%d]: empty", i)
		}
		s.Sessions = append(s.Sessions, kr.PseudonymsOf(privacy.DomainSession, raw)...)
	}
	return s, nil
}

// check validates s as the field named field.
func (s Subject) check(field string) error {
	if len(s.Users)+len(s.Sessions) == 0 {
		return fmt.Errorf("file: %s: no user or session pseudonym", field)
	}
	for i, u := range s.Users {
		if u == "" {
			return fmt.Errorf("file: %s.Users[%d]: empty", field, i)
		}
	}
	for i, v := range s.Sessions {
		if v == "" {
			return fmt.Errorf("file: %s.Sessions[%d]: empty", field, i)
		}
	}
	return nil
}

// ref names the subject in an audit record: its first pseudonym.
func (s Subject) ref() string {
	if len(s.Users) > 0 {
		return "user:" + s.Users[0]
	}
	return "session:" + s.Sessions[0]
}

// matcher decides which lines are a subject's records.
type matcher struct {
	users, sessions map[string]struct{}
	targets         [][]byte // every pseudonym, for the byte prefilter
	linked          []string // sessions added through link events
}

func newMatcher(s Subject) *matcher {
	m := &matcher{users: map[string]struct{}{}, sessions: map[string]struct{}{}}
	for _, u := range s.Users {
		if _, dup := m.users[u]; !dup {
			m.users[u] = struct{}{}
			m.targets = append(m.targets, []byte(u))
		}
	}
	for _, v := range s.Sessions {
		m.addSession(v)
	}
	m.linked = nil
	return m
}

func (m *matcher) addSession(v string) {
	if _, dup := m.sessions[v]; dup || v == "" {
		return
	}
	m.sessions[v] = struct{}{}
	m.targets = append(m.targets, []byte(v))
	m.linked = append(m.linked, v)
}

// subject returns the subject with the linked sessions added.
func (m *matcher) subject(s Subject) Subject {
	return Subject{Users: slices.Clone(s.Users), Sessions: append(slices.Clone(s.Sessions), m.linked...)}
}

// verdict is what a line is to the subject.
type verdict uint8

const (
	notSubject  verdict = iota // someone else's record, or no record a pseudonym shows in
	subjectRec                 // a record of the subject
	undecodable                // a line that does not decode and holds a subject's pseudonym
)

// escapeMark starts a JSON \u escape: a line with one is decoded even
// without a pseudonym in its bytes, since an escaped hex digit would hide
// one from the prefilter (the exporter never writes one: pseudonyms are
// hex).
var escapeMark = []byte(`\u`)

// judge classifies a line. Lines holding none of the subject's pseudonyms
// byte for byte (and no \u escape) are not decoded. A record is the
// subject's if its user_id is one of Users, or if it has no user_id and
// its session_id is one of Sessions: a record carrying another user's id
// stays, whatever its session. For a subject's record, ev is the decoded
// event.
func (m *matcher) judge(line []byte) (personalize.Event, verdict) {
	hit := false
	for _, t := range m.targets {
		if bytes.Contains(line, t) {
			hit = true
			break
		}
	}
	if !hit && !bytes.Contains(line, escapeMark) {
		return personalize.Event{}, notSubject
	}
	ev, err := personalize.UnmarshalEvent(line)
	if err != nil {
		if hit {
			return personalize.Event{}, undecodable
		}
		return personalize.Event{}, notSubject
	}
	user, session := idsOf(ev)
	if user != "" {
		if _, ok := m.users[user]; ok {
			return ev, subjectRec
		}
		return personalize.Event{}, notSubject
	}
	if _, ok := m.sessions[session]; ok && session != "" {
		return ev, subjectRec
	}
	return personalize.Event{}, notSubject
}

// link records the session of a subject's link event.
func (m *matcher) link(ev personalize.Event) {
	if ev.Link == nil {
		return
	}
	if _, ok := m.users[ev.Link.UserID.ID]; ok {
		m.addSession(ev.Link.SessionID.ID)
	}
}

// idsOf returns the user and session pseudonyms of an event.
func idsOf(ev personalize.Event) (user, session string) {
	switch {
	case ev.Impression != nil:
		return ev.Impression.UserID.ID, ev.Impression.SessionID.ID
	case ev.Outcome != nil:
		return ev.Outcome.UserID.ID, ev.Outcome.SessionID.ID
	case ev.Exposure != nil:
		return ev.Exposure.UserID.ID, ""
	case ev.Link != nil:
		return ev.Link.UserID.ID, ev.Link.SessionID.ID
	case ev.Model != nil:
		return "", "" // a model lineage record is no one's: never a subject's record
	}
	return "", ""
}

// subjectFiles lists dir's JSON-lines event files in [NewReader]'s order.
func subjectFiles(dir string) ([]dirFile, error) {
	r, err := ReadConfig{}.NewReader(dir)
	if err != nil {
		return nil, err
	}
	return r.files, nil
}

// otherFormatExts are the extensions of event files other packages write
// into an event directory that Erase and Access cannot read or rewrite,
// besides those registered with [RegisterFormat]: ".parquet" is listed
// whether or not exporters/parquet is linked in.
var otherFormatExts = []string{".parquet"}

// otherFormat reports whether name is such a file, finished or still
// being written (".open" appended, as exporters/parquet does).
func otherFormat(name string) bool {
	base := strings.TrimSuffix(name, OpenExt)
	if formatOf(base) != nil {
		return true
	}
	for _, ext := range otherFormatExts {
		if strings.HasSuffix(base, ext) {
			return true
		}
	}
	return false
}

// MaxReportedPaths bounds the paths listed in [EraseStats].OtherFormatPaths
// and [AccessStats].OtherFormatPaths.
const MaxReportedPaths = 16

// otherFormats walks dir and its subdirectories (Hive-style partitions),
// hidden ones included, for files of other formats (otherFormat), returning their number and the first
// MaxReportedPaths of them.
func otherFormats(dir string) (int, []string, error) {
	n := 0
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if otherFormat(d.Name()) {
			n++
			if len(paths) < MaxReportedPaths {
				paths = append(paths, path)
			}
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("file: walk %s: %w", dir, err)
	}
	return n, paths, nil
}

// errVanished is returned by eachLine for a file deleted since the listing
// (by retention, or a closed name that moved).
var errVanished = errors.New("file vanished")

// eachLine calls fn with every line of f (decrypted with ids if sealed),
// without its newline, and whether the newline was there; the line is
// valid until fn returns. It fails on a line longer than maxLine and on an
// encrypted file that cannot be decrypted to its end, with a *LineError
// naming the file and line; in an ".open" file the undecryptable rest is a
// torn tail, reported by torn = true and not an error. It checks ctx every
// 4096 lines.
func eachLine(ctx context.Context, f dirFile, ids []age.Identity, maxLine int, fn func(line []byte, complete bool) error) (torn bool, err error) {
	h, err := os.Open(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, errVanished
	}
	if err != nil {
		return false, fmt.Errorf("file: open: %w", err)
	}
	defer h.Close()
	var src io.Reader = h
	if f.sealed {
		dec, err := ReadConfig{Identities: ids}.openSealed(h)
		if err != nil {
			var derr *DecryptError
			if errors.As(err, &derr) {
				return false, &LineError{File: f.path, Line: 1, Err: derr}
			}
			return false, fmt.Errorf("file: open %s: %w", f.path, err)
		}
		src = sealedReader{dec}
	}
	r := &Reader{cfg: ReadConfig{MaxLineBytes: maxLine}, br: bufio.NewReaderSize(src, readBufSize)}
	var off int64
	for line := 1; ; line++ {
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		data, n, complete, tooLong, err := r.readLine()
		if derr := asDecryptError(err); derr != nil {
			if f.open {
				return true, nil
			}
			return false, &LineError{File: f.path, Line: line, Offset: off, Err: derr}
		}
		if err != nil {
			return false, fmt.Errorf("file: read %s: %w", f.path, err)
		}
		if n == 0 {
			return false, nil
		}
		if tooLong {
			return false, &LineError{File: f.path, Line: line, Offset: off, Err: ErrLineTooLong}
		}
		if err := fn(data, complete); err != nil {
			return false, err
		}
		off += n
	}
}

// EraseConfig configures [Erase].
type EraseConfig struct {
	// Subject is whose records are erased. Required.
	Subject Subject
	// Identities decrypt encrypted files (".jsonl.age"); required if the
	// directory holds any.
	Identities []age.Identity
	// Recipients encrypt the rewritten encrypted files; required if the
	// directory holds any, and one of Identities must open what they seal
	// (checked first), so that a rewrite never leaves other users' records
	// in a file nobody here can read. They may differ from the recipients
	// the files were written to: a rewrite then moves the file to them.
	Recipients []age.Recipient
	// IncludeOpen also rewrites ".open" files. Only for files a crashed
	// writer left behind: an exporter still writing one keeps writing to
	// the replaced file, and every line it writes after the rewrite is
	// lost. Without it, ".open" files are only read, and the subject's
	// records in them are counted in EraseStats.LeftInOpen.
	IncludeOpen bool
	// SkipOtherFormats lets the erasure proceed though dir (or a
	// subdirectory) holds event files Erase cannot rewrite (Parquet,
	// written by exporters/parquet); they are left as they are and counted
	// in EraseStats.OtherFormats. Without it such a directory is refused
	// before anything is changed.
	SkipOtherFormats bool
	// MaxLineBytes is the longest line; a longer one fails the erasure
	// before any file is rewritten. Default [DefaultMaxLineBytes].
	MaxLineBytes int
	// Audit, if set, records the erasure as (Accessor, "erase",
	// "<dir>#subject=user:<first user pseudonym>") before anything is
	// read; if the record cannot be written nothing is erased. Accessor is
	// required with Audit.
	Audit    Auditor
	Accessor string
}

// EraseStats describes an erasure.
type EraseStats struct {
	Files     int   // JSON-lines files read, ".open" ones included
	Rewritten int   // files replaced by a copy without the subject's records
	Removed   int64 // records of the subject removed
	// Undecodable counts lines removed that did not decode as events but
	// held one of the subject's pseudonyms (not in Removed). Lines that do
	// not decode and hold none are kept as they are.
	Undecodable int64
	// LinkedSessions counts the session pseudonyms found through the
	// subject's link events; their records without a user id were erased
	// too. Subject lists them.
	LinkedSessions int
	// OpenSkipped counts ".open" files left as they are (IncludeOpen
	// unset), LeftInOpen the subject's records still in them.
	OpenSkipped int
	LeftInOpen  int64
	// TornDropped counts ".open" encrypted files rewritten (IncludeOpen)
	// whose undecryptable tail (a crashed writer's last, cut chunk) was
	// dropped: it could not be read by anyone.
	TornDropped int
	// OtherFormats counts files Erase cannot rewrite (SkipOtherFormats),
	// OtherFormatPaths lists the first [MaxReportedPaths].
	OtherFormats     int
	OtherFormatPaths []string
	// StaleTemps counts temporary files of an interrupted erasure removed.
	StaleTemps int
	// Subject is the subject as erased: the given pseudonyms and the
	// linked sessions. Pass it to a retry or to [Access].
	Subject Subject
}

// rewriteOps are the file operations of a rewrite, replaced by tests to
// inject faults.
var rewriteOps = struct {
	createTemp func(dir, pattern string) (*os.File, error)
	wrap       func(io.Writer) io.Writer // around the temp file's writes
	sync       func(*os.File) error
	rename     func(oldpath, newpath string) error
	syncDir    func(dir string) error
}{
	createTemp: os.CreateTemp,
	wrap:       func(w io.Writer) io.Writer { return w },
	sync:       (*os.File).Sync,
	rename:     os.Rename,
	syncDir:    syncDir,
}

// tempMark is in the name of every temporary file of a rewrite:
// "." + file name + tempMark + random + tempExt. Readers and retention
// ignore such names.
const (
	tempMark = ".erase-"
	tempExt  = ".tmp"
)

// eraseLockName is the lock file that keeps two erasures of one directory
// apart.
const eraseLockName = ".erase.lock"

// Erase removes every record of one subject from the event files of dir
// (the JSON-lines files [NewReader] lists, plain and encrypted), and
// rewrites each file that held one; see the package doc, "Erasure". The
// records kept stay in their order, byte for byte.
//
// It reads every file before it changes any, to find the sessions the
// subject's link events name and to fail (on a line too long, a damaged
// encrypted file, a missing identity or recipient) before anything is
// rewritten. Each file that needs it is then replaced atomically: a
// temporary copy in dir is written, fsynced, renamed over the file and
// the directory fsynced, so a crash or an error at any point leaves the
// old file or the new one, never a cut one. Files holding the subject's
// link events are rewritten last. An error stops the erasure; the files
// rewritten before it hold none of the subject's records, so running it
// again with the same Subject (or EraseStats.Subject, which keeps the
// linked sessions) finishes the work.
//
// Erase is safe to run beside an exporter writing to dir only as far as
// closed files go: see [EraseConfig].IncludeOpen. Two erasures of one
// directory exclude each other through a lock file (".erase.lock", flock
// on Unix; elsewhere they must not overlap). ctx is checked between
// files and every 4096 lines.
func Erase(ctx context.Context, dir string, cfg EraseConfig) (EraseStats, error) {
	var st EraseStats
	if err := cfg.Subject.check("EraseConfig.Subject"); err != nil {
		return st, err
	}
	maxLine, err := checkSubjectRead("EraseConfig", cfg.MaxLineBytes, cfg.Identities, cfg.Audit, cfg.Accessor)
	if err != nil {
		return st, err
	}
	for i, r := range cfg.Recipients {
		if r == nil {
			return st, fmt.Errorf("file: EraseConfig.Recipients[%d]: is nil", i)
		}
	}
	if cfg.Audit != nil {
		if err := cfg.Audit.Append(cfg.Accessor, "erase", dir+"#subject="+cfg.Subject.ref()); err != nil {
			return st, fmt.Errorf("file: EraseConfig.Audit: %w", err)
		}
	}
	n, paths, err := otherFormats(dir)
	if err != nil {
		return st, err
	}
	if n > 0 && !cfg.SkipOtherFormats {
		return st, fmt.Errorf("file: Erase: %s holds %d event files in a format Erase cannot rewrite (%s); "+
			"erase those by their own means and set EraseConfig.SkipOtherFormats", dir, n, strings.Join(paths, ", "))
	}
	st.OtherFormats, st.OtherFormatPaths = n, paths

	lock, err := lockErase(dir)
	if err != nil {
		return st, fmt.Errorf("file: Erase: %w", err)
	}
	defer unlockErase(lock)
	if st.StaleTemps, err = removeStaleTemps(dir); err != nil {
		return st, err
	}
	files, err := subjectFiles(dir)
	if err != nil {
		return st, err
	}
	if err := checkKeys(files, cfg); err != nil {
		return st, err
	}

	// Pass 1: every file, to find linked sessions and refuse damage early.
	m := newMatcher(cfg.Subject)
	type plan struct {
		f      dirFile
		direct bool // a record of the subject was found (before all links were known)
		links  bool // holds a subject's link event
		gone   bool
	}
	plans := make([]plan, 0, len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		p := plan{f: f}
		_, err := eachLine(ctx, f, cfg.Identities, maxLine, func(line []byte, _ bool) error {
			ev, v := m.judge(line)
			if v != notSubject {
				p.direct = true
			}
			if v == subjectRec && ev.Link != nil {
				m.link(ev)
				p.links = true
			}
			return nil
		})
		if errors.Is(err, errVanished) {
			p.gone = true
		} else if err != nil {
			return st, fmt.Errorf("file: Erase: nothing rewritten: %w", err)
		} else {
			st.Files++
		}
		plans = append(plans, p)
	}
	st.LinkedSessions = len(m.linked)
	st.Subject = m.subject(cfg.Subject)

	// Pass 2: link-free files first, so that an error leaves the links
	// for a retry.
	slices.SortStableFunc(plans, func(a, b plan) int {
		switch {
		case a.links == b.links:
			return 0
		case b.links:
			return -1
		}
		return 1
	})
	for _, p := range plans {
		if p.gone {
			continue
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if p.f.open && !cfg.IncludeOpen {
			st.OpenSkipped++
			left, err := countSubject(ctx, p.f, cfg.Identities, maxLine, m)
			if err != nil && !errors.Is(err, errVanished) {
				return st, fmt.Errorf("file: Erase: %w", err)
			}
			st.LeftInOpen += left
			continue
		}
		if !p.direct && st.LinkedSessions > 0 {
			n, err := countSubject(ctx, p.f, cfg.Identities, maxLine, m)
			if errors.Is(err, errVanished) {
				continue
			}
			if err != nil {
				return st, fmt.Errorf("file: Erase: %w", err)
			}
			p.direct = n > 0
		}
		if !p.direct {
			continue
		}
		res, err := rewrite(ctx, p.f, cfg, maxLine, m)
		st.Removed += res.removed
		st.Undecodable += res.undecodable
		if res.renamed {
			st.Rewritten++
			if res.torn {
				st.TornDropped++
			}
		}
		if errors.Is(err, errVanished) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("file: Erase: %w", err)
		}
	}
	return st, nil
}

// checkSubjectRead validates the read options Erase and Access share.
func checkSubjectRead(cfgName string, maxLine int, ids []age.Identity, audit Auditor, accessor string) (int, error) {
	if maxLine < 0 {
		return 0, fmt.Errorf("file: %s.MaxLineBytes: must be >= 0, got %d", cfgName, maxLine)
	}
	if maxLine == 0 {
		maxLine = DefaultMaxLineBytes
	}
	for i, id := range ids {
		if id == nil {
			return 0, fmt.Errorf("file: %s.Identities[%d]: is nil", cfgName, i)
		}
	}
	switch {
	case audit == nil && accessor != "":
		return 0, fmt.Errorf("file: %s.Accessor: set without %s.Audit, so the access would go unrecorded", cfgName, cfgName)
	case audit != nil && accessor == "":
		return 0, fmt.Errorf("file: %s.Accessor: required with %s.Audit", cfgName, cfgName)
	}
	return maxLine, nil
}

// checkKeys refuses an erasure of encrypted files without identities to
// read them, without recipients to rewrite them, or with recipients none
// of the identities opens.
func checkKeys(files []dirFile, cfg EraseConfig) error {
	i := slices.IndexFunc(files, func(f dirFile) bool { return f.sealed && (!f.open || cfg.IncludeOpen) })
	if i < 0 {
		if j := slices.IndexFunc(files, func(f dirFile) bool { return f.sealed }); j >= 0 && len(cfg.Identities) == 0 {
			return fmt.Errorf("%w: %s", ErrNoIdentity, files[j].path)
		}
		return nil
	}
	name := files[i].path
	if len(cfg.Identities) == 0 {
		return fmt.Errorf("%w: %s", ErrNoIdentity, name)
	}
	if len(cfg.Recipients) == 0 {
		return fmt.Errorf("file: EraseConfig.Recipients: required to rewrite encrypted files such as %s; nothing rewritten", name)
	}
	var probe bytes.Buffer
	w, err := age.Encrypt(&probe, cfg.Recipients...)
	if err == nil {
		_, err = io.WriteString(w, "probe")
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return fmt.Errorf("file: EraseConfig.Recipients: %w", err)
	}
	if _, err := age.Decrypt(&probe, cfg.Identities...); err != nil {
		return fmt.Errorf("file: EraseConfig.Identities: none opens a file encrypted to EraseConfig.Recipients, "+
			"so rewritten files could not be read back; nothing rewritten: %w", err)
	}
	return nil
}

// countSubject counts the subject's records and undecodable lines in f.
func countSubject(ctx context.Context, f dirFile, ids []age.Identity, maxLine int, m *matcher) (int64, error) {
	var n int64
	_, err := eachLine(ctx, f, ids, maxLine, func(line []byte, _ bool) error {
		if _, v := m.judge(line); v != notSubject {
			n++
		}
		return nil
	})
	return n, err
}

type rewriteResult struct {
	removed, undecodable int64
	torn                 bool // an encrypted .open file's torn tail was dropped
	renamed              bool // the new file replaced the old one
}

// rewrite replaces f with a copy without the subject's lines: a temporary
// file in the same directory, synced, renamed over f, then the directory
// synced. On an error before the rename the temporary file is removed and
// f is as it was.
func rewrite(ctx context.Context, f dirFile, cfg EraseConfig, maxLine int, m *matcher) (res rewriteResult, err error) {
	dir, base := filepath.Split(f.path)
	if dir == "" {
		dir = "."
	}
	info, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return res, errVanished
	}
	if err != nil {
		return res, fmt.Errorf("stat: %w", err)
	}
	tmp, err := rewriteOps.createTemp(dir, "."+base+tempMark+"*"+tempExt)
	if err != nil {
		return res, fmt.Errorf("rewrite %s: %w", f.path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return res, fmt.Errorf("rewrite %s: %w", f.path, err)
	}
	bw := bufio.NewWriterSize(rewriteOps.wrap(tmp), readBufSize)
	var w io.Writer = bw
	var enc io.WriteCloser
	if f.sealed {
		if enc, err = age.Encrypt(bw, cfg.Recipients...); err != nil {
			return res, fmt.Errorf("rewrite %s: encrypt: %w", f.path, err)
		}
		w = enc
	}
	res.torn, err = eachLine(ctx, f, cfg.Identities, maxLine, func(line []byte, complete bool) error {
		switch _, v := m.judge(line); v {
		case subjectRec:
			res.removed++
			return nil
		case undecodable:
			res.undecodable++
			return nil
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if complete {
			_, err := w.Write(newline)
			return err
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errVanished) {
			return rewriteResult{}, err
		}
		return rewriteResult{}, fmt.Errorf("rewrite %s: %w", f.path, err)
	}
	if enc != nil {
		err = enc.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = rewriteOps.sync(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return rewriteResult{}, fmt.Errorf("rewrite %s: %w", f.path, err)
	}
	if err := rewriteOps.rename(tmp.Name(), f.path); err != nil {
		return rewriteResult{}, fmt.Errorf("rewrite %s: %w", f.path, err)
	}
	done = true
	res.renamed = true
	if err := rewriteOps.syncDir(dir); err != nil {
		return res, fmt.Errorf("rewrite %s: renamed, but: %w", f.path, err)
	}
	return res, nil
}

// removeStaleTemps removes the temporary files of a rewrite a crash
// interrupted (the erasure lock is held, so none is in use).
func removeStaleTemps(dir string) (int, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("file: read dir: %w", err)
	}
	n := 0
	for _, de := range des {
		name := de.Name()
		if !de.Type().IsRegular() || name[0] != '.' || !strings.Contains(name, tempMark) || !strings.HasSuffix(name, tempExt) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("file: Erase: remove stale %s: %w", name, err)
		}
		n++
	}
	if n > 0 {
		return n, syncDir(dir)
	}
	return n, nil
}
