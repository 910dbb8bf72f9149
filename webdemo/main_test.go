package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/lifecycle/testrun"
)

func noEnv(string) string { return "" }

// started is a webdemo running in-process (testrun.Running) and where it listens.
type started struct {
	*testrun.Running
	addr   string
	stderr *testlog.Buffer
}

// stop cancels run's context and returns what run returned.
func (s *started) stop() error { return s.Stop() }

// startRun runs webdemo on a free loopback port with JSON logs, in a fresh working
// directory (so a repository configs/ stays out of it), and waits until it listens.
func startRun(t *testing.T, args ...string) *started {
	t.Helper()
	argv := append([]string{"webdemo", "--listen", "127.0.0.1:0", "--log.format", "json"}, args...)
	r := testrun.Start(t, testrun.Program{Run: run, Args: argv, Getenv: noEnv, Dir: t.TempDir(), Service: "webdemo"})
	return &started{Running: r, addr: r.Addr("listening"), stderr: r.Stderr}
}

func TestServesAndShutsDownCleanly(t *testing.T) {
	s := startRun(t)
	res, err := http.Get("http://" + s.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]string
	err = json.NewDecoder(res.Body).Decode(&health)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || health["status"] != "ok" || health["version"] != version {
		t.Fatalf("healthz: %d %v %v", res.StatusCode, health, err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("run after cancel: %v", err)
	}
	if _, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
		t.Error("still answering after shutdown")
	}
	if !strings.Contains(s.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped record:\n%s", s.stderr)
	}
}

func TestFlagsReachThePage(t *testing.T) {
	s := startRun(t, "--proxy_url", "http://127.0.0.1:1234", "--token_expiry", "1h", "--agora.app_id", "970CA35de60c44645bbae8a215061b33")
	res, err := http.Get("http://" + s.addr + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cfg struct {
		ProxyURL    string `json:"proxyUrl"`
		AppID       string `json:"appId"`
		TokenExpiry int    `json:"tokenExpiry"`
	}
	if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ProxyURL != "http://127.0.0.1:1234/" || cfg.TokenExpiry != 3600 || cfg.AppID != "970CA35de60c44645bbae8a215061b33" {
		t.Errorf("config.json: %+v", cfg)
	}
}

func TestHealthcheck(t *testing.T) {
	s := startRun(t)
	err := run(context.Background(), []string{"webdemo", "healthcheck", "--listen", s.addr}, noEnv, io.Discard, io.Discard)
	if err != nil {
		t.Errorf("healthcheck of a running server: %v", err)
	}
	_, port, _ := net.SplitHostPort(s.addr)
	err = run(context.Background(), []string{"webdemo", "healthcheck", "--listen", ":" + port}, noEnv, io.Discard, io.Discard)
	if err != nil {
		t.Errorf("healthcheck with a wildcard listen address: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	err = run(context.Background(), []string{"webdemo", "healthcheck", "--listen", closed}, noEnv, io.Discard, io.Discard)
	if err == nil {
		t.Error("healthcheck of a closed port succeeded")
	}
	err = run(context.Background(), []string{"webdemo", "healthcheck", "--listen", ":0"}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "has no fixed port to check") {
		t.Errorf("healthcheck of port 0: %v", err)
	}
}

func TestHealthcheckOfSomethingElseFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	err = run(context.Background(), []string{"webdemo", "healthcheck", "--listen", ln.Addr().String()}, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("healthcheck against a 404 server: %v", err)
	}
}

func TestPortInUseIsOneClearLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Chdir(t.TempDir())
	err = run(context.Background(), []string{"webdemo", "--listen", ln.Addr().String()}, noEnv, io.Discard, io.Discard)
	want := "webdemo: cannot listen on " + ln.Addr().String() + ": address already in use (is another webdemo running?)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestCommandLine(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		{name: "version prints the stamped version", args: []string{"version"}, wantOut: version + "\n"},
		{name: "help prints every flag", args: []string{"--help"}, wantOut: "--sdk_url"},
		{name: "help works for healthcheck too", args: []string{"healthcheck", "-h"}, wantOut: "healthcheck"},
		{name: "an unknown command is named", args: []string{"serv"}, wantErr: `webdemo: unknown command "serv" (want serve, healthcheck, version or help)`},
		{name: "help as a word prints the subcommands and every flag", args: []string{"help"}, wantOut: "webdemo [serve] [flags]"},
		{name: "a bad flag value stops the start", args: []string{"--token_expiry", "forever"}, wantErr: `config: token_expiry: must be a duration`},
		{name: "a bad environment value stops the start", env: map[string]string{"WEBDEMO_LOG_LEVEL": "chatty"}, wantErr: `config: log.level: must be debug, info, warn or error (got "chatty")`},
		{name: "a listen address that cannot be bound is explained", args: []string{"--listen", "192.0.2.1:0"}, wantErr: "webdemo: cannot listen on 192.0.2.1:0: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			err := run(context.Background(), append([]string{"webdemo"}, tt.args...), getenv, &out, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", out.String(), tt.wantOut)
			}
		})
	}
}

func TestRunWithoutArgumentsServesFromTheEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // start, then shut down straight away
	var stderr testlog.Buffer
	getenv := func(k string) string {
		return map[string]string{"WEBDEMO_LISTEN": "127.0.0.1:0", "WEBDEMO_LOG_FORMAT": "json"}[k]
	}
	if err := run(ctx, nil, getenv, io.Discard, &stderr); err != nil {
		t.Fatalf("run with no arguments: %v", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"listening"`) || !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("did not serve and stop:\n%s", stderr.String())
	}
}
