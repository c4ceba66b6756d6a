package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/rankscope/rankscope/internal/retry"
	"github.com/rankscope/rankscope/personalize"
)

// Format is how a request body frames its events.
type Format uint8

// Formats. Both encode each event with [personalize.AppendJSON].
const (
	// FormatJSONLines sends one event per line (Content-Type
	// application/x-ndjson), the format of the file exporter.
	FormatJSONLines Format = iota
	// FormatJSONArray sends a JSON array of events (application/json).
	FormatJSONArray
)

// String returns "jsonl" or "json".
func (f Format) String() string {
	switch f {
	case FormatJSONLines:
		return "jsonl"
	case FormatJSONArray:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Config configures an [Exporter]. The zero value of every field but URL
// means the documented default.
type Config struct {
	// URL receives the POST requests; http or https. Required. Only its
	// scheme, host and path ever appear in errors.
	URL string

	// Headers are added to every request, e.g. "Authorization". Their
	// values never appear in errors, logs or [Config.String].
	Headers map[string]string

	// Format frames the events of a request; default FormatJSONLines.
	Format Format

	// DisableGzip sends bodies uncompressed. By default bodies are
	// gzip-compressed (Content-Encoding: gzip).
	DisableGzip bool

	// TLS configures server verification and client certificates (mTLS)
	// for https URLs. Ignored when Client is set.
	TLS *tls.Config

	// Client sends the requests. Default: a client with its own transport
	// built from TLS. Its Timeout should be zero; use Timeout instead.
	Client *http.Client

	// Timeout bounds each attempt (request and response headers);
	// default 10s.
	Timeout time.Duration

	// MaxRequestBytes bounds the uncompressed body of one request; larger
	// batches are split. A single event larger than this goes to the
	// dead-letter path with reason "too_large". Default 4 MiB; minimum 1 KiB.
	MaxRequestBytes int

	// Retry configures in-line retries of one request.
	Retry RetryConfig

	// IdempotencyHeader names the header carrying each request's key,
	// which stays the same across the retries and replays of the request;
	// default "Idempotency-Key".
	IdempotencyHeader string

	// DeadLetter receives the events of requests the endpoint refused
	// with a non-retryable status (4xx other than 408 and 429), or that
	// exceed MaxRequestBytes alone. It must not retain the DeadLetter's
	// Events slice. Events given to it are counted in Stats.DeadLettered
	// whether or not it is set.
	DeadLetter func(ctx context.Context, dl DeadLetter)

	// Spool, when Spool.Dir is set, keeps undeliverable requests on disk.
	Spool SpoolConfig

	// Breaker configures the circuit breaker that stops Export from
	// trying (and retrying) an endpoint known to be down.
	Breaker BreakerConfig

	// ErrorHandler receives background errors (failed replays, spool
	// errors). Default: discard; the counters in Stats are always kept.
	ErrorHandler func(error)

	// Name names the exporter in the pipeline's stats; default "webhook".
	Name string
}

// RetryConfig configures the in-line retries of one request. The zero
// value means the defaults.
type RetryConfig struct {
	// InitialInterval is the wait before the first retry; default 100ms.
	InitialInterval time.Duration
	// MaxInterval caps a computed wait; default 5s. A server's
	// Retry-After is honored even when longer, within MaxElapsed.
	MaxInterval time.Duration
	// MaxElapsed bounds the time spent on one request, retries included;
	// default 5s, so that Export returns well within the pipeline's export
	// timeout. The Export context's deadline also ends retries, and so
	// does the circuit breaker's opening.
	MaxElapsed time.Duration
	// MaxAttempts bounds the attempts per request; 0 means no bound but
	// MaxElapsed.
	MaxAttempts int
	// Disabled turns in-line retries off: one attempt, then the spool.
	Disabled bool
}

// SpoolConfig configures the optional disk spool. The zero value means no
// spool: undeliverable events are dropped and counted.
type SpoolConfig struct {
	// Dir is the spool directory, created if missing. [New] checks that
	// it can create and remove a file there and fails naming this field
	// otherwise. One exporter per directory.
	Dir string
	// MaxBytes bounds the spool's size; default 64 MiB. When a new batch
	// does not fit, the oldest batches are dropped and counted
	// (DropSpoolFull).
	MaxBytes int64
	// MaxFiles bounds the number of spooled requests; default 4096.
	MaxFiles int
	// ReplayInterval is the first wait between replay attempts while the
	// endpoint stays unreachable; it doubles up to 32 times itself.
	// Default 1s.
	ReplayInterval time.Duration
	// MaxReplayFailures is how many times a spooled request may be
	// answered with a 5xx status before it is dead-lettered (network
	// errors do not count). Default 20.
	MaxReplayFailures int
}

// BreakerConfig configures the circuit breaker (see the package
// documentation, "Circuit breaker"). The zero value means the defaults.
type BreakerConfig struct {
	// FailureThreshold is how many failed attempts in a row open the
	// breaker. Attempts of Export and of replays count alike; a failed
	// attempt is a transport error (connection refused or reset, the
	// per-attempt Timeout) or an answer other than 2xx and 4xx. A 2xx or
	// a 4xx other than 408 and 429 resets the count; 408 and 429 leave
	// it. Default 5.
	FailureThreshold int
	// CoolDown is how long the breaker stays open before it lets one
	// probe request through; a failed probe opens it for another
	// CoolDown. Default 5s.
	CoolDown time.Duration
	// Disabled turns the breaker off: every request tries the endpoint,
	// with in-line retries.
	Disabled bool
}

// DeadLetter is a request the endpoint refused, or could not be sent.
type DeadLetter struct {
	// Status is the HTTP status the endpoint answered, or 0.
	Status int
	// Reason is "status" for a refused request, "too_large" for an event
	// larger than Config.MaxRequestBytes, "replay_failures" for a spooled
	// request that kept failing.
	Reason string
	// IdempotencyKey is the request's key ("" for too_large).
	IdempotencyKey string
	// Events are the refused events; read-only, not to be retained.
	Events []personalize.Event
}

// Defaults.
const (
	DefaultTimeout            = 10 * time.Second
	DefaultMaxRequestBytes    = 4 << 20
	DefaultIdempotencyHeader  = "Idempotency-Key"
	DefaultMaxElapsed         = 5 * time.Second
	DefaultReplayInterval     = time.Second
	DefaultMaxReplayFailures  = 20
	DefaultFailureThreshold   = 5
	DefaultCoolDown           = 5 * time.Second
	minRequestBytes           = 1 << 10
	maxReplayIntervalMultiple = 32
)

type settings struct {
	cfg        Config
	url        *url.URL
	safeURL    string
	policy     retry.Policy
	headers    [][2]string
	idemHeader string
	maxBody    int
	client     *http.Client
	ownClient  bool
}

func (c Config) settings() (settings, error) {
	var s settings
	if c.URL == "" {
		return s, errors.New("webhook: Config.URL: required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return s, errors.New("webhook: Config.URL: not a URL") // the parse error would print the URL
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return s, fmt.Errorf("webhook: Config.URL: scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return s, errors.New("webhook: Config.URL: missing host")
	}
	s.url = u
	s.safeURL = u.Scheme + "://" + u.Host + u.EscapedPath()
	if c.Format > FormatJSONArray {
		return s, fmt.Errorf("webhook: Config.Format: unknown %v", c.Format)
	}
	if c.Timeout < 0 {
		return s, fmt.Errorf("webhook: Config.Timeout: must be >= 0, got %v", c.Timeout)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.MaxRequestBytes == 0:
		c.MaxRequestBytes = DefaultMaxRequestBytes
	case c.MaxRequestBytes < minRequestBytes:
		return s, fmt.Errorf("webhook: Config.MaxRequestBytes: must be >= %d, got %d", minRequestBytes, c.MaxRequestBytes)
	}
	s.maxBody = c.MaxRequestBytes
	p := retry.Policy{InitialInterval: c.Retry.InitialInterval, MaxInterval: c.Retry.MaxInterval,
		MaxElapsed: c.Retry.MaxElapsed, MaxAttempts: c.Retry.MaxAttempts}
	if p.MaxElapsed == 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if c.Retry.Disabled {
		p.MaxAttempts = 1
	}
	if s.policy, err = p.Normalize("webhook: Config.Retry"); err != nil {
		return s, err
	}
	if c.IdempotencyHeader == "" {
		c.IdempotencyHeader = DefaultIdempotencyHeader
	}
	s.idemHeader = http.CanonicalHeaderKey(c.IdempotencyHeader)
	keys := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return s, fmt.Errorf("webhook: Config.Headers: invalid header name %q", k)
		}
		if strings.ContainsAny(c.Headers[k], "\r\n") {
			return s, fmt.Errorf("webhook: Config.Headers[%q]: value contains a line break", k) // value not printed
		}
		s.headers = append(s.headers, [2]string{k, c.Headers[k]})
	}
	if c.Spool.MaxBytes < 0 {
		return s, fmt.Errorf("webhook: Config.Spool.MaxBytes: must be >= 0, got %d", c.Spool.MaxBytes)
	}
	if c.Spool.MaxFiles < 0 {
		return s, fmt.Errorf("webhook: Config.Spool.MaxFiles: must be >= 0, got %d", c.Spool.MaxFiles)
	}
	if c.Spool.ReplayInterval < 0 {
		return s, fmt.Errorf("webhook: Config.Spool.ReplayInterval: must be >= 0, got %v", c.Spool.ReplayInterval)
	}
	if c.Spool.ReplayInterval == 0 {
		c.Spool.ReplayInterval = DefaultReplayInterval
	}
	if c.Spool.MaxReplayFailures < 0 {
		return s, fmt.Errorf("webhook: Config.Spool.MaxReplayFailures: must be >= 0, got %d", c.Spool.MaxReplayFailures)
	}
	if c.Spool.MaxReplayFailures == 0 {
		c.Spool.MaxReplayFailures = DefaultMaxReplayFailures
	}
	if c.Breaker.FailureThreshold < 0 {
		return s, fmt.Errorf("webhook: Config.Breaker.FailureThreshold: must be >= 0, got %d", c.Breaker.FailureThreshold)
	}
	if c.Breaker.FailureThreshold == 0 {
		c.Breaker.FailureThreshold = DefaultFailureThreshold
	}
	if c.Breaker.CoolDown < 0 {
		return s, fmt.Errorf("webhook: Config.Breaker.CoolDown: must be >= 0, got %v", c.Breaker.CoolDown)
	}
	if c.Breaker.CoolDown == 0 {
		c.Breaker.CoolDown = DefaultCoolDown
	}
	if c.Name == "" {
		c.Name = "webhook"
	}
	if c.Client != nil {
		s.client = c.Client
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.TLS
		tr.MaxIdleConnsPerHost = 8
		tr.Proxy = nil
		s.client = &http.Client{Transport: tr}
		s.ownClient = true
	}
	s.cfg = c
	return s, nil
}

// String describes c without header values or URL credentials and query,
// so a Config can be logged.
func (c Config) String() string {
	u := "<invalid>"
	if p, err := url.Parse(c.URL); err == nil {
		u = p.Scheme + "://" + p.Host + p.EscapedPath()
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	return fmt.Sprintf("webhook.Config{URL: %s, Headers: %v (values redacted), Format: %v, Gzip: %v, Spool: %q}",
		u, names, c.Format, !c.DisableGzip, c.Spool.Dir)
}

// GoString is [Config.String], so %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }
