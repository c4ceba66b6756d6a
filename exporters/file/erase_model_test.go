package file_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// TestEraseKeepsModelRecords: a model lineage record has no user, so it
// is never a data subject's record, not even when one of its strings
// holds the subject's pseudonym (the bytes match, the record does not);
// the subject's own outcome in the same file goes, and Access does not
// return the model record.
func TestEraseKeepsModelRecords(t *testing.T) {
	kr, err := privacy.NewHMAC(newKey)
	require.NoError(t, err)
	alice, kid := kr.Pseudonymize(privacy.DomainUser, "alice")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	evs := []personalize.Event{
		{Type: personalize.EventModel, Model: &personalize.ModelMetadata{EventID: personalize.NewEventID(), Time: t0,
			Model: "two-tower", Version: "v7", FeatureHash: personalize.FeatureHash(nil), Owner: alice, TrainingSnapshot: alice}},
		{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: personalize.NewEventID(), Time: t0,
			UserID: personalize.Pseudonym{ID: alice, KeyID: kid}, Kind: personalize.OutcomeSignup}},
	}
	dir := t.TempDir()
	writeLines(t, filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl"), evs)
	subject, err := file.NewSubject(kr, "alice")
	require.NoError(t, err)

	var out bytes.Buffer
	_, err = file.Access(context.Background(), dir, &out, file.AccessConfig{Subject: subject})
	require.NoError(t, err)
	want, err := personalize.AppendJSON(nil, evs[1])
	require.NoError(t, err)
	assert.Equal(t, string(want)+"\n", out.String(), "the subject's export holds no model record")

	st, err := file.Erase(context.Background(), dir, file.EraseConfig{Subject: subject})
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Removed)
	assert.Equal(t, []personalize.EventID{evs[0].ID()}, eventIDs(t, dir))
}
