package personalize_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// The whole flow: build an instrument, wrap one inference (a stage timed
// with latency.Time, one with Stage), record the ranked items, end it, then
// record the click that links back through the request id. The in-memory
// exporter of personalizetest stands in for a real backend.
func Example() {
	ctx := context.Background()
	// A real service loads its secret from a secret store
	// (make one with: openssl rand -hex 32).
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		fmt.Println(err)
		return
	}
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{mem}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Serve one ranking.
	ctx, inf := inst.Start(ctx, personalize.Request{User: "u-123", Surface: "home_feed", ModelVersion: "v42"})
	feats, err := latency.Time(ctx, "feature_retrieval", func(context.Context) ([]float64, error) {
		return []float64{0.3, 0.9}, nil
	})
	if err == nil {
		st := inf.Stage("model_scoring")
		if len(feats) == 0 {
			err = errors.New("no features")
		}
		st.End(err)
	}
	inf.Impress([]personalize.Item{
		{ID: "sku-7", Position: 1, Score: 0.91, Propensity: 1},
		{ID: "sku-3", Position: 2, Score: 0.64, Propensity: 1},
	})
	reqID := inf.RequestID() // keep it: the response carries it to the client
	if err := inf.End(err); err != nil {
		fmt.Println(err)
	}

	// Later, the user clicks the first item.
	if err := inst.Outcome(ctx, personalize.Outcome{RequestID: reqID, User: "u-123",
		Item: "sku-7", Kind: personalize.OutcomeClick, Surface: "home_feed"}); err != nil {
		fmt.Println(err)
	}

	// Shutdown delivers everything accepted before it.
	if err := inst.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}

	var imp *personalize.Impression
	rawExported := false
	for _, ev := range mem.Events() {
		line, _ := personalize.AppendJSON(nil, ev)
		rawExported = rawExported || strings.Contains(string(line), "u-123")
		switch ev.Type {
		case personalize.EventImpression:
			imp = ev.Impression
			var stages, items []string
			for _, s := range imp.Stages {
				stages = append(stages, s.Name+":"+s.Status.String())
			}
			for _, it := range imp.Items {
				items = append(items, it.ID)
			}
			fmt.Printf("impression: surface=%s model=%s stages=[%s] items=[%s] status=%s\n", imp.Surface,
				imp.ModelVersion, strings.Join(stages, " "), strings.Join(items, " "), imp.Status)
		case personalize.EventOutcome:
			o := ev.Outcome
			fmt.Printf("outcome: %s item=%s linked=%t same user=%t\n", o.Kind, o.Item,
				imp != nil && o.RequestID == imp.RequestID, imp != nil && o.UserID == imp.UserID)
		}
	}
	fmt.Println("raw user id exported:", rawExported)
	// Output:
	// impression: surface=home_feed model=v42 stages=[feature_retrieval:ok model_scoring:ok] items=[sku-7 sku-3] status=ok
	// outcome: click item=sku-7 linked=true same user=true
	// raw user id exported: false
}
