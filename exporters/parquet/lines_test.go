package parquet_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

// TestReadLinesReadsParquet: file.ReadLines reads Parquet partitions too,
// handing each event over as its JSON line, in ReadDir's order.
func TestReadLinesReadsParquet(t *testing.T) {
	dir := t.TempDir()
	exp, err := parquet.New(parquet.Config{Dir: dir})
	require.NoError(t, err)
	ctx := context.Background()
	events := personalizetest.RandomEvents(seeded(5), 400)
	require.NoError(t, exp.Export(ctx, events))
	require.NoError(t, exp.Shutdown(ctx))

	fromDir, _ := readAll(t, dir)
	var lines [][]byte
	st, err := file.ReadLines(dir, func(l []byte) error {
		lines = append(lines, bytes.Clone(l))
		return nil
	})
	require.NoError(t, err)
	assert.EqualValues(t, len(events), st.Events)
	assert.Equal(t, jsonLines(t, fromDir), lines)
}
