package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"signaling-auth/corsproxy/internal/testcert"
	"signaling-auth/corsproxy/internal/testnet"
	"signaling-auth/lifecycle/testlog"
)

func noEnv(string) string { return "" }

func TestVersionAndHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"corsproxy", "version"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out.String() != "corsproxy dev\n" {
		t.Errorf("version printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"corsproxy", "serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(out.String(), "--cors.allowed_origins") {
		t.Errorf("--help printed %q", out.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"corsproxy", "serv"}, noEnv, io.Discard, io.Discard)
	if err == nil || err.Error() != `corsproxy: unknown command "serv" (want serve, healthcheck, version or help)` {
		t.Fatalf("err = %v", err)
	}
}

func TestDangerousCORSConfigStopsTheStart(t *testing.T) {
	err := run(context.Background(), []string{"corsproxy", "--cors.allowed_origins=*", "--cors.allow_credentials", "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `config: cors.allowed_origins: "*" cannot be combined with allow_credentials`) {
		t.Fatalf("err = %v, want the wildcard-with-credentials refusal", err)
	}
}

func TestPortInUseIsOneClearLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, key := range []string{"listen", "admin_listen"} {
		args := []string{"corsproxy", "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--" + key + "=" + addr}
		err := run(context.Background(), args, noEnv, io.Discard, io.Discard)
		want := "corsproxy: cannot listen on " + addr + " (" + key + "): address already in use (is another corsproxy running?)"
		if err == nil || err.Error() != want {
			t.Errorf("%s taken: err = %v, want %q", key, err, want)
		}
	}
}

func TestEnvironmentComesFromGetenvOnly(t *testing.T) {
	t.Setenv("CORSPROXY_LISTEN", "not an address") // the real environment must be ignored
	up := newTestUpstream(t)
	getenv := func(k string) string {
		return map[string]string{"CORSPROXY_UPSTREAM": up.URL, "CORSPROXY_CORS_ALLOWED_ORIGINS": "https://a.example,https://b.example"}[k]
	}
	logs := &testlog.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"corsproxy", "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--log.format=json"}, getenv, io.Discard, logs)
	}()
	rec := logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "listening" })
	res := rawDo(t, rec["addr"].(string), "GET", "/rtm/alice/", [][2]string{{"Origin", "https://b.example"}}, "")
	if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "https://b.example" {
		t.Errorf("status %d ACAO %q; want the upstream and origins from getenv", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestHealthcheck(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"corsproxy", "healthcheck", "--admin_listen=" + p.admin, "--upstream=" + up.URL}, noEnv, &out, io.Discard); err != nil {
		t.Fatalf("healthcheck of a running proxy: %v", err)
	}
	if !strings.Contains(out.String(), `"version":"dev"`) {
		t.Errorf("healthcheck printed %q", out.String())
	}
	_, port, _ := net.SplitHostPort(testnet.RefusingAddr(t))
	err := run(context.Background(), []string{"corsproxy", "healthcheck", "--admin_listen=:" + port}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "corsproxy healthcheck: ") {
		t.Fatalf("healthcheck with nothing listening: err = %v", err)
	}
}

func TestAdminEndpoints(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL)
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + p.admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != `{"status":"ok","version":"dev"}`+"\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz with the upstream up = %d", code)
	}
	rawDo(t, p.addr, "OPTIONS", "/rtm/a/", [][2]string{{"Origin", "http://localhost:9000"}, {"Access-Control-Request-Method", "GET"}}, "")
	rawDo(t, p.addr, "GET", "/rtm/a/", [][2]string{{"Origin", "https://evil.example"}}, "")
	rawDo(t, p.addr, "GET", "/http://evil.example/", nil, "")
	rawDo(t, p.addr, "GET", "/rtm/a/", nil, "")
	_, metrics := get("/metrics")
	for _, want := range []string{
		`corsproxy_preflights_total{result="allowed"} 1`,
		`corsproxy_disallowed_origins_total{action="rejected"} 1`,
		`corsproxy_rejected_targets_total 1`,
		`corsproxy_requests_total{code="403"} 2`,
		`corsproxy_requests_total{code="204"} 1`,
		`corsproxy_requests_total{code="200"} 1`,
		`corsproxy_upstream_duration_seconds_count{outcome="response"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The admin listener never forwards.
	if code, _ := get("/rtm/a/"); code != http.StatusNotFound {
		t.Errorf("an upstream path on the admin listener = %d, want 404", code)
	}

	up.Close()
	code, body := get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, up.addr()) {
		t.Errorf("/readyz with the upstream down = %d %q, want 503 naming it", code, body)
	}
}

func TestAccessLogNeverHoldsAuthorizationOrTokens(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL, "--log.level=debug")
	res := rawDo(t, p.addr, "GET", "/rtm/alice/?expiry=60&api_key=query-secret", [][2]string{
		{"Origin", "http://localhost:9000"}, {"Authorization", "Bearer header-secret"}, {"X-Api-Key", "key-secret"}, {"Cookie", "session=cookie-secret"},
	}, "")
	if res.StatusCode != 200 || !bytes.Contains(res.body, []byte("007eJx")) {
		t.Fatalf("status %d body %s", res.StatusCode, res.body)
	}
	rec := p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "request" })
	if rec["path"] != "/rtm/alice/" || rec["status"] != float64(200) || rec["route"] != "upstream" || rec["request_id"] == "" {
		t.Errorf("access record = %v", rec)
	}
	for _, secret := range []string{"header-secret", "key-secret", "cookie-secret", "query-secret", "007eJx"} {
		if strings.Contains(p.logs.String(), secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

func TestClientThatLeavesIsLoggedAs499NotAs502(t *testing.T) {
	up := newTestUpstream(t)
	p := startProxy(t, "--upstream="+up.URL)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.url()+"/slow", nil)
	req.Header.Set("Origin", "http://localhost:9000")
	go func() {
		for up.hits.Load() == 0 { // the request is at the upstream
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request succeeded; want it cancelled")
	}
	rec := p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "request" })
	if rec["status"] != float64(499) {
		t.Errorf("access record status = %v, want 499", rec["status"])
	}
	for _, r := range p.logs.Records(t, "") {
		if r["msg"] == "upstream unreachable" || r["msg"] == "upstream timeout" {
			t.Errorf("a client that left was logged as an upstream failure: %v", r)
		}
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Serve(ln) }()
	defer up.Close()

	p := startProxy(t, "--upstream=http://"+ln.Addr().String())
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get(p.url() + "/work")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{status: res.StatusCode, body: string(b)}
	}()
	<-arrived
	stopped := make(chan error, 1)
	go func() { stopped <- p.stop() }()
	// New connections are refused once shutdown has begun.
	p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "shutting down" })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the proxy still accepts connections during shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	r := <-got
	if r.err != nil || r.status != 200 || r.body != "finished" {
		t.Fatalf("in-flight request = %+v, want 200 finished", r)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run returned %v", err)
	}
	// A clean stop ends with one final line, as tokenserver's and webdemo's do.
	p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "stopped" && r["service"] == "corsproxy" })
}

func TestTLS(t *testing.T) {
	up := newTestUpstream(t)
	certFile, keyFile, pool := testcert.Write(t)
	p := startProxy(t, "--upstream="+up.URL, "--tls.cert_file="+certFile, "--tls.key_file="+keyFile)
	rec := p.logs.WaitRecord(t, func(r map[string]any) bool { return r["msg"] == "listening" })
	if rec["tls"] != true {
		t.Errorf("listening record = %v, want tls true", rec)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest("GET", "https://"+p.addr+"/rtm/alice/", nil)
	req.Header.Set("Origin", "http://localhost:9000")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || body["rtmToken"] == "" || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:9000" {
		t.Errorf("over TLS: %d %v ACAO %q", res.StatusCode, body, res.Header.Get("Access-Control-Allow-Origin"))
	}
	if res.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2 over TLS", res.Proto)
	}
	// Plain HTTP to the TLS port is not served.
	plain, err := http.Get("http://" + p.addr + "/rtm/alice/")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == 200 {
			t.Error("plain HTTP to the TLS listener was proxied")
		}
	}
}
