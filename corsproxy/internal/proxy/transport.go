package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Transport sends the upstream requests. Body-less GET, HEAD and OPTIONS
// requests to plain http:// upstreams — every token fetch — go over its own
// keep-alive HTTP/1.1 connections, written and read on the caller's
// goroutine. The rest (https, an outgoing proxy, request bodies, other
// methods, protocol upgrades) goes to an http.Transport.
//
// Why: under load the proxy's CPU is mostly the second hop, and
// http.Transport hands every request to a writer goroutine and every
// response back from a reader goroutine of its connection. Without those
// hand-offs a round trip costs about 70 % of the CPU and 53 instead of 71
// allocations (corsproxy's BenchmarkDirectParallelProxyTransport against
// BenchmarkDirectParallel, upstream included). The
// framing is net/http's own (Request.Write, ReadResponse); this file pools
// connections and bounds waits. Differences from http.Transport, all
// deliberate: a pooled connection the upstream closed while idle is found
// out when used, and the request (replayable by construction) is sent once
// more on a new one, dropping the other idle ones; more than five 1xx
// answers are refused; an unrequested 101 is not a protocol switch; and no
// Accept-Encoding of its own is added, so nothing is decompressed behind
// the client's back.
type Transport struct {
	std               *http.Transport
	dial              func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout     time.Duration
	idleTimeout       time.Duration
	maxIdlePerHost    int
	maxResponseHeader int64

	mu   sync.Mutex
	idle map[string][]*conn // per host:port, most recently used last
}

// TransportConfig tunes the outgoing connections.
type TransportConfig struct {
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	IdleConnTimeout       time.Duration
	MaxIdleConnsPerHost   int
	// Proxy is an outgoing HTTP proxy; nil means connect directly. The
	// HTTP_PROXY/HTTPS_PROXY environment is deliberately ignored: a proxy
	// in front of a token server must not be rerouted by its environment.
	Proxy *url.URL
}

// maxResponseHeaderBytes caps an upstream's response headers, as
// http.Transport's default does.
const maxResponseHeaderBytes = 10 << 20

// max1xxResponses is how many informational responses (103 Early Hints and
// the like; ReverseProxy forwards each) may precede the final one. More is
// an upstream stringing the client along.
const max1xxResponses = 5

// NewTransport returns the transport for upstream requests.
func NewTransport(c TransportConfig) *Transport {
	d := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second}
	std := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   c.TLSHandshakeTimeout,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout,
		IdleConnTimeout:       c.IdleConnTimeout,
		MaxIdleConns:          0, // no global cap; per host is what matters
		MaxIdleConnsPerHost:   c.MaxIdleConnsPerHost,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	if c.Proxy != nil {
		std.Proxy = http.ProxyURL(c.Proxy)
	}
	maxIdle := c.MaxIdleConnsPerHost
	if maxIdle <= 0 {
		maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	return &Transport{
		std:               std,
		dial:              d.DialContext,
		headerTimeout:     c.ResponseHeaderTimeout,
		idleTimeout:       c.IdleConnTimeout,
		maxIdlePerHost:    maxIdle,
		maxResponseHeader: maxResponseHeaderBytes,
		idle:              map[string][]*conn{},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.own(req) {
		return t.std.RoundTrip(req)
	}
	ctx, addr := req.Context(), hostPort(req.URL)
	c := t.idleConn(addr)
	if c == nil {
		var err error
		if c, err = t.dialConn(ctx, addr); err != nil {
			return nil, err
		}
	}
	res, err := c.roundTrip(req)
	if err == nil || !c.reused || !errors.Is(err, errNoResponse) || ctx.Err() != nil {
		return res, err
	}
	// c sat idle and the upstream closed it meanwhile (its keep-alive
	// timeout ran out, or it restarted); connections idle as long are
	// likely closed too. Drop them, and send the request once more on a
	// new connection, as http.Transport does: it is replayable (own).
	t.closeIdle(addr)
	if c, err = t.dialConn(ctx, addr); err != nil {
		return nil, err
	}
	return c.roundTrip(req)
}

// own reports whether the request is one this transport sends itself:
// plain HTTP, direct, without a body and safe to send twice.
func (t *Transport) own(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return req.URL.Scheme == "http" && t.std.Proxy == nil &&
		(req.Body == nil || req.Body == http.NoBody) && req.ContentLength == 0 &&
		len(req.TransferEncoding) == 0 && req.Header.Get("Upgrade") == ""
}

// CloseIdleConnections closes the connections no request is using.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*conn{}
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.close()
		}
	}
	t.std.CloseIdleConnections()
}

// closeIdle closes the idle connections to addr.
func (t *Transport) closeIdle(addr string) {
	t.mu.Lock()
	cs := t.idle[addr]
	delete(t.idle, addr)
	t.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

// idleConn takes the connection to addr that was used last, or returns nil.
func (t *Transport) idleConn(addr string) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.idle[addr]
	if len(cs) == 0 {
		return nil
	}
	c := cs[len(cs)-1]
	cs[len(cs)-1] = nil
	t.idle[addr] = cs[:len(cs)-1]
	c.reused = true
	return c
}

func (t *Transport) dialConn(ctx context.Context, addr string) (*conn, error) {
	nc, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &conn{t: t, addr: addr, nc: nc}
	c.lr = limitedReader{r: nc}
	c.br = bufio.NewReader(&c.lr)
	c.bw = bufio.NewWriter(nc)
	return c, nil
}

// put makes c available to the next request, or closes it when the host
// already has enough idle connections.
func (t *Transport) put(c *conn) {
	t.mu.Lock()
	cs := t.idle[c.addr]
	if len(cs) >= t.maxIdlePerHost {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle[c.addr] = append(cs, c)
	// Under the lock: once c is in the list, another request may take it
	// and put it back.
	if t.idleTimeout > 0 {
		if c.idleTimer == nil {
			c.idleTimer = time.AfterFunc(t.idleTimeout, c.expire)
		} else {
			c.idleTimer.Reset(t.idleTimeout)
		}
	}
	t.mu.Unlock()
}

// conn is one kept-alive upstream connection. Only the request using it
// touches it, and a request gives it back (put) only after reading its
// response to the end.
type conn struct {
	t         *Transport
	addr      string
	nc        net.Conn
	lr        limitedReader
	br        *bufio.Reader
	bw        *bufio.Writer
	reused    bool
	idleTimer *time.Timer
}

// expire closes c if it has been idle since its timer was set. A timer that
// fires while c is in use finds it missing from the idle list and does
// nothing; put sets it again.
func (c *conn) expire() {
	t := c.t
	t.mu.Lock()
	cs := t.idle[c.addr]
	i := slices.Index(cs, c)
	if i < 0 {
		t.mu.Unlock()
		return
	}
	t.idle[c.addr] = slices.Delete(cs, i, i+1)
	t.mu.Unlock()
	c.close()
}

// close closes c for good. Only c's owner calls it: the request using it, or
// whoever took it out of the idle list.
func (c *conn) close() {
	if c.idleTimer != nil {
		c.idleTimer.Stop()
	}
	_ = c.nc.Close()
}

// errNoResponse marks a round trip that failed before any byte of a response
// arrived.
var errNoResponse = errors.New("no response from the upstream")

// headerTimeoutError is a response that did not start within
// ResponseHeaderTimeout. It says what http.Transport says, and is a net.Error
// whose Timeout is true, so the proxy answers 504.
type headerTimeoutError struct{ err error }

func (e headerTimeoutError) Error() string   { return "net/http: timeout awaiting response headers" }
func (e headerTimeoutError) Unwrap() error   { return e.err }
func (e headerTimeoutError) Timeout() bool   { return true }
func (e headerTimeoutError) Temporary() bool { return true }

// roundTrip writes req on c and reads the response headers; the body is
// read by the caller through the returned Response. On error c is closed.
func (c *conn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// Cancelling the request (the client left, or its deadline passed)
	// unblocks a read or write in progress.
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		c.close()
		if !stop() {
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
		}
		return nil, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(fmt.Errorf("%w: %w", errNoResponse, err))
	}
	if err := c.bw.Flush(); err != nil {
		return fail(fmt.Errorf("%w: %w", errNoResponse, err))
	}
	if c.t.headerTimeout > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.t.headerTimeout))
	}
	c.lr.n = c.t.maxResponseHeader
	if _, err := c.br.Peek(1); err != nil {
		if isTimeout(err) {
			return fail(headerTimeoutError{err})
		}
		return fail(fmt.Errorf("%w: %w", errNoResponse, err))
	}
	trace := httptrace.ContextClientTrace(ctx)
	var res *http.Response
	for n := 0; ; n++ {
		var err error
		res, err = http.ReadResponse(c.br, req)
		if err != nil {
			if isTimeout(err) {
				return fail(headerTimeoutError{err})
			}
			if c.lr.n <= 0 {
				err = fmt.Errorf("upstream response headers exceed %d bytes", c.t.maxResponseHeader)
			}
			return fail(err)
		}
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if n == max1xxResponses {
			return fail(errors.New("upstream sent too many 1xx responses"))
		}
		if trace != nil && trace.Got1xxResponse != nil {
			if err := trace.Got1xxResponse(res.StatusCode, textproto.MIMEHeader(res.Header)); err != nil {
				return fail(err)
			}
		}
	}
	c.lr.n = math.MaxInt64
	if c.t.headerTimeout > 0 {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	reusable := !res.Close && !req.Close && res.StatusCode != http.StatusSwitchingProtocols
	if res.Body == http.NoBody {
		c.done(stop, reusable)
		return res, nil
	}
	res.Body = &body{rc: res.Body, c: c, stop: stop, reusable: reusable}
	return res, nil
}

// done ends a round trip: c goes back to the pool if its response was read
// to the end, the connection allows it and the request's context did not
// poison its deadline.
func (c *conn) done(stop func() bool, reusable bool) {
	// Bytes already waiting are not the answer to any request of ours.
	if stop() && reusable && c.br.Buffered() == 0 {
		c.reused = false
		c.t.put(c)
		return
	}
	c.close()
}

// body is a response body read straight off the connection. At EOF the
// connection goes back to the pool; closed before EOF, it is closed (the
// rest of the body is not worth draining for a proxy that has stopped
// reading it). Once either has happened, the body never touches the
// connection again: it may be serving another request.
type body struct {
	rc       io.ReadCloser
	c        *conn
	stop     func() bool
	reusable bool
	state    atomic.Int32 // bodyOpen, bodyRead or bodyClosed
	err      error        // what ended the reading (io.EOF when complete)
}

const (
	bodyOpen = iota
	bodyRead
	bodyClosed
)

var errBodyClosed = errors.New("read on a closed response body")

func (b *body) Read(p []byte) (int, error) {
	switch b.state.Load() {
	case bodyRead:
		return 0, b.err
	case bodyClosed:
		return 0, errBodyClosed
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.err = err
		if b.state.CompareAndSwap(bodyOpen, bodyRead) {
			b.c.done(b.stop, b.reusable && err == io.EOF)
		}
	}
	return n, err
}

func (b *body) Close() error {
	if b.state.Swap(bodyClosed) == bodyOpen {
		b.stop()
		b.c.close()
	}
	return nil
}

// limitedReader fails reads once n bytes have been read: it caps response
// headers while they are read.
type limitedReader struct {
	r io.Reader
	n int64
}

var errHeaderTooLarge = errors.New("upstream response headers too large")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
