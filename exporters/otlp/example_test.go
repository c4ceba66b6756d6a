package otlp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rankscope/rankscope/exporters/otlp"
	"github.com/rankscope/rankscope/personalize"
)

func ExampleAppendAttributes() {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	id, _ := personalize.ParseEventID("0190c0de-0000-7000-8000-000000000001")
	ev := personalize.Event{Type: personalize.EventExposure, Exposure: &personalize.Exposure{
		EventID: id, Time: at, UserID: personalize.Pseudonym{ID: "9f2c"}, Experiment: "ranker_v2", Variant: "treatment"}}
	kvs, err := otlp.AppendAttributes(nil, ev)
	if err != nil {
		panic(err)
	}
	fmt.Println("event name:", otlp.EventName(ev.Type))
	for _, kv := range kvs {
		fmt.Println(kv.Key, "=", kv.Value.String())
	}
	back, _ := otlp.Decode(otlp.EventNameExposure, at, kvs)
	fmt.Println("decoded variant:", back.Exposure.Variant)
	// Output:
	// event name: rankscope.exposure
	// log.record.uid = 0190c0de-0000-7000-8000-000000000001
	// rankscope.schema_version = 1
	// enduser.pseudo.id = 9f2c
	// feature_flag.key = ranker_v2
	// feature_flag.result.variant = treatment
	// decoded variant: treatment
}

func ExampleNew() {
	// Sends to the Collector named by OTEL_EXPORTER_OTLP_* unless set here;
	// New connects lazily.
	exp, err := otlp.New(otlp.Config{Transport: otlp.Transport{
		Protocol:    otlp.ProtocolGRPC,
		Endpoint:    "http://localhost:4317",
		Compression: otlp.CompressionGzip,
	}})
	if err != nil {
		panic(err)
	}
	defer exp.Shutdown(context.Background())
	// Pass exp in personalize.Config.Exporters.
	fmt.Println(exp.Name(), exp.Protocol())
	// Output: otlp grpc
}
