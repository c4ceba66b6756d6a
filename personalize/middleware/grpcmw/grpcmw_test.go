package grpcmw_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware/grpcmw"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ranker serves the health service as a stand-in ranking service: the
// requested service name says how the handler ends.
type ranker struct {
	healthpb.UnimplementedHealthServer
	inst *personalize.Instrument
}

func outcomeOf(name string) error {
	switch name {
	case "ok":
		return nil
	case "not_found":
		return status.Error(codes.NotFound, "no such user")
	case "unavailable":
		return status.Error(codes.Unavailable, "model down")
	case "deadline":
		return status.Error(codes.DeadlineExceeded, "too slow")
	case "plain":
		return errors.New("plain error")
	case "click":
		return nil
	}
	panic("unknown case " + name)
}

func (r *ranker) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	if req.Service == "click" {
		err := r.inst.Outcome(ctx, personalize.Outcome{RequestID: grpcmw.RequestID(ctx), User: "u-1", Item: "sku-1", Kind: personalize.OutcomeClick})
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		return &healthpb.HealthCheckResponse{}, nil
	}
	if _, err := latency.Time(ctx, "model_scoring", func(context.Context) (int, error) { return 1, nil }); err != nil {
		return nil, err
	}
	grpcmw.Inference(ctx).Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.9, Propensity: 1}})
	if err := outcomeOf(req.Service); err != nil {
		return nil, err
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (r *ranker) Watch(req *healthpb.HealthCheckRequest, stream grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	ctx := stream.Context()
	if _, err := latency.Time(ctx, "model_scoring", func(context.Context) (int, error) { return 1, nil }); err != nil {
		return err
	}
	personalize.FromContext(ctx).Impress([]personalize.Item{{ID: "sku-2", Position: 1, Score: 0.8, Propensity: 1}})
	if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}); err != nil {
		return err
	}
	return outcomeOf(req.Service)
}

type fixture struct {
	inst   *personalize.Instrument
	mem    *personalizetest.MemoryExporter
	client healthpb.HealthClient
}

// serve starts a real gRPC server on a loopback port with the interceptors
// and returns a client connected to it.
func serve(t *testing.T, cfg grpcmw.Config) fixture {
	t.Helper()
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{mem}, BatchTimeout: 10 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(), ErrorHandler: func(error) {}})
	require.NoError(t, err)
	if cfg.Request == nil {
		cfg.Request = func(_ context.Context, method string) personalize.Request {
			return personalize.Request{User: "u-1", Surface: method, ModelVersion: "v42"}
		}
	}
	ic, err := grpcmw.New(inst, cfg)
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(ic.Unary()), grpc.ChainStreamInterceptor(ic.Stream()))
	healthpb.RegisterHealthServer(srv, &ranker{inst: inst})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		_ = inst.Shutdown(context.Background())
	})
	return fixture{inst: inst, mem: mem, client: healthpb.NewHealthClient(conn)}
}

func (f fixture) impressions(t *testing.T) []*personalize.Impression {
	t.Helper()
	require.NoError(t, f.inst.Flush(context.Background()))
	return f.mem.Impressions()
}

var cases = []struct {
	service   string
	code      codes.Code
	want      personalize.StageStatus
	errorType string
}{
	{"ok", codes.OK, personalize.StageOK, ""},
	{"not_found", codes.NotFound, personalize.StageOK, ""},
	{"unavailable", codes.Unavailable, personalize.StageError, "grpc_unavailable"},
	{"deadline", codes.DeadlineExceeded, personalize.StageTimeout, "grpc_deadline_exceeded"},
	{"plain", codes.Unknown, personalize.StageError, "grpc_unknown"},
}

func checkImpression(t *testing.T, f fixture, id string, want personalize.StageStatus, errorType, item string) {
	t.Helper()
	imps := f.impressions(t)
	require.Len(t, imps, 1)
	im := imps[0]
	assert.Equal(t, id, im.RequestID, "the impression's request id is the header the client saw")
	assert.Equal(t, want, im.Status)
	assert.Equal(t, errorType, im.ErrorType)
	require.Len(t, im.Items, 1)
	assert.Equal(t, item, im.Items[0].ID)
	h, ok := im.Stage(grpcmw.DefaultStage)
	require.True(t, ok, "the handler stage is recorded: %+v", im.Stages)
	assert.Equal(t, want, h.Status)
	assert.Positive(t, h.Duration)
	_, ok = im.Stage("model_scoring")
	assert.True(t, ok, "the handler's own stage is recorded")
}

func TestUnary(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.service, func(t *testing.T) {
			f := serve(t, grpcmw.Config{})
			var hdr metadata.MD
			_, err := f.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: tt.service}, grpc.Header(&hdr))
			assert.Equal(t, tt.code, status.Code(err), "%v", err)
			ids := hdr.Get(grpcmw.DefaultHeader)
			require.Len(t, ids, 1, "header metadata %v", hdr)
			checkImpression(t, f, ids[0], tt.want, tt.errorType, "sku-1")
			assert.Equal(t, "/grpc.health.v1.Health/Check", f.impressions(t)[0].Surface)
		})
	}
}

func TestStream(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.service, func(t *testing.T) {
			f := serve(t, grpcmw.Config{})
			stream, err := f.client.Watch(context.Background(), &healthpb.HealthCheckRequest{Service: tt.service})
			require.NoError(t, err)
			_, err = stream.Recv()
			require.NoError(t, err)
			hdr, err := stream.Header()
			require.NoError(t, err)
			_, err = stream.Recv()
			if tt.code == codes.OK {
				assert.ErrorIs(t, err, io.EOF)
			} else {
				assert.Equal(t, tt.code, status.Code(err), "%v", err)
			}
			ids := hdr.Get(grpcmw.DefaultHeader)
			require.Len(t, ids, 1, "header metadata %v", hdr)
			checkImpression(t, f, ids[0], tt.want, tt.errorType, "sku-2")
		})
	}
}

func TestConfig(t *testing.T) {
	f := serve(t, grpcmw.Config{Header: "X-Rank-Id", Stage: "serve", Request: func(context.Context, string) personalize.Request {
		return personalize.Request{ID: "req-fixed-1", User: "u-1", Surface: "home_feed"}
	}})
	var hdr metadata.MD
	_, err := f.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "ok"}, grpc.Header(&hdr))
	require.NoError(t, err)
	assert.Equal(t, []string{"req-fixed-1"}, hdr.Get("x-rank-id"))
	assert.Empty(t, hdr.Get(grpcmw.DefaultHeader))
	imps := f.impressions(t)
	require.Len(t, imps, 1)
	assert.Equal(t, "req-fixed-1", imps[0].RequestID)
	_, ok := imps[0].Stage("serve")
	assert.True(t, ok)
}

// A click method reads the request id the client sends back in metadata.
func TestClickLinksToImpression(t *testing.T) {
	f := serve(t, grpcmw.Config{})
	var hdr metadata.MD
	_, err := f.client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "ok"}, grpc.Header(&hdr))
	require.NoError(t, err)
	id := hdr.Get(grpcmw.DefaultHeader)[0]
	ctx := metadata.AppendToOutgoingContext(context.Background(), grpcmw.DefaultHeader, id)
	_, err = f.client.Check(ctx, &healthpb.HealthCheckRequest{Service: "click"})
	require.NoError(t, err)
	require.NoError(t, f.inst.Flush(context.Background()))
	var outs int
	for _, ev := range f.mem.Events() {
		if ev.Type == personalize.EventOutcome {
			outs++
			assert.Equal(t, id, ev.Outcome.RequestID)
		}
	}
	assert.Equal(t, 1, outs)
}

func TestRequestID(t *testing.T) {
	long := strings.Repeat("a", 129)
	tests := []struct {
		name string
		md   metadata.MD
		want string
	}{
		{"present", metadata.Pairs("x-request-id", "r-1"), "r-1"},
		{"absent", metadata.MD{}, ""},
		{"too long", metadata.Pairs("x-request-id", long), ""},
		{"first valid of several", metadata.Pairs("x-request-id", "bad id", "x-request-id", "r-2"), "r-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, grpcmw.RequestID(metadata.NewIncomingContext(context.Background(), tt.md)))
		})
	}
	assert.Equal(t, "", grpcmw.RequestID(context.Background()))
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("click-of", "r-3"))
	assert.Equal(t, "r-3", grpcmw.RequestIDFrom(ctx, "Click-Of"))
}

func TestClassify(t *testing.T) {
	assert.NoError(t, grpcmw.Classify(nil))
	for _, c := range []codes.Code{codes.Canceled, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.ResourceExhausted, codes.FailedPrecondition, codes.Aborted, codes.OutOfRange, codes.Unauthenticated} {
		assert.NoError(t, grpcmw.Classify(status.Error(c, "x")), c.String())
	}
	for _, c := range []codes.Code{codes.Unknown, codes.DeadlineExceeded, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss} {
		err := grpcmw.Classify(status.Error(c, "x"))
		var ce *grpcmw.CodeError
		require.True(t, errors.As(err, &ce), c.String())
		assert.Equal(t, c, ce.Code)
	}
	assert.Equal(t, "grpc_data_loss", latency.ErrorType(grpcmw.Classify(status.Error(codes.DataLoss, "x"))))
	assert.Equal(t, latency.StatusTimeout, latency.StatusOf(grpcmw.Classify(status.Error(codes.DeadlineExceeded, "x"))))
}

func TestNewValidates(t *testing.T) {
	f := serve(t, grpcmw.Config{})
	req := func(context.Context, string) personalize.Request { return personalize.Request{} }
	_, err := grpcmw.New(nil, grpcmw.Config{Request: req})
	assert.ErrorContains(t, err, "nil instrument")
	_, err = grpcmw.New(f.inst, grpcmw.Config{})
	assert.ErrorContains(t, err, "Config.Request")
	for _, h := range []string{"grpc-request-id", "x-id-bin", "x id"} {
		_, err = grpcmw.New(f.inst, grpcmw.Config{Request: req, Header: h})
		assert.ErrorContains(t, err, "Config.Header", h)
	}
}

func TestInferenceOutsideInterceptors(t *testing.T) {
	assert.Nil(t, grpcmw.Inference(context.Background()))
}
