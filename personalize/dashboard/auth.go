package dashboard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
)

// ErrNotLoopback is the refusal of [LoopbackOnly].
var ErrNotLoopback = errors.New("dashboard: request did not arrive on a loopback address; set Config.Authorize")

// LoopbackOnly is the default of Config.Authorize: it allows a request
// that reached the server on a loopback address (the listener's side of
// the connection, from http.LocalAddrContextKey, and the peer both
// loopback, or a Unix socket), and refuses any other with
// [ErrNotLoopback]. A request that did not come through an http.Server
// (no local address in its context: a handler called in process, as in
// tests) is allowed.
//
// Behind a reverse proxy on the same host every request arrives from
// loopback: there, set Config.Authorize to the service's own
// authentication (for instance [Audited]).
func LoopbackOnly(r *http.Request) error {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return nil
	}
	switch a := local.(type) {
	case *net.UnixAddr:
		return nil
	case *net.TCPAddr:
		if !a.IP.IsLoopback() {
			return ErrNotLoopback
		}
	default:
		return ErrNotLoopback
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return ErrNotLoopback
	}
	return nil
}

// AllowAll authorizes every request. Setting Config.Authorize to it
// serves the page to anyone who can reach it; prefer [Audited].
func AllowAll(*http.Request) error { return nil }

// Auditor records an access; *audit.Log of package privacy/audit
// implements it.
type Auditor interface {
	Append(accessor, action, resource string) error
}

// Audited returns a Config.Authorize hook that identifies the viewer with
// identify (the service's authentication: a verified token, a client
// certificate; an error refuses the request) and records (identity,
// "view", the URL path) in log before the page is computed. A request
// whose record cannot be written is refused: no unrecorded views.
func Audited(log Auditor, identify func(*http.Request) (string, error)) func(*http.Request) error {
	return func(r *http.Request) error {
		who, err := identify(r)
		if err != nil {
			return fmt.Errorf("dashboard: identify: %w", err)
		}
		if err := log.Append(who, "view", r.URL.Path); err != nil {
			return fmt.Errorf("dashboard: audit: %w", err)
		}
		return nil
	}
}
