package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"signaling-auth/lifecycle/testlog"
)

// auditLines decodes every line written to buf so far, strictly: each must
// be exactly an AuditRecord with every field present.
func auditLines(t *testing.T, buf *testlog.Buffer) []AuditRecord {
	t.Helper()
	want := auditFieldNames()
	var out []AuditRecord
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line is not JSON: %v: %s", err, line)
		}
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("audit line has fields %v, want exactly %v: %s", got, want, line)
		}
		var r AuditRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("audit line: %v: %s", err, line)
		}
		out = append(out, r)
	}
	return out
}

// auditFieldNames are AuditRecord's JSON names, sorted.
func auditFieldNames() []string {
	var names []string
	rt := reflect.TypeFor[AuditRecord]()
	for i := range rt.NumField() {
		names = append(names, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
	}
	slices.Sort(names)
	return names
}

// lastAudit is the one line a request added to buf (before: lines before it).
func lastAudit(t *testing.T, buf *testlog.Buffer, before int) AuditRecord {
	t.Helper()
	lines := auditLines(t, buf)
	if len(lines) != before+1 {
		t.Fatalf("the request wrote %d audit lines, want 1:\n%s", len(lines)-before, buf.String())
	}
	return lines[before]
}

// TestEveryMintingRouteIsAudited walks the router as
// TestEveryMintingRouteBindsAndLimits does: on every route that hands out a
// token, a refusal by the binding gate, a mint and a refusal by the per-uid
// limit each write one audit line naming the route, caller and user; the
// request ID is the one the answer carries; no line holds the token or the
// caller's JWT.
func TestEveryMintingRouteIsAudited(t *testing.T) {
	var buf testlog.Buffer
	a := newTestAPI(t, func(o *Options) { o.Auth, o.Limiter, o.PerUID, o.Audit = jwtAuth(t), limiter(), hourly(1), &buf })
	srv := newTestServer(t, a)
	intruderJWT := userJWT(t, "mallory")
	walked := 0
	for i, r := range a.engine.Routes() {
		route := r.Method + " " + r.Path
		if notMinting[route] {
			continue
		}
		walked++
		user := fmt.Sprintf("user%d", i)
		t.Run(route, func(t *testing.T) {
			c := call{method: r.Method, path: pathFor(r.Path, user)}
			if r.Method != http.MethodGet {
				c.body, c.contentType = fmt.Sprintf(mintBodies[r.Path], user), js
			}
			pattern := strings.TrimSuffix(r.Path, "/")
			check := func(ans answer, before int, outcome, gate string, jwt string) AuditRecord {
				t.Helper()
				rec := lastAudit(t, &buf, before)
				if rec.Outcome != outcome || rec.Gate != gate || rec.Status != ans.status {
					t.Errorf("outcome %q gate %q status %d; want %q %q %d", rec.Outcome, rec.Gate, rec.Status, outcome, gate, ans.status)
				}
				if rec.RequestID == "" || rec.RequestID != ans.header.Get("X-Request-Id") {
					t.Errorf("request_id %q, the answer's X-Request-Id %q", rec.RequestID, ans.header.Get("X-Request-Id"))
				}
				if rec.Route != pattern || rec.Method != r.Method || rec.Caller != "jwt" || rec.ClientIP != "127.0.0.1" {
					t.Errorf("route %q method %q caller %q client_ip %q", rec.Route, rec.Method, rec.Caller, rec.ClientIP)
				}
				if rec.Kind == "" {
					t.Errorf("no kind: %+v", rec)
				}
				line := buf.String()
				if strings.Contains(line, jwt) || strings.Contains(line, `"007`) {
					t.Errorf("the audit log holds a credential or a token")
				}
				return rec
			}
			before := len(auditLines(t, &buf))
			ans := do(t, srv, c.with(bearer(intruderJWT)))
			rec := check(ans, before, "refused", "binding", intruderJWT)
			if rec.Subject != "mallory" || rec.Reason == "" {
				t.Errorf("sub %q reason %q", rec.Subject, rec.Reason)
			}
			if appOnly[route] {
				return
			}
			if !slices.Contains(rec.Users, user) {
				t.Errorf("users %v, want %s among them", rec.Users, user)
			}
			own := userJWT(t, user)
			ans = do(t, srv, c.with(bearer(own)))
			rec = check(ans, before+1, "minted", "", own)
			if len(rec.Types) == 0 || rec.Reason != "" || rec.ExpireSeconds != 24*3600 || rec.Subject != user {
				t.Errorf("types %v reason %q expire_seconds %d sub %q", rec.Types, rec.Reason, rec.ExpireSeconds, rec.Subject)
			}
			ans = do(t, srv, c.with(bearer(own)))
			check(ans, before+2, "refused", "limit", own)
		})
	}
	if walked < 15 {
		t.Fatalf("walked %d minting routes; the router has at least 15", walked)
	}
}

// TestAuditLogNamesTheCallerAndTheRequest checks each field for the callers
// and gates one at a time.
func TestAuditLogNamesTheCallerAndTheRequest(t *testing.T) {
	// The key ID an operator computes: printf %s "$KEY" | sha256sum | cut -c1-12.
	sum := sha256.Sum256([]byte(apiKey))
	keyID := "sha256:" + hex.EncodeToString(sum[:])[:12]
	issued := func(claims jwt.MapClaims) string {
		claims["iat"], claims["exp"] = time.Now().Unix(), time.Now().Add(time.Hour).Unix()
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	withIssuer := issued(jwt.MapClaims{"sub": "alice", "iss": "https://login.example.com"})

	tests := []struct {
		name string
		opts func(*Options)
		c    call
		sent int         // times c is sent before the request whose line is checked
		want AuditRecord // the fields compared; Time, RequestID, ClientIP, Status checked apart
	}{
		{
			name: "an api_key caller minting an rtc token is named by its key ID",
			opts: func(o *Options) { o.Auth = keyAuth(t) },
			c:    call{path: "/rtc/room42/publisher/uid/007/?expiry=600", header: map[string]string{"X-API-Key": apiKey}},
			want: AuditRecord{Outcome: "minted", Caller: "api_key", KeyID: keyID, Method: "GET", Route: "/rtc/:channel/:role/:tokentype/:uid",
				Kind: "rtc", Types: []string{"rtc"}, Users: []string{"7"}, Channel: "room42", ExpireSeconds: 600},
		},
		{
			name: "a wrong API key is refused by the auth gate, before anything about the request is known",
			opts: func(o *Options) { o.Auth = keyAuth(t) },
			c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"alice"}`,
				header: map[string]string{"X-API-Key": "not-the-key-0123456789"}},
			want: AuditRecord{Outcome: "refused", Gate: "auth", Reason: "the API key is not valid", Caller: "none", Method: "POST", Route: "/v1/tokens",
				Types: []string{}, Users: []string{}},
		},
		{
			name: "a JWT caller is named by sub and iss",
			opts: func(o *Options) { o.Auth = jwtAuth(t) },
			c: call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"rte","uid":"alice","channel":"c","expiresIn":60}`,
				header: bearer(withIssuer)},
			want: AuditRecord{Outcome: "minted", Caller: "jwt", Subject: "alice", Issuer: "https://login.example.com", Method: "POST", Route: "/v1/tokens",
				Kind: "rte", Types: []string{"rte"}, Users: []string{"alice", "alice"}, Channel: "c", ExpireSeconds: 60},
		},
		{
			name: "no auth: the caller is none",
			c:    call{method: "POST", path: "/getToken/", contentType: js, body: `{"tokenType":"chat"}`},
			want: AuditRecord{Outcome: "minted", Caller: "none", Method: "POST", Route: "/getToken",
				Kind: "chat-app", Types: []string{"chat-app"}, Users: []string{}, ExpireSeconds: 86400},
		},
		{
			name: "the per-IP limit refuses before credentials are read",
			opts: func(o *Options) { o.Auth, o.Limiter, o.PerIP = keyAuth(t), limiter(), hourly(1) },
			c:    call{path: "/chat/account/bob", header: map[string]string{"X-API-Key": apiKey}},
			sent: 1,
			want: AuditRecord{Outcome: "refused", Gate: "limit", Reason: "too many requests from your address; retry after 3600 s",
				Caller: "none", Method: "GET", Route: "/chat/account/:uid", Types: []string{}, Users: []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf testlog.Buffer
			srv := newTestServer(t, newTestAPI(t, func(o *Options) {
				if tt.opts != nil {
					tt.opts(o)
				}
				o.Audit = &buf
			}))
			for range tt.sent {
				do(t, srv, tt.c)
			}
			ans := do(t, srv, tt.c)
			got := lastAudit(t, &buf, tt.sent)
			if got.RequestID != ans.header.Get("X-Request-Id") || got.ClientIP != "127.0.0.1" || got.Status != ans.status {
				t.Errorf("request_id %q client_ip %q status %d; answer %q %d", got.RequestID, got.ClientIP, got.Status, ans.header.Get("X-Request-Id"), ans.status)
			}
			if ts, err := time.Parse(time.RFC3339Nano, got.Time); err != nil || time.Since(ts) > time.Minute || !strings.HasSuffix(got.Time, "Z") {
				t.Errorf("time %q", got.Time)
			}
			got.Time, got.RequestID, got.ClientIP, got.Status = "", "", "", 0
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("audit record\n got %+v\nwant %+v", got, tt.want)
			}
			if bytes.Contains([]byte(buf.String()), []byte(apiKey)) || strings.Contains(buf.String(), withIssuer) {
				t.Error("the audit log holds a credential")
			}
		})
	}
}

// TestAuditLogSkipsWhatMintsNothing: a malformed request (400), an inspect
// and the open routes are in the access log only.
func TestAuditLogSkipsWhatMintsNothing(t *testing.T) {
	var buf testlog.Buffer
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Audit = &buf }))
	for _, c := range []call{
		{path: "/rtm/alice?expiry=999999"},
		{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling"}`},
		{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: `{"token":"nope"}`},
		{path: "/healthz"}, {path: "/metrics"}, {path: "/nope"},
	} {
		if ans := do(t, srv, c); ans.status == http.StatusOK && strings.HasPrefix(c.path, "/rtm") {
			t.Fatalf("%s minted", c)
		}
	}
	if buf.String() != "" {
		t.Errorf("requests that mint nothing were audited:\n%s", buf.String())
	}
}

// TestAuditFieldsAreDocumented: docs/operations.md lists every field of the
// audit line, so the documented list cannot fall behind the code.
func TestAuditFieldsAreDocumented(t *testing.T) {
	b, err := os.ReadFile("../../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Audit log\n")
	if !ok {
		t.Fatal(`docs/operations.md has no "## Audit log" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, f := range auditFieldNames() {
		if !strings.Contains(section, "| `"+f+"` |") {
			t.Errorf("the Audit log section of docs/operations.md has no table row for `%s`", f)
		}
	}
}
