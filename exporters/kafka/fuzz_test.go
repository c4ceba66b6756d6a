package kafka

import (
	"strings"
	"testing"
)

// FuzzValidate feeds arbitrary broker addresses and topic names to the
// config validation: it must never panic, every error must name a Config
// field, and an accepted topic must follow Kafka's naming rule.
func FuzzValidate(f *testing.F) {
	for _, s := range [][2]string{{"localhost:9092", "rankscope.events"}, {"[::1]:9092", "a"}, {":9", ""},
		{"k:65536", ".."}, {"k:1", strings.Repeat("x", 250)}, {"host", "t t"}, {"[::1", "é"}} {
		f.Add(s[0], s[1], 0)
	}
	f.Fuzz(func(t *testing.T, broker, topic string, maxMsg int) {
		c, err := Config{Brokers: []string{broker}, Topic: topic, MaxMessageBytes: maxMsg}.validate()
		if err != nil {
			if !strings.HasPrefix(err.Error(), "kafka: Config.") {
				t.Fatalf("error does not name a field: %v", err)
			}
			return
		}
		if topic == "" || len(topic) > maxTopicLen || topic == "." || topic == ".." {
			t.Fatalf("accepted topic %q", topic)
		}
		for _, r := range topic {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				t.Fatalf("accepted topic %q with %q", topic, r)
			}
		}
		if c.MaxMessageBytes < minMessageBytes || c.MaxMessageBytes > maxMessageBytes || c.MaxBufferedBytes < c.MaxMessageBytes {
			t.Fatalf("accepted limits %d/%d", c.MaxMessageBytes, c.MaxBufferedBytes)
		}
	})
}
