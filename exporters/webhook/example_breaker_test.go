package webhook_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/rankscope/rankscope/exporters/webhook"
	"github.com/rankscope/rankscope/personalize"
)

// With the endpoint down, the first batch's failed attempt opens the
// breaker (FailureThreshold 1 here, 5 by default); later batches go to the
// spool without a request until a probe, after CoolDown, finds the
// endpoint back.
func ExampleBreakerConfig() {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + l.Addr().String() + "/events"
	l.Close() // nothing listens: connections are refused

	dir, _ := os.MkdirTemp("", "webhook-spool")
	defer os.RemoveAll(dir)
	exp, err := webhook.New(webhook.Config{
		URL:     down,
		Retry:   webhook.RetryConfig{Disabled: true},
		Spool:   webhook.SpoolConfig{Dir: dir},
		Breaker: webhook.BreakerConfig{FailureThreshold: 1, CoolDown: time.Hour},
	})
	if err != nil {
		panic(err)
	}
	for range 3 {
		batch := []personalize.Event{{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
			EventID: personalize.NewEventID(), UserID: personalize.Pseudonym{ID: "u1"},
			Experiment: "ranker", Variant: "b", Time: time.Now(), Service: "feed"}}}
		if err := exp.Export(context.Background(), batch); err != nil {
			panic(err)
		}
	}
	st := exp.Stats()
	fmt.Println("breaker", st.Breaker, "requests", st.Requests, "spooled", st.SpoolEvents)
	_ = exp.Shutdown(context.Background()) // the spool stays for the next process
	// Output:
	// breaker open requests 1 spooled 3
}
