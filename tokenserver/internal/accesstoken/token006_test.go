package accesstoken

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ref006 "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/AccessToken"
	refrtc006 "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/RtcTokenBuilder"
	refrtm006 "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/RtmTokenBuilder"

	"signaling-auth/tokenserver/internal/accesstoken/npmoracle"
)

// The 006 oracles: the pinned Go module's AccessToken package and its RTC and RTM
// builders, and npm agora-token 2.0.6's AccessToken.js.

// ref006Vector is the reference AccessToken package's own test vector: the vector
// app, channel vecChannel, uid vecUID, salt 1, ts 1111111, join until 1446455471.
const ref006Vector = "006970CA35de60c44645bbae8a215061b33IACV0fZUBw+72cVoL9eyGGh3Q6Poi8bgjwVLnyKSJyOXR7dIfRBXoFHlEAABAAAAR/QQAAEAAQCvKDdW"

func TestParse006ReadsTheReferenceVector(t *testing.T) {
	tok, err := Parse006(ref006Vector)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Version != "006" || tok.AppID != vecAppID || tok.Salt != 1 || tok.Ts != 1111111 ||
		!slices.Equal(tok.Privileges, []PrivilegeExpire{{Priv006JoinChannel, 1446455471}}) {
		t.Errorf("read %+v", tok)
	}
	if !tok.ExpiresAt().Equal(time.Unix(1111111, 0)) {
		t.Errorf("ExpiresAt %v", tok.ExpiresAt())
	}
	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"the right certificate, channel and uid verify", tok.Verify(vecCert, vecChannel, vecUIDStr), true},
		{"the Minter of the right certificate verifies", vectorMinter(t).Verify006(tok, vecChannel, vecUIDStr), true},
		{"another certificate does not verify", tok.Verify("0123456789abcdef0123456789abcdef", vecChannel, vecUIDStr), false},
		{"another channel does not verify", tok.Verify(vecCert, vecChannel+"x", vecUIDStr), false},
		{"uid 0 does not verify a token for a uid", tok.Verify(vecCert, vecChannel, ""), false},
		{"an invalid certificate never verifies", tok.Verify("", vecChannel, vecUIDStr), false},
		{"the channel checksum matches the channel", tok.MatchesChannel(vecChannel), true},
		{"the channel checksum does not match another channel", tok.MatchesChannel("other"), false},
		{"the user checksum matches the uid's decimal string", tok.MatchesUser(vecUIDStr), true},
		{"the user checksum does not match uid 0", tok.MatchesUser(""), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
	var none *Token006
	var noMinter *Minter
	if none.Verify(vecCert, "", "") || noMinter.Verify006(tok, vecChannel, vecUIDStr) || none.MatchesChannel("") {
		t.Error("a nil token or Minter verified or matched")
	}
}

// TestParse006AgainstTheGoReference builds random 006 tokens with the reference
// AccessToken package (every field chosen, salt and ts over all of uint32) and with
// its RTC and RTM builders, and reads them back.
func TestParse006AgainstTheGoReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 6))
	for i := range differentialRounds() {
		appID, cert := randString(r, hexDigits, 32), randString(r, hexDigits, 32)
		channel := randString(r, agoraNameChars, (i*7)%maxChannelLen+1)
		user := randString(r, agoraNameChars, (i*13)%maxAccountLen+1)
		if i%4 == 0 {
			user = strconv.FormatUint(uint64(r.Uint32()), 10)
		} else if i%4 == 1 {
			user = ""
		}
		tok := ref006.CreateAccessToken2(appID, cert, channel, user)
		tok.Salt, tok.Ts = r.Uint32(), r.Uint32()
		var want []PrivilegeExpire
		for _, p := range []Privilege{1, 2, 3, 4, 7, 1000} {
			if r.IntN(2) == 0 {
				e := r.Uint32()
				tok.AddPrivilege(ref006.Privileges(p), e)
				want = append(want, PrivilegeExpire{p, e})
			}
		}
		s, err := tok.Build()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse006(s)
		if err != nil {
			t.Fatalf("round %d (seed %d): %v", i, seed, err)
		}
		if got.AppID != appID || got.Salt != tok.Salt || got.Ts != tok.Ts || !slices.Equal(got.Privileges, want) {
			t.Fatalf("round %d (seed %d): read %+v, want salt %d ts %d privileges %v", i, seed, got, tok.Salt, tok.Ts, want)
		}
		if !got.Verify(cert, channel, user) || !got.MatchesChannel(channel) || !got.MatchesUser(user) {
			t.Fatalf("round %d (seed %d): does not verify or match", i, seed)
		}
		// The signature covers channel and user run together, so a swap is only
		// caught where the two concatenations differ (the checksums tell them apart).
		if got.Verify(cert, user, channel) && user+channel != channel+user {
			t.Fatalf("round %d: verifies with channel and user swapped", i)
		}
	}

	// The builders read the clock: ts is now + 24 h.
	before := uint32(time.Now().Unix())
	rtc, err := refrtc006.BuildTokenWithUID(vecAppID, vecCert, "room", 42, refrtc006.RolePublisher, 1700000000)
	if err != nil {
		t.Fatal(err)
	}
	rtm, err := refrtm006.BuildToken(vecAppID, vecCert, "alice", refrtm006.RoleRtmUser, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, channel, user string
		want                       []PrivilegeExpire
	}{
		{"an RTC publisher token for uid 42 has the four RTC privileges", rtc, "room", "42",
			[]PrivilegeExpire{{1, 1700000000}, {2, 1700000000}, {3, 1700000000}, {4, 1700000000}}},
		{"an RTM token has the user as its channel and login (1000) with no expiry", rtm, "alice", "",
			[]PrivilegeExpire{{Priv006RTMLogin, 0}}},
	} {
		got, err := Parse006(c.token)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(got.Privileges, c.want) || !got.Verify(vecCert, c.channel, c.user) || got.Ts < before+86400 || got.Ts > before+86400+5 {
			t.Errorf("%s: read %+v (verifies %v)", c.name, got, got.Verify(vecCert, c.channel, c.user))
		}
	}
}

// TestParse006AgainstNpm builds 006 tokens with npm agora-token's AccessToken.js
// (every field chosen) and its RTC and RTM builders, reads them, and checks that
// npm's fromString reads the same fields.
func TestParse006AgainstNpm(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	type want struct {
		cert, channel, user string
		uid                 any
		salt, ts            uint32
		privs               []PrivilegeExpire
	}
	var wants []want
	var requests []map[string]any
	for i := range 64 {
		w := want{cert: randString(r, hexDigits, 32), channel: randString(r, agoraNameChars, i%maxChannelLen+1),
			salt: r.Uint32(), ts: r.Uint32()}
		switch i % 3 {
		case 0:
			n := r.Uint32()
			w.uid, w.user = n, uidAccount(n)
		case 1:
			w.uid, w.user = 0, ""
		case 2:
			w.user = randString(r, agoraNameChars, i%maxAccountLen+1)
			w.uid = w.user
		}
		pairs := [][2]uint32{}
		for _, p := range []Privilege{1, 2, 3, 4, 1000} {
			if r.IntN(2) == 0 {
				e := r.Uint32()
				pairs = append(pairs, [2]uint32{uint32(p), e})
				w.privs = append(w.privs, PrivilegeExpire{p, e})
			}
		}
		wants = append(wants, w)
		requests = append(requests, map[string]any{"op": "token006", "appId": vecAppID, "cert": w.cert,
			"channel": w.channel, "uid": w.uid, "salt": w.salt, "ts": w.ts, "privileges": pairs})
	}
	requests = append(requests,
		map[string]any{"op": "rtc006", "appId": vecAppID, "cert": vecCert, "channel": "room", "uid": 42, "role": 2, "privilegeTs": 1700000000},
		map[string]any{"op": "rtm006", "appId": vecAppID, "cert": vecCert, "user": "alice", "privilegeTs": 1700000001})
	wants = append(wants,
		want{cert: vecCert, channel: "room", user: "42", privs: []PrivilegeExpire{{1, 1700000000}}},
		want{cert: vecCert, channel: "alice", user: "", privs: []PrivilegeExpire{{1000, 1700000001}}})
	var built []struct{ Token string }
	npmoracle.Call(t, requests, &built)
	var parses []map[string]any
	for _, b := range built {
		parses = append(parses, map[string]any{"op": "parse006", "token": b.Token})
	}
	var npmRead []struct {
		OK                 bool
		AppID              string
		Salt, Ts           uint32
		CRCChannel, CRCUID uint32
	}
	npmoracle.Call(t, parses, &npmRead)
	for i, w := range wants {
		got, err := Parse006(built[i].Token)
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		n := npmRead[i]
		if !n.OK || n.AppID != got.AppID || n.Salt != got.Salt || n.Ts != got.Ts || n.CRCChannel != got.ChannelCRC || n.CRCUID != got.UserCRC {
			t.Errorf("token %d: npm reads %+v, we %+v", i, n, got)
		}
		if !slices.Equal(got.Privileges, w.privs) || !got.Verify(w.cert, w.channel, w.user) {
			t.Errorf("token %d: privileges %v want %v, verifies %v", i, got.Privileges, w.privs, got.Verify(w.cert, w.channel, w.user))
		}
		if i < 64 && (got.Salt != w.salt || got.Ts != w.ts) {
			t.Errorf("token %d: salt %d ts %d, want %d %d", i, got.Salt, got.Ts, w.salt, w.ts)
		}
	}
}

// raw006 packs a 006 token from its parts, written out here rather than by the
// package: sig | crcs | packString(message).
func raw006(sig []byte, crcChannel, crcUser uint32, message []byte) string {
	b := appendString(nil, string(sig))
	b = binary.LittleEndian.AppendUint32(b, crcChannel)
	b = binary.LittleEndian.AppendUint32(b, crcUser)
	b = appendString(b, string(message))
	return "006" + vecAppID + base64.StdEncoding.EncodeToString(b)
}

// message006 is salt 1 | ts 2 | count | pairs.
func message006(count uint16, pairs ...uint32) []byte {
	m := binary.LittleEndian.AppendUint32(nil, 1)
	m = binary.LittleEndian.AppendUint32(m, 2)
	m = binary.LittleEndian.AppendUint16(m, count)
	for i := 0; i+1 < len(pairs); i += 2 {
		m = binary.LittleEndian.AppendUint16(m, uint16(pairs[i]))
		m = binary.LittleEndian.AppendUint32(m, pairs[i+1])
	}
	return m
}

func TestParse006RejectsHostileInput(t *testing.T) {
	sig := make([]byte, signatureLen)
	privs := func(n int) []uint32 {
		var p []uint32
		for i := range n {
			p = append(p, uint32(i+1), 9)
		}
		return p
	}
	good := raw006(sig, 0, 0, message006(MaxPrivileges, privs(MaxPrivileges)...))
	if _, err := Parse006(good); err != nil {
		t.Fatalf("a token of MaxPrivileges privileges: %v", err)
	}
	vec, _ := base64.StdEncoding.DecodeString(ref006Vector[35:])
	tests := []struct {
		name    string
		token   string
		wantErr error
		detail  string
	}{
		{"an empty string is not a 006 token", "", ErrVersion006, ""},
		{"a 007 token is named as one", "007eJxTYBBbsMMnKq7p", ErrVersion006, `it is a "007" AccessToken2`},
		{"a 005 token is refused", "005" + ref006Vector[3:], ErrVersion006, ""},
		{"a token shorter than its App ID is refused", "006" + vecAppID[:31], ErrMalformed, "32-character App ID, 31 characters left"},
		{"a token with nothing after its App ID is truncated", "006" + vecAppID, ErrMalformed, "truncated: signature length"},
		{"a token that is not base64 is refused", "006" + vecAppID + "!!!!", ErrMalformed, "base64"},
		{"a token longer than MaxTokenLen is refused before decoding", "006" + strings.Repeat("A", MaxTokenLen), ErrMalformed, "more than"},
		{"bytes after the message are refused", "006" + vecAppID + base64.StdEncoding.EncodeToString(append(vec, 0)), ErrMalformed, "1 unexpected bytes after the message"},
		{"bytes after the privileges are refused", raw006(sig, 0, 0, append(message006(1, 1, 9), 0)), ErrMalformed, "1 unexpected bytes after the privileges"},
		{"a privilege count larger than the message is refused before allocating", raw006(sig, 0, 0, message006(3, 1, 9)), ErrMalformed, "3 privileges need at least 18 bytes"},
		{"a privilege count over MaxPrivileges is refused", raw006(sig, 0, 0, message006(MaxPrivileges+1, privs(MaxPrivileges+1)...)), ErrMalformed, "17 privileges, more than the 16"},
		{"a privilege that appears twice is refused", raw006(sig, 0, 0, message006(2, 1, 9, 1, 10)), ErrMalformed, "privilege 1 appears twice"},
		{"a message without its ts is refused", raw006(sig, 0, 0, []byte{1, 0, 0, 0}), ErrMalformed, "truncated: ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse006(tt.token)
			if !errors.Is(err, tt.wantErr) || tok != nil {
				t.Fatalf("Parse006 = %v, %v; want %v", tok, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
		})
	}
	for n := 3; n < len(ref006Vector); n++ {
		if _, err := Parse006(ref006Vector[:n]); err == nil {
			t.Errorf("the vector cut to %d of %d characters parses", n, len(ref006Vector))
		}
	}
	for n := range len(vec) {
		if _, err := Parse006("006" + vecAppID + base64.StdEncoding.EncodeToString(vec[:n])); !errors.Is(err, ErrMalformed) {
			t.Errorf("content cut to %d of %d bytes: %v", n, len(vec), err)
		}
	}
}

// A signature check that ignored part of the signed bytes would pass the tests
// above; every single-bit change of the signed message must fail it.
func TestVerify006RejectsAnyChangeToTheMessage(t *testing.T) {
	tok, err := Parse006(ref006Vector)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(tok.message) * 8 {
		changed := *tok
		changed.message = slices.Clone(tok.message)
		changed.message[i/8] ^= 1 << (i % 8)
		if changed.Verify(vecCert, vecChannel, vecUIDStr) {
			t.Fatalf("bit %d of the message changed and the token still verifies", i)
		}
	}
	changed := *tok
	changed.AppID = strings.ToLower(tok.AppID)
	if changed.Verify(vecCert, vecChannel, vecUIDStr) {
		t.Fatal("a token with another App ID verifies")
	}
}

// FuzzParse006 checks that no input makes Parse006 panic, that its errors wrap
// ErrVersion006 or ErrMalformed, and that whatever it accepts packs back to a token
// that reads the same.
func FuzzParse006(f *testing.F) {
	f.Add(ref006Vector)
	f.Add(raw006(make([]byte, signatureLen), 1, 2, message006(2, 1000, 0, 4, 7)))
	f.Add("006" + vecAppID)
	f.Add("007" + vecAppID)
	for _, s := range []func() (string, error){
		func() (string, error) {
			return refrtc006.BuildTokenWithUID(vecAppID, vecCert, "room", 42, refrtc006.RolePublisher, 1700000000)
		},
		func() (string, error) {
			return refrtm006.BuildToken(vecAppID, vecCert, "alice", refrtm006.RoleRtmUser, 0)
		},
	} {
		tok, err := s()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse006(s)
		if err != nil {
			if tok != nil {
				t.Fatal("Parse006 returned a token and an error")
			}
			if !errors.Is(err, ErrVersion006) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrVersion006 nor ErrMalformed", err)
			}
			return
		}
		var pairs []uint32
		for i, p := range tok.Privileges {
			if i > 0 && tok.Privileges[i-1].Privilege >= p.Privilege {
				t.Fatalf("privileges not strictly ascending: %v", tok.Privileges)
			}
			pairs = append(pairs, uint32(p.Privilege), p.Expire)
		}
		m := binary.LittleEndian.AppendUint32(nil, tok.Salt)
		m = binary.LittleEndian.AppendUint32(m, tok.Ts)
		m = binary.LittleEndian.AppendUint16(m, uint16(len(tok.Privileges)))
		for i := 0; i < len(pairs); i += 2 {
			m = binary.LittleEndian.AppendUint16(m, uint16(pairs[i]))
			m = binary.LittleEndian.AppendUint32(m, pairs[i+1])
		}
		b := appendString(nil, string(tok.signature))
		b = binary.LittleEndian.AppendUint32(b, tok.ChannelCRC)
		b = binary.LittleEndian.AppendUint32(b, tok.UserCRC)
		b = appendString(b, string(m))
		again, err := Parse006("006" + tok.AppID + base64.StdEncoding.EncodeToString(b))
		if err != nil {
			t.Fatalf("packed back, it does not parse: %v", err)
		}
		if again.Salt != tok.Salt || again.Ts != tok.Ts || again.ChannelCRC != tok.ChannelCRC || again.UserCRC != tok.UserCRC ||
			!slices.Equal(again.Privileges, tok.Privileges) || again.AppID != tok.AppID {
			t.Fatalf("round trip changed the token\n got %+v\nwant %+v", again, tok)
		}
		_ = tok.Verify(vecCert, "", "")
	})
}
