package e2e

// Helpers that read tokens: through the built tokenserver's own inspect --json, the way
// DESIGN.md says any reader of tokens outside tokenserver does.

import (
	"bytes" // "binary" is the browser tests' helper
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// opsInspection is what `tokenserver inspect --json` prints about a token: the fields
// the tests read.
type opsInspection struct {
	AppID          string `json:"appId"`
	Expire         uint32 `json:"expire"`
	SignatureValid bool   `json:"signatureValid"`
	Services       []struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"services"`
}

// opsInspect reads tok with the built tokenserver's `inspect --json`. With a certificate
// the tokenserver is configured with appID and certificate, so SignatureValid says whether
// that certificate signed tok; without one it runs in demo mode and only decodes. It
// fails when tokenserver cannot read tok at all. The certificate goes to the child's
// environment only, never into an error.
func opsInspect(t *testing.T, tok, appID, certificate string) (opsInspection, error) {
	t.Helper()
	env := []string{"PATH=/usr/bin:/bin"}
	if certificate != "" {
		env = append(env, "TOKENSERVER_AGORA_APP_ID="+appID, "TOKENSERVER_AGORA_APP_CERTIFICATE="+certificate)
	}
	cmd := exec.Command(binary(t, "tokenserver"), "inspect", "--json", tok)
	cmd.Dir = t.TempDir() // no configs/ or .env to pick up
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // exits 1 on a signature that does not match, after printing
	var in opsInspection
	if err := json.Unmarshal(stdout.Bytes(), &in); err != nil {
		return in, fmt.Errorf("tokenserver inspect --json: %v (exit: %v): %s", err, runErr, strings.TrimSpace(stderr.String()))
	}
	return in, nil
}

// --- the page → proxy → token server path ------------------------------------------------

// opsCheckTokenPath asks the proxy for a Signaling token as the page would (allowed
// Origin, X-Requested-With, so first a preflight) and checks the answer: 200, a 007 token
// for appID (and signed with certificate, when given; read by opsInspect), exactly one
// Access-Control-Allow-Origin naming the origin.
func opsCheckTokenPath(t *testing.T, proxyURL, origin, appID, certificate string) {
	t.Helper()
	url := strings.TrimSuffix(proxyURL, "/") + "/rtm/alice/?expiry=60"

	pre, _ := opsGet(t, http.MethodOptions, url, http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {"GET"},
		"Access-Control-Request-Headers": {"x-requested-with"},
	})
	if pre.StatusCode/100 != 2 {
		t.Errorf("preflight from %s: status %d, want 2xx", origin, pre.StatusCode)
	}
	if got := pre.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want exactly [%q]", origin, got, origin)
	}

	resp, body := opsGet(t, http.MethodGet, url, http.Header{
		"Origin":           {origin},
		"X-Requested-With": {"XMLHttpRequest"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s from %s: status %d, want 200; body: %.300s", url, origin, resp.StatusCode, body)
	}
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Errorf("GET %s: Access-Control-Allow-Origin %q, want exactly [%q]", url, got, origin)
	}
	var answer struct {
		RTMToken string `json:"rtmToken"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("GET %s: body is not {\"rtmToken\": …}: %v", url, err)
	}
	tok, err := opsInspect(t, answer.RTMToken, appID, certificate)
	if err != nil {
		t.Fatalf("GET %s: rtmToken: %v", url, err)
	}
	if appID != "" && tok.AppID != appID {
		t.Errorf("token is for app %q, want %q", tok.AppID, appID)
	}
	if certificate != "" && !tok.SignatureValid {
		t.Errorf("token for app %q is not signed with the configured certificate", tok.AppID)
	}
	if tok.Expire != 60 {
		t.Errorf("token expire = %d, want the 60 asked for", tok.Expire)
	}

	// A page from anywhere else gets no CORS grant.
	bad, _ := opsGet(t, http.MethodGet, url, http.Header{"Origin": {"https://evil.example"}})
	if got := bad.Header.Values("Access-Control-Allow-Origin"); len(got) != 0 {
		t.Errorf("GET from a disallowed origin: Access-Control-Allow-Origin %q, want none", got)
	}
}
