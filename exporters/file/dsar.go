package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

// AccessConfig configures [Access].
type AccessConfig struct {
	// Subject is whose records are exported. Required.
	Subject Subject
	// Identities decrypt encrypted files; required if dir holds any.
	Identities []age.Identity
	// SkipOtherFormats lets the export proceed though dir (or a
	// subdirectory) holds event files Access cannot read (Parquet); they
	// are counted in AccessStats.OtherFormats. Without it such a
	// directory is refused before anything is written to w, since the
	// answer would be incomplete.
	SkipOtherFormats bool
	// SkipMalformed counts, in AccessStats.Undecodable, lines that hold
	// one of the subject's pseudonyms but do not decode as events, instead
	// of failing with a *LineError. Such lines are never written to w.
	SkipMalformed bool
	// MaxLineBytes is the longest line; a longer one fails the export.
	// Default [DefaultMaxLineBytes].
	MaxLineBytes int
	// Audit, if set, records the export as (Accessor, "access",
	// "<dir>#subject=user:<first user pseudonym>") before anything is
	// read; if the record cannot be written nothing is read. Accessor is
	// required with Audit.
	Audit    Auditor
	Accessor string
}

// AccessStats describes a data-subject export.
type AccessStats struct {
	Files   int   // JSON-lines files read
	Records int64 // records written to w
	Bytes   int64 // bytes written to w
	// LinkedSessions counts the session pseudonyms found through the
	// subject's link events; Subject lists them.
	LinkedSessions int
	// Torn counts torn last lines of ".open" files (a writer's line in
	// progress, or a crashed writer's), not exported.
	Torn int
	// Undecodable counts lines holding a subject's pseudonym that did not
	// decode (SkipMalformed), not exported.
	Undecodable int64
	// OtherFormats counts files Access cannot read (SkipOtherFormats),
	// OtherFormatPaths lists the first [MaxReportedPaths].
	OtherFormats     int
	OtherFormatPaths []string
	// Subject is the subject as exported, with the linked sessions.
	Subject Subject
}

// Access answers a data subject's request for their data (GDPR Articles
// 15 and 20): it writes every record of cfg.Subject in dir's event files
// (plain and encrypted, closed and ".open") to w as JSON lines, each
// record exactly as stored (the schema of docs/SCHEMA.md, one per line,
// "\n"-terminated), in file creation order and line order. Records are
// matched as [Erase] matches them (see [Subject]), including records
// without a user id whose session a link event of the subject names; the
// files are read twice, first for those links.
//
// JSON lines rather than a JSON array: the format the files already
// hold, written as it is read, so memory stays bounded by one line
// whatever the subject's record count, and each line reads back with
// personalize.UnmarshalEvent. A reader wanting one JSON document wraps
// the lines in brackets and commas.
//
// A torn last line of an ".open" file is skipped and counted; a line too
// long, a damaged encrypted file or (unless SkipMalformed) an undecodable
// line holding a subject's pseudonym fails the export with a *[LineError],
// after the records before it were written to w. ctx is checked between
// files and every 4096 lines.
func Access(ctx context.Context, dir string, w io.Writer, cfg AccessConfig) (AccessStats, error) {
	var st AccessStats
	if err := cfg.Subject.check("AccessConfig.Subject"); err != nil {
		return st, err
	}
	maxLine, err := checkSubjectRead("AccessConfig", cfg.MaxLineBytes, cfg.Identities, cfg.Audit, cfg.Accessor)
	if err != nil {
		return st, err
	}
	if w == nil {
		return st, errors.New("file: Access: nil writer")
	}
	if cfg.Audit != nil {
		if err := cfg.Audit.Append(cfg.Accessor, "access", dir+"#subject="+cfg.Subject.ref()); err != nil {
			return st, fmt.Errorf("file: AccessConfig.Audit: %w", err)
		}
	}
	n, paths, err := otherFormats(dir)
	if err != nil {
		return st, err
	}
	if n > 0 && !cfg.SkipOtherFormats {
		return st, fmt.Errorf("file: Access: %s holds %d event files in a format Access cannot read (%s); "+
			"export those by their own means and set AccessConfig.SkipOtherFormats", dir, n, strings.Join(paths, ", "))
	}
	st.OtherFormats, st.OtherFormatPaths = n, paths
	files, err := subjectFiles(dir)
	if err != nil {
		return st, err
	}
	for _, f := range files {
		if f.sealed && len(cfg.Identities) == 0 {
			return st, fmt.Errorf("%w: %s", ErrNoIdentity, f.path)
		}
	}

	m := newMatcher(cfg.Subject)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		_, err := eachLine(ctx, f, cfg.Identities, maxLine, func(line []byte, complete bool) error {
			if ev, v := m.judge(line); v == subjectRec && ev.Link != nil && (complete || !f.open) {
				m.link(ev)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errVanished) {
			return st, fmt.Errorf("file: Access: %w", err)
		}
	}
	st.LinkedSessions = len(m.linked)
	st.Subject = m.subject(cfg.Subject)

	bw := bufio.NewWriterSize(w, readBufSize)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return st, errors.Join(err, bw.Flush())
		}
		line := 0
		var off int64
		torn, err := eachLine(ctx, f, cfg.Identities, maxLine, func(data []byte, complete bool) error {
			line++
			defer func() { off += int64(len(data)) + 1 }()
			if f.open && !complete {
				st.Torn++
				return nil
			}
			switch _, v := m.judge(data); v {
			case undecodable:
				if !cfg.SkipMalformed {
					return &LineError{File: f.path, Line: line, Offset: off,
						Err: errors.New("holds a pseudonym of the subject but does not decode as an event")}
				}
				st.Undecodable++
				return nil
			case notSubject:
				return nil
			}
			k, err := bw.Write(data)
			st.Bytes += int64(k)
			if err == nil {
				err = bw.WriteByte('\n')
			}
			if err != nil {
				return fmt.Errorf("file: Access: write: %w", err)
			}
			st.Bytes++
			st.Records++
			return nil
		})
		if torn {
			st.Torn++
		}
		if errors.Is(err, errVanished) {
			continue
		}
		if err != nil {
			return st, errors.Join(fmt.Errorf("file: Access: %w", err), bw.Flush())
		}
		st.Files++
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("file: Access: write: %w", err)
	}
	return st, nil
}
