package e2e

// The tests judge tokens with opsInspect (tokenserver inspect --json); this holds it to
// Agora's own builder, so a token check that passes means what it says.

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"
)

func TestInspectReadsAgorasTokensAsTheTestsNeed(t *testing.T) {
	tok, err := rtmtokenbuilder2.BuildToken(opsTestAppID, opsTestCertificate, "alice", 60)
	if err != nil {
		t.Fatal(err)
	}
	// flip returns tok with one byte of its signed content changed, re-encoded.
	flip := func(tok string) string {
		raw, _ := base64.StdEncoding.DecodeString(tok[3:])
		zr, _ := zlib.NewReader(bytes.NewReader(raw))
		b, _ := io.ReadAll(zr)
		b[len(b)-1] ^= 1
		var out bytes.Buffer
		zw := zlib.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return "007" + base64.StdEncoding.EncodeToString(out.Bytes())
	}
	tests := []struct {
		name       string
		token      string
		cert       string
		wantUser   string
		wantErr    bool
		wantSigned bool
	}{
		{name: "a token from Agora's builder reads back with its app and expiry and verifies", token: tok, cert: opsTestCertificate, wantUser: "alice", wantSigned: true},
		{name: "the same token does not verify with another certificate", token: tok, cert: strings.Repeat("0", 32), wantUser: "alice"},
		{name: "a token whose content was changed does not verify", token: flip(tok), cert: opsTestCertificate,
			wantUser: "alicd"}, // the flipped byte is the user ID's last,
		{name: "a token without the 007 prefix is refused", token: "006" + tok[3:], wantErr: true},
		{name: "a token that is not base64 is refused", token: "007!!!", wantErr: true},
		{name: "a token that is not zlib is refused", token: "007" + base64.StdEncoding.EncodeToString([]byte("hello")), wantErr: true},
		{name: "an empty token is refused", token: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := tc.cert
			if tc.wantErr {
				cert = opsTestCertificate
			}
			got, err := opsInspect(t, tc.token, opsTestAppID, cert)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AppID != opsTestAppID || got.Expire != 60 {
				t.Errorf("app %q expire %d, want %q 60", got.AppID, got.Expire, opsTestAppID)
			}
			if len(got.Services) != 1 || got.Services[0].Name != "rtm" || got.Services[0].UID != tc.wantUser {
				t.Errorf("services %+v, want one rtm service for %s", got.Services, tc.wantUser)
			}
			if got.SignatureValid != tc.wantSigned {
				t.Errorf("signatureValid = %v, want %v", got.SignatureValid, tc.wantSigned)
			}
		})
	}
}
