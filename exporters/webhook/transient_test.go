package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rankscope/rankscope/exporters/webhook"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// TestTransientRecyclingKeepsBodiesIntact: without a DeadLetter callback
// the exporter is Transient, so the pipeline reuses impression memory as
// soon as Export returns; every body the endpoint received must still hold
// each impression as it was emitted.
func TestTransientRecyclingKeepsBodiesIntact(t *testing.T) {
	var mu sync.Mutex
	var lines [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		mu.Lock()
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	exp, err := webhook.New(webhook.Config{URL: srv.URL, DisableGzip: true})
	require.NoError(t, err)
	require.True(t, exp.Transient())
	withDL, err := webhook.New(webhook.Config{URL: srv.URL, DeadLetter: func(context.Context, webhook.DeadLetter) {}})
	require.NoError(t, err)
	assert.False(t, withDL.Transient(), "a DeadLetter callback may keep events")
	require.NoError(t, withDL.Shutdown(context.Background()))

	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: bytes.Repeat([]byte("s"), 32)})
	require.NoError(t, err)
	in, err := personalize.New(personalize.Config{Service: "svc", Pseudonymize: kr,
		Exporters: []personalize.Exporter{exp}, BatchSize: 5, BatchTimeout: time.Millisecond, ErrorHandler: func(error) {}})
	require.NoError(t, err)
	ctx := context.Background()
	const goroutines, per = 4, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := fmt.Sprintf("g%d-r%d", g, i)
				_, inf := in.Start(ctx, personalize.Request{ID: personalize.RequestID(id), User: id, Surface: id})
				items := make([]personalize.Item, 1+i%9)
				for k := range items {
					items[k] = personalize.Item{ID: fmt.Sprintf("%s-item%d", id, k), Position: k + 1}
				}
				inf.Impress(items)
				_ = inf.End(nil)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, in.Shutdown(ctx))
	mu.Lock()
	defer mu.Unlock()
	require.EqualValues(t, in.Stats().Accepted, len(lines))
	for _, l := range lines {
		ev, err := personalize.UnmarshalEvent(l)
		require.NoError(t, err)
		im := ev.Impression
		id := string(im.RequestID)
		require.Equal(t, id, im.Surface)
		for k, it := range im.Items {
			require.Equal(t, fmt.Sprintf("%s-item%d", id, k), it.ID)
		}
	}
}
