package drift_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/rankscope/rankscope/personalize/drift"
)

func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	train := make([]float64, 10000)
	for i := range train {
		train[i] = 50 + 10*rng.NormFloat64() // basket value at training time
	}
	ref, err := drift.NewNumericReference("basket_value", train, drift.ReferenceConfig{})
	if err != nil {
		panic(err)
	}
	mon, err := drift.New(drift.Config{References: []*drift.Reference{ref}})
	if err != nil {
		panic(err)
	}
	// In the request path: one call per observed feature value.
	for i := 0; i < 10000; i++ {
		mon.Observe("basket_value", 58+10*rng.NormFloat64()) // prices went up
	}
	f := mon.Report().Features[0]
	fmt.Printf("%s: level %s, PSI above 0.25: %v, KS p-value below 0.01: %v\n",
		f.Feature, f.Level, f.PSI > 0.25, f.KS.PValue < 0.01)
	// Output:
	// basket_value: level critical, PSI above 0.25: true, KS p-value below 0.01: true
}

func ExamplePSI() {
	psi, _ := drift.PSI([]float64{25, 25, 25, 25}, []float64{10, 20, 30, 40}, drift.DefaultEpsilon)
	fmt.Printf("%.4f\n", psi)
	// Output: 0.2282
}
