package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"signaling-auth/origin"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/tokenserver/internal/accesstoken"
)

const (
	testAppID = "970CA35de60c44645bbae8a215061b33"
	testCert  = "5CFd2fd1755d40ecb72977518be15d3b"
)

// newTestAPI builds the real handler with the published test pair; mod may
// change the options first.
// mustOrigins is cors.allowed_origins parsed.
func mustOrigins(t testing.TB, entries []string) origin.List {
	t.Helper()
	l, errs := origin.ParseList(entries, false)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return l
}

// mustClients is the client-address resolver for trusted proxies.
func mustClients(t testing.TB, trusted []string) *clientip.Resolver {
	t.Helper()
	r, err := clientip.New(trusted)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newTestAPI(t testing.TB, mod func(*Options)) *API {
	t.Helper()
	m, err := accesstoken.NewMinter(testAppID, testCert)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Minter:        m,
		DefaultExpiry: 24 * time.Hour,
		MaxExpiry:     24 * time.Hour,
		MaxBodyBytes:  16384,
		Version:       "test",
		Logger:        slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newTestServer serves a on a loopback port for the duration of the test.
func newTestServer(t testing.TB, a *API) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv
}

// call is one HTTP exchange against a test server.
type call struct {
	method, path string
	body         string
	contentType  string
	header       map[string]string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.body)
	}
	return m
}

func do(t *testing.T, srv *httptest.Server, c call) answer {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	// No redirects followed: a redirect must show up as a failure.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// mustToken parses a token and checks it is signed with the test certificate.
func mustToken(t *testing.T, s string) *accesstoken.Token {
	t.Helper()
	tok, err := accesstoken.Parse(s)
	if err != nil {
		t.Fatalf("not a token: %v", err)
	}
	if !tok.Verify(testCert) {
		t.Fatalf("token does not verify with the test certificate")
	}
	if tok.AppID != testAppID {
		t.Fatalf("token for app %s", tok.AppID)
	}
	return tok
}

// problemOf checks an answer is RFC 9457 problem JSON with the given status
// and returns it.
func problemOf(t *testing.T, a answer, status int) Problem {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != problemContentType {
		t.Fatalf("Content-Type %q, want %q", ct, problemContentType)
	}
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("not a problem document: %v: %s", err, a.body)
	}
	if p.Type != "about:blank" || p.Status != status || p.Title != http.StatusText(status) || p.Detail == "" || p.RequestID == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	return p
}

func paramNames(p Problem) []string {
	var out []string
	for _, ip := range p.InvalidParams {
		out = append(out, ip.Name)
	}
	return out
}
