package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Protocol upgrades (WebSocket and the like) are ReverseProxy's job; this
// checks that our wrappers around the ResponseWriter (access log, CORS) do
// not break its hijacking.
func TestUpgradePassesThroughTheWrappers(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("upstream hijack: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprint(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(conn, brw)
	}))
	defer up.Close()
	p := startProxy(t, "--upstream="+up.URL)

	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nOrigin: http://localhost:9000\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n", p.addr)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:9000" {
		t.Errorf("ACAO = %q on the 101", res.Header.Get("Access-Control-Allow-Origin"))
	}
	fmt.Fprint(conn, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo over the upgraded connection = %q, %v", buf, err)
	}
	conn.Close()
	rec := p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "request" })
	if rec["status"] != float64(101) {
		t.Errorf("access record status = %v, want 101", rec["status"])
	}
}
