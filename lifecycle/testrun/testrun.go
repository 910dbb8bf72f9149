// Package testrun starts a program in-process the way its main does — its run function
// (lifecycle.RunFunc) with arguments, an environment and two outputs — waits until it
// has logged where it listens, and stops it as SIGINT or SIGTERM would. It also holds the
// check every program's drain on SIGTERM must pass (CheckDrain). Only tests import it.
package testrun

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"signaling-auth/lifecycle"
	"signaling-auth/lifecycle/testlog"
)

// Program says how to start one program.
type Program struct {
	Run  lifecycle.RunFunc
	Args []string // the whole command line, the program's name first
	// Getenv is its environment; nil: an empty one.
	Getenv func(string) string
	// Dir, when set, becomes the test's working directory first (t.Chdir), so no
	// configs/ or .env of the repository is picked up.
	Dir string
	// Service, when set, is the service every listening record must name.
	Service string
	// Listening are the messages of the records that say where it listens, each with an
	// addr attribute; nil: {"listening"}.
	Listening []string
}

// Running is a started program.
type Running struct {
	Stdout, Stderr *testlog.Buffer
	addrs          map[string]string
	done           chan struct{} // closed when run has returned
	err            error         // what run returned; read after done
	cancel         context.CancelCauseFunc
	stopOnce       sync.Once
	stopErr        error
}

// Start runs p and waits (up to 10 s) for every listening record; it fails the test
// when run returns first. The program is stopped, as SIGINT would, when the test ends.
func Start(t testing.TB, p Program) *Running {
	t.Helper()
	if p.Dir != "" {
		t.Chdir(p.Dir)
	}
	getenv := p.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &Running{Stdout: &testlog.Buffer{}, Stderr: &testlog.Buffer{}, addrs: map[string]string{},
		done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		r.err = p.Run(ctx, p.Args, getenv, r.Stdout, r.Stderr)
	}()
	t.Cleanup(func() { _ = r.Stop() })
	listening := p.Listening
	if listening == nil {
		listening = []string{"listening"}
	}
	for _, msg := range listening {
		rec := r.WaitFor(t, msg)
		if p.Service != "" && rec["service"] != p.Service {
			t.Fatalf("%q record without service=%s: %v", msg, p.Service, rec)
		}
		addr, _ := rec["addr"].(string)
		if ap, err := netip.ParseAddrPort(addr); err != nil || ap.Port() == 0 {
			t.Fatalf("%q record has no real address: %v", msg, rec)
		}
		r.addrs[msg] = addr
	}
	return r
}

// Addr is where the program listens, from the record with msg ("listening").
func (r *Running) Addr(msg string) string { return r.addrs[msg] }

// WaitFor waits for a JSON record with msg on stderr and returns it; it fails the test
// when run returns first.
func (r *Running) WaitFor(t testing.TB, msg string) map[string]any {
	t.Helper()
	return r.Stderr.WaitRecord(t, func(rec map[string]any) bool {
		select {
		case <-r.done:
			t.Fatalf("run returned before %q: %v\n%s", msg, r.err, r.Stderr)
		default:
		}
		return rec["msg"] == msg
	})
}

// Done is closed when run has returned; Err is then what it returned.
func (r *Running) Done() <-chan struct{} { return r.done }

// Err is what run returned; call it after Done is closed.
func (r *Running) Err() error { return r.err }

// Interrupt cancels run's context, as SIGINT does, without waiting.
func (r *Running) Interrupt() { r.cancel(context.Canceled) }

// Terminate cancels run's context with cause lifecycle.ErrTerminated, as SIGTERM does,
// without waiting: the program drains first when it is configured to.
func (r *Running) Terminate() { r.cancel(lifecycle.ErrTerminated) }

// Stop cancels run's context (as SIGINT would, unless Terminate came first) and returns
// what run returned, or an error when it has not returned within 15 s.
func (r *Running) Stop() error {
	r.stopOnce.Do(func() {
		r.Interrupt()
		select {
		case <-r.done:
			r.stopErr = r.err
		case <-time.After(15 * time.Second):
			r.stopErr = errors.New("run did not return within 15 s of its context being cancelled")
		}
	})
	return r.stopErr
}

// Drain says what one program must do while it drains.
type Drain struct {
	Drain           string            // the configured timeouts.drain, as logged: "3s"
	Readyz, Healthz string            // their URLs
	Served          map[string]string // URL → text its 200 answer must still hold while draining
	ConnectionClose bool              // answers while draining ask the client to close
	// Metrics is the URL of /metrics, where the gauge named DrainingGauge
	// must be 0 before SIGTERM and 1 while draining; "": not checked.
	Metrics, DrainingGauge string
}

// CheckDrain is the drain every program does on SIGTERM: r's /readyz answers 200, then,
// after Terminate, 503 saying "shutting down" at once, while /healthz stays 200 and every
// Served URL is still answered, for d.Drain; run then returns nil. (Were the drain
// shorter, those requests would find the listener closed.) The sequence itself (drain,
// shutting down, stopped; SIGINT and a drain of 0 skip the drain) is lifecycle's, tested
// there.
func CheckDrain(t *testing.T, r *Running, d Drain) {
	t.Helper()
	if code, body, _ := get(t, d.Readyz); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM: %d %s", code, body)
	}
	d.checkGauge(t, "before SIGTERM", "0")
	r.Terminate()
	r.WaitFor(t, "draining: not ready, serving for "+d.Drain)
	d.checkGauge(t, "while draining", "1")
	if code, body, _ := get(t, d.Readyz); code != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining: %d %s, want 503 saying shutting down", code, body)
	}
	if code, body, _ := get(t, d.Healthz); code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %s, want 200 (alive, only not ready)", code, body)
	}
	for url, want := range d.Served {
		code, body, closed := get(t, url)
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s while draining: %d %.200s, want 200 with %q", url, code, body, want)
		}
		if d.ConnectionClose && !closed {
			t.Errorf("%s while draining kept the connection open; want Connection: close", url)
		}
	}
	if err := r.Stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
}

// checkGauge fails t unless d.Metrics shows d.DrainingGauge at want.
func (d Drain) checkGauge(t *testing.T, when, want string) {
	t.Helper()
	if d.Metrics == "" {
		return
	}
	code, body, _ := get(t, d.Metrics)
	if line := d.DrainingGauge + " " + want; code != http.StatusOK || !slices.Contains(strings.Split(body, "\n"), line) {
		t.Errorf("/metrics %s: %d, want the line %q", when, code, line)
	}
}

// get GETs url and returns the status, the body and whether the answer asked the client
// to close the connection.
func get(t *testing.T, url string) (int, string, bool) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Close
}
