package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tokens from the reference module's tests. The "eJxT" ones were made by other
// languages' builders (a different zlib), so they also prove we inflate any encoder.
const (
	refRTCToken    = "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM="
	refRTCTokenZ   = "007eJxTYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxgDCaiTj"
	refMultiToken  = "007eJxSYJjqLJBlM239wwWvmBZ7tW619coNnPKSXaHayfKzZODswxMVGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMjAwMDMwgiGIr8BgnmJuZGxmmppkaWFsYmFqbGmeapxqnGaZYmJmkJSSksjFYGRhYWRsYmhkbswE18fJUJJaXBJfWpxaxAoXRFYKCAAA///aoiqr"
	refMultiTokenZ = "007eJxTYOAQsrQ5s3TfH+1tvy8zZZ46EpCc0V43JXdGd2jS8porKo4KDJbmBs6OxqYpqWYGySYmZiamSUmJqRaJRoamBmaGScbG7l8EGCKYGBgYGRgYmIAkCxCD+ExgkhlMsoBJBQbzFHMjYzPT1CRLC2MTC1NjS/NU41TjNMsUEzODpJSURC4GIwsLI2MTQyNzY5BZEJM4GUpSi0viS4tTiwAipyp4"
)

func TestParseReadsEveryField(t *testing.T) {
	tests := []struct {
		name  string
		token string
		want  []Service
	}{
		{
			name:  "the reference's RTC token has one RTC service with its channel and uid",
			token: refRTCToken,
			want:  []Service{{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}}, Channel: vecChannel, UserID: vecUIDStr}},
		},
		{
			name:  "the same token compressed by another language's zlib reads the same",
			token: refRTCTokenZ,
			want:  []Service{{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}}, Channel: vecChannel, UserID: vecUIDStr}},
		},
		{
			name:  "another language's RTC publisher + RTM token lists both services with every privilege",
			token: refMultiTokenZ,
			want: []Service{
				{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}, {PrivPublishAudio, 600}, {PrivPublishVideo, 600}, {PrivPublishData, 600}}, Channel: vecChannel, UserID: vecUIDStr},
				{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "test_user"},
			},
		},
		{
			name:  "another language's Chat app token has a Chat service with no user",
			token: "007eJxTYNDNaz3snC8huEfHWdz6s98qltq4zqy9fl99Uh0FDvy6F6DAYGlu4OxobJqSamaQbGJiZmKalJSYapFoZGhqYGaYZGzs/kWAIYKJgYGRAYRZgZgJzGdgAACt8hhr",
			want:  []Service{{Type: ServiceChat, Privileges: []PrivilegeExpire{{PrivChatApp, 600}}}},
		},
		{
			name:  "a token with RTC, RTM and Chat services lists them in type order",
			token: refMultiToken,
			want: []Service{
				{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 600}}, Channel: vecChannel, UserID: vecUIDStr},
				{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "test_user"},
				{Type: ServiceChat, Privileges: []PrivilegeExpire{{PrivChatUser, 600}}, UserID: vecUIDStr},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.token)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tok.Version != "007" || tok.AppID != vecAppID || tok.IssueTs != vecIssueTs || tok.Expire != 600 || tok.Salt != vecSalt {
				t.Errorf("header = %s %s %d %d %d", tok.Version, tok.AppID, tok.IssueTs, tok.Expire, tok.Salt)
			}
			if !servicesEqual(tok.Services, tt.want) {
				t.Errorf("services\n got %+v\nwant %+v", tok.Services, tt.want)
			}
			if !tok.Verify(vecCert) {
				t.Error("Verify with the right certificate = false")
			}
			if !tok.IssuedAt().Equal(time.Unix(1111111, 0)) || !tok.ExpiresAt().Equal(time.Unix(1111711, 0)) {
				t.Errorf("IssuedAt %v ExpiresAt %v", tok.IssuedAt(), tok.ExpiresAt())
			}
		})
	}
}

func servicesEqual(a, b []Service) bool {
	return slices.EqualFunc(a, b, func(x, y Service) bool {
		return x.Type == y.Type && x.Channel == y.Channel && x.UserID == y.UserID && x.APaaSRole == y.APaaSRole &&
			slices.Equal(x.Privileges, y.Privileges) && reflect.DeepEqual(x.Permissions, y.Permissions) &&
			bytes.Equal(x.Unread, y.Unread)
	})
}

func TestMintedTokensParseBackAndVerify(t *testing.T) {
	m := vectorMinter(t)
	account := strings.Repeat("a", maxAccountLen)
	tests := []struct {
		name   string
		mint   func() (Minted, error)
		expire uint32
		want   []Service
	}{
		{"a Signaling token carries the login privilege for its user", func() (Minted, error) { return m.Signaling("alice", 300) }, 300,
			[]Service{{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 300}}, UserID: "alice"}}},
		{"an RTC publisher token carries join and the three publish privileges", func() (Minted, error) { return m.RTCWithUID("room 1", 42, RolePublisher, 300, 200) }, 300,
			[]Service{{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 200}, {PrivPublishAudio, 200}, {PrivPublishVideo, 200}, {PrivPublishData, 200}}, Channel: "room 1", UserID: "42"}}},
		{"an RTC subscriber token for the longest account carries only join", func() (Minted, error) { return m.RTCWithAccount("c", account, RoleSubscriber, 300, 200) }, 300,
			[]Service{{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 200}}, Channel: "c", UserID: account}}},
		{"an RTE token carries RTC and RTM with their own expiries", func() (Minted, error) { return m.RTE("c", "", RolePublisher, 100, 200, "bob", 300) }, 100,
			[]Service{
				{Type: ServiceRTC, Privileges: []PrivilegeExpire{{PrivJoinChannel, 200}, {PrivPublishAudio, 200}, {PrivPublishVideo, 200}, {PrivPublishData, 200}}, Channel: "c"},
				{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 300}}, UserID: "bob"},
			}},
		{"a Chat user token carries the chat user privilege", func() (Minted, error) { return m.ChatUser("carol", MaxExpire) }, MaxExpire,
			[]Service{{Type: ServiceChat, Privileges: []PrivilegeExpire{{PrivChatUser, MaxExpire}}, UserID: "carol"}}},
		{"a Chat app token carries the chat app privilege and no user", func() (Minted, error) { return m.ChatApp(1) }, 1,
			[]Service{{Type: ServiceChat, Privileges: []PrivilegeExpire{{PrivChatApp, 1}}}}},
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
			if tok.AppID != vecAppID || tok.IssueTs != vecIssueTs || tok.Salt != vecSalt || tok.Expire != tt.expire {
				t.Errorf("header %s %d %d %d", tok.AppID, tok.IssueTs, tok.Salt, tok.Expire)
			}
			if !servicesEqual(tok.Services, tt.want) {
				t.Errorf("services\n got %+v\nwant %+v", tok.Services, tt.want)
			}
			if !tok.ExpiresAt().Equal(minted.ExpiresAt) || !tok.IssuedAt().Equal(minted.IssuedAt) {
				t.Errorf("times %v..%v, minted %v..%v", tok.IssuedAt(), tok.ExpiresAt(), minted.IssuedAt, minted.ExpiresAt)
			}
			if !tok.Verify(vecCert) {
				t.Error("Verify with the right certificate = false")
			}
			if tok.Verify(strings.Repeat("0", 32)) {
				t.Error("Verify with another certificate = true")
			}
			if tok.Verify(strings.ToLower(vecCert)) {
				t.Error("Verify with the certificate in another case = true (the certificate's bytes are signed, not its value)")
			}
			if tok.Verify("") || tok.Verify(vecCert+"0") {
				t.Error("Verify with an invalid certificate = true")
			}
		})
	}
}

// rawOf returns the inflated bytes of a token.
func rawOf(t testing.TB, token string) []byte {
	t.Helper()
	c, err := base64.StdEncoding.DecodeString(token[3:])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// tokenOf packs raw bytes as a token, with the standard zlib.
func tokenOf(raw []byte) string {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

func TestVerifyRejectsAnyChangeToTheSignedContent(t *testing.T) {
	minted, err := vectorMinter(t).RTE("room", "7", RolePublisher, 600, 600, "bob", 600)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawOf(t, minted.Token)
	if tok, err := Parse(tokenOf(raw)); err != nil || !tok.Verify(vecCert) {
		t.Fatalf("re-packed untouched token: err %v", err)
	}
	// Flip one bit of every byte after the signature in turn: either the token no longer
	// parses, or it parses and no longer verifies.
	for i := 2 + signatureLen; i < len(raw); i++ {
		changed := bytes.Clone(raw)
		changed[i] ^= 0x01
		tok, err := Parse(tokenOf(changed))
		if err == nil && tok.Verify(vecCert) {
			t.Fatalf("a token changed at offset %d still verifies", i)
		}
	}
	// And every bit of the signature.
	for i := 2; i < 2+signatureLen; i++ {
		changed := bytes.Clone(raw)
		changed[i] ^= 0x80
		tok, err := Parse(tokenOf(changed))
		if err != nil {
			t.Fatalf("changed signature byte %d: %v", i, err)
		}
		if tok.Verify(vecCert) {
			t.Fatalf("a token with signature byte %d changed verifies", i)
		}
	}
}

func TestVerifyIgnoresChangesToTheExportedFields(t *testing.T) {
	minted, err := vectorMinter(t).Signaling("alice", 600)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(minted.Token)
	if err != nil {
		t.Fatal(err)
	}
	tok.IssueTs++
	tok.Salt++
	if !tok.Verify(vecCert) {
		t.Error("Verify depends on the exported IssueTs/Salt, not on what was signed")
	}
	var nilToken *Token
	if nilToken.Verify(vecCert) {
		t.Error("a nil token verifies")
	}
}

func TestParseRejectsHostileInput(t *testing.T) {
	good, err := vectorMinter(t).RTE("room", "7", RolePublisher, 600, 600, "bob", 600)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawOf(t, good.Token)

	var bomb bytes.Buffer
	zw := zlib.NewWriter(&bomb)
	zw.Write(make([]byte, 1<<20)) // 16 times the cap
	zw.Close()

	withService := func(typ uint16, body ...byte) []byte {
		b := bytes.Clone(raw[:2+signatureLen])
		b = appendString(b, vecAppID)
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, 2)
		b = binary.LittleEndian.AppendUint32(b, 3)
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, typ)
		return append(b, body...)
	}

	tests := []struct {
		name    string
		token   string
		wantErr error
		detail  string
	}{
		{"an empty string is not a 007 token", "", ErrVersion, ""},
		{"a 006 token is refused as the wrong version", "006" + good.Token[3:], ErrVersion, ""},
		{"a bare version prefix has no zlib stream", "007", ErrMalformed, "zlib"},
		{"a token that is not base64 is refused", "007!!!!", ErrMalformed, "base64"},
		{"URL-safe base64 is refused", "007" + strings.NewReplacer("+", "-", "/", "_").Replace(good.Token[3:]), ErrMalformed, "base64"},
		{"a token longer than MaxTokenLen is refused before decoding", "007" + strings.Repeat("A", MaxTokenLen), ErrMalformed, "more than"},
		{"a zlib bomb stops at MaxInflatedLen", "007" + base64.StdEncoding.EncodeToString(bomb.Bytes()), ErrMalformed, "inflates to more than"},
		{"a zlib stream with a corrupted checksum is refused", func() string {
			c, _ := base64.StdEncoding.DecodeString(good.Token[3:])
			c[len(c)-1] ^= 0xff
			return "007" + base64.StdEncoding.EncodeToString(c)
		}(), ErrMalformed, "zlib"},
		{"bytes after the zlib stream are refused", func() string {
			c, _ := base64.StdEncoding.DecodeString(good.Token[3:])
			return "007" + base64.StdEncoding.EncodeToString(append(c, 0))
		}(), ErrMalformed, "after the zlib stream"},
		{"bytes after the last service are refused", tokenOf(append(bytes.Clone(raw), 0)), ErrMalformed, "after the last service"},
		{"a privilege count larger than the data is refused before allocating", tokenOf(withService(2, MaxPrivileges, 0)), ErrMalformed, "truncated"},
		{"a privilege count over MaxPrivileges is refused before reading them", tokenOf(withService(2, 0xff, 0xff)), ErrMalformed, "65535 privileges in service rtm, more than the 16"},
		{"an RTM2 resource count larger than the data is refused before allocating",
			tokenOf(withService(8, 0, 0, 1, 0, 0x62, 0xff, 0xff)), ErrMalformed, "65535 rtm2 resources need at least 262140 bytes"},
		{"an RTM2 list count larger than the data is refused before allocating",
			tokenOf(withService(8, 0, 0, 1, 0, 0x62, 1, 0, 1, 0, 0xff, 0xff, 0, 0, 0, 0)), ErrMalformed, "65535 rtm2 permission lists need at least 262140 bytes at offset"},
		{"an RTM2 name count larger than the data is refused before allocating",
			tokenOf(withService(8, 0, 0, 1, 0, 0x62, 1, 0, 1, 0, 1, 0, 0, 0, 3, 0, 1, 0, 0x61, 1, 0)), ErrMalformed, "3 rtm2 resource names need at least 6 bytes at offset"},
		{"an RTM2 name longer than the data is refused",
			tokenOf(withService(8, 0, 0, 1, 0, 0x62, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 0, 0x61, 0x62)), ErrMalformed, "rtm2 resource name needs 3 bytes"},
		{"a Streaming account cut short is refused",
			tokenOf(withService(3, 0, 0, 1, 0, 0x63, 2, 0, 0x34)), ErrMalformed, "streaming account needs 2 bytes"},
		{"an FCDN token without its account is refused",
			tokenOf(withService(6, 0, 0, 1, 0, 0x63)), ErrMalformed, "fcdn account length needs 2 bytes"},
		{"a privilege that appears twice is refused", tokenOf(withService(2, 2, 0, 1, 0, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0)), ErrMalformed, "privilege 1 of service rtm appears twice"},
		{"a service count larger than the data is refused", func() string {
			b := withService(2, 0, 0, 0, 0)
			binary.LittleEndian.PutUint16(b[2+signatureLen+2+32+12:], MaxServices)
			return tokenOf(b)
		}(), ErrMalformed, "truncated"},
		{"a service count over MaxServices is refused before reading them", func() string {
			b := withService(2, 0, 0, 0, 0)
			binary.LittleEndian.PutUint16(b[2+signatureLen+2+32+12:], 0xffff)
			return tokenOf(b)
		}(), ErrMalformed, "65535 services, more than the 16 a token may hold"},
		{"a 006 token is named as one", "006" + vecAppID + "IACV0fZUBw", ErrVersion, `it is a "006" AccessToken`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Parse error = %v (token %v), want %v", err, tok != nil, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
			if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token[3:20]) {
				t.Errorf("error %q echoes the token", err)
			}
		})
	}
}

func TestParseRejectsEveryTruncation(t *testing.T) {
	good, err := vectorMinter(t).RTE("room", "7", RolePublisher, 600, 600, "bob", 600)
	if err != nil {
		t.Fatal(err)
	}
	raw := rawOf(t, good.Token)
	for n := range len(raw) {
		if _, err := Parse(tokenOf(raw[:n])); !errors.Is(err, ErrMalformed) {
			t.Errorf("content cut to %d of %d bytes: err = %v", n, len(raw), err)
		}
	}
	for n := 3; n < len(good.Token); n++ {
		if _, err := Parse(good.Token[:n]); err == nil {
			t.Errorf("token string cut to %d of %d characters parses", n, len(good.Token))
		}
	}
}

// Every single-character change of the base64 text either fails to parse or still
// yields a token that no longer verifies (or is the same token: base64 padding bits).
func TestParseSurvivesCorruptedText(t *testing.T) {
	good, err := vectorMinter(t).Signaling("alice", 600)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\x00\xff"
	for i := 3; i < len(good.Token); i++ {
		for j := range len(alphabet) {
			b := []byte(good.Token)
			if b[i] == alphabet[j] {
				continue
			}
			b[i] = alphabet[j]
			tok, err := Parse(string(b))
			if err != nil {
				continue
			}
			if tok.Verify(vecCert) && !bytes.Equal(rawOf(t, string(b)), rawOf(t, good.Token)) {
				t.Fatalf("changed character %d to %q: different content still verifies", i, alphabet[j])
			}
		}
	}
}

// TestMinterVerify checks the signature with the Minter's own certificate:
// its own tokens verify; another certificate's, a tampered one's, and a nil
// Minter's or token's never do.
func TestMinterVerify(t *testing.T) {
	m := vectorMinter(t)
	other, err := NewMinter(vecAppID, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	mint := func(m *Minter) *Token {
		t.Helper()
		got, err := m.Signaling("alice", 600)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Parse(got.Token)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	own, foreign := mint(m), mint(other)
	if !m.Verify(own) {
		t.Error("Verify(own token) = false")
	}
	if m.Verify(foreign) || other.Verify(own) {
		t.Error("a token signed with another certificate verified")
	}
	tampered := mint(m)
	tampered.signature = append([]byte(nil), tampered.signature...)
	tampered.signature[len(tampered.signature)-1] ^= 1
	if m.Verify(tampered) {
		t.Error("a token with a changed signature verified")
	}
	var none *Minter
	if none.Verify(own) || m.Verify(nil) {
		t.Error("a nil Minter or token verified")
	}
}
