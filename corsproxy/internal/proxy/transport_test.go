package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// conns counts an upstream's connections as the upstream sees them.
type conns struct{ opened, closed atomic.Int64 }

// countingUpstream serves h on loopback and counts its connections.
func countingUpstream(t *testing.T, h http.Handler) (*httptest.Server, *conns) {
	t.Helper()
	cc := &conns{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			cc.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			cc.closed.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

// rawUpstream is an upstream that misbehaves on purpose: it answers the n-th
// request it reads (counting from 0, across connections) with the bytes
// reply returns, verbatim, and closes the connection after them when told
// to.
type rawUpstream struct {
	URL      string
	requests atomic.Int64
	opened   atomic.Int64
}

func newRawUpstream(t testing.TB, reply func(n int, req *http.Request) (raw string, closeAfter bool)) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{URL: "http://" + ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.opened.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					raw, closeAfter := reply(int(u.requests.Add(1)-1), req)
					if _, err := io.WriteString(c, raw); err != nil || closeAfter {
						return
					}
				}
			})
		}
	})
	return u
}

const okReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func testTransport(tweak func(*TransportConfig)) *Transport {
	c := TransportConfig{DialTimeout: time.Second, TLSHandshakeTimeout: time.Second, ResponseHeaderTimeout: 5 * time.Second, IdleConnTimeout: time.Minute, MaxIdleConnsPerHost: 8}
	if tweak != nil {
		tweak(&c)
	}
	return NewTransport(c)
}

// fetch sends one request with rt and reads the whole answer.
func fetch(ctx context.Context, rt http.RoundTripper, method, url string) (status int, body string, err error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := rt.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func idleCount(tr *Transport, rawURL string) int {
	u, _ := url.Parse(rawURL)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.idle[hostPort(u)])
}

// eventually waits up to 5 s for cond; the conditions here are closes the
// other side sees after a moment, not timings.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s: %s", what)
		}
	}
}

func TestTransportKeepsOneConnectionForSequentialRequests(t *testing.T) {
	up, cc := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	tr := testTransport(nil)
	defer tr.CloseIdleConnections()
	for i := range 20 {
		path := "/rtm/user-" + strconv.Itoa(i) + "/"
		status, body, err := fetch(t.Context(), tr, "GET", up.URL+path)
		if err != nil || status != 200 || body != path {
			t.Fatalf("request %d: %d %q %v; want 200 %q", i, status, body, err, path)
		}
	}
	if n := cc.opened.Load(); n != 1 {
		t.Fatalf("upstream saw %d connections for 20 sequential requests, want 1", n)
	}
}

func TestTransportNeverGivesOneRequestAnothersResponse(t *testing.T) {
	// Bodies of every framing and size, some slow: a connection handed on
	// too early, or read by two requests, shows up as a wrong body.
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		body := strings.Repeat(r.URL.Path, 1+n%300)
		switch n % 4 {
		case 0: // Content-Length
			_, _ = io.WriteString(w, body)
		case 1: // chunked, in two flushes
			_, _ = io.WriteString(w, body[:len(body)/2])
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, body[len(body)/2:])
		case 2:
			time.Sleep(time.Millisecond)
			_, _ = io.WriteString(w, body)
		case 3:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	tr := testTransport(func(c *TransportConfig) { c.MaxIdleConnsPerHost = 4 })
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 40 {
				n := g*40 + i
				path := fmt.Sprintf("/u%d-%d", g, i)
				method := "GET"
				if n%7 == 0 {
					method = "HEAD"
				}
				status, body, err := fetch(t.Context(), tr, method, fmt.Sprintf("%s%s?n=%d", up.URL, path, n))
				want := strings.Repeat(path, 1+n%300)
				wantStatus := 200
				if n%4 == 3 {
					want, wantStatus = "", 204
				} else if method == "HEAD" {
					want = ""
				}
				if err != nil || status != wantStatus || body != want {
					if bad.Add(1) == 1 {
						t.Errorf("%s %s: %d, %d bytes, %v; want %d and %d bytes", method, path, status, len(body), err, wantStatus, len(want))
					}
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d of 1280 requests got the wrong answer", bad.Load())
	}
}

func TestTransportCapsIdleConnectionsPerHost(t *testing.T) {
	const inFlight = 8
	arrived := make(chan struct{}, inFlight)
	release := make(chan struct{})
	up, cc := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "ok")
	}))
	tr := testTransport(func(c *TransportConfig) { c.MaxIdleConnsPerHost = 2 })
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for range inFlight {
		wg.Go(func() {
			if status, _, err := fetch(t.Context(), tr, "GET", up.URL+"/"); err != nil || status != 200 {
				t.Errorf("fetch: %d %v", status, err)
			}
		})
	}
	for range inFlight {
		<-arrived
	}
	close(release)
	wg.Wait()
	if n := idleCount(tr, up.URL); n != 2 {
		t.Fatalf("%d idle connections kept, want MaxIdleConnsPerHost 2", n)
	}
	eventually(t, "the upstream sees the 6 connections over the cap closed", func() bool { return cc.closed.Load() == inFlight-2 })
}

func TestTransportClosesConnectionsIdleLongerThanIdleConnTimeout(t *testing.T) {
	up, cc := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tr := testTransport(func(c *TransportConfig) { c.IdleConnTimeout = 20 * time.Millisecond })
	if _, _, err := fetch(t.Context(), tr, "GET", up.URL+"/"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the idle connection is closed", func() bool { return cc.closed.Load() == 1 && idleCount(tr, up.URL) == 0 })
	// And the next request simply dials again.
	if status, _, err := fetch(t.Context(), tr, "GET", up.URL+"/"); err != nil || status != 200 {
		t.Fatalf("after the idle close: %d %v", status, err)
	}
}

func TestTransportResendsOnceWhenTheUpstreamClosedIdleConnections(t *testing.T) {
	// The upstream closes every connection after one answer without saying
	// so (as a server whose keep-alive timeout ran out does): each pooled
	// connection is dead by the time it is used again.
	const n = 4
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	up := newRawUpstream(t, func(i int, _ *http.Request) (string, bool) {
		if i < n {
			arrived <- struct{}{}
			<-release
		}
		return okReply, true
	})
	tr := testTransport(nil)
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if status, _, err := fetch(t.Context(), tr, "GET", up.URL+"/"); err != nil || status != 200 {
				t.Errorf("fetch: %d %v", status, err)
			}
		})
	}
	for range n {
		<-arrived
	}
	close(release)
	wg.Wait()
	if idle := idleCount(tr, up.URL); idle != n {
		t.Fatalf("%d idle connections, want %d", idle, n)
	}
	// All four pooled connections are dead. One request must still get
	// through: the first dead one is found out, the rest dropped, and the
	// request sent again on a new connection.
	for _, method := range []string{"GET", "HEAD", "OPTIONS"} {
		if status, _, err := fetch(t.Context(), tr, method, up.URL+"/"); err != nil || status != 200 {
			t.Fatalf("%s over dead pooled connections: %d %v; want 200", method, status, err)
		}
	}
	if got := up.requests.Load(); got != n+3 {
		t.Errorf("upstream read %d requests, want %d (a dead connection never delivers one)", got, n+3)
	}
	if got := up.opened.Load(); got != n+3 {
		t.Errorf("upstream saw %d connections, want %d", got, n+3)
	}
}

func TestTransportDoesNotResendWhatTheUpstreamMayHaveAnswered(t *testing.T) {
	cases := []struct {
		name string
		// second is the upstream's answer to the second request, on the
		// connection the first one left in the pool.
		second string
		want   string
	}{
		{name: "a response cut off in its headers is an error, not a retry", second: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", want: "unexpected EOF"},
		{name: "garbage instead of a status line is an error, not a retry", second: "SSH-2.0-OpenSSH_9.6\r\n\r\n", want: "malformed HTTP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newRawUpstream(t, func(i int, _ *http.Request) (string, bool) {
				if i == 0 {
					return okReply, false
				}
				return tc.second, true
			})
			tr := testTransport(nil)
			defer tr.CloseIdleConnections()
			if _, _, err := fetch(t.Context(), tr, "GET", up.URL+"/"); err != nil {
				t.Fatal(err)
			}
			_, _, err := fetch(t.Context(), tr, "GET", up.URL+"/")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if got := up.requests.Load(); got != 2 {
				t.Fatalf("upstream read %d requests, want 2", got)
			}
		})
	}
}

func TestTransportReusesAConnectionOnlyWhenItsAnswerAllows(t *testing.T) {
	cases := []struct {
		name   string
		method string
		first  string // the upstream's answer to the first request
		// abandon: the caller reads one byte of the body and closes it.
		abandon   bool
		wantConns int64
	}{
		{name: "a plain keep-alive answer leaves the connection for the next request", first: okReply, wantConns: 1},
		{name: "a chunked answer with a trailer, read to its end, leaves it too", first: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", wantConns: 1},
		{name: "a 204 without a body leaves it", first: "HTTP/1.1 204 No Content\r\n\r\n", wantConns: 1},
		{name: "a 304 without a body leaves it", first: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", wantConns: 1},
		{name: "a HEAD answer with a length and no body leaves it", method: "HEAD", first: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", wantConns: 1},
		{name: "Connection: close is honoured", first: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", wantConns: 2},
		{name: "an HTTP/1.0 answer without keep-alive closes it", first: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", wantConns: 2},
		{name: "a body abandoned before its end closes it", first: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", abandon: true, wantConns: 2},
		{name: "bytes after the body are not taken as the next answer", first: okReply + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nwrong", wantConns: 2},
		{name: "an unrequested 101 closes it", first: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n", wantConns: 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newRawUpstream(t, func(i int, _ *http.Request) (string, bool) {
				if i == 0 {
					return tc.first, false
				}
				return okReply, false
			})
			tr := testTransport(nil)
			defer tr.CloseIdleConnections()
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, up.URL+"/", nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.abandon {
				_, _ = res.Body.Read(make([]byte, 1))
			} else if _, err := io.Copy(io.Discard, res.Body); err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			// A Read after Close must not touch a connection that may
			// already serve someone else.
			if n, err := res.Body.Read(make([]byte, 8)); n != 0 || err == nil {
				t.Fatalf("Read after Close = %d, %v; want 0 and an error", n, err)
			}
			status, body, err := fetch(t.Context(), tr, "GET", up.URL+"/")
			if err != nil || status != 200 || body != "ok" {
				t.Fatalf("second request: %d %q %v; want 200 \"ok\"", status, body, err)
			}
			if got := up.opened.Load(); got != tc.wantConns {
				t.Fatalf("upstream saw %d connections, want %d", got, tc.wantConns)
			}
		})
	}
}

func TestTransportCancelledRequestsLeaveNoConnectionBehind(t *testing.T) {
	cases := []struct {
		name string
		// started: the upstream has the request, and, if partBody, has
		// sent its headers and part of the body.
		partBody bool
	}{
		{name: "cancelled while waiting for the headers"},
		{name: "cancelled while reading the body", partBody: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			up, cc := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.partBody {
					w.Header().Set("Content-Length", "10")
					_, _ = io.WriteString(w, "01234")
					w.(http.Flusher).Flush()
				}
				close(started)
				<-r.Context().Done()
			}))
			tr := testTransport(nil)
			defer tr.CloseIdleConnections()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", up.URL+"/", nil)
			if !tc.partBody {
				go func() { <-started; cancel() }()
			}
			res, err := tr.RoundTrip(req)
			if tc.partBody {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(res.Body, make([]byte, 5)); err != nil {
					t.Fatal(err)
				}
				cancel()
				_, err = io.ReadAll(res.Body)
				res.Body.Close()
				if err == nil {
					t.Fatal("reading the body of a cancelled request succeeded")
				}
			} else if !errors.Is(err, context.Canceled) {
				t.Fatalf("RoundTrip error %v, want context.Canceled", err)
			}
			eventually(t, "the upstream sees the connection closed", func() bool { return cc.closed.Load() == 1 })
			if n := idleCount(tr, up.URL); n != 0 {
				t.Fatalf("%d idle connections after a cancelled request, want 0", n)
			}
		})
	}
}

func TestTransportResponseHeaderTimeoutAppliesToReusedConnections(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up, _ := countingUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	tr := testTransport(func(c *TransportConfig) { c.ResponseHeaderTimeout = 50 * time.Millisecond })
	defer tr.CloseIdleConnections()
	if _, _, err := fetch(t.Context(), tr, "GET", up.URL+"/fast"); err != nil {
		t.Fatal(err)
	}
	_, _, err := fetch(t.Context(), tr, "GET", up.URL+"/slow")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("error %v, want a net.Error timeout awaiting response headers", err)
	}
	// The deadline does not outlive the headers: a body slower than the
	// timeout is fine, and so is the next request.
	if status, _, err := fetch(t.Context(), tr, "GET", up.URL+"/fast"); err != nil || status != 200 {
		t.Fatalf("after a timeout: %d %v", status, err)
	}
}

func TestTransportRefusesHostileResponseHeaders(t *testing.T) {
	hints := strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n", 5)
	cases := []struct {
		name    string
		raw     string
		wantErr string // "" for success
		want1xx int
	}{
		{name: "headers over the cap are refused", raw: "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 4<<10) + "\r\n\r\n", wantErr: "exceed 1024 bytes"},
		{name: "five 1xx answers before the final one are passed on", raw: hints + okReply, want1xx: 5},
		{name: "a sixth 1xx answer is refused", raw: hints + hints + okReply, wantErr: "too many 1xx", want1xx: 5},
		{name: "a status line without a code is refused", raw: "HTTP/1.1 OK\r\n\r\n", wantErr: "malformed HTTP status code"},
		{name: "two different Content-Lengths are refused", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", wantErr: "Content-Length"},
		{name: "a connection closed before any answer on a new connection is not resent", raw: "", wantErr: "no response from the upstream"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newRawUpstream(t, func(int, *http.Request) (string, bool) { return tc.raw, true })
			tr := testTransport(nil)
			tr.maxResponseHeader = 1 << 10
			defer tr.CloseIdleConnections()
			var got1xx atomic.Int64
			ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
				Got1xxResponse: func(code int, _ textproto.MIMEHeader) error { got1xx.Add(1); return nil },
			})
			_, _, err := fetch(ctx, tr, "GET", up.URL+"/")
			if tc.wantErr == "" && err != nil {
				t.Fatalf("error %v, want none", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
			if got1xx.Load() != int64(tc.want1xx) {
				t.Fatalf("Got1xxResponse called %d times, want %d", got1xx.Load(), tc.want1xx)
			}
			if got := up.requests.Load(); got != 1 {
				t.Fatalf("upstream read %d requests, want 1", got)
			}
		})
	}
}

func TestTransportLeavesWhatItDoesNotOwnToHTTPTransport(t *testing.T) {
	fwd, _ := url.Parse("http://127.0.0.1:3128")
	direct, viaProxy := testTransport(nil), testTransport(func(c *TransportConfig) { c.Proxy = fwd })
	req := func(method, target string, body io.Reader, hdr ...string) *http.Request {
		r := httptest.NewRequest(method, target, body)
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}
	cases := []struct {
		name string
		tr   *Transport
		req  *http.Request
		own  bool
	}{
		{name: "a plain GET is its own", tr: direct, req: req("GET", "http://up/rtm/alice/", nil), own: true},
		{name: "a HEAD is its own", tr: direct, req: req("HEAD", "http://up/", nil), own: true},
		{name: "an OPTIONS is its own", tr: direct, req: req("OPTIONS", "http://up/", nil), own: true},
		{name: "a POST with a body goes to http.Transport", tr: direct, req: req("POST", "http://up/getToken", strings.NewReader("{}"))},
		{name: "a POST without a body goes too: it is not safe to resend", tr: direct, req: req("POST", "http://up/getToken", nil)},
		{name: "a DELETE goes too", tr: direct, req: req("DELETE", "http://up/x", nil)},
		{name: "an https upstream goes too", tr: direct, req: req("GET", "https://up/", nil)},
		{name: "a protocol upgrade goes too", tr: direct, req: req("GET", "http://up/ws", nil, "Connection", "Upgrade", "Upgrade", "websocket")},
		{name: "anything through an outgoing proxy goes too", tr: viaProxy, req: req("GET", "http://up/", nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tr.own(tc.req); got != tc.own {
				t.Fatalf("own = %v, want %v", got, tc.own)
			}
		})
	}

	// And what goes to http.Transport arrives: a body, and TLS.
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(w, r.Body)
	}))
	defer up.Close()
	direct.std.TLSClientConfig = up.Client().Transport.(*http.Transport).TLSClientConfig
	defer direct.CloseIdleConnections()
	r, _ := http.NewRequestWithContext(t.Context(), "POST", up.URL+"/getToken", strings.NewReader(`{"uid":"alice"}`))
	res, err := direct.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); string(b) != `{"uid":"alice"}` {
		t.Fatalf("https POST echoed %q", b)
	}
}

// outcome is what a caller sees of one round trip.
type outcome struct {
	err     bool
	status  int
	header  http.Header
	body    string
	bodyErr bool
	trailer http.Header
}

func roundTripOutcome(ctx context.Context, rt http.RoundTripper, url string) (outcome, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := rt.RoundTrip(req)
	if err != nil {
		return outcome{err: true}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return outcome{status: res.StatusCode, header: res.Header, body: string(b), bodyErr: err != nil, trailer: res.Trailer}, nil
}

// FuzzTransportAgreesWithHTTPTransport feeds the same upstream answer, any
// bytes at all, to our Transport and to http.Transport: both must fail, or
// both must produce the same status, headers, body and trailers. The
// differences are ours on purpose: more than five 1xx answers are refused,
// and an unrequested 101 has no body to read.
func FuzzTransportAgreesWithHTTPTransport(f *testing.F) {
	for _, raw := range []string{
		okReply,
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"token\":\"007e\"}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nread to the end",
		"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nextra",
		"HTTP/1.1 304 Not Modified\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + okReply,
		"HTTP/1.1 100 Continue\r\n\r\n" + okReply,
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n",
		"HTTP/1.1 999 Whatever\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"HTTP/1.1 200 OK\r\n",
		"",
		"\x00\xff garbage",
	} {
		f.Add([]byte(raw))
	}
	var current atomic.Pointer[[]byte]
	up := newRawUpstream(f, func(int, *http.Request) (string, bool) { return string(*current.Load()), true })
	f.Fuzz(func(t *testing.T, raw []byte) {
		current.Store(&raw)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		ours, std := testTransport(nil), &http.Transport{DisableCompression: true}
		defer ours.CloseIdleConnections()
		defer std.CloseIdleConnections()
		got, gotErr := roundTripOutcome(ctx, ours, up.URL+"/")
		want, wantErr := roundTripOutcome(ctx, std, up.URL+"/")
		if ctx.Err() != nil {
			t.Fatalf("a round trip hung: ours %v, http.Transport %v", gotErr, wantErr)
		}
		if gotErr != nil && strings.Contains(gotErr.Error(), "too many 1xx") {
			return
		}
		if want.status == http.StatusSwitchingProtocols {
			want.body, want.bodyErr = "", false
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("answer %q:\nours:           %+v (%v)\nhttp.Transport: %+v (%v)", raw, got, gotErr, want, wantErr)
		}
	})
}
