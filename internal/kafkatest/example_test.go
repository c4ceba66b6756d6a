package kafkatest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
)

// ExampleExporter exports two events of one user to an in-process
// Kafka-protocol broker and reads them back: one record per event, keyed
// by the user's pseudonym, the value the event's JSON line.
func ExampleExporter() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "rankscope.events"))
	if err != nil {
		panic(err)
	}
	defer cluster.Close()

	exp, err := kafka.New(kafka.Config{Brokers: cluster.ListenAddrs(), Topic: "rankscope.events"})
	if err != nil {
		panic(err)
	}
	// A service passes exp in personalize.Config.Exporters; here we call
	// it directly with events the pipeline would have pseudonymized.
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	user := personalize.Pseudonym{ID: "p-7f3a", KeyID: "k1"}
	batch := []personalize.Event{
		{Type: personalize.EventExposure, Exposure: &personalize.Exposure{EventID: personalize.NewEventID(),
			UserID: user, Experiment: "ranker-v42", Variant: "treatment", Time: at, Service: "feed"}},
		{Type: personalize.EventOutcome, Outcome: &personalize.Outcome{EventID: personalize.NewEventID(),
			UserID: user, RequestID: "req-1", Item: "sku-1", Kind: personalize.OutcomeClick, Time: at.Add(time.Second), Service: "feed"}},
	}
	if err := exp.Export(context.Background(), batch); err != nil {
		panic(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	st := exp.Stats()
	fmt.Println("accepted", st.Accepted, "delivered", st.Delivered, "dropped", st.TotalDropped())

	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("rankscope.events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	for n := 0; n < len(batch); {
		cl.PollFetches(context.Background()).EachRecord(func(r *kgo.Record) {
			ev, err := personalize.UnmarshalEvent(r.Value)
			if err != nil {
				panic(err)
			}
			fmt.Printf("key %s: %s\n", r.Key, ev.Type)
			n++
		})
	}
	// Output:
	// accepted 2 delivered 2 dropped 0
	// key p-7f3a: exposure
	// key p-7f3a: outcome
}
