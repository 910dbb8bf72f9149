package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/lifecycle/testrun"
)

// proxyProc is the real program, started in-process with run (testrun.Running).
type proxyProc struct {
	*testrun.Running
	addr  string // proxy listener host:port
	admin string // admin listener host:port
	logs  *testlog.Buffer
}

// stop cancels run's context (as SIGINT would) and returns run's error.
func (p *proxyProc) stop() error { return p.Stop() }

func (p *proxyProc) url() string { return "http://" + p.addr }

// startProxy runs `corsproxy serve` on loopback port 0 with JSON logs and
// the given flags, waits for its two "listening" records, and stops it when
// the test ends. Every path is passed on (allowed_paths "/"), for the test
// upstream's many routes, unless args set allowed_paths;
// startProxyDefaultPaths keeps the built-in list.
func startProxy(t testing.TB, args ...string) *proxyProc {
	t.Helper()
	for _, a := range args {
		if strings.HasPrefix(a, "--allowed_paths") {
			return startProxyDefaultPaths(t, args...)
		}
	}
	return startProxyDefaultPaths(t, append([]string{"--allowed_paths=/"}, args...)...)
}

// startProxyDefaultPaths is startProxy without opening every path.
func startProxyDefaultPaths(t testing.TB, args ...string) *proxyProc {
	t.Helper()
	full := append([]string{"corsproxy", "serve", "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--log.format=json"}, args...)
	r := testrun.Start(t, testrun.Program{Run: run, Args: full, Listening: []string{"listening", "admin listening"}})
	p := &proxyProc{Running: r, addr: r.Addr("listening"), admin: r.Addr("admin listening"), logs: r.Stderr}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("run returned %v on shutdown", err)
		}
	})
	return p
}

// rawResponse is an answer read off the wire, with its headers exactly as
// sent (repeated headers stay separate lines).
type rawResponse struct {
	*http.Response
	body     []byte
	informed []int // 1xx statuses received before the final answer
	// informedHeader are the headers of each 1xx answer, as sent.
	informedHeader []http.Header
}

// rawDo sends one HTTP/1.1 request written by hand — so the request target,
// repeated headers and odd spellings reach the proxy exactly as given —
// and reads the answer.
func rawDo(t testing.TB, addr, method, target string, headers [][2]string, body string) rawResponse {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var req strings.Builder
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, addr)
	for _, h := range headers {
		fmt.Fprintf(&req, "%s: %s\r\n", h[0], h[1])
	}
	if body != "" {
		fmt.Fprintf(&req, "Content-Length: %d\r\n", len(body))
	}
	req.WriteString("Connection: close\r\n\r\n")
	req.WriteString(body)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	var informed []int
	var informedHeader []http.Header
	for {
		res, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s %s: reading the answer: %v", method, target, err)
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			informed = append(informed, res.StatusCode)
			informedHeader = append(informedHeader, res.Header)
			continue
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", method, target, err)
		}
		res.Body.Close()
		return rawResponse{Response: res, body: b, informed: informed, informedHeader: informedHeader}
	}
}

// varyHas reports whether the Vary header lists name.
func varyHas(h http.Header, name string) bool {
	for _, v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), name) {
				return true
			}
		}
	}
	return false
}
