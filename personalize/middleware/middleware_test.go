package middleware_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/goleak"

	"github.com/rankscope/rankscope/latency"
	"github.com/rankscope/rankscope/personalize"
	"github.com/rankscope/rankscope/personalize/middleware"
	"github.com/rankscope/rankscope/personalize/personalizetest"
	"github.com/rankscope/rankscope/privacy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newInst(t *testing.T) (*personalize.Instrument, *personalizetest.MemoryExporter) {
	t.Helper()
	kr, err := privacy.NewHMAC(privacy.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	mem := personalizetest.NewMemoryExporter()
	inst, err := personalize.New(personalize.Config{Service: "feed-ranker", Pseudonymize: kr,
		Exporters: []personalize.Exporter{mem}, BatchTimeout: 10 * time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(), ErrorHandler: func(error) {}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = inst.Shutdown(context.Background()) })
	return inst, mem
}

func request(r *http.Request) personalize.Request {
	return personalize.Request{User: r.URL.Query().Get("user"), Surface: "home_feed", ModelVersion: "v42"}
}

// rank is a ranking handler: a timed stage, then the items, then status.
func rank(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := latency.Time(r.Context(), "model_scoring", func(context.Context) (int, error) { return 2, nil })
		if err != nil {
			http.Error(w, "scoring", http.StatusInternalServerError)
			return
		}
		middleware.Inference(r.Context()).Impress([]personalize.Item{{ID: "sku-1", Position: 1, Score: 0.9, Propensity: 1}})
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "ranked")
	})
}

func impressions(t *testing.T, inst *personalize.Instrument, mem *personalizetest.MemoryExporter) []*personalize.Impression {
	t.Helper()
	require.NoError(t, inst.Flush(context.Background()))
	return mem.Impressions()
}

func TestHandlerStatus(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		want      personalize.StageStatus
		errorType string
	}{
		{"200 is ok", http.StatusOK, personalize.StageOK, ""},
		{"404 is ok", http.StatusNotFound, personalize.StageOK, ""},
		{"500 is an error", http.StatusInternalServerError, personalize.StageError, "http_500"},
		{"503 is an error", http.StatusServiceUnavailable, personalize.StageError, "http_503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst, mem := newInst(t)
			mw, err := middleware.New(inst, middleware.Config{Request: request})
			require.NoError(t, err)
			srv := httptest.NewServer(mw.Handler(rank(tt.status)))
			defer srv.Close()

			resp, err := srv.Client().Get(srv.URL + "/rank?user=u-1")
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tt.status, resp.StatusCode)
			id := resp.Header.Get("X-Request-Id")
			require.NotEmpty(t, id)

			imps := impressions(t, inst, mem)
			require.Len(t, imps, 1)
			im := imps[0]
			assert.Equal(t, id, im.RequestID, "the impression's request id is the header the client saw")
			assert.Equal(t, tt.want, im.Status)
			assert.Equal(t, tt.errorType, im.ErrorType)
			assert.Len(t, im.Items, 1)
			h, ok := im.Stage(middleware.DefaultStage)
			require.True(t, ok, "the handler stage is recorded: %+v", im.Stages)
			assert.Equal(t, tt.want, h.Status)
			assert.Positive(t, h.Duration)
			_, ok = im.Stage("model_scoring")
			assert.True(t, ok, "the handler's own stage is recorded")
		})
	}
}

func TestHandlerConfig(t *testing.T) {
	inst, mem := newInst(t)
	mw, err := middleware.New(inst, middleware.Config{Request: func(r *http.Request) personalize.Request {
		req := request(r)
		req.ID = "req-fixed-1"
		return req
	}, Header: "x-rank-id", Stage: "serve"})
	require.NoError(t, err)
	assert.Equal(t, "X-Rank-Id", mw.Header())
	rec := httptest.NewRecorder()
	mw.Handler(rank(http.StatusOK)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rank?user=u-2", nil))
	assert.Equal(t, "req-fixed-1", rec.Header().Get("X-Rank-Id"))
	assert.Empty(t, rec.Header().Get("X-Request-Id"))
	imps := impressions(t, inst, mem)
	require.Len(t, imps, 1)
	assert.Equal(t, "req-fixed-1", imps[0].RequestID)
	_, ok := imps[0].Stage("serve")
	assert.True(t, ok)
}

func TestHandlerDeadlineIsTimeout(t *testing.T) {
	inst, mem := newInst(t)
	mw, err := middleware.New(inst, middleware.Config{Request: request})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	h := mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		http.Error(w, "too slow", http.StatusGatewayTimeout)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rank?user=u-3", nil).WithContext(ctx))
	imps := impressions(t, inst, mem)
	require.Len(t, imps, 1)
	assert.Equal(t, personalize.StageTimeout, imps[0].Status)
	assert.Equal(t, "http_504", imps[0].ErrorType)
}

func TestHandlerPanic(t *testing.T) {
	inst, mem := newInst(t)
	mw, err := middleware.New(inst, middleware.Config{Request: request})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	})))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	_, err = srv.Client().Get(srv.URL + "/rank?user=u-4")
	require.Error(t, err, "the aborted handler closes the connection")
	imps := impressions(t, inst, mem)
	require.Len(t, imps, 1)
	assert.Equal(t, personalize.StageError, imps[0].Status)
	assert.Equal(t, "panic", imps[0].ErrorType)

	// The panic value reaches the caller unchanged.
	rec := httptest.NewRecorder()
	func() {
		defer func() { assert.Equal(t, http.ErrAbortHandler, recover()) }()
		mw.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })).
			ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rank?user=u-4", nil))
	}()
}

// The click endpoint reads the id the ranking response carried, and the
// outcome links to the impression.
func TestClickLinksToImpression(t *testing.T) {
	inst, mem := newInst(t)
	mw, err := middleware.New(inst, middleware.Config{Request: request})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /rank", mw.Handler(rank(http.StatusOK)))
	mux.HandleFunc("POST /click", func(w http.ResponseWriter, r *http.Request) {
		err := inst.Outcome(r.Context(), personalize.Outcome{RequestID: middleware.RequestID(r),
			User: r.URL.Query().Get("user"), Item: r.URL.Query().Get("item"), Kind: personalize.OutcomeClick})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/rank?user=u-5")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	id := resp.Header.Get(middleware.DefaultHeader)
	for _, click := range []func() (*http.Response, error){
		func() (*http.Response, error) { // header
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/click?user=u-5&item=sku-1", nil)
			req.Header.Set("X-Request-Id", id)
			return srv.Client().Do(req)
		},
		func() (*http.Response, error) { // query parameter
			return srv.Client().Post(srv.URL+"/click?user=u-5&item=sku-1&request_id="+id, "", nil)
		},
	} {
		resp, err := click()
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.NoError(t, inst.Flush(context.Background()))
	var imp, outs int
	for _, ev := range mem.Events() {
		switch ev.Type {
		case personalize.EventImpression:
			imp++
			assert.Equal(t, id, ev.Impression.RequestID)
		case personalize.EventOutcome:
			outs++
			assert.Equal(t, id, ev.Outcome.RequestID)
		}
	}
	assert.Equal(t, 1, imp)
	assert.Equal(t, 2, outs)
}

func TestRequestID(t *testing.T) {
	long := strings.Repeat("a", middleware.MaxRequestIDLen+1)
	tests := []struct {
		name, header, query, want string
	}{
		{"header", "r-1", "", "r-1"},
		{"query", "", "r-2", "r-2"},
		{"header first", "r-1", "r-2", "r-1"},
		{"none", "", "", ""},
		{"too long", long, "", ""},
		{"too long header falls back to query", long, "r-2", "r-2"},
		{"longest", long[1:], "", long[1:]},
		{"control characters", "r\x01", "", ""},
		{"space", "r 1", "", ""},
		{"non-ascii", "r-é", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/click", nil)
			if tt.header != "" {
				r.Header.Set("X-Request-Id", tt.header)
			}
			if tt.query != "" {
				q := r.URL.Query()
				q.Set("request_id", tt.query)
				r.URL.RawQuery = q.Encode()
			}
			assert.Equal(t, tt.want, middleware.RequestID(r))
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/click?rid=q-1", nil)
	r.Header.Set("X-Click-Of", "h-1")
	assert.Equal(t, "h-1", middleware.RequestIDFrom(r, "X-Click-Of", "rid"))
	assert.Equal(t, "q-1", middleware.RequestIDFrom(r, "", "rid"))
	assert.Equal(t, "", middleware.RequestIDFrom(r, "", ""))
}

func TestNewValidates(t *testing.T) {
	inst, _ := newInst(t)
	_, err := middleware.New(nil, middleware.Config{Request: request})
	assert.ErrorContains(t, err, "nil instrument")
	_, err = middleware.New(inst, middleware.Config{})
	assert.ErrorContains(t, err, "Config.Request")
	_, err = middleware.New(inst, middleware.Config{Request: request, Header: "X Request"})
	assert.ErrorContains(t, err, "Config.Header")
}

func TestResponseWriterKeepsFlusher(t *testing.T) {
	inst, _ := newInst(t)
	mw, err := middleware.New(inst, middleware.Config{Request: request})
	require.NoError(t, err)
	var flusher, controller bool
	rec := httptest.NewRecorder()
	mw.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, flusher = w.(http.Flusher)
		controller = http.NewResponseController(w).Flush() == nil
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/rank?user=u-6", nil))
	assert.True(t, flusher)
	assert.True(t, controller)
	assert.True(t, rec.Flushed)
}

func TestInferenceOutsideMiddleware(t *testing.T) {
	assert.Nil(t, middleware.Inference(context.Background()))
}

func TestErrorHandler(t *testing.T) {
	inst, _ := newInst(t)
	var got []error
	mw, err := middleware.New(inst, middleware.Config{Request: func(*http.Request) personalize.Request {
		return personalize.Request{Surface: "home_feed"} // no user: End reports a validation error
	}, ErrorHandler: func(err error) { got = append(got, err) }})
	require.NoError(t, err)
	mw.Handler(rank(http.StatusOK)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/rank", nil))
	require.Len(t, got, 1)
	var ve *personalize.ValidationError
	assert.True(t, errors.As(got[0], &ve), "%v", got[0])
}
