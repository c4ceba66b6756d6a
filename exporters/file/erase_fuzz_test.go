package file_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// FuzzErase erases a fixed subject (a user pseudonym) from arbitrary bytes
// read as a closed event file, and exports it with Access first. Neither
// may panic. If the erasure fails the file is unchanged. If it succeeds,
// the file is the input with some lines taken out, in order, byte for
// byte; every line taken out holds the subject's pseudonym or a linked
// session (or hid one behind a \u escape); Access exported exactly the
// decodable lines taken out, and counted the others.
func FuzzErase(f *testing.F) {
	const user = "00112233445566778899aabbccddeeff"
	const sess = "ffeeddccbbaa99887766554433221100"
	evs := personalizetest.RandomEvents(seeded(50), 6)
	if evs[0].Impression != nil {
		evs[0].Impression.UserID = personalize.Pseudonym{ID: user}
	}
	link := personalize.Event{Type: personalize.EventLink, Link: &personalize.Link{EventID: evs[1].ID(), Time: personalizetest.BaseTime,
		Service: "s", UserID: personalize.Pseudonym{ID: user}, SessionID: personalize.Pseudonym{ID: sess}}}
	anon := personalizetest.RandomEvent(seeded(51), personalize.EventOutcome)
	anon.Outcome.UserID, anon.Outcome.SessionID = personalize.Pseudonym{}, personalize.Pseudonym{ID: sess}
	var good []byte
	for _, e := range append([]personalize.Event{anon, link}, evs...) {
		b, _ := personalize.AppendJSON(nil, e)
		good = append(append(good, b...), '\n')
	}
	f.Add(good)
	f.Add(good[:len(good)-40])
	f.Add([]byte(`{"type":"impression","user_id":"` + user + "\"\n\n" + `{"a":"\u0030"}` + "\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		subject := file.Subject{Users: []string{user}}
		var exported bytes.Buffer
		ast, aerr := file.Access(context.Background(), dir, &exported, file.AccessConfig{Subject: subject, SkipMalformed: true, MaxLineBytes: 1 << 16})
		st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: subject, MaxLineBytes: 1 << 16})
		got, rerr := os.ReadFile(path)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			if !bytes.Equal(got, data) {
				t.Fatalf("failed erasure (%v) changed the file", err)
			}
			return
		}
		if aerr != nil {
			t.Fatalf("Access failed (%v) where Erase did not", aerr)
		}
		// got must be data with whole lines taken out.
		lines := bytes.SplitAfter(data, []byte("\n"))
		var removed [][]byte
		rest := got
		for _, l := range lines {
			if bytes.HasPrefix(rest, l) && (len(l) == 0 || l[len(l)-1] == '\n' || len(rest) == len(l)) {
				rest = rest[len(l):]
				continue
			}
			removed = append(removed, l)
		}
		if len(rest) != 0 {
			t.Fatalf("the erased file is not the input minus whole lines; %d bytes left over", len(rest))
		}
		if int64(len(removed)) != st.Removed+st.Undecodable {
			t.Fatalf("%d lines gone, stats say %d removed + %d undecodable", len(removed), st.Removed, st.Undecodable)
		}
		// Sessions linked to the subject by link events in the input are
		// the subject's too, whatever their bytes.
		marks := [][]byte{[]byte(user), []byte(sess), []byte(`\u`)}
		for _, l := range lines {
			ev, err := personalize.UnmarshalEvent(bytes.TrimSuffix(l, []byte("\n")))
			if err == nil && ev.Link != nil && ev.Link.UserID.ID == user && ev.Link.SessionID.ID != "" {
				marks = append(marks, []byte(ev.Link.SessionID.ID))
			}
		}
		var want bytes.Buffer
		for _, l := range removed {
			if !slices.ContainsFunc(marks, func(m []byte) bool { return bytes.Contains(l, m) }) {
				t.Fatalf("removed a line holding no pseudonym of the subject: %q", l)
			}
			body := bytes.TrimSuffix(l, []byte("\n"))
			if _, err := personalize.UnmarshalEvent(body); err == nil {
				want.Write(body)
				want.WriteByte('\n')
			}
		}
		if !bytes.Equal(want.Bytes(), exported.Bytes()) {
			t.Fatalf("Access exported\n%q\nErase removed the records\n%q", exported.Bytes(), want.Bytes())
		}
		if ast.Undecodable != st.Undecodable {
			t.Fatalf("Access counted %d undecodable lines, Erase removed %d", ast.Undecodable, st.Undecodable)
		}
	})
}
