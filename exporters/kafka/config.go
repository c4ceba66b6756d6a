package kafka

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Compression is the codec record batches are compressed with.
type Compression uint8

// Compressions. The zero value is the default, CompressionZstd.
const (
	// CompressionZstd compresses with zstd (Kafka 2.1+ brokers and
	// consumers). The default: on event JSON its batches are 38% smaller
	// than lz4's for about twice lz4's CPU (see the package doc,
	// "Compression").
	CompressionZstd Compression = iota
	// CompressionLZ4 compresses with lz4: the cheapest in CPU, larger batches.
	CompressionLZ4
	// CompressionSnappy compresses with snappy (franz-go's own default).
	CompressionSnappy
	// CompressionGzip compresses with gzip: the most widely decoded, slowest.
	CompressionGzip
	// CompressionNone sends batches uncompressed.
	CompressionNone
	numCompressions
)

var compressionNames = [numCompressions]string{"zstd", "lz4", "snappy", "gzip", "none"}

// String returns the codec's Kafka name ("zstd", "lz4", ...).
func (c Compression) String() string {
	if c < numCompressions {
		return compressionNames[c]
	}
	return "Compression(" + strconv.Itoa(int(c)) + ")"
}

func (c Compression) codec() kgo.CompressionCodec {
	switch c {
	case CompressionLZ4:
		return kgo.Lz4Compression()
	case CompressionSnappy:
		return kgo.SnappyCompression()
	case CompressionGzip:
		return kgo.GzipCompression()
	case CompressionNone:
		return kgo.NoCompression()
	}
	return kgo.ZstdCompression()
}

// Config configures an [Exporter]. Brokers and Topic are required; the
// zero value of every other field means the documented default.
type Config struct {
	// Brokers are the seed brokers, each "host:port". Required. The
	// client learns the rest of the cluster from them.
	Brokers []string

	// Topic receives every event. Required; it must exist (the exporter
	// does not create topics). Kafka's naming rule applies: 1 to 249
	// letters, digits, '.', '_' or '-', and not "." or "..".
	Topic string

	// Compression of record batches; default CompressionZstd.
	Compression Compression

	// Linger is how long a partition waits for more records before its
	// batch is sent. Export waits for every record of its batch, so a
	// long linger adds to each Export's latency; the pipeline already
	// batches. Default 5ms; negative means no linger.
	Linger time.Duration

	// MaxMessageBytes bounds one record batch before compression, as
	// Kafka's max.message.bytes bounds it on the broker. An event whose
	// record does not fit a batch alone is dropped and counted
	// (DropTooLarge). At its first contact with the brokers the exporter
	// reads the topic's max.message.bytes and uses it when lower. Default
	// 1,000,012 (franz-go's, Kafka's historical default); 512 to 1 GiB.
	MaxMessageBytes int

	// MaxBufferedBytes bounds the bytes of records held by the client
	// (sent and waiting for acknowledgement, or waiting to be sent);
	// Export blocks while the bound is reached, up to its context's
	// deadline. Default 64 MiB; at least MaxMessageBytes.
	MaxBufferedBytes int

	// MaxBufferedRecords bounds the records held by the client, like
	// MaxBufferedBytes. Default 10,000.
	MaxBufferedRecords int

	// DialTimeout bounds each connection attempt; default 10s.
	DialTimeout time.Duration

	// TLS, when set, connects to the brokers with TLS.
	TLS *tls.Config

	// ClientID names the client to the brokers; default "rankscope".
	ClientID string

	// ClientOptions are extra franz-go options (SASL, a custom dialer,
	// a logger), applied after the exporter's own. Options that change
	// acks, idempotence, the partitioner or the topic break the
	// guarantees in the package documentation; do not pass them.
	ClientOptions []kgo.Opt

	// ErrorHandler receives the errors Export does not return: outcomes
	// learned after their Export had returned (see the package doc,
	// "Accounting"), events too large for a record batch, and a topic
	// limit that could not be read. Default: discard; Stats always counts.
	ErrorHandler func(error)

	// Name names the exporter in the pipeline's stats; default "kafka".
	Name string
}

// Defaults.
const (
	DefaultLinger             = 5 * time.Millisecond
	DefaultMaxMessageBytes    = 1_000_012
	DefaultMaxBufferedBytes   = 64 << 20
	DefaultMaxBufferedRecords = 10_000
	DefaultDialTimeout        = 10 * time.Second
	DefaultClientID           = "rankscope"
	minMessageBytes           = 512
	maxMessageBytes           = 1 << 30
	maxTopicLen               = 249
)

// validate returns cfg with its defaults filled in, or an error naming
// the first bad field.
func (c Config) validate() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, fmt.Errorf("kafka: Config.Brokers is empty")
	}
	for i, b := range c.Brokers {
		if err := checkBroker(b); err != nil {
			return c, fmt.Errorf("kafka: Config.Brokers[%d]: %q %s", i, b, err)
		}
	}
	if err := checkTopic(c.Topic); err != nil {
		return c, err
	}
	if c.Compression >= numCompressions {
		return c, fmt.Errorf("kafka: Config.Compression: unknown %v", c.Compression)
	}
	switch {
	case c.Linger == 0:
		c.Linger = DefaultLinger
	case c.Linger < 0:
		c.Linger = 0
	case c.Linger > time.Minute:
		return c, fmt.Errorf("kafka: Config.Linger: must be at most 1m, got %v", c.Linger)
	}
	switch {
	case c.MaxMessageBytes == 0:
		c.MaxMessageBytes = DefaultMaxMessageBytes
	case c.MaxMessageBytes < minMessageBytes || c.MaxMessageBytes > maxMessageBytes:
		return c, fmt.Errorf("kafka: Config.MaxMessageBytes: must be in [%d, %d], got %d", minMessageBytes, maxMessageBytes, c.MaxMessageBytes)
	}
	switch {
	case c.MaxBufferedBytes == 0:
		c.MaxBufferedBytes = max(DefaultMaxBufferedBytes, c.MaxMessageBytes)
	case c.MaxBufferedBytes < c.MaxMessageBytes:
		return c, fmt.Errorf("kafka: Config.MaxBufferedBytes: must be at least MaxMessageBytes (%d), got %d", c.MaxMessageBytes, c.MaxBufferedBytes)
	}
	switch {
	case c.MaxBufferedRecords == 0:
		c.MaxBufferedRecords = DefaultMaxBufferedRecords
	case c.MaxBufferedRecords < 0:
		return c, fmt.Errorf("kafka: Config.MaxBufferedRecords: must be >= 0, got %d", c.MaxBufferedRecords)
	}
	switch {
	case c.DialTimeout == 0:
		c.DialTimeout = DefaultDialTimeout
	case c.DialTimeout < 0:
		return c, fmt.Errorf("kafka: Config.DialTimeout: must be >= 0, got %v", c.DialTimeout)
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Name == "" {
		c.Name = "kafka"
	}
	return c, nil
}

// checkBroker checks a "host:port" seed address.
func checkBroker(b string) error {
	host, port, err := net.SplitHostPort(b)
	if err != nil {
		return fmt.Errorf("is not host:port")
	}
	if host == "" {
		return fmt.Errorf("has no host")
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("has no port in 1-65535")
	}
	return nil
}

// checkTopic applies Kafka's topic naming rule.
func checkTopic(t string) error {
	switch {
	case t == "":
		return fmt.Errorf("kafka: Config.Topic is empty")
	case len(t) > maxTopicLen:
		return fmt.Errorf("kafka: Config.Topic: longer than %d bytes (%d)", maxTopicLen, len(t))
	case t == "." || t == "..":
		return fmt.Errorf("kafka: Config.Topic: %q is not a valid topic name", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("kafka: Config.Topic: %q has invalid byte %q at %d (allowed: letters, digits, '.', '_', '-')", t, c, i)
	}
	return nil
}
