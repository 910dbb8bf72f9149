package accesstoken

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzParse checks that no input makes Parse panic and that whatever it accepts is
// well-formed. The seed corpus in testdata/fuzz/FuzzParse (valid tokens of every kind,
// other languages' tokens, truncated, trailing-data, wrong-version and zlib-bomb inputs)
// runs with every plain `go test`.
func FuzzParse(f *testing.F) {
	f.Add(refRTCToken)
	f.Add(refRTCTokenZ)
	for _, v := range handVectors() {
		f.Add(tokenOf(handRaw(v.content(f))))
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if tok != nil {
				t.Fatal("Parse returned a token and an error")
			}
			if !errors.Is(err, ErrVersion) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrVersion nor ErrMalformed", err)
			}
			return
		}
		if tok.Version != version {
			t.Errorf("Version %q", tok.Version)
		}
		for _, s := range tok.Services {
			for i := 1; i < len(s.Privileges); i++ {
				if s.Privileges[i-1].Privilege >= s.Privileges[i].Privilege {
					t.Errorf("privileges of %v not strictly ascending: %v", s.Type, s.Privileges)
				}
			}
		}
		_ = tok.Verify(vecCert)
		if !tok.ExpiresAt().After(tok.IssuedAt()) && tok.Expire != 0 {
			t.Errorf("ExpiresAt %v not after IssuedAt %v", tok.ExpiresAt(), tok.IssuedAt())
		}
	})
}

// FuzzDecode feeds the inflated bytes straight to the decoder, past zlib, so that the
// fuzzer reaches the service decoders (Streaming, FCDN, RTM2's nested counts). Whatever
// it accepts must encode back, through the package's encoder, to content of the same
// length that decodes to the same services. Seeds: every hand-built vector and a
// token of every minted kind.
func FuzzDecode(f *testing.F) {
	for _, v := range handVectors() {
		f.Add(handRaw(v.content(f)))
	}
	f.Add(handRaw(hexBytes(f, vecHeader(3), "02 00 00 00 00 00", "0b 00 01 02", "01 00 00 00"))) // an unknown type
	m := vectorMinter(f)
	agent := Agent{Channel: "room", RTCAccount: "7", Role: RolePublisher, Expire: 600,
		Privileges: RTCPrivilegeExpires{600, 300, 300, 60}, RTMUserID: "bob", RTMExpire: 600}
	for _, mint := range []func() (Minted, error){
		func() (Minted, error) { return m.ConvoAI(agent) },
		func() (Minted, error) { return m.STT(agent) },
		func() (Minted, error) { return m.RTE("room", "7", RolePublisher, 600, 600, "bob", 600) },
		func() (Minted, error) { return m.SignalingWithChannel("bob", "room", 600) },
		func() (Minted, error) {
			return m.SignalingWithPermissions("bob", 600, Permissions{"users": {Read: []string{"a"}, Write: []string{"b", "c"}}})
		},
		func() (Minted, error) { return m.ChatApp(600) },
	} {
		minted, err := mint()
		if err != nil {
			f.Fatal(err)
		}
		raw, err := inflate(mustBase64(f, minted.Token[3:]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tok, err := decode(raw)
		if err != nil {
			if tok != nil {
				t.Fatal("decode returned a token and an error")
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		b := appendString(nil, tok.AppID)
		b = binary.LittleEndian.AppendUint32(b, tok.IssueTs)
		b = binary.LittleEndian.AppendUint32(b, tok.Expire)
		b = binary.LittleEndian.AppendUint32(b, tok.Salt)
		b = binary.LittleEndian.AppendUint16(b, uint16(tok.ServiceCount))
		for i := range tok.Services {
			b = appendService(b, &tok.Services[i], tok.Services[i].Privileges)
		}
		if len(b) != len(tok.content) {
			t.Fatalf("re-encoded content is %d bytes, the decoded content %d", len(b), len(tok.content))
		}
		again, err := decode(append(appendString(nil, string(tok.signature)), b...))
		if err != nil {
			t.Fatalf("re-encoded token does not decode: %v", err)
		}
		if !servicesEqual(again.Services, tok.Services) {
			t.Fatalf("round trip changed the services\n got %+v\nwant %+v", again.Services, tok.Services)
		}
	})
}

func mustBase64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
