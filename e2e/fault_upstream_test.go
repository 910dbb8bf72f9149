package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultOutcome is one request of a load and what became of it.
type faultOutcome struct {
	start, end time.Time
	status     int
	header     http.Header
	body       []byte
	err        error
	reused     bool // sent on a kept-alive connection
}

// faultLoad sends GET /rtm/{uid}/ with the page's Origin from clients goroutines, each
// with its own keep-alive connection, until stop is closed, and returns every outcome.
// timeout bounds each request: a request that hangs past it is an outcome with an error.
func faultLoad(base string, clients int, timeout time.Duration, stop <-chan struct{}) func() []faultOutcome {
	return load(clients, timeout, stop, func(ctx context.Context, c, i int) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/rtm/u%d-%d/?expiry=600", base, c, i), nil)
		req.Header.Set("Origin", faultOrigin)
		return req
	})
}

// load sends the requests newRequest builds (client c's i-th, with ctx) from clients
// goroutines, each with its own keep-alive connection, until stop is closed, and returns
// every outcome.
func load(clients int, timeout time.Duration, stop <-chan struct{}, newRequest func(ctx context.Context, c, i int) *http.Request) func() []faultOutcome {
	var mu sync.Mutex
	var all []faultOutcome
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				o := faultOutcome{start: time.Now()}
				trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { o.reused = info.Reused }}
				res, err := client.Do(newRequest(httptrace.WithClientTrace(context.Background(), trace), c, i))
				if err == nil {
					o.status, o.header = res.StatusCode, res.Header
					o.body, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				o.err, o.end = err, time.Now()
				mu.Lock()
				all = append(all, o)
				mu.Unlock()
			}
		})
	}
	return func() []faultOutcome {
		wg.Wait()
		return all
	}
}

// faultCheckAnswer returns what is wrong with an answer of the proxy: it must be a token
// or a 502 problem, both readable by the page (CORS headers).
func faultCheckAnswer(o faultOutcome) string {
	switch {
	case o.err != nil:
		return "no answer: " + o.err.Error()
	case o.header.Get("Access-Control-Allow-Origin") != faultOrigin:
		return fmt.Sprintf("%d without CORS headers", o.status)
	case o.status == 200 && bytes.Contains(o.body, []byte(`"rtmToken":"007`)):
		return ""
	case o.status == 502 && o.header.Get("Content-Type") == "application/problem+json":
		var p struct{ Status int }
		if json.Unmarshal(o.body, &p) != nil || p.Status != 502 {
			return "502 that is not a problem document: " + string(o.body)
		}
		return ""
	}
	return fmt.Sprintf("%d %q", o.status, o.body)
}

// The token server dies (SIGKILL) while the proxy is under load, then comes back on the
// same port: every request gets a definite answer the page can read, none hangs past the
// proxy's timeouts, and once the token server listens again every request succeeds.
func TestFaultUpstreamKilledUnderLoadAndRestarted(t *testing.T) {
	// A port from freePort, not port 0: while the token server is down, no port-0
	// listener or outgoing connection (of this or a parallel test package) can take
	// it from under the restart.
	token := faultStartToken(t, "--listen", "127.0.0.1:"+strconv.Itoa(freePort(t)))
	const dial, header = time.Second, 2 * time.Second
	proxy := faultStartProxy(t, token.url(), "--timeouts.dial", dial.String(), "--timeouts.response_header", header.String())
	// The longest the proxy may take: dial, then wait for headers; then slack for a busy machine.
	bound := dial + header + 3*time.Second

	stop := make(chan struct{})
	var stopped atomic.Bool
	defer func() {
		if !stopped.Load() {
			close(stop)
		}
	}()
	results := faultLoad(proxy.url(), 16, bound, stop)

	time.Sleep(300 * time.Millisecond) // under load
	if err := token.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-token.done
	killed := time.Now()
	time.Sleep(500 * time.Millisecond) // the proxy answers without its upstream

	restarted := faultStartToken(t, "--listen", token.addr)
	back := time.Now() // it has logged "listening"
	if restarted.addr != token.addr {
		t.Fatalf("restarted on %s, want %s", restarted.addr, token.addr)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	stopped.Store(true)
	outcomes := results()

	var ok, bad502, after, afterOK int
	var slowest time.Duration
	for _, o := range outcomes {
		if msg := faultCheckAnswer(o); msg != "" {
			t.Errorf("request at %v after the kill: %s", o.start.Sub(killed).Round(time.Millisecond), msg)
			continue
		}
		slowest = max(slowest, o.end.Sub(o.start))
		if o.status == 200 {
			ok++
		} else {
			bad502++
		}
		if o.start.After(back) {
			after++
			if o.status == 200 {
				afterOK++
			} else {
				t.Errorf("a request started %v after the token server was back got %d", o.start.Sub(back).Round(time.Millisecond), o.status)
			}
		}
	}
	t.Logf("%d requests: %d tokens, %d 502s; %d started after the restart, %d of them tokens; slowest %v",
		len(outcomes), ok, bad502, after, afterOK, slowest)
	if bad502 == 0 {
		t.Error("no request saw the token server down: the kill did not happen under load")
	}
	if afterOK == 0 {
		t.Error("no request succeeded after the restart")
	}
	if slowest > bound {
		t.Errorf("a request took %v, longer than the proxy's timeouts allow (%v)", slowest, bound)
	}
	if out := proxy.out.String(); strings.Contains(out, "panic") {
		t.Errorf("the proxy panicked:\n%s", out)
	}
}
