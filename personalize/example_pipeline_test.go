package personalize_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/privacy"
)

// lineCounter encodes every event as a JSON line and keeps only a count:
// nothing of the batch survives Export, so it declares itself Transient
// and the pipeline may reuse the impressions' memory.
type lineCounter struct{ lines, bytes atomic.Int64 }

func (c *lineCounter) Export(_ context.Context, batch []personalize.Event) error {
	var buf []byte
	for _, ev := range batch {
		var err error
		if buf, err = personalize.AppendJSON(buf[:0], ev); err != nil {
			return err
		}
		c.lines.Add(1)
		c.bytes.Add(int64(len(buf)) + 1)
	}
	return nil
}
func (c *lineCounter) ForceFlush(context.Context) error { return nil }
func (c *lineCounter) Shutdown(context.Context) error   { return nil }
func (c *lineCounter) Transient() bool                  { return true }

var _ personalize.Transient = (*lineCounter)(nil)

// An exporter that keeps nothing of a batch after Export implements
// Transient; when every exporter of an instrument does, impressions are
// recycled once exported.
func ExampleTransient() {
	kr, _ := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	counter := &lineCounter{}
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{counter}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for i := range 3 {
		_, inf := inst.Start(ctx, personalize.Request{User: fmt.Sprint("u-", i), Surface: "home_feed"})
		inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.5}})
		_ = inf.End(nil)
	}
	if err := inst.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("lines:", counter.lines.Load())
	// Output: lines: 3
}

// Durable mode: each emit writes the prepared (pseudonymized) event to a
// write-ahead log before it returns; a process that dies leaves the log
// for the next New on the same directory to replay.
func ExampleWALConfig() {
	dir, err := os.MkdirTemp("", "rankscope-wal-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	kr, _ := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{personalize.DiscardExporter},
		WAL:       personalize.WALConfig{Dir: dir}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, inf := inst.Start(ctx, personalize.Request{User: "u-123", Surface: "home_feed"})
	inf.Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.5}})
	if err := inf.End(nil); err != nil {
		fmt.Println(err)
	}
	if err := inst.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	s := inst.Stats()
	fmt.Println("appended to the log:", s.WAL.Appended, "exported:", s.Exporters[0].Exported)
	// Output: appended to the log: 1 exported: 1
}
