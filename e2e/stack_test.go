package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The published AccessToken2 test vector (DESIGN.md §4): safe to commit, and a known
// certificate lets the test ask the token server to verify signatures.
const (
	vectorAppID       = "970CA35de60c44645bbae8a215061b33"
	vectorCertificate = "5CFd2fd1755d40ecb72977518be15d3b"
)

// fakeSDKPath mimics the CDN layout of the real default sdk_url.
const fakeSDKPath = "/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"

// fakeSDK serves testdata/fake-agora-rtm.js from its own origin, as a CDN would, so
// the page's Content-Security-Policy for the SDK origin is exercised too.
type fakeSDK struct {
	url      string
	requests atomic.Int64
}

func serveFakeSDK(t *testing.T) *fakeSDK {
	t.Helper()
	js, err := os.ReadFile("testdata/fake-agora-rtm.js")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSDK{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != fakeSDKPath {
			http.NotFound(w, r)
			return
		}
		f.requests.Add(1)
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(js)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + fakeSDKPath
	return f
}

// freePort returns a loopback TCP port that was free a moment ago, for a program whose
// address must be known before it starts: the page's origin must be on the proxy's list
// before the page's server starts, and make run and compose are given their ports.
func freePort(t testing.TB) int {
	t.Helper()
	// The port is free now, but a program started with it listens only
	// seconds later (make run builds first). A port from the kernel's
	// ephemeral range could be handed out meanwhile, to a port-0 listener or
	// an outgoing connection of this or a parallel test package; below that
	// range the kernel never picks one, so only another freePort could.
	low := ephemeralLow()
	for range 200 {
		port := minTestPort + rand.IntN(low-minTestPort)
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue // given to an earlier caller, which may not listen yet
		}
		l, err := net.Listen("tcp", ":"+strconv.Itoa(port)) // the programs listen on ":port"
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("no free port between %d and %d", minTestPort, low)
	return 0
}

// handedOut holds the ports freePort has returned in this test binary.
var handedOut sync.Map

// minTestPort keeps freePort clear of well-known and commonly configured ports.
const minTestPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > minTestPort+1000 {
				return n
			}
		}
	}
	return 32768
}

// stackOptions varies how the three programs are wired.
type stackOptions struct {
	demo         bool     // tokenserver without App ID and certificate
	direct       bool     // no proxy: the page calls the token server itself
	corsAnywhere bool     // the page names the token server behind the proxy (server_url)
	proxyOrigins string   // the proxy's cors.allowed_origins; default: the page's origin
	sdkURL       string   // default: the fake SDK
	sdkDir       string   // webdemo's sdk_dir (a local agora-rtm.js); default: none
	demoMode     bool     // webdemo's demo_mode: the page shows the demo-mode banner
	appID        string   // webdemo's agora.app_id; default: none (taken from the token)
	tokenEnv     []string // more environment for tokenserver (auth.mode and its secrets)
	tokenArgs    []string // more flags for tokenserver
	proxyArgs    []string // more flags for corsproxy
	inspectAuth  string   // Authorization for inspect when auth.mode is not none
}

// stack is tokenserver, corsproxy (unless direct) and webdemo, running.
type stack struct {
	token *process
	proxy *process
	web   *process
	sdk   *fakeSDK
	// inspectAuth is sent with POST /v1/tokens/inspect, which needs credentials
	// whenever the token server's auth.mode is not none.
	inspectAuth string
}

func (s *stack) pageURL() string { return s.web.url() + "/authentication_guide/" }

func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	s := &stack{sdk: serveFakeSDK(t), inspectAuth: o.inspectAuth}
	var tokenEnv []string
	if !o.demo {
		tokenEnv = []string{"TOKENSERVER_AGORA_APP_ID=" + vectorAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE=" + vectorCertificate}
	}
	tokenEnv = append(tokenEnv, o.tokenEnv...)
	s.token = start(t, "tokenserver", tokenEnv, append([]string{"--listen", "127.0.0.1:0"}, o.tokenArgs...)...)

	webAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	webArgs := []string{"--listen", webAddr, "--token_expiry", "600", "--agora.app_id", o.appID,
		"--sdk_dir=" + o.sdkDir, "--demo_mode=" + strconv.FormatBool(o.demoMode)}
	if o.sdkURL != "" {
		webArgs = append(webArgs, "--sdk_url", o.sdkURL)
	} else {
		webArgs = append(webArgs, "--sdk_url", s.sdk.url)
	}

	if o.direct {
		webArgs = append(webArgs, "--proxy_url=", "--server_url", s.token.url())
	} else {
		origins := o.proxyOrigins
		if origins == "" {
			origins = "http://" + webAddr
		}
		proxyArgs := []string{"--listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0", "--cors.allowed_origins", origins}
		if o.corsAnywhere {
			proxyArgs = append(proxyArgs, "--upstream=", "--allowed_targets", s.token.url())
		} else {
			proxyArgs = append(proxyArgs, "--upstream", s.token.url())
		}
		proxyArgs = append(proxyArgs, o.proxyArgs...)
		s.proxy = start(t, "corsproxy", nil, proxyArgs...)
		webArgs = append(webArgs, "--proxy_url", s.proxy.url()+"/")
		if o.corsAnywhere {
			webArgs = append(webArgs, "--server_url", s.token.url())
		}
	}
	s.web = start(t, "webdemo", nil, webArgs...)
	if s.web.addr != webAddr {
		t.Fatalf("webdemo listens on %s, want %s", s.web.addr, webAddr)
	}
	return s
}

// inspection is the part of POST /v1/tokens/inspect's answer the tests check.
type inspection struct {
	AppID          string `json:"appId"`
	SignatureValid bool   `json:"signatureValid"`
	AppIDMatches   bool   `json:"appIdMatches"`
	Expired        bool   `json:"expired"`
	Services       []struct {
		Name string `json:"name"`
		UID  string `json:"uid"`
	} `json:"services"`
}

var plainHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}

// inspect asks the token server to decode and verify a token.
func (s *stack) inspect(t *testing.T, token string) inspection {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequest(http.MethodPost, s.token.url()+"/v1/tokens/inspect", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.inspectAuth != "" {
		req.Header.Set("Authorization", s.inspectAuth)
	}
	res, err := plainHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("inspect: %d %s", res.StatusCode, b)
	}
	var in inspection
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("inspect answer %s: %v", b, err)
	}
	return in
}

// requireSignalingToken fails unless token is a Signaling token for uid, signed with
// the token server's certificate and not expired.
func (s *stack) requireSignalingToken(t *testing.T, token, uid string) inspection {
	t.Helper()
	in := s.inspect(t, token)
	rtmUID := ""
	for _, svc := range in.Services {
		if svc.Name == "rtm" {
			rtmUID = svc.UID
		}
	}
	if !in.SignatureValid || !in.AppIDMatches || in.Expired || rtmUID != uid {
		t.Fatalf("token %.12s… does not verify for %q: %+v", token, uid, in)
	}
	return in
}

// serverProblem asks the token server directly what it says about a user ID, so the
// test can compare with what the page shows.
func (s *stack) serverProblem(t *testing.T, uid string) string {
	t.Helper()
	res, err := plainHTTP.Get(s.token.url() + "/rtm/" + pathEscape(uid) + "/?expiry=600")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p struct {
		InvalidParams []struct{ Name, Reason string } `json:"invalidParams"`
	}
	if err := json.NewDecoder(res.Body).Decode(&p); err != nil || len(p.InvalidParams) == 0 {
		t.Fatalf("token server answered %d for %q without invalidParams (%v)", res.StatusCode, uid, err)
	}
	return fmt.Sprintf("%s: %s", p.InvalidParams[0].Name, p.InvalidParams[0].Reason)
}

// pathEscape escapes like the page's encodeURIComponent.
func pathEscape(s string) string {
	const keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if bytes.IndexByte([]byte(keep), c) >= 0 {
			b = append(b, c)
		} else {
			b = append(b, fmt.Sprintf("%%%02X", c)...)
		}
	}
	return string(b)
}
