package schema_test

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rankscope/rankscope/personalize/schema"
)

// FuzzValidate builds impressions and outcomes from arbitrary bytes and
// checks that Validate never panics, that every error names a field of the
// schema, and that whatever passes satisfies the schema's invariants.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{3, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, uint8(1), 0.5, int64(5))
	f.Add([]byte{2, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(9), math.NaN(), int64(-1))
	f.Add([]byte{}, uint8(2), math.Inf(1), int64(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8, value float64, dur int64) {
		im := &schema.Impression{RequestID: "r", Start: time.Unix(1, 0), UserID: schema.Pseudonym{ID: "p"}}
		im.End = im.Start.Add(time.Duration(dur))
		for len(data) >= 9 {
			pos := int(int8(data[0]))
			v := math.Float64frombits(binary.LittleEndian.Uint64(data[1:9]))
			im.Items = append(im.Items, schema.Item{ID: "x", Position: pos, Score: v, Propensity: math.Abs(math.Mod(v, 2))})
			data = data[9:]
		}
		if err := im.Validate(); err != nil {
			checkFieldErr(t, err)
		} else {
			seen := map[int]bool{}
			for _, it := range im.Items {
				if it.Position < 1 || seen[it.Position] || math.IsNaN(it.Score) || math.IsInf(it.Score, 0) || it.Propensity < 0 || it.Propensity > 1 {
					t.Fatalf("invalid item passed validation: %+v", it)
				}
				seen[it.Position] = true
			}
			if im.End.Before(im.Start) {
				t.Fatal("negative duration passed validation")
			}
		}
		o := &schema.Outcome{User: "u", RequestID: "r", Item: "i", Kind: schema.OutcomeKind(kind), Value: value, Dwell: time.Duration(dur), Name: "n"}
		if err := o.Validate(); err != nil {
			checkFieldErr(t, err)
		} else if math.IsNaN(o.Value) || o.Value < 0 || o.Dwell < 0 || o.Kind == 0 || o.Kind > schema.OutcomeCustom {
			t.Fatalf("invalid outcome passed validation: %+v", o)
		}
	})
}

func checkFieldErr(t *testing.T, err error) {
	var ve *schema.ValidationError
	if !errors.As(err, &ve) || ve.Field == "" || !strings.Contains(err.Error(), ve.Field) {
		t.Fatalf("error does not name its field: %v", err)
	}
}
