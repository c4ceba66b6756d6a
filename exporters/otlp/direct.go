package otlp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/rankscope/rankscope/internal/retry"
)

// The direct path: requests encoded by requestEncoder into pooled
// buffers, sent with net/http or a gRPC client connection whose codec
// passes the bytes through.

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
// one reference, and each HTTP body or gRPC buffer in flight holds one,
// because the transports may still read the bytes after the call returns
// (an HTTP body is closed asynchronously; gRPC frees its buffers when
// written). The buffer returns to the pool when the last one is released.
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

// Put implements mem.BufferPool for the one buffer gRPC wraps around the
// payload: gRPC calls it when it no longer needs the bytes.
func (p *payload) Get(n int) *[]byte { b := make([]byte, n); return &b } // not used by gRPC
func (p *payload) Put(*[]byte)       { p.release() }

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
// throttle, when the receiver said how long to wait).
type attemptError struct {
	err       error
	retryable bool
	throttle  time.Duration
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// sender sends one encoded request and returns the receiver's partial
// success, if any.
type sender interface {
	send(ctx context.Context, p *payload) (rejected int64, msg string, err error)
	close()
}

// directPath is the exporter's direct transport.
type directPath struct {
	enc     *requestEncoder
	snd     sender
	gzip    bool // HTTP only; gRPC compresses in its codec pipeline
	timeout time.Duration
	retry   bool
	policy  retry.Policy
}

func newDirectPath(r resolved, enc *requestEncoder, retryOn bool, policy retry.Policy) (*directPath, error) {
	d := &directPath{enc: enc, timeout: r.timeout, retry: retryOn, policy: policy}
	if r.proto == ProtocolGRPC {
		s, err := newGRPCSender(r)
		if err != nil {
			return nil, err
		}
		d.snd = s
	} else {
		d.snd = newHTTPSender(r)
		d.gzip = r.compression == CompressionGzip
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
		if err == nil {
			return rejected, msg, nil
		}
		var ae *attemptError
		if b == nil || !errors.As(err, &ae) || !ae.retryable || ctx.Err() != nil {
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

func newHTTPSender(r resolved) *httpSender {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       r.tls,
	}
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

// payloadBody reads a payload; Close releases its reference once.
type payloadBody struct {
	p    *payload
	r    bytes.Reader
	once sync.Once
}

func newBody(p *payload) *payloadBody {
	p.ref()
	b := &payloadBody{p: p}
	b.r.Reset(p.data)
	return b
}

func (b *payloadBody) Read(q []byte) (int, error) { return b.r.Read(q) }
func (b *payloadBody) Close() error {
	b.once.Do(b.p.release)
	return nil
}

func (s *httpSender) send(ctx context.Context, p *payload) (int64, string, error) {
	body := newBody(p)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, body)
	if err != nil {
		_ = body.Close()
		return 0, "", fmt.Errorf("otlp: %s: %w", s.redacted, err)
	}
	req.Header = s.header.Clone()
	req.ContentLength = int64(len(p.data))
	req.GetBody = func() (io.ReadCloser, error) { return newBody(p), nil }
	resp, err := s.client.Do(req)
	if err != nil {
		err = stripURL(err)
		return 0, "", &attemptError{err: fmt.Errorf("otlp: POST %s: %w", s.redacted, err), retryable: retryableNetError(ctx, err)}
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
		if _, m, err := parseStatus(data); err == nil {
			detail = m
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

type grpcSender struct {
	conn *grpc.ClientConn
	md   metadata.MD
}

func newGRPCSender(r resolved) (*grpcSender, error) {
	opts := []grpc.DialOption{grpc.WithUserAgent(userAgent)}
	switch {
	case r.tls != nil:
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(r.tls)))
	case r.insecure:
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	default:
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
	}
	if r.compression == CompressionGzip {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.UseCompressor(grpcgzip.Name)))
	}
	conn, err := grpc.NewClient(r.url.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp: grpc client for %s: %w", r.url.Host, err)
	}
	s := &grpcSender{conn: conn}
	if len(r.headers) > 0 {
		s.md = metadata.New(r.headers)
	}
	return s, nil
}

func (s *grpcSender) close() { _ = s.conn.Close() }

// rawCodec passes an encoded request through and keeps the response bytes.
// Its name is "proto" so the receiver decodes with its protobuf codec.
type rawCodec struct{}

// rawResponse receives the encoded response.
type rawResponse struct{ b []byte }

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	p, ok := v.(*payload)
	if !ok {
		return nil, fmt.Errorf("otlp: raw codec cannot marshal %T", v)
	}
	if mem.IsBelowBufferPoolingThreshold(cap(p.data)) {
		return mem.BufferSlice{mem.SliceBuffer(p.data)}, nil // not reference counted: no ref taken
	}
	p.ref() // released by gRPC through payload.Put
	return mem.BufferSlice{mem.NewBuffer(&p.data, p)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	r, ok := v.(*rawResponse)
	if !ok {
		return fmt.Errorf("otlp: raw codec cannot unmarshal into %T", v)
	}
	r.b = data.Materialize()
	return nil
}

var forceRaw = grpc.ForceCodecV2(rawCodec{})

func (s *grpcSender) send(ctx context.Context, p *payload) (int64, string, error) {
	if s.md != nil {
		md := s.md
		if out, ok := metadata.FromOutgoingContext(ctx); ok {
			md = metadata.Join(md, out)
		}
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var resp rawResponse
	err := s.conn.Invoke(ctx, exportMethod, p, &resp, forceRaw)
	if err != nil {
		st := status.Convert(err)
		retryable, throttle := retryableStatus(st)
		return 0, "", &attemptError{err: fmt.Errorf("otlp: grpc export: %w", err), retryable: retryable && ctx.Err() == nil, throttle: throttle}
	}
	rejected, msg, err := parseResponse(resp.b)
	if err != nil {
		return 0, "", nil // delivered; the receiver's answer is unreadable
	}
	return rejected, msg, nil
}

// retryableStatus follows the OTLP specification (and the SDK exporter):
// these codes are retried, ResourceExhausted only when the server sent
// RetryInfo, and RetryInfo's delay is honored.
func retryableStatus(st *status.Status) (bool, time.Duration) {
	var delay time.Duration
	hasInfo := false
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			hasInfo, delay = true, ri.GetRetryDelay().AsDuration()
		}
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		return true, delay
	case codes.ResourceExhausted:
		return hasInfo, delay
	}
	return false, 0
}
