package accesstoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// Hand-built vectors for the services Agora's reference added after the pinned module
// (Streaming 3, FCDN 6, RTM2 8) and for repeated services. Each content is written out
// byte by byte from the layout in doc.go; handRaw signs it with crypto/hmac, so neither
// our decoder nor our encoder produced the bytes the tests compare against.

// hexBytes decodes hex written with spaces.
func hexBytes(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vecHeader is the content header of the vector app: appId, issueTs 1111111,
// expire 600, salt 1, then the service count.
func vecHeader(services byte) string {
	return "20 00 " + hex.EncodeToString([]byte(vecAppID)) + // packString(appId): u16 32 + 32 bytes
		" 47 f4 10 00" + // issueTs 1111111
		" 58 02 00 00" + // expire 600
		" 01 00 00 00" + // salt 1
		hex.EncodeToString([]byte{services, 0}) // service count
}

// handRaw prepends packString(signature) to content, the signature computed here with
// crypto/hmac as doc.go describes.
func handRaw(content []byte) []byte {
	h := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	key := h(binary.LittleEndian.AppendUint32(nil, vecSalt),
		h(binary.LittleEndian.AppendUint32(nil, vecIssueTs), []byte(vecCert)))
	raw := binary.LittleEndian.AppendUint16(nil, signatureLen)
	raw = append(raw, h(key, content)...)
	return append(raw, content...)
}

type handVector struct {
	name    string
	content func(t testing.TB) []byte
	want    []Service
}

func handVectors() []handVector {
	return []handVector{
		{"streaming (3): publish mix and raw stream, channel, account", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(1),
				"03 00",             // service type 3, Streaming
				"02 00",             // 2 privileges
				"01 00 58 02 00 00", // publishMixStream, 600 s
				"02 00 2c 01 00 00", // publishRawStream, 300 s
				"04 00 72 6f 6f 6d", // channel name "room"
				"02 00 34 32")       // account "42"
		}, []Service{{Type: ServiceStreaming, Privileges: []PrivilegeExpire{{PrivStreamingPublishMixStream, 600}, {PrivStreamingPublishRawStream, 300}}, Channel: "room", UserID: "42"}}},

		{"fcdn (6): publish and play, channel, empty account (uid 0)", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(1),
				"06 00",             // service type 6, FCDN
				"02 00",             // 2 privileges
				"01 00 58 02 00 00", // publish, 600 s
				"02 00 58 02 00 00", // play, 600 s
				"04 00 6c 69 76 65", // channel name "live"
				"00 00")             // account "" (uid 0)
		}, []Service{{Type: ServiceFCDN, Privileges: []PrivilegeExpire{{PrivFCDNPublish, 600}, {PrivFCDNPlay, 600}}, Channel: "live"}}},

		{"rtm2 (8): login, user, stream channel read+write and users read", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(1),
				"08 00",                   // service type 8, RTM2
				"01 00",                   // 1 privilege
				"01 00 58 02 00 00",       // login, 600 s
				"03 00 62 6f 62",          // user ID "bob"
				"02 00",                   // 2 resource types
				"01 00",                   //   streamChannels
				"02 00",                   //   2 permission lists
				"00 00 01 00",             //     read, 1 name
				"06 00 72 6f 6f 6d 2d 2a", //       "room-*"
				"01 00 01 00",             //     write, 1 name
				"06 00 72 6f 6f 6d 2d 31", //       "room-1"
				"04 00",                   //   users
				"01 00",                   //   1 permission list
				"00 00 02 00",             //     read, 2 names
				"01 00 61", "01 00 62")    //       "a", "b"
		}, []Service{{Type: ServiceRTM2, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "bob", Permissions: []Rtm2Resource{
			{ResourceStreamChannels, []Rtm2List{{PermissionRead, []string{"room-*"}}, {PermissionWrite, []string{"room-1"}}}},
			{ResourceUsers, []Rtm2List{{PermissionRead, []string{"a", "b"}}}},
		}}}},

		{"rtm2 (8) with no resources and an unknown resource and permission type kept", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(2),
				"08 00 01 00 01 00 58 02 00 00", // RTM2, login 600 s
				"01 00 61",                      // user ID "a"
				"00 00",                         // no resource types
				"08 00 00 00",                   // RTM2, no privileges
				"01 00 62",                      // user ID "b"
				"01 00",                         // 1 resource type
				"09 00 01 00",                   //   type 9, 1 list
				"07 00 00 00")                   //     permission 7, no names
		}, []Service{
			{Type: ServiceRTM2, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "a"},
			{Type: ServiceRTM2, Privileges: []PrivilegeExpire{}, UserID: "b", Permissions: []Rtm2Resource{{9, []Rtm2List{{7, []string{}}}}}},
		}},

		{"repeated and unordered services are kept in the order they come", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(3),
				"06 00 00 00 01 00 78 00 00",    // FCDN, no privileges, channel "x", account ""
				"01 00 01 00 01 00 58 02 00 00", // RTC, join 600 s
				"01 00 62 00 00",                //   channel "b", uid ""
				"01 00 01 00 01 00 2c 01 00 00", // RTC again, join 300 s
				"01 00 61 01 00 37")             //   channel "a", uid "7"
		}, []Service{
			{Type: ServiceFCDN, Privileges: []PrivilegeExpire{}, Channel: "x"},
			{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}}, Channel: "b"},
			{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 300}}, Channel: "a", UserID: "7"},
		}},
	}
}

// TestHandVectorsParse parses every hand-built token, checks each field and the
// signature, and checks that our encoder writes exactly the hand-built bytes for the
// parsed services (the internal round trip parse → build).
func TestHandVectorsParse(t *testing.T) {
	m := vectorMinter(t)
	for _, v := range handVectors() {
		t.Run(v.name, func(t *testing.T) {
			raw := handRaw(v.content(t))
			tok, err := Parse(tokenOf(raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !servicesEqual(tok.Services, v.want) {
				t.Errorf("services\n got %+v\nwant %+v", tok.Services, v.want)
			}
			if tok.AppID != vecAppID || tok.IssueTs != vecIssueTs || tok.Expire != 600 || tok.Salt != vecSalt {
				t.Errorf("header %s %d %d %d", tok.AppID, tok.IssueTs, tok.Expire, tok.Salt)
			}
			if !tok.Verify(vecCert) {
				t.Error("Verify with the right certificate = false")
			}
			// Every truncation of the content is refused.
			for n := 2 + signatureLen; n < len(raw); n++ {
				if _, err := Parse(tokenOf(raw[:n])); err == nil {
					t.Fatalf("content cut to %d of %d bytes parses", n, len(raw))
				}
			}
			if len(tok.Services) > len(spec{}.services) {
				return
			}
			got := rawOf(t, buildServices(t, m, 600, tok.Services))
			if !bytes.Equal(got, raw) {
				t.Errorf("our encoder writes\n%x\nthe hand-built bytes are\n%x", got, raw)
			}
		})
	}
}

// buildServices mints a token with the given services through the package's encoder.
func buildServices(t testing.TB, m *Minter, expire uint32, services []Service) string {
	t.Helper()
	sp := spec{expire: expire}
	for _, s := range services {
		n := sp.service(s.Type)
		*n = s
	}
	minted, err := m.mint(&sp)
	if err != nil {
		t.Fatal(err)
	}
	return minted.Token
}

// TestSignalingWithPermissionsMatchesTheHandVector mints the RTM2 hand vector's token
// through the public builder: the bytes must be the hand-built ones, whatever order the
// map and lists were given in.
func TestSignalingWithPermissionsMatchesTheHandVector(t *testing.T) {
	minted, err := vectorMinter(t).SignalingWithPermissions("bob", 600, Permissions{
		"users":          {Read: []string{"a", "b"}},
		"streamChannels": {Write: []string{"room-1"}, Read: []string{"room-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	v := handVectors()[2]
	if got, want := rawOf(t, minted.Token), handRaw(v.content(t)); !bytes.Equal(got, want) {
		t.Errorf("minted\n%x\nhand-built\n%x", got, want)
	}
}
