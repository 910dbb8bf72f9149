package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Faults the proxy meets in front of a real upstream: an upstream too slow to answer,
// and clients whose request bodies break while the proxy is forwarding them.

// faultAnswer is what a hand-written request got back; closed means the proxy closed
// the connection without answering.
type faultAnswer struct {
	res    *http.Response
	body   string
	closed bool
}

// faultSend writes raw on a fresh connection, shutting the sending side afterwards when
// closeWrite is set, and reads the answer.
func faultSend(t *testing.T, addr, raw string, closeWrite bool) faultAnswer {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		_ = c.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("no answer and no close within 10 s: %v", err)
	case err != nil:
		return faultAnswer{closed: true}
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return faultAnswer{res: res, body: string(b)}
}

func TestSlowUpstreamIsA504AtTheResponseHeaderTimeout(t *testing.T) {
	up := newTestUpstream(t) // /slow answers after 5 s
	const timeout = 300 * time.Millisecond
	p := startProxy(t, "--upstream="+up.URL, "--timeouts.response_header="+timeout.String(), "--timeouts.write=10s")
	before := runtime.NumGoroutine()

	const n = 16
	type result struct {
		status  int
		ct      string
		acao    string
		elapsed time.Duration
		err     error
	}
	results := make([]result, n)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", p.url()+"/slow", nil)
			req.Header.Set("Origin", "http://localhost:9000")
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				results[i] = result{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			results[i] = result{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Access-Control-Allow-Origin"), time.Since(start), nil}
		})
	}
	wg.Wait()
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.status != 504 || r.ct != "application/problem+json" || r.acao != "http://localhost:9000":
			t.Errorf("request %d: %d %q ACAO %q, want a 504 problem with CORS headers", i, r.status, r.ct, r.acao)
		case r.elapsed < timeout:
			t.Errorf("request %d: 504 after %v, before the %v timeout", i, r.elapsed, timeout)
		case r.elapsed >= 5*time.Second:
			t.Errorf("request %d: 504 after %v: the proxy waited for the upstream, not for its timeout", i, r.elapsed)
		}
	}
	// The abandoned upstream requests do not linger in the proxy.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+4 {
		t.Errorf("%d goroutines after the timeouts, %d before", g, before)
	}
	var timeouts int
	for _, r := range p.logs.Records(t, "") {
		switch r["msg"] {
		case "upstream timeout":
			timeouts++
		case "upstream unreachable":
			t.Errorf("a slow upstream was logged as unreachable: %v", r)
		}
	}
	if timeouts != n {
		t.Errorf("%d upstream timeout records for %d requests", timeouts, n)
	}
}

func TestABrokenRequestBodyIsTheClientsFaultNotTheUpstreams(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL)
	const head = "POST /echo HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:9000\r\nContent-Type: application/json\r\n"
	tests := []struct {
		name       string
		raw        string
		closeWrite bool
		// mayClose: a client that stops sending is also a client that may have left;
		// closing the connection without an answer is then right too.
		mayClose bool
	}{
		{name: "a chunk size that is not hex is a 400", raw: head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"},
		{name: "a chunk without its CRLF is a 400", raw: head + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n"},
		{name: "a body cut short of its Content-Length is never answered with an empty 200", raw: head + "Content-Length: 100\r\n\r\n{\"a\":", closeWrite: true, mayClose: true},
		{name: "a chunked body cut short is never answered with an empty 200", raw: head + "Transfer-Encoding: chunked\r\n\r\n40\r\n{\"a\":", closeWrite: true, mayClose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := faultSend(t, p.addr, tt.raw, tt.closeWrite)
			switch {
			case a.closed && tt.mayClose:
			case a.closed:
				t.Fatal("the proxy closed the connection without an answer")
			case a.res.StatusCode != 400:
				t.Fatalf("status %d %q, want 400", a.res.StatusCode, a.body)
			case a.res.Header.Get("Content-Type") != "application/problem+json" || a.res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:9000":
				t.Errorf("400 with Content-Type %q and ACAO %q, want a problem with CORS headers",
					a.res.Header.Get("Content-Type"), a.res.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
	for _, r := range p.logs.Records(t, "") {
		if r["msg"] == "upstream unreachable" || r["msg"] == "upstream timeout" {
			t.Errorf("a broken request body was logged as an upstream failure: %v", r)
		}
		if r["msg"] == "request" && r["status"] == float64(200) {
			t.Errorf("a broken request was answered 200: %v", r)
		}
	}
	if !strings.Contains(rawDo(t, p.addr, "GET", "/rtm/alice/", nil, "").Status, "200") {
		t.Error("the proxy stopped serving after the broken bodies")
	}
}
