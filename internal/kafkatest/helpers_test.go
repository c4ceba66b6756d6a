package kafkatest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/rankscope/rankscope/exporters/kafka"
	"github.com/rankscope/rankscope/personalize"
)

const topic = "rankscope.events"

// startCluster starts a one-broker fake cluster with topic in partitions
// partitions and closes it at the end of the test.
func startCluster(t *testing.T, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// newExporter builds an exporter on addrs; Shutdown runs at cleanup.
func newExporter(t *testing.T, cfg kafka.Config) *kafka.Exporter {
	t.Helper()
	if cfg.Topic == "" {
		cfg.Topic = topic
	}
	e, err := kafka.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Shutdown(ctx)
	})
	return e
}

// record is one consumed record.
type record struct {
	partition int32
	offset    int64
	key       string
	value     []byte
	event     personalize.Event
}

// consume reads every record of topic from the start until none arrives
// for a moment (at least want records, when want > 0), decoding each value.
func consume(t *testing.T, addrs []string, want int) []record {
	t.Helper()
	return consumeTopic(t, addrs, topic, want)
}

// consumeTopic is consume for another topic.
func consumeTopic(t *testing.T, addrs []string, topic string, want int) []record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	var out []record
	deadline := time.Now().Add(20 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachError(func(_ string, _ int32, err error) {
			if err != context.DeadlineExceeded {
				t.Fatalf("consume: %v", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			n++
			ev, err := personalize.UnmarshalEvent(r.Value)
			require.NoError(t, err, "record %d/%d: %s", r.Partition, r.Offset, r.Value)
			out = append(out, record{partition: r.Partition, offset: r.Offset, key: string(r.Key),
				value: append([]byte(nil), r.Value...), event: ev})
		})
		if n == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if len(out) >= want && quiet >= 2 {
			break
		}
	}
	return out
}

// createTopic creates a topic with configs through the broker.
func createTopic(t *testing.T, addrs []string, name string, partitions int32, configs map[string]string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	require.NoError(t, err)
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, 1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(t.Context(), cl)
	require.NoError(t, err)
	require.NoError(t, kerr.ErrorForCode(resp.Topics[0].ErrorCode))
}

// freePort returns a loopback port nothing listens on (it was free a
// moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// checkBooks asserts the exporter's accounting identity.
func checkBooks(t *testing.T, e *kafka.Exporter) kafka.Stats {
	t.Helper()
	st := e.Stats()
	require.Equal(t, st.Accepted, st.Delivered+st.TotalDropped()+uint64(st.Pending),
		fmt.Sprintf("Accepted == Delivered + Dropped + Pending: %+v", st))
	return st
}
