package grpcmw_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware/grpcmw"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

// The interceptors on a gRPC server (here the health service stands in
// for a ranking service): the client reads the request id from the
// response header metadata x-request-id.
func Example() {
	kr, _ := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr, Exporters: []personalize.Exporter{mem}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ic, err := grpcmw.New(inst, grpcmw.Config{
		Request: func(ctx context.Context, method string) personalize.Request {
			user := ""
			if v := metadata.ValueFromIncomingContext(ctx, "x-user"); len(v) > 0 {
				user = v[0]
			}
			return personalize.Request{User: user, Surface: "home_feed", ModelVersion: "v42"}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(ic.Unary()), grpc.ChainStreamInterceptor(ic.Stream()))
	healthpb.RegisterHealthServer(srv, &ranker{inst: inst})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	var hdr metadata.MD
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-user", "u-123")
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "ok"}, grpc.Header(&hdr)); err != nil {
		fmt.Println(err)
		return
	}
	if err := inst.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	im := mem.Events()[0].Impression
	fmt.Println("same id as the header:", im.RequestID == hdr.Get("x-request-id")[0])
	fmt.Println("items:", len(im.Items), "status:", im.Status)
	// Output:
	// same id as the header: true
	// items: 1 status: ok
}
