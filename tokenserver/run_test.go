package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/lifecycle/testrun"
	"signaling-auth/tokenserver/internal/accesstoken"
)

const (
	testAppID = "970CA35de60c44645bbae8a215061b33"
	testCert  = "5CFd2fd1755d40ecb72977518be15d3b"
)

// server is run() serving in-process (testrun.Running) and its base URL.
type server struct {
	*testrun.Running
	url            string
	stderr, stdout *testlog.Buffer
}

// waitFor waits for a JSON record with msg on stderr; it fails the test
// when run ends first.
func (s *server) waitFor(t *testing.T, msg string) map[string]any {
	t.Helper()
	return s.WaitFor(t, msg)
}

// stop cancels run's context (as SIGINT would) and returns run's result.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	return s.Stop()
}

// env turns pairs into a getenv; every test gets JSON logs on a free port
// unless it says otherwise.
func env(kv ...string) func(string) string {
	m := map[string]string{"TOKENSERVER_LISTEN": "127.0.0.1:0", "TOKENSERVER_LOG_FORMAT": "json"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// startRun runs the program in a fresh working directory and waits for its
// "listening" record to learn the address.
func startRun(t *testing.T, getenv func(string) string, args ...string) *server {
	t.Helper()
	return startRunIn(t, t.TempDir(), getenv, args...)
}

// startRunIn is startRun with a prepared working directory.
func startRunIn(t *testing.T, dir string, getenv func(string) string, args ...string) *server {
	t.Helper()
	r := testrun.Start(t, testrun.Program{Run: run, Args: append([]string{"tokenserver"}, args...), Getenv: getenv,
		Dir: dir, Service: "tokenserver"})
	return &server{Running: r, url: "http://" + r.Addr("listening"), stderr: r.Stderr, stdout: r.Stdout}
}

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestRunServesOnAFreePort(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	code, body := get(t, s.url+"/healthz")
	if code != 200 || !strings.Contains(string(body), `"version":"dev"`) {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	code, body = get(t, s.url+"/rtm/alice/?expiry=60")
	var r struct{ RtmToken string }
	if err := json.Unmarshal(body, &r); code != 200 || err != nil {
		t.Fatalf("/rtm: %d %s", code, body)
	}
	tok, err := accesstoken.Parse(r.RtmToken)
	if err != nil || !tok.Verify(testCert) || tok.AppID != testAppID {
		t.Fatalf("token from run does not verify: %v", err)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v after a clean shutdown", err)
	}
	// One access record per request, with the fields operators grep for.
	var access []map[string]any
	for _, r := range s.stderr.Records(t, "") {
		if r["msg"] == "request" {
			access = append(access, r)
		}
	}
	if len(access) != 2 {
		t.Fatalf("%d access records for 2 requests:\n%s", len(access), s.stderr)
	}
	for _, k := range []string{"request_id", "method", "route", "status", "latency", "client_ip"} {
		if _, ok := access[1][k]; !ok {
			t.Errorf("access record lacks %s: %v", k, access[1])
		}
	}
	if access[1]["route"] != "/rtm/:uid" || access[1]["status"] != 200.0 {
		t.Errorf("access record %v", access[1])
	}
}

func TestRunLogsInTextFormat(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &testlog.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tokenserver", "serve", "--listen", "127.0.0.1:0", "--log.format", "text"}, func(string) string { return "" }, io.Discard, stderr)
	}()
	re := regexp.MustCompile(`level=INFO msg=listening service=tokenserver addr=(127\.0\.0\.1:\d+)`)
	deadline := time.After(10 * time.Second)
	for {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			if code, _ := get(t, "http://"+m[1]+"/readyz"); code != 200 {
				t.Fatalf("/readyz %d", code)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, stderr)
		case <-deadline:
			t.Fatalf("no listening line:\n%s", stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestGracefulShutdown starts a request, cancels run's context while the
// request body is still being sent, and checks the request still gets its
// token and run then returns nil. "Expect: 100-continue" makes the server say
// when the handler has started reading, so nothing depends on timing.
func TestGracefulShutdown(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"type":"signaling","uid":"alice","expiresIn":60}`
	head := fmt.Sprintf("POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	cont, err := http.ReadResponse(br, nil)
	if err != nil || cont.StatusCode != http.StatusContinue {
		t.Fatalf("no 100 Continue: %v %v", cont, err)
	}
	if _, err := io.WriteString(conn, body[:10]); err != nil {
		t.Fatal(err)
	}

	s.Interrupt()
	s.waitFor(t, "shutting down")
	// New connections are refused once shutdown has begun.
	if c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://")); err == nil {
		c.Close()
		t.Error("a new connection was accepted during shutdown")
	}
	select {
	case <-s.Done():
		t.Fatal("run returned while a request was in flight")
	default:
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"token":"007`) {
		t.Fatalf("in-flight request: %d %s", resp.StatusCode, b)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped record:\n%s", s.stderr)
	}
}

func TestPortAlreadyInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Chdir(t.TempDir())
	err = run(context.Background(), []string{"tokenserver"}, env("TOKENSERVER_LISTEN", ln.Addr().String()), io.Discard, io.Discard)
	want := "tokenserver: cannot listen on " + ln.Addr().String() + ": address already in use (is another tokenserver running?)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestBadConfigStopsRunWithEveryProblem(t *testing.T) {
	t.Chdir(t.TempDir())
	err := run(context.Background(), []string{"tokenserver", "--log.level", "loud"},
		env("APP_ID", "nothex", "TOKENSERVER_TOKEN_MAX_EXPIRY", "2d"), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run started with a bad configuration")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{
		`config: agora.app_id: must be 32 hex characters (got 6)`,
		`config: agora.app_certificate: required when agora.app_id is set (or unset both for demo mode)`,
		`config: token.max_expiry: must be a duration like 90s or a number of seconds (got "2d")`,
		`config: log.level: must be debug, info, warn or error (got "loud")`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestDemoMode(t *testing.T) {
	s := startRun(t, env())
	var warned bool
	for _, r := range s.stderr.Records(t, "") {
		if r["level"] == "WARN" && strings.HasPrefix(r["msg"].(string), "DEMO MODE") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no DEMO MODE warning at start:\n%s", s.stderr)
	}
	_, body := get(t, s.url+"/readyz")
	var ready map[string]any
	_ = json.Unmarshal(body, &ready)
	if ready["mode"] != "demo" {
		t.Errorf("/readyz in demo mode: %s", body)
	}
	resp, err := http.Post(s.url+"/v1/tokens", "application/json", strings.NewReader(`{"type":"signaling","uid":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	var minted map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&minted)
	resp.Body.Close()
	if minted["mode"] != "demo" || minted["appId"] != ready["appId"] {
		t.Fatalf("/v1/tokens in demo mode: %v", minted)
	}
	// The demo pair is random but consistent within the run: our own tokens verify.
	resp, err = http.Post(s.url+"/v1/tokens/inspect", "application/json", strings.NewReader(`{"token":"`+minted["token"].(string)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&in)
	resp.Body.Close()
	if in["signatureValid"] != true {
		t.Errorf("a demo token does not verify within its own run: %v", in)
	}
}

func TestDotEnvAndCertificateFileThroughRun(t *testing.T) {
	t.Run("credentials from .env in the working directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("APP_ID="+testAppID+"\nAPP_CERTIFICATE="+testCert+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startRunIn(t, dir, env())
		_, body := get(t, s.url+"/readyz")
		if !strings.Contains(string(body), `"mode":"live"`) || !strings.Contains(string(body), testAppID) {
			t.Fatalf("/readyz: %s", body)
		}
	})
	t.Run("certificate from a file, app ID from a flag", func(t *testing.T) {
		dir := t.TempDir()
		secret := filepath.Join(dir, "cert")
		if err := os.WriteFile(secret, []byte(testCert+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := startRunIn(t, dir, env("TOKENSERVER_AGORA_APP_CERTIFICATE_FILE", secret), "serve", "--agora.app_id", testAppID)
		_, body := get(t, s.url+"/rtm/alice")
		var r struct{ RtmToken string }
		_ = json.Unmarshal(body, &r)
		if tok, err := accesstoken.Parse(r.RtmToken); err != nil || !tok.Verify(testCert) {
			t.Fatalf("token does not verify with the certificate from the file: %s", body)
		}
	})
}

func TestSubcommands(t *testing.T) {
	t.Chdir(t.TempDir())
	creds := env("APP_ID", testAppID, "APP_CERTIFICATE", testCert)
	cli := func(getenv func(string) string, args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"tokenserver"}, args...), getenv, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	m, _ := accesstoken.NewMinter(testAppID, testCert, accesstoken.WithClock(func() time.Time { return time.Unix(1111111, 0) }), accesstoken.WithSalt(func() uint32 { return 1 }))
	vector, _ := m.Signaling("test_user", 600)
	other, _ := accesstoken.NewMinter(testAppID, "0123456789abcdef0123456789abcdef")
	forged, _ := other.Signaling("test_user", 600)

	tests := []struct {
		name    string
		getenv  func(string) string
		args    []string
		wantOut string // regexp the whole stdout must match
		wantErr string // regexp the error must match; "" = no error
		check   func(t *testing.T, out string)
	}{
		{name: "version prints the stamped version", args: []string{"version"}, wantOut: `^dev\n$`},
		{name: "help lists the subcommands and the config flags", args: []string{"help"}, wantOut: `(?s)mint --type.*inspect.*healthcheck.*--agora\.app_certificate_file`},
		{name: "--help on serve prints usage and exits cleanly", args: []string{"serve", "--help"}, wantOut: `(?s)Usage:.*--listen`},
		{name: "an unknown subcommand is an error", args: []string{"mnit"}, wantErr: `^tokenserver: unknown subcommand "mnit"`},
		{name: "an unknown flag is an error", args: []string{"serve", "--port", "1"}, wantErr: `^tokenserver serve: unknown flag: --port`},
		{name: "mint prints one signaling token", getenv: creds, args: []string{"mint", "--type", "signaling", "--uid", "alice", "--expire", "3600"},
			wantOut: `^007\S+\n$`, check: func(t *testing.T, out string) {
				tok, err := accesstoken.Parse(strings.TrimSpace(out))
				if err != nil || !tok.Verify(testCert) || tok.Expire != 3600 || tok.Services[0].UserID != "alice" {
					t.Errorf("minted token is not alice's for 3600 s")
				}
			}},
		{name: "mint takes a duration for --expire", getenv: creds, args: []string{"mint", "--uid", "alice", "--expire", "1h"}, wantOut: `^007\S+\n$`},
		{name: "mint makes an rtc token", getenv: creds, args: []string{"mint", "--type", "rtc", "--channel", "room", "--uid", "42", "--role", "subscriber"},
			wantOut: `^007\S+\n$`, check: func(t *testing.T, out string) {
				tok, _ := accesstoken.Parse(strings.TrimSpace(out))
				if tok == nil || tok.Services[0].Channel != "room" || len(tok.Services[0].Privileges) != 1 {
					t.Errorf("not a subscriber rtc token for room")
				}
			}},
		{name: "mint makes rte, chat-user and chat-app tokens", getenv: creds, args: []string{"mint", "--type", "rte", "--channel", "room", "--uid", "bob", "--rtmuid", "alice"}, wantOut: `^007\S+\n$`},
		{name: "mint makes a chat-app token", getenv: creds, args: []string{"mint", "--type", "chat-app"}, wantOut: `^007\S+\n$`},
		{name: "mint refuses an expiry over the maximum, naming the flag", getenv: creds, args: []string{"mint", "--uid", "alice", "--expire", "90000"},
			wantErr: `^tokenserver mint: --expire: must be at most 86400 seconds`},
		{name: "mint reports every bad flag, one line each", getenv: creds, args: []string{"mint", "--type", "rtc", "--uid", "x\x01", "--role", "boss"},
			wantErr: `^tokenserver mint: --role: .*\ntokenserver mint: --channel: .*\ntokenserver mint: --uid: .*$`},
		{name: "mint refuses a bad --expire", getenv: creds, args: []string{"mint", "--uid", "a", "--expire", "soon"}, wantErr: `--expire: must be a whole number`},
		{name: "mint refuses a stray argument", getenv: creds, args: []string{"mint", "--uid", "a", "extra"}, wantErr: `unexpected argument "extra"`},
		{name: "inspect prints the published vector's fields and verifies it", getenv: creds, args: []string{"inspect", vector.Token},
			wantOut: `(?s)version     007\napp ID      970CA35de60c44645bbae8a215061b33\nissued at   1970-01-13T20:38:31Z \(issueTs 1111111\)\nexpires at  1970-01-13T20:48:31Z \(expire 600 s\)  \(EXPIRED\)\nsalt        1\nservice     rtm \(2\) user "test_user"\n  privilege login \(1\) .*\nsignature   valid for the configured certificate\n$`},
		{name: "inspect --json prints what the HTTP inspect answers", getenv: creds, args: []string{"inspect", "--json", vector.Token},
			wantOut: `(?s)"signatureValid": true.*"expired": true`},
		{name: "inspect without a certificate decodes but does not verify", getenv: env(), args: []string{"inspect", vector.Token},
			wantOut: `(?s)user "test_user".*signature   not checked \(no certificate configured\)\n$`},
		{name: "inspect fails on a token signed with another certificate", getenv: creds, args: []string{"inspect", forged.Token},
			wantOut: `(?s)signature   INVALID for the configured certificate`, wantErr: `signature does not match the configured certificate`},
		{name: "inspect refuses garbage without echoing it", getenv: creds, args: []string{"inspect", "007garbage!!"},
			wantErr: `^tokenserver inspect: not an AccessToken2: `},
		{name: "inspect needs exactly one token", getenv: creds, args: []string{"inspect"}, wantErr: `want exactly one TOKEN argument \(got 0\)`},
		{name: "healthcheck needs a fixed port", args: []string{"healthcheck"}, getenv: env(), wantErr: `has no fixed port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.getenv
			if getenv == nil {
				getenv = func(string) string { return "" }
			}
			out, _, err := cli(getenv, tt.args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error())):
				t.Fatalf("error %v, want match %q", err, tt.wantErr)
			}
			if tt.wantOut != "" && !regexp.MustCompile(tt.wantOut).MatchString(out) {
				t.Fatalf("stdout %q does not match %q", out, tt.wantOut)
			}
			if err != nil && strings.Contains(err.Error(), "garbage") {
				t.Errorf("the error echoes the input: %v", err)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

func TestHealthcheck(t *testing.T) {
	s := startRun(t, env())
	port := s.url[strings.LastIndex(s.url, ":")+1:]
	var out bytes.Buffer
	if err := run(context.Background(), []string{"tokenserver", "healthcheck", "--listen", ":" + port}, env(), &out, io.Discard); err != nil {
		t.Fatalf("healthcheck against a running server: %v", err)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"tokenserver", "healthcheck", "--listen", "127.0.0.1:" + port}, env(), io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "tokenserver healthcheck: http://127.0.0.1:"+port+"/healthz: ") {
		t.Fatalf("healthcheck against a stopped server: %v", err)
	}
}

func TestHealthcheckFailsOnNon200(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	t.Chdir(t.TempDir())
	err = run(context.Background(), []string{"tokenserver", "healthcheck", "--listen", ln.Addr().String()}, env(), io.Discard, io.Discard)
	if err == nil || !strings.HasSuffix(err.Error(), "answered 503 Service Unavailable") {
		t.Fatalf("got %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected")
	}
}

func TestServerLimitsAreApplied(t *testing.T) {
	s := startRun(t, env("TOKENSERVER_MAX_HEADER_BYTES", "2048"))
	req, _ := http.NewRequest(http.MethodGet, s.url+"/ping", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 32*1024))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 32 KB header got %d, want 431", resp.StatusCode)
	}
	if code, _ := get(t, s.url+"/ping"); code != 200 {
		t.Errorf("a normal request after that got %d", code)
	}
}

func TestRunAnswersHTTP2WithPriorKnowledgeAndHTTP1(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	var h1 http.Protocols
	h1.SetHTTP1(true)
	for _, tc := range []struct {
		name      string
		protocols *http.Protocols
		want      string
	}{
		{name: "a client speaking only h2c gets HTTP/2", protocols: &h2c, want: "HTTP/2.0"},
		{name: "a client speaking only HTTP/1.1 gets HTTP/1.1", protocols: &h1, want: "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{Protocols: tc.protocols}
			defer tr.CloseIdleConnections()
			res, err := (&http.Client{Transport: tr}).Get(s.url + "/rtm/alice/?expiry=60")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || res.Proto != tc.want || !strings.Contains(string(body), `"rtmToken":"007`) {
				t.Errorf("got %s %d %s, want %s 200 with a token", res.Proto, res.StatusCode, body, tc.want)
			}
		})
	}
}
