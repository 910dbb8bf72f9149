// Package proxy forwards requests to the destination the target package
// picks, with net/http/httputil.ReverseProxy. Our policy lives in its hooks:
// Rewrite (where to, X-Forwarded-*), ModifyResponse (drop the upstream's own
// CORS headers, point redirects at the proxy) and ErrorHandler (400/413/
// 502/504 as problem documents; a client that left or sent a broken body is
// not an upstream error).
//
// Everything else — hop-by-hop headers, streaming, 1xx, trailers, protocol
// upgrades — is ReverseProxy's, untouched, except that an upstream's 1xx
// answer and its trailers lose their Access-Control-* headers too. The
// requests go out through net/http's own http.Transport, tuned by
// NewTransport; never a home-made HTTP client. Over HTTP/1.1 an upstream
// connection is never shared between client connections (PerConnection):
// a pooled connection shared by many users' requests is where a faulty
// upstream's stray answer would reach another user. CORS headers are not set here:
// the cors middleware in front has already put them on the ResponseWriter,
// so the errors written here carry them too.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"signaling-auth/corsproxy/internal/problem"
	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/ratelimit/clientip"
)

// Observer is told about forwarding outcomes, for metrics. Its methods must
// be safe for concurrent use.
type Observer interface {
	// Upstream is called once per round trip with the time until the
	// upstream's response headers arrived (or the round trip failed).
	Upstream(d time.Duration, err error)
	// RejectedTarget is called for each request whose target the
	// resolver refuses (403).
	RejectedTarget()
	// RefusedPath is called for each request whose path is not in
	// allowed_paths (404).
	RefusedPath()
}

// Options are what New needs.
type Options struct {
	Resolver *target.Resolver
	// Transport sends the requests: the *http.Transport from NewTransport.
	Transport http.RoundTripper
	// MaxBodyBytes caps request bodies (413 beyond it).
	MaxBodyBytes int64
	Logger       *slog.Logger
	Observer     Observer // may be nil
	// TrustedProxies are the peers (trusted_proxies) whose X-Forwarded-For is
	// believed: the client it names goes on as the only X-Forwarded-For
	// entry; from anyone else the peer alone does. Nil trusts nobody.
	TrustedProxies *clientip.Resolver
}

// Proxy is the forwarding http.Handler.
type Proxy struct {
	resolver *target.Resolver
	maxBody  int64
	log      *slog.Logger
	obs      Observer
	trusted  *clientip.Resolver
	rp       *httputil.ReverseProxy
}

type destKey struct{}

type bodyKey struct{}

// New returns the forwarding handler.
func New(o Options) *Proxy {
	p := &Proxy{resolver: o.Resolver, maxBody: o.MaxBodyBytes, log: o.Logger, obs: o.Observer, trusted: o.TrustedProxies}
	if p.obs == nil {
		p.obs = nopObserver{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      observe(o.Transport, p.obs),
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		// Without a pool ReverseProxy allocates a 32 KiB copy buffer per
		// request, most of the proxy's garbage.
		BufferPool: &bufferPool{pool: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}},
		// ReverseProxy logs copy errors (a client that left mid-body)
		// through this; they are not worth a warning.
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelDebug),
	}
	return p
}

// ServeHTTP refuses targets the resolver does not allow (403), paths not in
// allowed_paths (404) and bodies over the cap (413), and forwards the rest.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dest, err := p.resolver.Resolve(r.RequestURI)
	if err != nil {
		if te, ok := err.(*target.Error); ok && te.Path {
			p.obs.RefusedPath()
			problem.Error(w, http.StatusNotFound, err.Error())
			return
		}
		p.obs.RejectedTarget()
		problem.Error(w, http.StatusForbidden, err.Error())
		return
	}
	if r.ContentLength > p.maxBody {
		problem.Error(w, http.StatusRequestEntityTooLarge, "the request body is larger than "+strconv.FormatInt(p.maxBody, 10)+" bytes")
		return
	}
	ctx := context.WithValue(r.Context(), destKey{}, dest)
	if r.Body != nil && r.Body != http.NoBody {
		// Chunked bodies of unknown length are cut off here; the
		// transport then fails and errorHandler answers 413.
		body := &clientBody{ReadCloser: http.MaxBytesReader(w, r.Body, p.maxBody)}
		r.Body = body
		// ReverseProxy hands errorHandler a request whose Body is its own
		// wrapper, so the context carries ours.
		ctx = context.WithValue(ctx, bodyKey{}, body)
	}
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	dest := pr.In.Context().Value(destKey{}).(target.Destination)
	if dest.Embedded {
		// The incoming path is /http://host:port/rest; only /rest goes on.
		pr.Out.URL.Path, pr.Out.URL.RawPath = dest.Path, dest.RawPath
	}
	pr.SetURL(dest.Base)
	// ReverseProxy has removed any X-Forwarded-* and Forwarded the client
	// sent; these are the ones we vouch for. X-Forwarded-For carries the one
	// address our rate limit keyed on (the peer, or the client a trusted
	// load balancer reported), so the upstream, trusting us, keys on the
	// same client by the same rule (clientip) without trusting the balancer.
	pr.SetXForwarded()
	p.trusted.Forward(pr.In, pr.Out.Header)
}

func (p *Proxy) modifyResponse(res *http.Response) error {
	h := res.Header
	// The cors middleware has set our CORS headers on the ResponseWriter;
	// ReverseProxy adds the upstream's on top, so the upstream's go — else
	// a browser sees two Access-Control-Allow-Origin and fails the request.
	dropCORS(h)
	dropVaryOrigin(h)
	if res.StatusCode != http.StatusSwitchingProtocols { // an upgrade's Body is the connection itself
		// Trailers go the same way as the headers: ReverseProxy announces
		// the declared ones now and copies whatever arrived once the body
		// is closed, declared or not.
		dropCORS(res.Trailer)
		res.Body = &trailerBody{ReadCloser: res.Body, res: res}
	}
	if loc := h.Get("Location"); loc != "" {
		dest, _ := res.Request.Context().Value(destKey{}).(target.Destination)
		if mapped, ok := p.resolver.ProxyLocation(loc, res.Request.URL, dest); ok {
			h.Set("Location", mapped)
		}
	}
	return nil
}

// dropCORS removes every Access-Control-* field from h.
func dropCORS(h http.Header) {
	for k := range h {
		if isCORSHeader(k) {
			delete(h, k)
		}
	}
}

// trailerBody drops the upstream's Access-Control-* trailers once the
// transport has read them: at the end of the body, before ReverseProxy
// copies res.Trailer to the client.
type trailerBody struct {
	io.ReadCloser
	res *http.Response
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		dropCORS(b.res.Trailer)
	}
	return n, err
}

func (b *trailerBody) Close() error {
	err := b.ReadCloser.Close()
	dropCORS(b.res.Trailer)
	return err
}

// dropVaryOrigin removes Origin from the upstream's Vary: the cors middleware
// always sends Vary: Origin itself, and once is enough.
func dropVaryOrigin(h http.Header) {
	values, ok := h["Vary"]
	if !ok {
		return
	}
	kept := values[:0:0]
	for _, v := range values {
		var parts []string
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" && !strings.EqualFold(f, "Origin") {
				parts = append(parts, f)
			}
		}
		if len(parts) > 0 {
			kept = append(kept, strings.Join(parts, ", "))
		}
	}
	if len(kept) == 0 {
		delete(h, "Vary")
		return
	}
	h["Vary"] = kept
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	var maxBytes *http.MaxBytesError
	var netErr net.Error
	// A round trip also fails when the client's own body does: the
	// transport reports the read error as its own. That is the client's
	// fault, not the upstream's.
	var bodyErr error
	if b, ok := r.Context().Value(bodyKey{}).(*clientBody); ok {
		bodyErr = b.readErr()
	}
	switch {
	case errors.As(bodyErr, &maxBytes) || errors.As(err, &maxBytes):
		problem.Error(w, http.StatusRequestEntityTooLarge, "the request body is larger than "+strconv.FormatInt(maxBytes.Limit, 10)+" bytes")
	case r.Context().Err() != nil:
		// The client left (or its deadline passed): nobody to answer, and
		// not the upstream's fault. The access log records 499. Abort
		// rather than return: net/http would send an empty 200 to a client
		// that only stopped sending and still reads.
		p.log.DebugContext(r.Context(), "client went away", "request_id", r.Header.Get("X-Request-Id"), "err", err)
		panic(http.ErrAbortHandler)
	case bodyErr != nil:
		p.log.DebugContext(r.Context(), "bad request body", "request_id", r.Header.Get("X-Request-Id"), "err", bodyErr)
		problem.Error(w, http.StatusBadRequest, "the request body is malformed: "+bodyErr.Error())
	case errors.As(err, &netErr) && netErr.Timeout():
		p.log.WarnContext(r.Context(), "upstream timeout", "request_id", r.Header.Get("X-Request-Id"), "upstream", r.URL.Host, "err", err)
		problem.Error(w, http.StatusGatewayTimeout, "the upstream did not answer in time")
	default:
		p.log.WarnContext(r.Context(), "upstream unreachable", "request_id", r.Header.Get("X-Request-Id"), "upstream", r.URL.Host, "err", err)
		problem.Error(w, http.StatusBadGateway, "the upstream could not be reached")
	}
}

// clientBody remembers why reading the client's request body failed, for
// errorHandler.
type clientBody struct {
	io.ReadCloser
	mu  sync.Mutex
	err error
}

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

func (b *clientBody) readErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// observe wraps rt to time each round trip, and to drop the upstream's
// Access-Control-* headers from its 1xx answers.
func observe(rt http.RoundTripper, obs Observer) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		// ReverseProxy forwards a 1xx answer from its own Got1xxResponse
		// hook, copying the upstream's headers next to the CORS headers
		// already on the ResponseWriter. A hook added later runs first and
		// sees the same header map, so the copy finds no upstream CORS.
		// (WithClientTrace writes into the trace it is given: a new one
		// per request.)
		r = r.WithContext(httptrace.WithClientTrace(r.Context(), &httptrace.ClientTrace{Got1xxResponse: strip1xxCORS}))
		start := time.Now()
		res, err := rt.RoundTrip(r)
		obs.Upstream(time.Since(start), err)
		return res, err
	})
}

// strip1xxCORS removes every Access-Control-* header from an upstream's 1xx
// answer before ReverseProxy forwards it.
func strip1xxCORS(_ int, h textproto.MIMEHeader) error {
	for k := range h {
		if isCORSHeader(k) {
			delete(h, k)
		}
	}
	return nil
}

// isCORSHeader reports whether the canonical header name k is one of the
// Access-Control-* response headers.
func isCORSHeader(k string) bool { return strings.HasPrefix(k, "Access-Control-") }

// TransportConfig tunes the outgoing connections.
type TransportConfig struct {
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	MaxIdleConnsPerHost   int
	// Protocol is HTTP1 (also the zero value) or H2C.
	Protocol Protocol
	// Proxy is an outgoing HTTP proxy; nil means connect directly. The
	// HTTP_PROXY/HTTPS_PROXY environment is deliberately ignored: a proxy
	// in front of a token server must not be rerouted by its environment.
	Proxy *url.URL
}

// NewUpstream returns what sends the requests for c.Protocol, and the hooks
// it needs on the proxy's http.Server (install them before serving). HTTP1
// is a PerConnection over NewTransport(c); H2C is NewTransport(c) itself,
// shared, and installs nothing.
func NewUpstream(c TransportConfig) (http.RoundTripper, func(*http.Server)) {
	t := NewTransport(c)
	if c.Protocol == H2C {
		return t, func(*http.Server) {}
	}
	pc := NewPerConnection(t)
	return pc, func(s *http.Server) {
		prevCtx, prevState := s.ConnContext, s.ConnState
		s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if prevCtx != nil {
				ctx = prevCtx(ctx, c)
			}
			return pc.ConnContext(ctx, c)
		}
		s.ConnState = func(c net.Conn, st http.ConnState) {
			if prevState != nil {
				prevState(c, st)
			}
			pc.ConnState(c, st)
		}
	}
}

// NewTransport returns the http.Transport for upstream requests. Besides
// the timeouts and the idle pool of c it sets no Proxy func unless c.Proxy
// is given, and DisableCompression: the client's own Accept-Encoding goes
// through as sent, and nothing is decompressed behind its back. For H2C it
// speaks only HTTP/2: with prior knowledge to http:// upstreams, negotiated
// in TLS to https:// ones.
func NewTransport(c TransportConfig) *http.Transport {
	d := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   c.TLSHandshakeTimeout,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout,
		IdleConnTimeout:       c.IdleConnTimeout,
		MaxIdleConns:          0, // no global cap; per host is what matters
		MaxIdleConnsPerHost:   c.MaxIdleConnsPerHost,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
	if c.Protocol == H2C {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP2(true)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	if c.Proxy != nil {
		t.Proxy = http.ProxyURL(c.Proxy)
	}
	return t
}

// copyBufferSize is the size of ReverseProxy's response copy buffers (its
// own default).
const copyBufferSize = 32 << 10

// bufferPool holds ReverseProxy's response copy buffers. It pools array
// pointers: Put can turn the slice it is given back into one without
// allocating, where pooling *[]byte would allocate a new slice header on
// every Put.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte { return p.pool.Get().(*[copyBufferSize]byte)[:] }

func (p *bufferPool) Put(b []byte) {
	if len(b) != copyBufferSize {
		return // not one of ours
	}
	p.pool.Put((*[copyBufferSize]byte)(b))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type nopObserver struct{}

func (nopObserver) Upstream(time.Duration, error) {}
func (nopObserver) RejectedTarget()               {}
func (nopObserver) RefusedPath()                  {}

// Reachable dials each URL's host (or the outgoing proxy, if one is set)
// and returns one error per destination that does not accept a TCP
// connection within timeout. It is the readiness check: cheap, and it does
// not depend on any path existing upstream.
func Reachable(ctx context.Context, dests []*url.URL, via *url.URL, timeout time.Duration) []error {
	if via != nil {
		dests = []*url.URL{via}
	}
	d := net.Dialer{Timeout: timeout}
	var errs []error
	for _, u := range dests {
		addr := hostPort(u)
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			name := u.Scheme + "://" + u.Host
			if via != nil {
				name = "outgoing proxy " + u.Host
			}
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			continue
		}
		_ = c.Close()
	}
	return errs
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}
