package experiment_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/experiment"
)

func ExampleExperiment_Assign() {
	e, err := experiment.New(experiment.Config{
		Name:     "ranker-v42",
		Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}},
	})
	if err != nil {
		panic(err)
	}
	for _, u := range []string{"user-000123", "user-000124", "user-000123"} {
		v, _ := e.Assign(u)
		fmt.Println(u, v)
	}
	// Output:
	// user-000123 treatment
	// user-000124 control
	// user-000123 treatment
}

func ExampleAssigner_Append() {
	ranker, _ := experiment.New(experiment.Config{Name: "ranker-v42",
		Variants: []experiment.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 1}}})
	layout, _ := experiment.New(experiment.Config{Name: "card-layout",
		Variants: []experiment.Variant{{Name: "off", Weight: 1}, {Name: "on", Weight: 1}}})
	ranking, _ := experiment.NewLayer(experiment.LayerConfig{Name: "ranking", Slots: []experiment.Slot{{Experiment: ranker, Buckets: 1000}}})
	ui, _ := experiment.NewLayer(experiment.LayerConfig{Name: "ui", Slots: []experiment.Slot{{Experiment: layout, Buckets: 1000}}})
	a, _ := experiment.NewAssigner(&experiment.Holdout{Salt: "holdout-2026", Fraction: 0.02}, ranking, ui)

	// On the request path: fill Request.Experiments without allocating.
	req := personalize.Request{User: "user-000123", Experiments: make([]personalize.Assignment, 0, 2)}
	req.Experiments = a.Append(req.Experiments, req.User)
	fmt.Println(req.Experiments)
	// Output: [{ranker-v42 treatment} {card-layout off}]
}

func ExampleExposer() {
	emit := experiment.EmitterFunc(func(_ context.Context, x personalize.Exposure) error {
		fmt.Println("exposure:", x.User, x.Experiment, x.Variant)
		return nil
	})
	x, _ := experiment.NewExposer(experiment.ExposerConfig{Emitter: emit, Period: time.Hour})
	a := personalize.Assignment{Experiment: "ranker-v42", Variant: "treatment"}
	for range 3 {
		_, _ = x.Expose(context.Background(), "user-000123", a, "home")
	}
	fmt.Printf("%+v\n", x.Stats())
	// Output:
	// exposure: user-000123 ranker-v42 treatment
	// {Emitted:1 Suppressed:2 Rotations:0 Failed:0}
}
