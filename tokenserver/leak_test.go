package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// TestCertificateNeverLeaks runs the program as an operator would, drives
// every route (errors included) and every CLI path, and then searches every
// log line, answer (headers and body), stdout and error text for the
// certificate. It also checks no full token is ever logged, in the access
// log or the audit log (on stdout here).
func TestCertificateNeverLeaks(t *testing.T) {
	certVariants := []string{testCert, strings.ToLower(testCert), strings.ToUpper(testCert)}
	var seen bytes.Buffer // everything a person or a log collector could see
	record := func(parts ...string) {
		for _, p := range parts {
			seen.WriteString(p)
			seen.WriteByte('\n')
		}
	}

	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_LOG_LEVEL", "debug", "TOKENSERVER_AUDIT_OUTPUT", "stdout",
		"TOKENSERVER_CORS_ALLOWED_ORIGINS", "http://localhost:9000"))
	js := "application/json"
	type req struct{ method, path, ctype, body string }
	reqs := []req{
		{"GET", "/healthz", "", ""}, {"GET", "/readyz", "", ""}, {"GET", "/metrics", "", ""}, {"GET", "/openapi.json", "", ""},
		{"GET", "/ping/", "", ""},
		{"GET", "/rtm/alice/?expiry=60", "", ""}, {"GET", "/rtm/a%0Ab/", "", ""}, {"GET", "/rtm/alice/?expiry=999999", "", ""},
		{"GET", "/rtc/room/publisher/uid/1/", "", ""}, {"GET", "/rtc/room/king/uid/x/?expiry=-1", "", ""},
		{"GET", "/rte/room/publisher/userAccount/bob/alice/", "", ""}, {"GET", "/rte/room/publisher/uid/0/", "", ""},
		{"GET", "/chat/app/", "", ""}, {"GET", "/chat/account/alice/", "", ""}, {"GET", "/chat/account/%FF/", "", ""},
		{"POST", "/getToken", js, `{"tokenType":"rtc","channel":"c","uid":"1"}`}, {"POST", "/getToken", js, `{"tokenType":"x"}`},
		{"POST", "/getToken", "text/plain", `x`}, {"POST", "/getToken", js, `{`}, {"POST", "/getToken", js, strings.Repeat(" ", 20000) + "{}"},
		{"POST", "/v1/tokens", js, `{"type":"rte","uid":"bob","channel":"c"}`}, {"POST", "/v1/tokens", js, `{"type":"signaling","uid":"a","extra":1}`},
		{"POST", "/v1/tokens/inspect", js, `{"token":"007eJxTYBBZ"}`}, {"POST", "/v1/tokens/inspect", js, `{"token":"nope"}`},
		{"OPTIONS", "/rtm/alice/", "", ""}, {"DELETE", "/v1/tokens", "", ""}, {"GET", "/nope", "", ""},
	}
	var tokens []string
	for _, r := range reqs {
		hr, _ := http.NewRequest(r.method, s.url+r.path, strings.NewReader(r.body))
		if r.ctype != "" {
			hr.Header.Set("Content-Type", r.ctype)
		}
		hr.Header.Set("Origin", "http://localhost:9000")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var hdr bytes.Buffer
		_ = resp.Header.Write(&hdr)
		record(r.method+" "+r.path, resp.Status, hdr.String(), string(b))
		for _, f := range strings.FieldsFunc(string(b), func(r rune) bool { return r == '"' }) {
			if strings.HasPrefix(f, "007") && len(f) > 40 {
				tokens = append(tokens, f)
			}
		}
	}
	// A real token through inspect, so the verified path runs too.
	if len(tokens) == 0 {
		t.Fatal("no tokens were minted")
	}
	resp, err := http.Post(s.url+"/v1/tokens/inspect", js, strings.NewReader(`{"token":"`+tokens[0]+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	record(string(b))
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	logs := s.stderr.String() + s.stdout.String()
	if !strings.Contains(logs, `"outcome":"minted"`) {
		t.Error("no audit line was written")
	}
	record(logs)
	for _, tok := range tokens {
		if strings.Contains(logs, tok) || strings.Contains(logs, tok[:len(tok)/2]) {
			t.Errorf("a token (or half of one) is in the logs")
		}
	}

	// The CLI: mint, inspect (valid and forged), and failures.
	creds := env("APP_ID", testAppID, "APP_CERTIFICATE", testCert)
	other, _ := accesstoken.NewMinter(testAppID, "0123456789abcdef0123456789abcdef")
	forged, _ := other.Signaling("x", 60)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert")
	if err := os.WriteFile(certFile, []byte(testCert[:31]+"g"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		getenv func(string) string
		args   []string
	}{
		{creds, []string{"mint", "--uid", "alice"}},
		{creds, []string{"mint", "--type", "rte", "--uid", "0", "--channel", "c"}},
		{creds, []string{"inspect", tokens[0]}},
		{creds, []string{"inspect", "--json", tokens[0]}},
		{creds, []string{"inspect", forged.Token}},
		{creds, []string{"inspect", "007AAAA"}},
		{creds, []string{"healthcheck", "--listen", "127.0.0.1:1"}},
		// Broken certificates: the error must describe them without quoting them.
		{env("APP_ID", testAppID, "APP_CERTIFICATE", testCert+"0"), []string{"serve"}},
		{env("APP_ID", testAppID, "APP_CERTIFICATE", "z"+testCert[1:]), []string{"mint"}},
		{env("APP_ID", testAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE_FILE", certFile), []string{"serve"}},
		{env("APP_ID", "x", "APP_CERTIFICATE", testCert), []string{"inspect", tokens[0]}},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"tokenserver"}, c.args...), c.getenv, &out, &errOut)
		record(out.String(), errOut.String())
		if err != nil {
			record(err.Error())
		}
	}
	// A .env holding the certificate with a syntax error.
	t.Chdir(dir)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("APP_CERTIFICATE "+testCert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"tokenserver", "mint"}, env(), io.Discard, io.Discard); err != nil {
		record(err.Error())
	} else {
		t.Error("a broken .env was accepted")
	}

	all := seen.String()
	for _, v := range append(certVariants, testCert[:31], testCert[1:]) {
		if strings.Contains(all, v) {
			i := strings.Index(all, v)
			t.Errorf("the certificate (or most of it) appears in output near byte %d", i)
		}
	}
	if !strings.Contains(all, `"signatureValid":true`) || !strings.Contains(all, "config: agora.app_certificate") {
		t.Error("the test did not exercise what it claims (no verified inspect or no certificate error)")
	}
}
