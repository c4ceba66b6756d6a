package webhook

import (
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompressRoundTrip(t *testing.T) {
	var in bytes.Buffer
	for _, e := range events(40, 600) {
		b, _ := e.MarshalJSON()
		in.Write(b)
		in.WriteByte('\n')
	}
	for _, size := range []int{0, 10, parallelMin - 1, in.Len()} {
		var out bytes.Buffer
		compress(&out, in.Bytes()[:size])
		zr, err := gzip.NewReader(&out) // the standard library's reader, multistream by default
		require.NoError(t, err)
		got, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, in.Bytes()[:size], got, "size %d", size)
	}
	if runtime.GOMAXPROCS(0) > 1 && in.Len() >= parallelMin {
		var out bytes.Buffer
		compress(&out, in.Bytes())
		zr, err := gzip.NewReader(&out)
		require.NoError(t, err)
		zr.Multistream(false)
		first, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Less(t, len(first), in.Len(), "large bodies are compressed as several members in parallel")
	}
}
