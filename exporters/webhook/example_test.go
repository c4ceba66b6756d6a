package webhook_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/rankscope/rankscope/exporters/webhook"
	"github.com/rankscope/rankscope/personalize"
)

func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Printf("%s auth=%v gzip=%v key=%v\n", r.Header.Get("Content-Type"), r.Header.Get("Authorization") != "",
			r.Header.Get("Content-Encoding") == "gzip", r.Header.Get("Idempotency-Key") != "")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	exp, err := webhook.New(webhook.Config{
		URL:     srv.URL + "/events",
		Headers: map[string]string{"Authorization": "Bearer not-printed"},
	})
	if err != nil {
		panic(err)
	}
	// A service passes exp in personalize.Config.Exporters; here we call
	// it directly.
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	batch := []personalize.Event{{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
		EventID: personalize.NewEventID(), UserID: personalize.Pseudonym{ID: "u1"},
		Experiment: "ranker", Variant: "b", Time: at, Service: "feed"}}}
	if err := exp.Export(context.Background(), batch); err != nil {
		panic(err)
	}
	_ = exp.Shutdown(context.Background())
	st := exp.Stats()
	fmt.Println("accepted", st.Accepted, "delivered", st.Delivered)
	fmt.Println(webhook.Config{URL: "https://collector.example/events?token=not-printed",
		Headers: map[string]string{"Authorization": "Bearer not-printed"}})
	// Output:
	// application/x-ndjson auth=true gzip=true key=true
	// accepted 1 delivered 1
	// webhook.Config{URL: https://collector.example/events, Headers: [Authorization] (values redacted), Format: jsonl, Gzip: true, Spool: ""}
}
