package schema_test

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/rankscope/rankscope/personalize/schema"
)

// A Decoder reused across the lines of a file keeps its intern table warm:
// repeated names (service, surface, variants...) share one string.
func ExampleDecoder() {
	lines := `{"schema_version":1,"type":"exposure","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ab","time":"2026-11-02T09:00:00Z","service":"feed","user_id":"9f2c","experiment":"ranker-v42","variant":"treatment"}
{"schema_version":1,"type":"outcome","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ac","time":"2026-11-02T09:00:05Z","service":"feed","request_id":"r-1","user_id":"9f2c","item":"sku-7","kind":"click"}
{"schema_version":1,"type":"outcome","event_id":"0193a6f1-7c2e-7d4b-8a1f-0123456789ad","time":"2026-11-02T09:00:06Z","user_id":"9f2c","kind":"click"}
`
	dec := schema.NewDecoder()
	sc := bufio.NewScanner(strings.NewReader(lines))
	for sc.Scan() {
		e, err := dec.Decode(sc.Bytes())
		var de *schema.DecodeError
		if errors.As(err, &de) {
			fmt.Println("bad field:", de.Field)
			continue
		}
		switch {
		case e.Exposure != nil:
			fmt.Println(e.Type, e.Exposure.Experiment, e.Exposure.Variant)
		case e.Outcome != nil:
			fmt.Println(e.Type, e.Outcome.Kind, e.Outcome.Item, e.Outcome.Time.Format("15:04:05"))
		}
	}
	// Output:
	// exposure ranker-v42 treatment
	// outcome click sku-7 09:00:05
	// bad field: request_id
}
