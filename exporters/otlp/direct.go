package otlp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/rankscope/rankscope/internal/retry"
)

// The transport: requests encoded by requestEncoder into pooled buffers,
// sent with net/http, as OTLP/HTTP or as gRPC over HTTP/2.

const (
	userAgent = "rankscope-otlp-exporter"
	// maxResponseBytes bounds what is read of a response body.
	maxResponseBytes = 4 << 20
	// maxPooledBytes: larger buffers are not kept in the pool.
	maxPooledBytes = 8 << 20
	// exportMethod is the OTLP logs gRPC method.
	exportMethod = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// payload is a pooled request buffer with a reference count: Export holds
// one reference, and each request body in flight holds one, because the
// HTTP transport may still read the bytes after the call returns (a body
// is closed asynchronously). The buffer returns to the pool when the last
// one is released.
type payload struct {
	buf  []byte // the whole buffer
	data []byte // the request: a sub-slice of buf
	refs atomic.Int32
}

var payloadPool = sync.Pool{New: func() any { return new(payload) }}

func getPayload() *payload {
	p := payloadPool.Get().(*payload)
	p.buf, p.data = p.buf[:0], nil
	p.refs.Store(1)
	return p
}

func (p *payload) ref() { p.refs.Add(1) }

func (p *payload) release() {
	if p.refs.Add(-1) == 0 && cap(p.buf) <= maxPooledBytes {
		p.data = nil
		payloadPool.Put(p)
	}
}

var gzipPool = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.StatelessCompression)
	return w
}}

// gzipPayload returns a new payload with p's data gzipped.
func gzipPayload(p *payload) (*payload, error) {
	z := getPayload()
	bb := bytes.NewBuffer(z.buf[:0])
	w := gzipPool.Get().(*gzip.Writer)
	w.Reset(bb)
	_, err := w.Write(p.data)
	if err == nil {
		err = w.Close()
	}
	w.Reset(io.Discard)
	gzipPool.Put(w)
	z.buf = bb.Bytes()
	z.data = z.buf
	if err != nil {
		z.release()
		return nil, fmt.Errorf("otlp: gzip: %w", err)
	}
	return z, nil
}

// attemptError is a failed attempt and whether it may be retried (after
// throttle, when the receiver said how long to wait). noAnswer: the
// receiver was not reached at all (refused, unresolvable, reset before
// answering); noReceiver: nothing listens there (refused, or the host does
// not exist), which is not retried until the receiver has answered once.
type attemptError struct {
	err        error
	retryable  bool
	throttle   time.Duration
	noAnswer   bool
	noReceiver bool
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// sender sends one encoded request and returns the receiver's partial
// success, if any.
type sender interface {
	send(ctx context.Context, p *payload) (rejected int64, msg string, err error)
	close()
}

// directPath is the exporter's transport.
type directPath struct {
	enc     *requestEncoder
	snd     sender
	gzip    bool
	timeout time.Duration
	retry   bool
	policy  retry.Policy
	// reached is set once the receiver has answered (even with an
	// error): from then on a refused connection is a restart, retried.
	reached atomic.Bool
}

func newDirectPath(r resolved, enc *requestEncoder, retryOn bool, policy retry.Policy) (*directPath, error) {
	d := &directPath{enc: enc, timeout: r.timeout, retry: retryOn, policy: policy, gzip: r.compression == CompressionGzip}
	if r.proto == ProtocolGRPC {
		d.snd = newGRPCSender(r)
	} else {
		d.snd = newHTTPSender(r)
	}
	return d, nil
}

// export sends p, retrying retryable failures with backoff within the
// retry budget, the timeout and ctx. retries counts re-sent requests.
func (d *directPath) export(ctx context.Context, p *payload, retries *atomic.Uint64) (int64, string, error) {
	if d.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.timeout)
		defer cancel()
	}
	var b *retry.Backoff
	if d.retry {
		b = d.policy.Start(nil, nil)
	}
	for {
		rejected, msg, err := d.snd.send(ctx, p)
		var ae *attemptError
		isAttempt := errors.As(err, &ae)
		if err == nil || !isAttempt || !ae.noAnswer {
			d.reached.Store(true)
		}
		if err == nil {
			return rejected, msg, nil
		}
		if isAttempt && ae.noReceiver && !d.reached.Load() {
			return 0, "", ae.err // fail fast: nothing has ever answered there
		}
		if b == nil || !isAttempt || !ae.retryable || ctx.Err() != nil {
			return 0, "", err
		}
		wait, ok := b.Next(ae.throttle)
		if dl, has := ctx.Deadline(); ok && has && time.Until(dl) < wait {
			ok = false
		}
		if !ok || retry.Sleep(ctx, wait) != nil {
			return 0, "", err
		}
		retries.Add(1)
	}
}

// ---- HTTP ----

type httpSender struct {
	client   *http.Client
	url      string
	redacted string
	header   http.Header
}

// newTransport is the HTTP transport of both senders. The dial timeout
// is short because a refused or unroutable receiver should fail an
// attempt well within the request Timeout.
func newTransport(r resolved) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       r.tls,
	}
}

func newHTTPSender(r resolved) *httpSender {
	tr := newTransport(r)
	h := http.Header{}
	for k, v := range r.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("User-Agent", userAgent)
	if r.compression == CompressionGzip {
		h.Set("Content-Encoding", "gzip")
	}
	return &httpSender{client: &http.Client{Transport: tr}, url: r.url.String(),
		redacted: redactURL(r.url.String()), header: h}
}

func (s *httpSender) close() { s.client.CloseIdleConnections() }

// payloadBody reads a prefix (the gRPC frame header), then a payload;
// Close releases its reference once.
type payloadBody struct {
	p      *payload
	prefix []byte
	r      bytes.Reader
	once   sync.Once
}

func newBody(p *payload, prefix []byte) *payloadBody {
	p.ref()
	b := &payloadBody{p: p, prefix: prefix}
	b.r.Reset(p.data)
	return b
}

func (b *payloadBody) Read(q []byte) (int, error) {
	if len(b.prefix) > 0 {
		n := copy(q, b.prefix)
		b.prefix = b.prefix[n:]
		return n, nil
	}
	return b.r.Read(q)
}
func (b *payloadBody) Close() error {
	b.once.Do(b.p.release)
	return nil
}

func (s *httpSender) send(ctx context.Context, p *payload) (int64, string, error) {
	body := newBody(p, nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, body)
	if err != nil {
		_ = body.Close()
		return 0, "", fmt.Errorf("otlp: %s: %w", s.redacted, err)
	}
	req.Header = s.header.Clone()
	req.ContentLength = int64(len(p.data))
	req.GetBody = func() (io.ReadCloser, error) { return newBody(p, nil), nil }
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", netAttemptError(ctx, "POST", s.redacted, err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	isProto := ct == "application/x-protobuf" || ct == "application/protobuf"
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if readErr != nil || len(data) == 0 || !isProto {
			return 0, "", nil // delivered; no readable partial success
		}
		rejected, msg, err := parseResponse(data)
		if err != nil {
			return 0, "", nil // delivered; the receiver's answer is unreadable
		}
		return rejected, msg, nil
	}
	detail := ""
	if isProto {
		if st, err := parseStatus(data); err == nil {
			detail = st.msg
		}
	} else if len(data) > 0 {
		detail = validUTF8(data[:min(len(data), 256)])
	}
	detail = strings.TrimSpace(detail)
	if detail == "" {
		detail = "(empty body)"
	}
	err = fmt.Errorf("otlp: POST %s: %s: %s", s.redacted, resp.Status, detail)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		throttle, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return 0, "", &attemptError{err: err, retryable: true, throttle: throttle}
	}
	return 0, "", err
}

// stripURL drops the *url.Error wrapper (it quotes the full URL).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dialTimeout bounds one connection attempt.
const dialTimeout = 5 * time.Second

// ErrNoReceiver is matched (errors.Is) by the error of an export to an
// endpoint where nothing listens: the connection was refused or the host
// does not exist. Until the receiver has answered once, such an export
// fails at once, without retries.
var ErrNoReceiver = errors.New("otlp: no receiver")

// noReceiverError is an attempt that found no receiver at the endpoint.
type noReceiverError struct {
	op, endpoint, why string
	err               error
}

func (e *noReceiverError) Error() string {
	return fmt.Sprintf("otlp: %s %s: %s: no OTLP receiver there (is the OpenTelemetry Collector running? set Transport.Endpoint or OTEL_EXPORTER_OTLP_ENDPOINT): %v",
		e.op, e.endpoint, e.why, e.err)
}

func (e *noReceiverError) Unwrap() error { return e.err }

func (e *noReceiverError) Is(target error) bool { return target == ErrNoReceiver }

// netAttemptError wraps a transport error of one attempt (no answer from
// the receiver) for the retry loop.
func netAttemptError(ctx context.Context, op, endpoint string, err error) *attemptError {
	err = stripURL(err)
	ae := &attemptError{noAnswer: true, retryable: retryableNetError(ctx, err)}
	var dns *net.DNSError
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, syscall.ECONNREFUSED):
		ae.noReceiver = true
		ae.err = &noReceiverError{op: op, endpoint: endpoint, why: "connection refused", err: err}
		return ae
	case errors.As(err, &dns) && dns.IsNotFound:
		ae.noReceiver = true
		ae.err = &noReceiverError{op: op, endpoint: endpoint, why: "host not found", err: err}
		return ae
	}
	ae.err = fmt.Errorf("otlp: %s %s: %w", op, endpoint, err)
	return ae
}

// retryableNetError reports whether a transport error may go away: a
// refused, reset or dropped connection, a timeout of one attempt. TLS and
// certificate failures and the caller's own cancellation are final.
func retryableNetError(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		header    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname),
		errors.As(err, &verify), errors.As(err, &alert), errors.As(err, &header):
		return false
	}
	return true
}

// ---- gRPC ----

// gRPC is sent over net/http's HTTP/2 client (h2c with prior knowledge
// for plaintext endpoints), as the gRPC over HTTP/2 protocol describes a
// unary call: a POST to /<service>/<method> with content-type
// application/grpc and "te: trailers", a body of one length-prefixed
// message, and the status in the grpc-status, grpc-message and
// grpc-status-details-bin trailers (or headers, for a trailers-only
// answer). It keeps the gRPC library and its ~110 packages out of every
// program that imports this package.

// gRPC status codes the exporter tells apart.
const (
	codeOK                = 0
	codeCanceled          = 1
	codeUnknown           = 2
	codeDeadlineExceeded  = 4
	codePermissionDenied  = 7
	codeResourceExhausted = 8
	codeAborted           = 10
	codeOutOfRange        = 11
	codeUnimplemented     = 12
	codeInternal          = 13
	codeUnavailable       = 14
	codeDataLoss          = 15
	codeUnauthenticated   = 16
)

var codeNames = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
	"Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func codeName(c int32) string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

type grpcSender struct {
	client   *http.Client
	url      string
	redacted string
	header   http.Header
	gzip     bool
}

func newGRPCSender(r resolved) *grpcSender {
	tr := newTransport(r)
	var p http.Protocols
	if r.insecure {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP2(true)
	}
	tr.Protocols = &p
	u := *r.url
	u.Path, u.RawPath = exportMethod, ""
	h := http.Header{}
	for k, v := range r.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/grpc")
	h.Set("Te", "trailers")
	h.Set("User-Agent", userAgent)
	gz := r.compression == CompressionGzip
	if gz {
		h.Set("Grpc-Encoding", "gzip")
	}
	return &grpcSender{client: &http.Client{Transport: tr}, url: u.String(),
		redacted: redactURL(r.url.Scheme + "://" + r.url.Host), header: h, gzip: gz}
}

func (s *grpcSender) close() { s.client.CloseIdleConnections() }

// grpcTimeout formats the time left before ctx's deadline as a
// grpc-timeout header (at most 8 digits), or "" without a deadline.
func grpcTimeout(ctx context.Context) string {
	dl, ok := ctx.Deadline()
	if !ok {
		return ""
	}
	d := max(time.Until(dl), time.Millisecond)
	ms := d.Milliseconds()
	if ms <= 99_999_999 {
		return strconv.FormatInt(ms, 10) + "m"
	}
	return strconv.FormatInt(min(int64(d/time.Hour), 99_999_999), 10) + "H"
}

func (s *grpcSender) send(ctx context.Context, p *payload) (int64, string, error) {
	var prefix [5]byte
	if s.gzip {
		prefix[0] = 1
	}
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(p.data)))
	body := newBody(p, prefix[:])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, body)
	if err != nil {
		_ = body.Close()
		return 0, "", fmt.Errorf("otlp: grpc %s: %w", s.redacted, err)
	}
	req.Header = s.header.Clone()
	if t := grpcTimeout(ctx); t != "" {
		req.Header.Set("Grpc-Timeout", t)
	}
	req.ContentLength = int64(len(p.data) + len(prefix))
	req.GetBody = func() (io.ReadCloser, error) { return newBody(p, prefix[:]), nil }
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", netAttemptError(ctx, "grpc", s.redacted, err)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	status := resp.Trailer.Get("Grpc-Status")
	trailer := resp.Trailer
	if status == "" { // a trailers-only answer carries the status in its headers
		status, trailer = resp.Header.Get("Grpc-Status"), resp.Header
	}
	if status == "" {
		if resp.StatusCode != http.StatusOK {
			// Not a gRPC answer (a proxy, a plain HTTP server): the
			// status code decides, as the gRPC HTTP mapping says.
			code := httpToGRPC(resp.StatusCode)
			retryable, _ := retryableCode(code, rpcStatus{})
			return 0, "", &attemptError{err: fmt.Errorf("otlp: grpc %s: %s (HTTP %s)", s.redacted, codeName(code), resp.Status),
				retryable: retryable && ctx.Err() == nil}
		}
		if readErr != nil {
			return 0, "", netAttemptError(ctx, "grpc", s.redacted, readErr)
		}
		return 0, "", &attemptError{err: fmt.Errorf("otlp: grpc %s: %s: response without grpc-status", s.redacted, codeName(codeInternal)),
			retryable: false}
	}
	code64, err := strconv.ParseInt(status, 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("otlp: grpc %s: bad grpc-status %q", s.redacted, validUTF8([]byte(status[:min(len(status), 16)])))
	}
	code := int32(code64)
	if code != codeOK {
		st := rpcStatus{code: code, msg: decodeGRPCMessage(trailer.Get("Grpc-Message"))}
		if b64 := trailer.Get("Grpc-Status-Details-Bin"); b64 != "" {
			if raw, err := decodeBinHeader(b64); err == nil {
				if full, err := parseStatus(raw); err == nil {
					st.retryInfo, st.retryDelay = full.retryInfo, full.retryDelay
					if st.msg == "" {
						st.msg = full.msg
					}
				}
			}
		}
		retryable, throttle := retryableCode(code, st)
		return 0, "", &attemptError{err: &GRPCStatusError{Endpoint: s.redacted, Code: int(code), Message: st.msg},
			retryable: retryable && ctx.Err() == nil, throttle: throttle}
	}
	msg, compressed, err := grpcMessage(data)
	if err != nil || readErr != nil {
		return 0, "", nil // delivered; the receiver's answer is unreadable
	}
	if compressed {
		if msg, err = gunzip(msg); err != nil {
			return 0, "", nil
		}
	}
	rejected, m, err := parseResponse(msg)
	if err != nil {
		return 0, "", nil // delivered; the receiver's answer is unreadable
	}
	return rejected, m, nil
}

// GRPCStatusError is a gRPC status other than OK from the receiver.
type GRPCStatusError struct {
	// Endpoint is the receiver, scheme and host.
	Endpoint string
	// Code is the gRPC status code (14 is Unavailable...).
	Code int
	// Message is the receiver's grpc-message.
	Message string
}

func (e *GRPCStatusError) Error() string {
	return fmt.Sprintf("otlp: grpc %s: %s: %s", e.Endpoint, codeName(int32(e.Code)), e.Message)
}

// gunzip inflates a gzip-compressed gRPC message, bounded like any
// response.
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, maxResponseBytes))
}

// decodeGRPCMessage undoes the percent-encoding of grpc-message; a
// malformed one is kept as sent.
func decodeGRPCMessage(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		s = d
	}
	return validUTF8([]byte(s))
}

// decodeBinHeader decodes a -bin metadata value: base64, padded or not.
func decodeBinHeader(s string) ([]byte, error) {
	if len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// httpToGRPC maps the HTTP status of a non-gRPC answer to a gRPC code,
// per the gRPC "HTTP to gRPC Status Code Mapping".
func httpToGRPC(status int) int32 {
	switch status {
	case http.StatusBadRequest:
		return codeInternal
	case http.StatusUnauthorized:
		return codeUnauthenticated
	case http.StatusForbidden:
		return codePermissionDenied
	case http.StatusNotFound:
		return codeUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return codeUnavailable
	}
	return codeUnknown
}

// retryableCode follows the OTLP specification (and the SDK exporter):
// these codes are retried, ResourceExhausted only when the server sent
// RetryInfo, and RetryInfo's delay is honored.
func retryableCode(code int32, st rpcStatus) (bool, time.Duration) {
	switch code {
	case codeCanceled, codeDeadlineExceeded, codeAborted, codeOutOfRange, codeUnavailable, codeDataLoss:
		return true, st.retryDelay
	case codeResourceExhausted:
		return st.retryInfo, st.retryDelay
	}
	return false, 0
}
