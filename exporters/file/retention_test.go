package file_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	t0 := clk.Now()
	// Left by earlier processes: a crashed file of this prefix from 3 days
	// ago (deleted at New), another writer's file (kept), a recent file.
	old := "events-" + t0.Add(-72*time.Hour).Format("20060102T150405.000000000Z") + "-000007.jsonl.open"
	other := "clicks-" + t0.Add(-72*time.Hour).Format("20060102T150405.000000000Z") + "-000000.jsonl"
	recent := "events-" + t0.Add(-time.Hour).Format("20060102T150405.000000000Z") + "-000000.jsonl.age"
	for _, n := range []string{old, other, recent, "notes.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o600))
	}
	exp, err := file.New(file.Config{Dir: dir, Retention: 48 * time.Hour, MaxAge: time.Hour, Now: clk.Now})
	require.NoError(t, err)
	assert.NotContains(t, names(t, dir), old)
	assert.Equal(t, uint64(1), exp.Stats().Expired)

	ctx := context.Background()
	events := personalizetest.RandomEvents(seeded(5), 30)
	for i := range 3 { // files at t0, t0+1h, t0+2h
		require.NoError(t, exp.Export(ctx, events[10*i:10*i+10]))
		clk.Advance(time.Hour)
	}
	require.Len(t, names(t, dir), 6)
	// At t0+47h30m the file of t0-1h has expired; the active one, of
	// t0+2h, is never touched.
	clk.Advance(44*time.Hour + 30*time.Minute)
	require.NoError(t, exp.ForceFlush(ctx))
	assert.NotContains(t, names(t, dir), recent)
	assert.Equal(t, uint64(2), exp.Stats().Expired)
	// At t0+48h30m the file of t0 goes too (checked when the next file
	// opens).
	clk.Advance(time.Hour)
	require.NoError(t, exp.Export(ctx, events[:1]))
	assert.Equal(t, uint64(3), exp.Stats().Expired)
	got, _ := readAll(t, dir)
	assert.Len(t, got, 21, "the files of t0+1h, t0+2h and the new one")
	assert.Contains(t, names(t, dir), other)
	assert.Contains(t, names(t, dir), "notes.txt")
	require.NoError(t, exp.Shutdown(ctx))
	assert.Zero(t, exp.Stats().ExpireErrors)
}

func TestRetentionValidates(t *testing.T) {
	_, err := file.New(file.Config{Dir: t.TempDir(), Retention: -time.Second})
	require.ErrorContains(t, err, "Config.Retention")
}
