package middleware_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// A ranking endpoint and a click endpoint: the ranking response carries
// the request id in X-Request-Id, the client sends it back with the click,
// and the outcome links to the impression.
func Example() {
	kr, _ := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr, Exporters: []personalize.Exporter{mem}})
	if err != nil {
		fmt.Println(err)
		return
	}
	mw, err := middleware.New(inst, middleware.Config{
		Request: func(r *http.Request) personalize.Request {
			return personalize.Request{User: r.URL.Query().Get("user"), Surface: "home_feed", ModelVersion: "v42"}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /rank", mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scores, err := latency.Time(r.Context(), "model_scoring", func(context.Context) ([]float64, error) {
			return []float64{0.9, 0.4}, nil
		})
		if err != nil {
			http.Error(w, "ranking failed", http.StatusInternalServerError) // ends the inference as an error
			return
		}
		middleware.Inference(r.Context()).Impress([]personalize.Item{
			{ID: "sku-7", Position: 1, Score: scores[0], Propensity: 1},
			{ID: "sku-3", Position: 2, Score: scores[1], Propensity: 1},
		})
		fmt.Fprintln(w, `["sku-7","sku-3"]`)
	})))
	mux.HandleFunc("POST /click", func(w http.ResponseWriter, r *http.Request) {
		err := inst.Outcome(r.Context(), personalize.Outcome{RequestID: middleware.RequestID(r),
			User: r.URL.Query().Get("user"), Item: r.URL.Query().Get("item"), Kind: personalize.OutcomeClick})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/rank?user=u-123")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	click, _ := http.NewRequest(http.MethodPost, srv.URL+"/click?user=u-123&item=sku-7", nil)
	click.Header.Set("X-Request-Id", id)
	if resp, err := srv.Client().Do(click); err == nil {
		resp.Body.Close()
	}

	if err := inst.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	for _, ev := range mem.Events() {
		switch ev.Type {
		case personalize.EventImpression:
			im := ev.Impression
			fmt.Println("impression: same id as the header:", im.RequestID == id, "stages:", im.Stages[0].Name, im.Stages[1].Name, "status:", im.Status)
		case personalize.EventOutcome:
			fmt.Println("outcome:", ev.Outcome.Kind, ev.Outcome.Item, "linked:", ev.Outcome.RequestID == id)
		}
	}
	// Output:
	// impression: same id as the header: true stages: model_scoring handler status: ok
	// outcome: click sku-7 linked: true
}

// RequestID reads the id a client sent back, from the X-Request-Id header
// or the request_id query parameter.
func ExampleRequestID() {
	r := httptest.NewRequest(http.MethodPost, "/click?request_id=0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", nil)
	fmt.Println(middleware.RequestID(r))
	r.Header.Set("X-Request-Id", "from-header")
	fmt.Println(middleware.RequestID(r))
	// Output:
	// 0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b
	// from-header
}
