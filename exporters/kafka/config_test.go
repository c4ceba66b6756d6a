package kafka

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidation(t *testing.T) {
	ok := Config{Brokers: []string{"localhost:9092"}, Topic: "rankscope.events"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // exact error
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "kafka: Config.Brokers is empty"},
		{"broker without port", func(c *Config) { c.Brokers = []string{"localhost:9092", "kafka-1"} },
			`kafka: Config.Brokers[1]: "kafka-1" is not host:port`},
		{"broker without host", func(c *Config) { c.Brokers = []string{":9092"} }, `kafka: Config.Brokers[0]: ":9092" has no host`},
		{"broker port 0", func(c *Config) { c.Brokers = []string{"k:0"} }, `kafka: Config.Brokers[0]: "k:0" has no port in 1-65535`},
		{"broker port name", func(c *Config) { c.Brokers = []string{"k:kafka"} }, `kafka: Config.Brokers[0]: "k:kafka" has no port in 1-65535`},
		{"no topic", func(c *Config) { c.Topic = "" }, "kafka: Config.Topic is empty"},
		{"topic with space", func(c *Config) { c.Topic = "rank events" },
			`kafka: Config.Topic: "rank events" has invalid byte ' ' at 4 (allowed: letters, digits, '.', '_', '-')`},
		{"topic dot", func(c *Config) { c.Topic = ".." }, `kafka: Config.Topic: ".." is not a valid topic name`},
		{"topic too long", func(c *Config) { c.Topic = strings.Repeat("t", 250) }, "kafka: Config.Topic: longer than 249 bytes (250)"},
		{"compression", func(c *Config) { c.Compression = 9 }, "kafka: Config.Compression: unknown Compression(9)"},
		{"linger", func(c *Config) { c.Linger = time.Hour }, "kafka: Config.Linger: must be at most 1m, got 1h0m0s"},
		{"max message small", func(c *Config) { c.MaxMessageBytes = 100 },
			"kafka: Config.MaxMessageBytes: must be in [512, 1073741824], got 100"},
		{"max message huge", func(c *Config) { c.MaxMessageBytes = 2 << 30 },
			"kafka: Config.MaxMessageBytes: must be in [512, 1073741824], got 2147483648"},
		{"buffer under message", func(c *Config) { c.MaxMessageBytes = 4096; c.MaxBufferedBytes = 1024 },
			"kafka: Config.MaxBufferedBytes: must be at least MaxMessageBytes (4096), got 1024"},
		{"buffered records", func(c *Config) { c.MaxBufferedRecords = -1 }, "kafka: Config.MaxBufferedRecords: must be >= 0, got -1"},
		{"dial timeout", func(c *Config) { c.DialTimeout = -time.Second }, "kafka: Config.DialTimeout: must be >= 0, got -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			c.Brokers = append([]string(nil), ok.Brokers...)
			tc.edit(&c)
			_, err := c.validate()
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			e, err := New(c)
			assert.Nil(t, e)
			require.EqualError(t, err, tc.want, "New reports the same error")
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Brokers: []string{"[::1]:9092", "kafka-0.kafka:9093"}, Topic: "a_b-C.9"}.validate()
	require.NoError(t, err)
	assert.Equal(t, CompressionZstd, c.Compression)
	assert.Equal(t, DefaultLinger, c.Linger)
	assert.Equal(t, DefaultMaxMessageBytes, c.MaxMessageBytes)
	assert.Equal(t, DefaultMaxBufferedBytes, c.MaxBufferedBytes)
	assert.Equal(t, DefaultMaxBufferedRecords, c.MaxBufferedRecords)
	assert.Equal(t, DefaultDialTimeout, c.DialTimeout)
	assert.Equal(t, "rankscope", c.ClientID)
	assert.Equal(t, "kafka", c.Name)

	c, err = Config{Brokers: []string{"k:1"}, Topic: "t", Linger: -1, MaxMessageBytes: 128 << 20}.validate()
	require.NoError(t, err)
	assert.Zero(t, c.Linger, "negative linger means none")
	assert.Equal(t, 128<<20, c.MaxBufferedBytes, "the default buffer grows to hold one batch")
}

// New must not connect: it succeeds with nothing listening.
func TestNewDoesNotConnect(t *testing.T) {
	e, err := New(Config{Brokers: []string{"127.0.0.1:1"}, Topic: "t"})
	require.NoError(t, err)
	assert.Equal(t, "kafka", e.Name())
	assert.True(t, e.Transient())
	assert.Equal(t, DefaultMaxMessageBytes, e.Stats().MaxMessageBytes)
	require.NoError(t, e.Shutdown(t.Context()))
}

func TestCompressionString(t *testing.T) {
	for c, want := range map[Compression]string{CompressionZstd: "zstd", CompressionLZ4: "lz4",
		CompressionSnappy: "snappy", CompressionGzip: "gzip", CompressionNone: "none", 7: "Compression(7)"} {
		assert.Equal(t, want, c.String())
	}
}
