package e2e

// The tests judge tokens with opsParseToken and SignedWith; this holds them to Agora's own
// builder, so a token check that passes means what it says.

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"
)

func TestOpsTokenReaderAgreesWithAgorasBuilder(t *testing.T) {
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
		wantErr    bool
		wantSigned bool
	}{
		{name: "a token from Agora's builder reads back with its app and expiry and verifies", token: tok, cert: opsTestCertificate, wantSigned: true},
		{name: "the same token does not verify with another certificate", token: tok, cert: strings.Repeat("0", 32)},
		{name: "a token whose content was changed does not verify", token: flip(tok), cert: opsTestCertificate},
		{name: "a token without the 007 prefix is refused", token: "006" + tok[3:], wantErr: true},
		{name: "a token that is not base64 is refused", token: "007!!!", wantErr: true},
		{name: "a token that is not zlib is refused", token: "007" + base64.StdEncoding.EncodeToString([]byte("hello")), wantErr: true},
		{name: "an empty token is refused", token: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := opsParseToken(tc.token)
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
			if s := got.SignedWith(tc.cert); s != tc.wantSigned {
				t.Errorf("SignedWith = %v, want %v", s, tc.wantSigned)
			}
		})
	}
}
