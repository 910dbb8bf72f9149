package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// Protocol says how the proxy talks to its upstreams.
type Protocol string

const (
	// HTTP1 is HTTP/1.1 (HTTP/2 where an https upstream offers it in the
	// TLS handshake), with every client connection given upstream
	// connections of its own: see PerConnection.
	HTTP1 Protocol = "http1"
	// H2C is HTTP/2 with prior knowledge for http:// upstreams (h2 over
	// TLS for https://): each answer arrives on the stream of its own
	// request, so the connections are shared by every client. Every
	// upstream must speak HTTP/2.
	H2C Protocol = "h2c"
)

// PerConnection is the upstream RoundTripper of the HTTP1 protocol: each
// client connection gets its own http.Transport, cloned from one tuned
// template, so an upstream connection carries the requests of one client
// connection only — HAProxy's "http-reuse never". HTTP/1.1 gives an answer
// no request id: net/http's Transport takes whatever bytes come next on a
// pooled connection as the answer to the next request it writes there, and
// an upstream that repeats an answer late (or writes more than it
// announced) would hand it to whoever's request is next. With the pool
// split by client connection, that can only be the same client.
//
// Keep-alive still works within a client connection: a browser's
// connection reuses its upstream connection from one request to the next.
// The cost is one upstream dial per client connection that forwards
// anything; answers the proxy gives itself (preflights, 403, 429) dial
// nothing.
//
// Install ConnContext and ConnState on the http.Server; a request that did
// not come through them is refused, never sent through a shared pool.
type PerConnection struct {
	template *http.Transport
	// conns maps each open client connection to its upstream transport,
	// only so that ConnState can close it; requests find theirs in the
	// connection's context.
	conns sync.Map // net.Conn → *connTransport
}

// NewPerConnection returns a PerConnection cloning template for each client
// connection.
func NewPerConnection(template *http.Transport) *PerConnection {
	return &PerConnection{template: template}
}

// connTransport is one client connection's transport, made by its first
// forwarded request.
type connTransport struct {
	mu     sync.Mutex
	t      *http.Transport
	closed bool
}

type connKey struct{}

// errNoConnection is a request that did not come through ConnContext: a
// wiring mistake, answered 502 rather than sent through a shared pool.
var errNoConnection = errors.New("proxy: no upstream transport for this client connection (http.Server.ConnContext not set)")

// ConnContext is the http.Server hook: it gives the connection c its
// (still empty) transport slot.
func (p *PerConnection) ConnContext(ctx context.Context, c net.Conn) context.Context {
	ct := &connTransport{}
	p.conns.Store(c, ct)
	return context.WithValue(ctx, connKey{}, ct)
}

// ConnState is the http.Server hook that closes a client connection's
// idle upstream connections when it closes or is hijacked (a protocol
// upgrade then owns both ends). An upstream connection still in use then
// is closed by the transport's idle timeout once it is done.
func (p *PerConnection) ConnState(c net.Conn, s http.ConnState) {
	if s != http.StateClosed && s != http.StateHijacked {
		return
	}
	v, ok := p.conns.LoadAndDelete(c)
	if !ok {
		return
	}
	ct := v.(*connTransport)
	ct.mu.Lock()
	ct.closed = true
	t := ct.t
	ct.mu.Unlock()
	if t != nil {
		t.CloseIdleConnections()
	}
}

// RoundTrip sends r through the transport of the client connection it
// came on.
func (p *PerConnection) RoundTrip(r *http.Request) (*http.Response, error) {
	ct, ok := r.Context().Value(connKey{}).(*connTransport)
	if !ok {
		return nil, errNoConnection
	}
	ct.mu.Lock()
	if ct.t == nil {
		ct.t = p.template.Clone()
		if ct.closed {
			// The client connection closed (or was hijacked) while
			// this request was on its way; keep nothing behind it.
			ct.t.DisableKeepAlives = true
		}
	}
	t := ct.t
	ct.mu.Unlock()
	return t.RoundTrip(r)
}
