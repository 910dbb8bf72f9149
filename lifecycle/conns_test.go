package lifecycle

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// byAddress is the key of tests over IPv4 loopback: every address a client.
func byAddress(a netip.Addr) string { return a.String() }

// countingObserver records what ConnLimits tell their Observer.
type countingObserver struct {
	open, maxOpen, refused, evicted, queued atomic.Int64
}

func (o *countingObserver) ConnsOpen(n int) {
	o.open.Store(int64(n))
	if int64(n) > o.maxOpen.Load() {
		o.maxOpen.Store(int64(n))
	}
}
func (o *countingObserver) ConnRefused() { o.refused.Add(1) }
func (o *countingObserver) ConnEvicted() { o.evicted.Add(1) }
func (o *countingObserver) ConnQueued()  { o.queued.Add(1) }

// want fails t unless the counts are refused, evicted and queued.
func (o *countingObserver) want(t *testing.T, refused, evicted, queued int64) {
	t.Helper()
	if r, e, q := o.refused.Load(), o.evicted.Load(), o.queued.Load(); r != refused || e != evicted || q != queued {
		t.Errorf("observer counted %d refused, %d evicted, %d queued; want %d, %d, %d", r, e, q, refused, evicted, queued)
	}
}

// limitedServer is Serve with limits on a real loopback listener: / answers
// at once, /slow when release is closed.
type limitedServer struct {
	addr    string
	release chan struct{}
	slow    chan struct{} // one value per /slow request that started
}

func startLimited(t *testing.T, l ConnLimits) *limitedServer {
	t.Helper()
	return startLimitedTLS(t, l, nil)
}

// startLimitedTLS is startLimited serving TLS with tlsConfig when it is not nil.
func startLimitedTLS(t *testing.T, l ConnLimits, tlsConfig *tls.Config) *limitedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &limitedServer{addr: ln.Addr().String(), release: make(chan struct{}), slow: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/slow", func(http.ResponseWriter, *http.Request) {
		s.slow <- struct{}{}
		<-s.release
	})
	log := slog.New(slog.DiscardHandler)
	timeouts := Timeouts{ReadHeader: 10 * time.Second, Read: 10 * time.Second, Write: 10 * time.Second, Idle: time.Minute, Shutdown: 5 * time.Second}
	srv := NewServer(mux, timeouts, 0, log)
	srv.TLSConfig = tlsConfig
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var draining atomic.Bool
	go func() {
		done <- Serve(ctx, Options{Service: "test", Log: log, Timeouts: timeouts, Draining: &draining},
			Listener{Server: srv, Listener: ln, Conns: l})
	}()
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		cancel()
		<-done
	})
	return s
}

// client is one raw keep-alive connection from a chosen loopback address.
type client struct {
	c  net.Conn
	br *bufio.Reader
}

func dialFrom(t *testing.T, from, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c: c, br: bufio.NewReader(c)}
}

func (k *client) send(t *testing.T, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
}

// outcome of reading one answer.
type outcome int

const (
	answered outcome = iota // a 200
	closed                  // EOF or reset: the server closed the connection
	noAnswer                // nothing within the wait
)

func (o outcome) String() string { return [...]string{"answered", "closed", "no answer"}[o] }

func (k *client) read(t *testing.T, d time.Duration) outcome {
	t.Helper()
	_ = k.c.SetReadDeadline(time.Now().Add(d))
	res, err := http.ReadResponse(k.br, nil)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return noAnswer
	case err != nil:
		return closed
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("answer %s, want 200", res.Status)
	}
	return answered
}

// get sends one request and wants it answered.
func (k *client) get(t *testing.T, path string) {
	t.Helper()
	k.send(t, path)
	if got := k.read(t, 10*time.Second); got != answered {
		t.Fatalf("GET %s from %s: %v, want answered", path, k.c.LocalAddr(), got)
	}
}

// A client may hold exactly PerIP connections; the next one is closed
// unread while another client is still served, and a slot comes back when
// one of the client's connections closes.
func TestPerIPCapHoldsExactlyTheLimit(t *testing.T) {
	const perIP = 3
	obs := &countingObserver{}
	s := startLimited(t, ConnLimits{Max: 100, PerIP: perIP, Key: byAddress, Observer: obs})
	var held []*client
	for range perIP {
		k := dialFrom(t, "127.0.0.2", s.addr)
		k.get(t, "/")
		held = append(held, k)
	}
	over := dialFrom(t, "127.0.0.2", s.addr)
	over.send(t, "/")
	if got := over.read(t, 10*time.Second); got != closed {
		t.Fatalf("connection %d from one client: %v, want closed", perIP+1, got)
	}
	obs.want(t, 1, 0, 0)
	dialFrom(t, "127.0.0.3", s.addr).get(t, "/")
	if n := obs.open.Load(); n != perIP+1 {
		t.Errorf("observer says %d open; want %d (the refused one is not counted)", n, perIP+1)
	}

	held[0].c.Close()
	// The server frees the slot once it reads the close; until then a new
	// connection is refused, so try again for a while.
	deadline := time.Now().Add(10 * time.Second)
	for {
		k := dialFrom(t, "127.0.0.2", s.addr)
		k.send(t, "/")
		got := k.read(t, 10*time.Second)
		if got == answered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one of its connections closed, the client still cannot connect: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Key decides which addresses are one client, and Exempt peers are bounded
// by Max alone.
func TestConnTableCountsByKeyAndSkipsExemptPeers(t *testing.T) {
	by64 := func(a netip.Addr) string {
		if a.Is4() {
			return a.String()
		}
		p, _ := a.Prefix(64)
		return p.String()
	}
	proxy := netip.MustParseAddr("10.0.0.7")
	tbl := newConnTable(ConnLimits{PerIP: 2, Key: by64, Exempt: func(a netip.Addr) bool { return a == proxy }})
	admit := func(s string) bool { return tbl.admit(netip.MustParseAddr(s), &tracked{}) }
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"2001:db8::1", true},
		{"2001:db8::2", true},
		{"2001:db8::ffff:1", false}, // a third address of the same /64
		{"2001:db8:0:1::1", true},   // the next /64 is another client
		{"10.0.0.7", true},
		{"10.0.0.7", true},
		{"10.0.0.7", true}, // a trusted proxy speaks for many clients
		{"192.0.2.1", true},
		{"192.0.2.1", true},
		{"192.0.2.1", false},
	} {
		if got := admit(tt.addr); got != tt.want {
			t.Errorf("admit(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// At Max, a new connection takes the place of an idle keep-alive one, never
// of one serving a request.
func TestGlobalCapClosesIdleConnectionsFirst(t *testing.T) {
	obs := &countingObserver{}
	s := startLimited(t, ConnLimits{Max: 2, Observer: obs})
	idle := dialFrom(t, "127.0.0.2", s.addr)
	idle.get(t, "/")
	busy := dialFrom(t, "127.0.0.2", s.addr)
	busy.send(t, "/slow")
	<-s.slow

	late := dialFrom(t, "127.0.0.3", s.addr)
	late.get(t, "/") // within 10 s: it does not wait for Timeouts.Idle (a minute)
	idle.send(t, "/")
	if got := idle.read(t, 10*time.Second); got != closed {
		t.Errorf("the idle connection: %v, want closed to make room", got)
	}
	obs.want(t, 0, 1, 0)
	if n := obs.maxOpen.Load(); n != 3 {
		t.Errorf("observer saw at most %d open; want 3 (Max, and the newcomer before the idle one closed)", n)
	}
	close(s.release)
	if got := busy.read(t, 10*time.Second); got != answered {
		t.Errorf("the connection serving a request: %v, want answered", got)
	}
}

// Over TLS the server reports the *tls.Conn's state; the idle one is still
// found and closed for a new client.
func TestGlobalCapClosesIdleTLSConnectionsFirst(t *testing.T) {
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	cfg := certs.TLS.Clone()
	certs.Close()
	s := startLimitedTLS(t, ConnLimits{Max: 1}, cfg)
	dialTLS := func(from string) *client {
		k := dialFrom(t, from, s.addr)
		tc := tls.Client(k.c, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}) // the test's own certificate
		// Well within Timeouts.Idle (a minute), after which the idle
		// connection would go anyway.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := tc.HandshakeContext(ctx); err != nil {
			t.Fatalf("TLS handshake from %s: %v", from, err)
		}
		k.c, k.br = tc, bufio.NewReader(tc)
		return k
	}
	idle := dialTLS("127.0.0.2")
	idle.get(t, "/")
	dialTLS("127.0.0.3").get(t, "/")
	idle.send(t, "/")
	if got := idle.read(t, 10*time.Second); got != closed {
		t.Errorf("the idle TLS connection: %v, want closed to make room", got)
	}
}

// At Max with no connection idle, a new one waits (it is not refused) until
// a connection goes idle.
func TestGlobalCapWaitsWhenNoneIsIdle(t *testing.T) {
	obs := &countingObserver{}
	s := startLimited(t, ConnLimits{Max: 1, Observer: obs})
	busy := dialFrom(t, "127.0.0.2", s.addr)
	busy.send(t, "/slow")
	<-s.slow
	late := dialFrom(t, "127.0.0.3", s.addr)
	late.send(t, "/")
	// No answer is the expected outcome; a slow machine cannot fail it.
	if got := late.read(t, 300*time.Millisecond); got != noAnswer {
		t.Fatalf("a connection past Max with none idle: %v, want no answer yet", got)
	}
	obs.want(t, 0, 0, 1)
	close(s.release)
	if got := busy.read(t, 10*time.Second); got != answered {
		t.Fatalf("the busy connection: %v", got)
	}
	if got := late.read(t, 10*time.Second); got != answered {
		t.Fatalf("the waiting connection once the other went idle: %v", got)
	}
}

// A connection handed to the server is still a TCP connection that can
// half-close, and closing it twice frees one slot.
func TestLimitedConnKeepsCloseWriteAndFreesOneSlot(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := limitConns(&http.Server{}, inner, ConnLimits{Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range 2 {
		dialFrom(t, "127.0.0.2", inner.Addr().String())
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	if _, ok := first.(interface{ CloseWrite() error }); !ok {
		t.Fatal("an accepted TCP connection lost CloseWrite")
	}
	first.Close()
	first.Close()
	tbl := ln.(*connListener).conns
	tbl.mu.Lock()
	open := tbl.open
	tbl.mu.Unlock()
	if open != 1 {
		t.Fatalf("after closing one of two connections twice, %d are counted open; want 1", open)
	}
}

// Closing the listener releases an Accept that waits for a slot.
func TestCloseReleasesAnAcceptWaitingForASlot(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := limitConns(&http.Server{}, inner, ConnLimits{Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	dialFrom(t, "127.0.0.2", inner.Addr().String())
	dialFrom(t, "127.0.0.2", inner.Addr().String())
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := ln.Accept(); errc <- err }()
	time.Sleep(50 * time.Millisecond) // usually waiting by now; either order must end in ErrClosed
	ln.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
}

func TestLimitConnsRefusesPerIPWithoutKey(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	if _, err := limitConns(&http.Server{}, inner, ConnLimits{PerIP: 1}); err == nil {
		t.Fatal("PerIP without Key was accepted: every address would be its own client")
	}
}
