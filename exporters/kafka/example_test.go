package kafka_test

import (
	"context"
	"errors"
	"log"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
)

// An exporter is configured with the seed brokers and the topic; the
// rest has defaults (zstd, acks=all, idempotent, 64 MiB bound). New does
// not connect, so a service starts while Kafka is down. It goes beside
// the other exporters in personalize.Config.Exporters. Runnable against a
// real broker in internal/kafkatest (ExampleExporter there).
func Example() {
	exp, err := kafka.New(kafka.Config{
		Brokers:     []string{"kafka-0.kafka:9092", "kafka-1.kafka:9092"},
		Topic:       "rankscope.events",
		Compression: kafka.CompressionZstd,
		ErrorHandler: func(err error) {
			var tl *kafka.TooLargeError
			if errors.As(err, &tl) {
				log.Printf("event of %s dropped: %d bytes over %d", tl.Key, tl.Bytes, tl.Limit)
			}
		},
	})
	if err != nil {
		log.Fatal(err) // e.g. "kafka: Config.Topic is empty"
	}
	_ = personalize.Config{Exporters: []personalize.Exporter{exp}}
	defer exp.Shutdown(context.Background())
}

// Config errors name the field.
func ExampleNew_invalid() {
	_, err := kafka.New(kafka.Config{Brokers: []string{"localhost:9092"}})
	log.Println(err)
}
