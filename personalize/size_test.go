package personalize_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
)

// bigItems returns n items whose encoded impression is about n*(idLen+60)
// bytes.
func bigItems(n, idLen int) []personalize.Item {
	out := make([]personalize.Item, n)
	pad := strings.Repeat("x", idLen)
	for i := range out {
		out[i] = personalize.Item{ID: fmt.Sprintf("%s-%07d", pad, i), Position: i + 1, Score: 0.5}
	}
	return out
}

// TestEventSizeLimitIsOneLimit: an impression over MaxEventBytes is
// refused at emit on field "size" (it once went through and made the file
// reader, and the report after it, fail); one just under the limit is
// written by the file exporter and read back by ReadDir with defaults.
func TestEventSizeLimitIsOneLimit(t *testing.T) {
	dir := t.TempDir()
	fe, err := file.New(file.Config{Dir: dir})
	require.NoError(t, err)
	dead := &recorder{name: "dead"}
	in := newInst(t, func(c *personalize.Config) { c.DeadLetter = dead }, fe)
	ctx := context.Background()

	// About 8 MiB: refused.
	_, inf := in.Start(ctx, personalize.Request{User: "u"})
	inf.Impress(bigItems(80_000, 40))
	err = inf.End(nil)
	var ve *personalize.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "size", ve.Field)
	assert.Equal(t, "too_large", ve.Reason)

	// About 3.4 MiB: accepted, written, read back.
	_, inf = in.Start(ctx, personalize.Request{User: "u"})
	inf.Impress(bigItems(34_000, 40))
	require.NoError(t, inf.End(nil))
	require.NoError(t, in.Shutdown(ctx))

	var got []personalize.Event
	_, err = file.ReadDir(dir, func(e personalize.Event) error { got = append(got, e); return nil })
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Len(t, got[0].Impression.Items, 34_000)
	s := in.Stats()
	assert.EqualValues(t, 1, s.Rejected["impression.size"])
	_, dl := dead.snapshot()
	require.Len(t, dl, 1, "the refused event goes to the dead-letter exporter")
}

// TestSizeBoundNeverUnderestimates: events the cheap bound clears encode
// under the limit, including strings that escape to six bytes a byte.
func TestSizeBoundNeverUnderestimates(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{name: "rec"}
	in := newInst(t, nil, rec)
	// Control characters escape as \u00XX: 6 bytes each.
	ctl := strings.Repeat("\x01", 2_000)
	items := make([]personalize.Item, 300)
	for i := range items {
		items[i] = personalize.Item{ID: fmt.Sprintf("%s%d", ctl, i), Position: i + 1, Score: 0.25}
	}
	_, inf := in.Start(ctx, personalize.Request{User: "u"})
	inf.Impress(items) // 300 * 2000 * 6 = 3.6 MB encoded: accepted
	require.NoError(t, inf.End(nil))
	items = append(items, items[:100]...)
	for i := range items {
		items[i].Position = i + 1
		items[i].ID = fmt.Sprintf("%s%d", ctl, i)
	}
	_, inf = in.Start(ctx, personalize.Request{User: "u"})
	inf.Impress(items) // 400 * 2000 * 6 = 4.8 MB encoded: refused
	require.Error(t, inf.End(nil))
	require.NoError(t, in.Shutdown(ctx))
	_, evs := rec.snapshot()
	require.Len(t, evs, 1)
	b, err := personalize.AppendJSON(nil, evs[0])
	require.NoError(t, err)
	assert.Less(t, len(b), personalize.MaxEventBytes)
	assert.Greater(t, len(b), 3_000_000)
}
