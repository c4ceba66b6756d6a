package file_test

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// exampleEvents returns 60 events, every third one of alice (whose
// pseudonym is under the old key for the first half, the new one after),
// the rest of others.
func exampleEvents(old, rotated *privacy.Keyring) []personalize.Event {
	evs := personalizetest.RandomEvents(seeded(3), 60)
	for i := range evs {
		if i%3 != 0 || evs[i].Impression == nil {
			continue
		}
		kr := old
		if i >= 30 {
			kr = rotated
		}
		id, key := kr.Pseudonymize(privacy.DomainUser, "alice")
		evs[i].Impression.UserID = personalize.Pseudonym{ID: id, KeyID: key}
	}
	return evs
}

// Erase one user on request: her pseudonyms under every key of the ring
// find her records from before and after a key rotation; the files that
// held them are rewritten without them.
func ExampleErase() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)
	oldKey := privacy.Key{ID: "2026-10", Secret: []byte("0123456789abcdef0123456789abcdef")}
	newKey := privacy.Key{ID: "2026-11", Secret: []byte("fedcba9876543210fedcba9876543210")}
	old, _ := privacy.NewHMAC(oldKey)
	rotated, _ := privacy.NewHMAC(newKey, oldKey)

	exp, _ := file.New(file.Config{Dir: dir, MaxBytes: 16 << 10})
	ctx := context.Background()
	_ = exp.Export(ctx, exampleEvents(old, rotated))
	_ = exp.Shutdown(ctx) // erase closed files: after rotation, or with the exporter stopped

	alice, err := file.NewSubject(rotated, "alice")
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := file.Erase(ctx, dir, file.EraseConfig{Subject: alice})
	fmt.Println(err, "pseudonyms:", len(alice.Users))
	fmt.Printf("files %d, rewritten %d, records removed %d\n", st.Files, st.Rewritten, st.Removed)
	n := 0
	_, _ = file.ReadDir(dir, func(personalize.Event) error { n++; return nil })
	fmt.Println("events left:", n)
	// Output:
	// <nil> pseudonyms: 2
	// files 7, rewritten 7, records removed 18
	// events left: 42
}

// Answer a data-subject access request: every record of one user, as
// the JSON lines the files hold.
func ExampleAccess() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)
	key := privacy.Key{ID: "2026-11", Secret: []byte("fedcba9876543210fedcba9876543210")}
	kr, _ := privacy.NewHMAC(key)
	exp, _ := file.New(file.Config{Dir: dir})
	ctx := context.Background()
	_ = exp.Export(ctx, exampleEvents(kr, kr))
	_ = exp.Shutdown(ctx)

	alice, _ := file.NewSubject(kr, "alice")
	var out bytes.Buffer
	st, err := file.Access(ctx, dir, &out, file.AccessConfig{Subject: alice})
	fmt.Println(err, st.Records, "records,", bytes.Count(out.Bytes(), []byte("\n")), "lines")
	first, _, _ := bytes.Cut(out.Bytes(), []byte("\n"))
	ev, err := personalize.UnmarshalEvent(first)
	fmt.Println(err, ev.Type, ev.Impression.UserID.ID == alice.Users[0])
	// Output:
	// <nil> 18 records, 18 lines
	// <nil> impression true
}
