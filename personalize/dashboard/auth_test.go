package dashboard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type recorder struct {
	records [][3]string
	err     error
}

func (r *recorder) Append(a, b, c string) error {
	if r.err != nil {
		return r.err
	}
	r.records = append(r.records, [3]string{a, b, c})
	return nil
}

func TestLoopbackByDefault(t *testing.T) {
	h, err := New(Config{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		local  net.Addr
		remote string
		want   int
	}{
		{"in process", nil, "192.0.2.1:1234", http.StatusOK},
		{"loopback v4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "127.0.0.1:5555", http.StatusOK},
		{"loopback v6", &net.TCPAddr{IP: net.IPv6loopback, Port: 80}, "[::1]:5555", http.StatusOK},
		{"unix socket", &net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, "@", http.StatusOK},
		{"public listener", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 80}, "10.0.0.9:5555", http.StatusForbidden},
		{"wildcard listener, remote peer", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "203.0.113.7:5555", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/debug/rankscope/json", nil)
			req.RemoteAddr = tt.remote
			if tt.local != nil {
				req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, tt.local))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tt.want, rec.Code)
		})
	}
	// A real server on loopback serves.
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/json")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestAudited(t *testing.T) {
	log := &recorder{}
	identify := func(r *http.Request) (string, error) {
		if u := r.Header.Get("X-User"); u != "" {
			return u, nil
		}
		return "", errors.New("no user")
	}
	h, err := New(Config{Authorize: Audited(log, identify)})
	require.NoError(t, err)
	serve := func(user string) int {
		req := httptest.NewRequest(http.MethodGet, "/debug/rankscope", nil)
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5)}))
		if user != "" {
			req.Header.Set("X-User", user)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusOK, serve("alice"), "an explicit hook replaces the loopback default")
	assert.Equal(t, [][3]string{{"alice", "view", "/debug/rankscope"}}, log.records)
	assert.Equal(t, http.StatusForbidden, serve(""))
	log.err = errors.New("disk full")
	assert.Equal(t, http.StatusForbidden, serve("bob"), "no unrecorded views")
	assert.Len(t, log.records, 1)
}
