package kafkatest

import (
	"bytes"
	"testing"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/personalizetest"
)

func TestConformance(t *testing.T) {
	personalizetest.TestExporter(t, personalizetest.Harness{
		// Records of different users go to different partitions, read
		// back partition by partition.
		Unordered: true,
		New: func(t *testing.T) personalizetest.Instance {
			c := startCluster(t, 3)
			e := newExporter(t, kafka.Config{Brokers: c.ListenAddrs()})
			read := func() []record { return consume(t, c.ListenAddrs(), 0) }
			return personalizetest.Instance{
				Exporter: e,
				Delivered: func() ([]personalize.Event, error) {
					var evs []personalize.Event
					for _, r := range read() {
						evs = append(evs, r.event)
					}
					return evs, nil
				},
				Written: func() ([]byte, error) {
					var b bytes.Buffer
					for _, r := range read() {
						b.WriteString(r.key)
						b.WriteByte('\n')
						b.Write(r.value)
						b.WriteByte('\n')
					}
					return b.Bytes(), nil
				},
			}
		},
	})
}
