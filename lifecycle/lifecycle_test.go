package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

func TestSignalContext(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		want error
	}{
		{syscall.SIGTERM, ErrTerminated},
		{syscall.SIGINT, context.Canceled},
	} {
		ctx, stop := SignalContext()
		if err := syscall.Kill(os.Getpid(), tt.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not cancel the context", tt.sig)
		}
		if got := context.Cause(ctx); got != tt.want {
			t.Errorf("%v: cause %v, want %v", tt.sig, got, tt.want)
		}
		stop()
	}
}

func TestSubcommand(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		cmd      string
		restWant string
	}{
		{nil, "serve", ""},
		{[]string{"prog"}, "serve", ""},
		{[]string{"prog", "--listen", ":1"}, "serve", "--listen :1"},
		{[]string{"prog", "mint", "--type", "rtc"}, "mint", "--type rtc"},
		{[]string{"prog", "-h"}, "serve", "-h"},
		{[]string{"prog", "", "x"}, "", "x"},
	} {
		cmd, rest := Subcommand(tt.args)
		if cmd != tt.cmd || strings.Join(rest, " ") != tt.restWant {
			t.Errorf("Subcommand(%q) = %q, %q; want %q, %q", tt.args, cmd, rest, tt.cmd, tt.restWant)
		}
	}
}

// server is Serve running a real server on loopback; /readyz answers 503
// while draining, /slow waits for release.
type server struct {
	url       string
	logs      *testlog.Buffer
	cancel    func(error)
	done      chan error
	release   chan struct{}
	slowStart chan struct{}
}

func start(t *testing.T, drain, shutdown time.Duration) *server {
	t.Helper()
	ln, err := Listen(t.Context(), "test", "", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{url: "http://" + ln.Addr().String(), logs: &testlog.Buffer{}, done: make(chan error, 1),
		release: make(chan struct{}), slowStart: make(chan struct{}, 1)}
	var draining atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		s.slowStart <- struct{}{}
		<-s.release
	})
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	timeouts := Timeouts{ReadHeader: time.Second, Read: 10 * time.Second, Write: 10 * time.Second, Idle: time.Minute, Shutdown: shutdown, Drain: drain}
	srv := NewServer(CloseWhileDraining(mux, &draining), timeouts, 0, log)
	ctx, cancel := context.WithCancelCause(context.Background())
	s.cancel = cancel
	o := Options{Service: "test", Log: log, Timeouts: timeouts, Draining: &draining}
	go func() { s.done <- Serve(ctx, o, Listener{Server: srv, Listener: ln}) }()
	t.Cleanup(func() {
		cancel(context.Canceled)
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return 30s after its context was cancelled")
		}
	})
	return s
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (s *server) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("Serve did not return:\n%s", s.logs)
		return nil
	}
}

// stopLines are the messages of the records Serve logs as it stops, in order.
func (s *server) stopLines(t *testing.T) string {
	var out []string
	for _, r := range s.logs.Records(t, "") {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, "draining") || m == "shutting down" || m == "stopped" {
			out = append(out, m)
		}
	}
	return strings.Join(out, " | ")
}

// TestServeDrainsOnSIGTERM: with cause ErrTerminated readiness turns 503 at
// once while requests are still served with Connection: close, and only
// after the drain does Serve shut down.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	s := start(t, 3*time.Second, 5*time.Second)
	if res := get(t, s.url+"/readyz"); res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("/readyz before SIGTERM: %s, close %v", res.Status, res.Close)
	}
	s.cancel(ErrTerminated)
	rec := s.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "draining: not ready, serving for 3s" })
	if rec["service"] != "test" {
		t.Errorf("draining record: %v", rec)
	}
	res := get(t, s.url+"/readyz")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %s, want 503", res.Status)
	}
	if !res.Close {
		t.Error("an answer while draining kept the connection open; want Connection: close")
	}
	if strings.Contains(s.logs.String(), `"msg":"shutting down"`) {
		t.Fatal("shut down before the checks above finished; the drain is shorter than configured")
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	if got := s.stopLines(t); got != "draining: not ready, serving for 3s | shutting down | stopped" {
		t.Errorf("log order: %s", got)
	}
}

// TestServeCancelSkipsTheDrain: any other cause (SIGINT) shuts down at once
// however long the drain is, and so does SIGTERM with drain 0.
func TestServeCancelSkipsTheDrain(t *testing.T) {
	for _, tt := range []struct {
		name  string
		drain time.Duration
		cause error
	}{
		{"SIGINT with a drain of an hour", time.Hour, context.Canceled},
		{"SIGTERM with drain 0", 0, ErrTerminated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, tt.drain, 5*time.Second)
			get(t, s.url+"/readyz")
			s.cancel(tt.cause)
			if err := s.wait(t); err != nil {
				t.Fatalf("Serve returned %v", err)
			}
			if got := s.stopLines(t); got != "shutting down | stopped" {
				t.Errorf("log: %s", got)
			}
		})
	}
}

// TestServeLetsInFlightFinish: a request in flight at the cancel gets its
// answer, and Serve waits for it.
func TestServeLetsInFlightFinish(t *testing.T) {
	s := start(t, 0, 10*time.Second)
	answered := make(chan int, 1)
	go func() {
		res, err := http.Get(s.url + "/slow")
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	<-s.slowStart
	s.cancel(context.Canceled)
	s.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "shutting down" })
	select {
	case err := <-s.done:
		t.Fatalf("Serve returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(s.release)
	if code := <-answered; code != http.StatusOK {
		t.Errorf("the request in flight got %d, want 200", code)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

// TestServeShutdownTimeout: a request that outlives the grace period is cut
// off, Serve says so and logs no "stopped".
func TestServeShutdownTimeout(t *testing.T) {
	s := start(t, 0, 200*time.Millisecond)
	go func() {
		if res, err := http.Get(s.url + "/slow"); err == nil {
			res.Body.Close()
		}
	}()
	<-s.slowStart
	s.cancel(context.Canceled)
	err := s.wait(t)
	if err == nil || err.Error() != "test: shutdown: in-flight requests did not finish within 200ms" {
		t.Fatalf("Serve returned %v", err)
	}
	if strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Errorf("logged stopped after a cut-off shutdown:\n%s", s.logs)
	}
}

// TestServeReturnsAServerFailure: a listener that fails ends Serve with the
// error, without waiting for ctx.
func TestServeReturnsAServerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	var draining atomic.Bool
	logs := &testlog.Buffer{}
	o := Options{Service: "test", Log: slog.New(slog.NewJSONHandler(logs, nil)), Timeouts: Timeouts{Drain: time.Hour, Shutdown: time.Second}, Draining: &draining}
	err = Serve(t.Context(), o, Listener{Server: &http.Server{}, Listener: ln})
	if err == nil || !strings.HasPrefix(err.Error(), "test: server stopped: ") || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve on a closed listener returned %v", err)
	}
}

func TestListen(t *testing.T) {
	ln, err := Listen(t.Context(), "prog", "", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, tt := range []struct{ key, want string }{
		{"", "prog: cannot listen on " + addr + ": address already in use (is another prog running?)"},
		{"admin_listen", "prog: cannot listen on " + addr + " (admin_listen): address already in use (is another prog running?)"},
	} {
		if _, err := Listen(t.Context(), "prog", tt.key, addr); err == nil || err.Error() != tt.want {
			t.Errorf("Listen on a taken port: %v, want %s", err, tt.want)
		}
	}
	if _, err := Listen(t.Context(), "prog", "", "192.0.2.1:0"); err == nil || !strings.HasPrefix(err.Error(), "prog: cannot listen on 192.0.2.1:0: ") ||
		strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("Listen on an address not on this machine: %v", err)
	}
}

func TestHealthcheck(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte("alive"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	for _, listen := range []string{ln.Addr().String(), ":" + port, "0.0.0.0:" + port, "localhost:" + port} {
		body, err := Healthcheck(t.Context(), listen)
		if err != nil || string(body) != "alive" {
			t.Errorf("Healthcheck(%q) = %q, %v", listen, body, err)
		}
	}
	// Not ready, or something else on the port: anything but 200 is unhealthy.
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusNotFound, http.StatusNoContent} {
		status.Store(int32(code))
		want := fmt.Sprintf("http://%s/healthz answered %d %s", ln.Addr(), code, http.StatusText(code))
		if _, err := Healthcheck(t.Context(), ln.Addr().String()); err == nil || err.Error() != want {
			t.Errorf("Healthcheck of a %d: %v, want %s", code, err, want)
		}
	}
	if _, err := Healthcheck(t.Context(), "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "no fixed port") {
		t.Errorf("Healthcheck of port 0: %v", err)
	}
	if _, err := Healthcheck(t.Context(), "no-port"); err == nil {
		t.Error("Healthcheck of an address without a port succeeded")
	}
	srv.Close()
	if _, err := Healthcheck(t.Context(), ln.Addr().String()); err == nil || !strings.HasPrefix(err.Error(), "http://"+ln.Addr().String()+"/healthz: ") {
		t.Errorf("Healthcheck of a closed port: %v", err)
	}
}

// After run returns the process is about to exit; a SIGTERM then (make run
// stopping its programs after Ctrl-C already did) is still caught, so a
// clean stop exits 0, not 143. Were the signals released, this SIGTERM
// would kill the test binary.
func TestASignalAfterRunReturnedIsStillCaught(t *testing.T) {
	err := runCaught(func(context.Context, []string, func(string) string, io.Writer, io.Writer) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // time for a default disposition to kill us
}
