package panel_test

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/rankscope/rankscope/personalize/dashboard/panel"
)

// A ratio with nothing to compare marshals as null, which encoding/json
// refuses for a plain float64 NaN.
func ExampleFloat() {
	f := panel.Fairness{DisparateTreatment: 0.82, DisparateImpact: panel.Float(math.NaN())}
	b, err := json.Marshal(struct {
		Treatment panel.Float `json:"treatment"`
		Impact    panel.Float `json:"impact"`
	}{f.DisparateTreatment, f.DisparateImpact})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b), f.DisparateImpact.Defined())
	// Output: {"treatment":0.82,"impact":null} false
}
