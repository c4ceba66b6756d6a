package personalizetest_test

import (
	"context"
	"fmt"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func ExampleMemoryExporter() {
	m := personalizetest.NewMemoryExporter()
	ctx := context.Background()
	batch := personalizetest.RandomEvents(seeded(7), 3)
	if err := m.Export(ctx, batch); err != nil {
		fmt.Println(err)
	}
	for _, e := range m.Events() {
		fmt.Println(e.Type)
	}
	fmt.Printf("%+v\n", m.Stats())
	// Output:
	// impression
	// outcome
	// outcome
	// {Exports:1 Failed:0 Events:3 Dropped:0 ForceFlushes:0 Shutdowns:0}
}

func ExampleRandomEvents() {
	events := personalizetest.RandomEvents(seeded(1), 1)
	line, _ := personalize.AppendJSON(nil, events[0])
	fmt.Println(events[0].Validate() == nil, len(line) > 0)
	// Output: true true
}
