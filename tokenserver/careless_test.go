package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// TestMintDefaultsToTheDefaultExpiry: with a default expiry below the
// maximum, `tokenserver mint` without --expire makes a token for the
// default, not the maximum, as the HTTP routes do.
func TestMintDefaultsToTheDefaultExpiry(t *testing.T) {
	t.Chdir(t.TempDir())
	getenv := env("APP_ID", testAppID, "APP_CERTIFICATE", testCert,
		"TOKENSERVER_TOKEN_DEFAULT_EXPIRY", "10m", "TOKENSERVER_TOKEN_MAX_EXPIRY", "2h")
	for _, args := range [][]string{
		{"mint", "--uid", "alice"},
		{"mint", "--type", "rtc", "--channel", "room", "--uid", "42"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append([]string{"tokenserver"}, args...), getenv, &out, &errOut); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errOut.String())
		}
		tok, err := accesstoken.Parse(strings.TrimSpace(out.String()))
		if err != nil || !tok.Verify(testCert) {
			t.Fatalf("%q printed no valid token: %v", args, err)
		}
		if tok.Expire != 600 {
			t.Errorf("%q: expire %d, want the default 600 (the maximum is 7200)", args, tok.Expire)
		}
	}
}
