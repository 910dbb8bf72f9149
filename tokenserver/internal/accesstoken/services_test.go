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

		{"convoai (9) and stt (10): no privileges, no fields", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(2),
				"09 00 00 00", // service type 9, ConvoAI, no privileges
				"0a 00 00 00") // service type 10, STT, no privileges
		}, []Service{{Type: ServiceConvoAI, Privileges: []PrivilegeExpire{}}, {Type: ServiceSTT, Privileges: []PrivilegeExpire{}}}},

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
		for _, p := range s.Privileges {
			sp.grant(p.Privilege, p.Expire)
		}
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

func TestNewBuildersReportEveryBadParameter(t *testing.T) {
	m := vectorMinter(t)
	names := func(n int, name string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = name
		}
		return out
	}
	tests := []struct {
		name string
		call func() (Minted, error)
		want []InvalidParam
	}{
		{"an unknown resource type is named with the list of known ones",
			func() (Minted, error) {
				return m.SignalingWithPermissions("u", 600, Permissions{"channels": {Read: []string{"a"}}, "users": {Read: []string{"b"}}})
			},
			[]InvalidParam{{"permissions.channels", "unknown resource type; want one of messageChannels, streamChannels, groupChannels, serverGroups, users"}}},
		{"an empty name and a name of 65 bytes are named by list and index",
			func() (Minted, error) {
				return m.SignalingWithPermissions("u", 600, Permissions{"streamChannels": {Read: []string{"ok", ""}, Write: []string{strings.Repeat("n", 65)}}})
			},
			[]InvalidParam{{"permissions.streamChannels.read[1]", "must be 1-64 bytes (got 0)"}, {"permissions.streamChannels.write[0]", "must be 1-64 bytes (got 65)"}}},
		{"a name with a control byte is refused",
			func() (Minted, error) {
				return m.SignalingWithPermissions("u", 600, Permissions{"users": {Write: []string{"a\x00"}}})
			},
			[]InvalidParam{{"permissions.users.write[0]", "must be printable ASCII (byte 0x00 at offset 1)"}}},
		{"a resource type with neither list is refused",
			func() (Minted, error) { return m.SignalingWithPermissions("u", 600, Permissions{"serverGroups": {}}) },
			[]InvalidParam{{"permissions.serverGroups", "needs read or write names"}}},
		{"one name more than MaxPermissionNames in a list is refused",
			func() (Minted, error) {
				return m.SignalingWithPermissions("u", 600, Permissions{"groupChannels": {Write: names(MaxPermissionNames+1, "g")}})
			},
			[]InvalidParam{{"permissions.groupChannels.write", "at most 64 names (got 65)"}}},
		{"names adding up to one byte more than MaxPermissionBytes are refused",
			func() (Minted, error) {
				// 64 names of 64 bytes in the read list = 4096 bytes, plus one byte.
				return m.SignalingWithPermissions("u", 600, Permissions{
					"messageChannels": {Read: names(MaxPermissionNames, strings.Repeat("m", 64))},
					"users":           {Read: []string{"x"}},
				})
			},
			[]InvalidParam{{"permissions", "the names add up to 4097 bytes, more than the 4096 allowed"}}},
		{"the user ID and expiry of a permissions token are checked like Signaling's",
			func() (Minted, error) {
				return m.SignalingWithPermissions("", 0, Permissions{"users": {Read: []string{"a"}}})
			},
			[]InvalidParam{{"uid", "must be 1-64 characters long (got 0)"}, {"expire", "must be at least 1 second (got 0)"}}},
		{"a privilege expiry above the token's, one of 0 and one above 24 h are each named",
			func() (Minted, error) {
				return m.RTCWithUIDAndPrivilege("c", 0, 600, RTCPrivilegeExpires{JoinChannel: 601, PublishAudio: 0, PublishVideo: 600, PublishData: 86401})
			},
			[]InvalidParam{
				{"joinChannelExpire", "must be at most the token's expire, 600 seconds (got 601)"},
				{"publishAudioExpire", "must be at least 1 second (got 0)"},
				{"publishDataExpire", "must be at most 86400 seconds (24 h) (got 86401)"},
			}},
		{"a per-privilege account token checks channel, account and token expiry",
			func() (Minted, error) {
				return m.RTCWithAccountAndPrivilege("", "a/b", 90000, RTCPrivilegeExpires{1, 1, 1, 1})
			},
			[]InvalidParam{
				{"channel", "must be 1-64 bytes (got 0)"},
				{"uid", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x2f '/' at offset 1)"},
				{"expire", "must be at most 86400 seconds (24 h) (got 90000)"},
			}},
		{"an RTM-with-channel user ID must also be an RTC account",
			func() (Minted, error) { return m.SignalingWithChannel("a/b", "c", 600) },
			[]InvalidParam{{"uid", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x2f '/' at offset 1)"}}},
		{"an RTM-with-channel token checks its channel and expiry",
			func() (Minted, error) { return m.SignalingWithChannel("u", "", 0) },
			[]InvalidParam{{"channel", "must be 1-64 bytes (got 0)"}, {"expire", "must be at least 1 second (got 0)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.call, tt.want)
		})
	}
}

// TestNewBuildersAcceptTheirLimits mints at every limit, and round-trips each token
// through Parse and Verify.
func TestNewBuildersAcceptTheirLimits(t *testing.T) {
	m := vectorMinter(t)
	full := func(n int, name string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = name
		}
		return out
	}
	perms := Permissions{ // 4096 bytes of names, 64 in a list, every resource type
		"messageChannels": {Read: full(MaxPermissionNames, strings.Repeat("m", 62))},
		"streamChannels":  {Write: []string{"~ *"}},
		"groupChannels":   {Read: []string{"g"}, Write: []string{"h"}},
		"serverGroups":    {Read: full(1, strings.Repeat("s", 64))},
		"users":           {Write: full(1, strings.Repeat("u", MaxPermissionBytes-64*62-3-2-64))},
	}
	tests := []struct {
		name string
		mint func() (Minted, error)
		want []Service
	}{
		{"RTM2 at MaxPermissionNames and MaxPermissionBytes lists every resource type in order",
			func() (Minted, error) { return m.SignalingWithPermissions("bob", MaxExpire, perms) },
			[]Service{{Type: ServiceRTM2, Privileges: []PrivilegeExpire{{PrivLogin, MaxExpire}}, UserID: "bob", Permissions: []Rtm2Resource{
				{ResourceMessageChannels, []Rtm2List{{PermissionRead, perms["messageChannels"].Read}}},
				{ResourceStreamChannels, []Rtm2List{{PermissionWrite, []string{"~ *"}}}},
				{ResourceGroupChannels, []Rtm2List{{PermissionRead, []string{"g"}}, {PermissionWrite, []string{"h"}}}},
				{ResourceServerGroups, []Rtm2List{{PermissionRead, perms["serverGroups"].Read}}},
				{ResourceUsers, []Rtm2List{{PermissionWrite, perms["users"].Write}}},
			}}}},
		{"without permissions the token is the plain service-2 Signaling token",
			func() (Minted, error) { return m.SignalingWithPermissions("bob", 600, Permissions{}) },
			[]Service{{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "bob"}}},
		{"per-privilege expiries equal to the token's are accepted",
			func() (Minted, error) {
				return m.RTCWithUIDAndPrivilege("c", 9, 600, RTCPrivilegeExpires{600, 1, 2, 600})
			},
			[]Service{{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}, {PrivPublishAudio, 1}, {PrivPublishVideo, 2}, {PrivPublishData, 600}}, Channel: "c", UserID: "9"}}},
		{"RTM with a channel carries RTC join and publish data for the user, then RTM login",
			func() (Minted, error) { return m.SignalingWithChannel("bob", "room", 600) },
			[]Service{
				{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}, {PrivPublishData, 600}}, Channel: "room", UserID: "bob"},
				{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "bob"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			minted, err := tt.mint()
			if err != nil {
				t.Fatal(err)
			}
			tok, err := Parse(minted.Token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !servicesEqual(tok.Services, tt.want) {
				t.Errorf("services\n got %+v\nwant %+v", tok.Services, tt.want)
			}
			if !tok.Verify(vecCert) {
				t.Error("Verify = false")
			}
		})
	}
}
