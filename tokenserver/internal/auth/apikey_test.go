package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	clearKey  = "k3y-0123456789abcdef-live"
	hashedKey = "another-key-9876543210-live"
)

func apiKeyAuth(t *testing.T) *Authenticator {
	t.Helper()
	d := sha256.Sum256([]byte(hashedKey))
	a, err := New(Options{Mode: ModeAPIKey, APIKeys: []string{clearKey, HashPrefix + hex.EncodeToString(d[:])}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAPIKeyAuthentication(t *testing.T) {
	a := apiKeyAuth(t)
	tests := []struct {
		name     string
		header   map[string][]string
		wantOK   bool
		wantCode string
	}{
		{name: "a key in X-API-Key is accepted", header: map[string][]string{"X-API-Key": {clearKey}}, wantOK: true},
		{name: "a key as Authorization Bearer is accepted", header: map[string][]string{"Authorization": {"Bearer " + clearKey}}, wantOK: true},
		{name: "the Bearer scheme is case-insensitive", header: map[string][]string{"Authorization": {"bearer " + clearKey}}, wantOK: true},
		{name: "a key configured as its sha256 digest is accepted", header: map[string][]string{"X-API-Key": {hashedKey}}, wantOK: true},
		{name: "no credentials get 401 without an error code", wantCode: ""},
		{name: "a wrong key is refused", header: map[string][]string{"X-API-Key": {"k3y-0123456789abcdef-livf"}}, wantCode: "invalid_token"},
		{name: "a prefix of the right key is refused", header: map[string][]string{"X-API-Key": {clearKey[:len(clearKey)-1]}}, wantCode: "invalid_token"},
		{name: "the digest itself is not a key", header: map[string][]string{"X-API-Key": {HashPrefix + strings.Repeat("0", 64)}}, wantCode: "invalid_token"},
		{name: "Basic authentication is refused", header: map[string][]string{"Authorization": {"Basic " + clearKey}}, wantCode: "invalid_request"},
		{name: "two X-API-Key headers are refused", header: map[string][]string{"X-API-Key": {"x", clearKey}}, wantCode: "invalid_request"},
		{name: "two Authorization headers are refused", header: map[string][]string{"Authorization": {"Bearer x", "Bearer " + clearKey}}, wantCode: "invalid_request"},
		{name: "an empty X-API-Key is refused", header: map[string][]string{"X-API-Key": {" "}}, wantCode: "invalid_request"},
		{name: "a huge key is refused before hashing", header: map[string][]string{"X-API-Key": {strings.Repeat("a", 9000)}}, wantCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/rtm/alice", nil)
			for k, vs := range tt.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			c, e := a.Authenticate(r)
			if tt.wantOK {
				if e != nil || c.Kind != ModeAPIKey || c.Bound() {
					t.Fatalf("got %+v, %v; want an unbound api_key caller", c, e)
				}
				return
			}
			if e == nil || e.Status != http.StatusUnauthorized || e.Code != tt.wantCode {
				t.Fatalf("got %+v, %+v; want 401 %q", c, e, tt.wantCode)
			}
			if strings.Contains(e.Reason, clearKey[:10]) {
				t.Errorf("the reason echoes the key: %s", e.Reason)
			}
			ch := a.Challenge(e)
			if !strings.HasPrefix(ch, `Bearer realm="tokenserver"`) || (tt.wantCode != "" && !strings.Contains(ch, `error="`+tt.wantCode+`"`)) {
				t.Errorf("WWW-Authenticate %q", ch)
			}
		})
	}
}

func TestParseAPIKey(t *testing.T) {
	tests := []struct {
		name    string
		entry   string
		wantErr string
	}{
		{name: "a long random key is accepted", entry: "Zq0Xr4m9Hk2Lw8Vt1Cy7"},
		{name: "a digest is accepted", entry: HashPrefix + strings.Repeat("ab", 32)},
		{name: "an upper-case digest is accepted", entry: HashPrefix + strings.Repeat("AB", 32)},
		{name: "a short key is refused, saying how long it is", entry: "hunter2", wantErr: "at least 16 characters (one has 7)"},
		{name: "a digest of the wrong length is refused", entry: HashPrefix + "abcd", wantErr: "64 hex digits"},
		{name: "a digest that is not hex is refused", entry: HashPrefix + strings.Repeat("zz", 32), wantErr: "64 hex digits"},
		{name: "a key with a space is refused", entry: "0123456789 abcdefgh", wantErr: "printable ASCII"},
		{name: "a key with a non-ASCII byte is refused", entry: "0123456789abcdefgé", wantErr: "printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAPIKey(tt.entry)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.entry) {
				t.Errorf("the error quotes the key: %v", err)
			}
		})
	}
	if _, err := New(Options{Mode: ModeAPIKey}); err == nil {
		t.Error("api_key mode without keys was accepted")
	}
}
