package parquet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/exporters/parquet"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func Example() {
	dir, _ := os.MkdirTemp("", "rankscope-parquet")
	defer os.RemoveAll(dir)

	exp, err := parquet.New(parquet.Config{Dir: dir})
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
	fmt.Printf("%+v\n", exp.Stats())
	if err := exp.Shutdown(ctx); err != nil { // finishes the files
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", exp.Stats())

	// Importing exporters/parquet registers ".parquet" with the file
	// reader: ReadDir walks the dt=/hour= partitions.
	counts := map[personalize.EventType]int{}
	st, err := file.ReadDir(dir, func(e personalize.Event) error {
		counts[e.Type]++
		return nil
	})
	fmt.Println(err, st.Files, st.Events)
	fmt.Println(counts[personalize.EventImpression], counts[personalize.EventOutcome])
	// Output:
	// {Exported:0 Pending:100 Failed:0}
	// {Exported:100 Pending:0 Failed:0}
	// <nil> 1 100
	// 69 23
}

func ExampleColumns() {
	cols := parquet.Columns()
	fmt.Println(len(cols), cols[:5])
	// Output:
	// 55 [schema_version type event_id time time_nanos]
}

func ExampleLostError() {
	dir, _ := os.MkdirTemp("", "rankscope-parquet")
	defer os.RemoveAll(dir)
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	exp, _ := parquet.New(parquet.Config{Dir: dir, Now: func() time.Time { return now }})
	ctx := context.Background()
	_ = exp.Export(ctx, oneHour(personalizetest.RandomEvents(seeded(2), 10)))
	// The partition vanishes before the file is finished (a disk fault in
	// real life): the rows are lost, counted and reported.
	_ = os.RemoveAll(dir + "/dt=2026-11-02")
	err := exp.ForceFlush(ctx)
	var lost *parquet.LostError
	if errors.As(err, &lost) {
		fmt.Println("lost rows:", lost.Rows)
	}
	fmt.Printf("%+v\n", exp.Stats())
	_ = exp.Shutdown(ctx)
	// Output:
	// lost rows: 10
	// {Exported:0 Pending:0 Failed:10}
}
