package file_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rankscope/rankscope/exporters/file"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/personalize/schema"
)

// ExampleReadLines counts outcomes by kind from the raw lines, with the
// projection fast path and a full decode only for what it does not take.
func ExampleReadLines() {
	dir, _ := os.MkdirTemp("", "rankscope-example")
	defer os.RemoveAll(dir)
	exp, _ := file.New(file.Config{Dir: dir})
	ctx := context.Background()
	_ = exp.Export(ctx, personalizetest.RandomEvents(seeded(1), 100))
	_ = exp.Shutdown(ctx)

	kinds := map[string]int{}
	var f schema.Fields
	st, err := file.ReadLines(dir, func(line []byte) error {
		if schema.Project(line, &f) {
			if string(f.Type) == "outcome" {
				kinds[string(f.Kind)]++
			}
			return nil
		}
		e, err := schema.UnmarshalEvent(line)
		if err == nil && e.Outcome != nil {
			kinds[e.Outcome.Kind.String()]++
		}
		return nil
	})
	fmt.Println(err, st.Events, kinds["click"]+kinds["dwell"]+kinds["scroll"]+kinds["signup"]+kinds["purchase"]+kinds["custom"])
	// Output: <nil> 100 22
}
