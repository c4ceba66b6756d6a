package file_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func Example() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)

	exp, err := file.New(file.Config{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Normally the pipeline calls Export: personalize.Config{Exporters: ...}.
	events := personalizetest.RandomEvents(seeded(1), 100)
	ctx := context.Background()
	if err := exp.Export(ctx, events); err != nil {
		fmt.Println(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}

	counts := map[personalize.EventType]int{}
	st, err := file.ReadDir(dir, func(e personalize.Event) error {
		counts[e.Type]++
		return nil
	})
	fmt.Println(err, st.Files, st.Events, len(st.Torn))
	fmt.Println(counts[personalize.EventImpression], counts[personalize.EventOutcome])
	// Output:
	// <nil> 1 100 0
	// 66 22
}

func ExampleTornLineError() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)

	// A writer crashed in the middle of its third line.
	line := func(i int) []byte {
		b, _ := personalize.AppendJSON(nil, personalizetest.RandomEvents(seeded(uint64(i)), 1)[0])
		return append(b, '\n')
	}
	data := append(line(1), line(2)...)
	data = append(data, line(3)[:40]...)
	name := filepath.Join(dir, "events-20261102T090000.000000000Z-000000.jsonl.open")
	_ = os.WriteFile(name, data, 0o600)

	st, err := file.ReadDir(dir, func(personalize.Event) error { return nil })
	fmt.Println(err, st.Events)
	for _, torn := range st.Torn {
		fmt.Println(filepath.Base(torn.File), torn.Line, torn.Offset == int64(len(data)-40), torn.Len)
	}
	// Output:
	// <nil> 2
	// events-20261102T090000.000000000Z-000000.jsonl.open 3 true 40
}

func ExampleWriteError() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)
	exp, _ := file.New(file.Config{Dir: dir})
	ctx := context.Background()

	// An event without a payload cannot be written; the rest of the batch
	// is. A full disk gives the same kind of error, with the events after
	// the failed write counted as failed.
	batch := personalizetest.RandomEvents(seeded(1), 3)
	batch[1] = personalize.Event{Type: personalize.EventOutcome}
	err := exp.Export(ctx, batch)
	var we *file.WriteError
	if errors.As(err, &we) {
		fmt.Println(we.Written, we.Failed, we.Delivered())
	}
	fmt.Printf("%+v\n", exp.Stats())
	_ = exp.Shutdown(ctx)
	// Output:
	// 2 1 2
	// {Exported:2 Failed:1 Lost:0 Expired:0 ExpireErrors:0}
}

// A service whose log shipper loads each file as soon as it is closed
// keeps closed files in the page cache, so the shipper reads them from
// memory. Without KeepPageCache the exporter drops each file from the
// cache after the fsync that closes it (Linux), which on VMs with lazily
// backed memory makes its writes much cheaper (docs/design/file.md, "The
// page cache"). Durability is the same either way.
func ExampleConfig_keepPageCache() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)

	exp, err := file.New(file.Config{Dir: dir, MaxBytes: 16 << 10, KeepPageCache: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := exp.Export(ctx, personalizetest.RandomEvents(seeded(2), 100)); err != nil {
		fmt.Println(err)
	}
	if err := exp.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	st, err := file.ReadDir(dir, func(personalize.Event) error { return nil })
	fmt.Println(err, st.Files > 1, st.Events)
	// Output:
	// <nil> true 100
}
