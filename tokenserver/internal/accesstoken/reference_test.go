package accesstoken

import (
	"math/rand/v2"
	"testing"
	"time"

	ref "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/accesstoken2"
	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	refrtm "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"
)

// The reference module is the oracle: every test here builds the same token with it and
// with us and compares the strings.

const (
	hexDigits      = "0123456789abcdefABCDEF"
	printableASCII = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
	agoraNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !#$%&()+-:;<=.>?@[]^_{}|~,"
)

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// randExpire favours the edges of 1..MaxExpire.
func randExpire(r *rand.Rand) uint32 {
	switch r.IntN(8) {
	case 0:
		return 1
	case 1:
		return MaxExpire
	default:
		return 1 + r.Uint32N(MaxExpire)
	}
}

// kind is one token kind, minted by us and by the reference's own builder function.
type kind struct {
	name string
	ours func(m *Minter) (Minted, error)
	ref  func(appID, cert string) (string, error)
}

// randomKinds returns, for iteration i, one random input of every token kind. User IDs
// and channel names cycle through every allowed length as i grows.
func randomKinds(r *rand.Rand, i int) []kind {
	uid := randString(r, printableASCII, i%maxUserIDLen+1)
	channel := randString(r, agoraNameChars, (i*7)%maxChannelLen+1)
	account := randString(r, agoraNameChars, (i*13)%maxAccountLen+1)
	numUID := r.Uint32()
	if i%10 == 0 {
		numUID = 0
	}
	role := Role(1 + r.IntN(2))
	e1, e2, e3 := randExpire(r), randExpire(r), randExpire(r)
	rtmUID := randString(r, printableASCII, (i*5)%maxUserIDLen+1)
	// Per-privilege expiries lie in 1..e1, the token's expire.
	pe := RTCPrivilegeExpires{1 + r.Uint32N(e1), 1 + r.Uint32N(e1), 1 + r.Uint32N(e1), e1}
	rteAccount := account
	if i%10 == 1 {
		rteAccount = "" // uid 0
	}
	return []kind{
		{"signaling", func(m *Minter) (Minted, error) { return m.Signaling(uid, e1) },
			func(a, c string) (string, error) { return refrtm.BuildToken(a, c, uid, e1) }},
		{"rtc uid", func(m *Minter) (Minted, error) { return m.RTCWithUID(channel, numUID, role, e1, e2) },
			func(a, c string) (string, error) {
				return refrtc.BuildTokenWithUid(a, c, channel, numUID, refrtc.Role(role), e1, e2)
			}},
		{"rtc account", func(m *Minter) (Minted, error) { return m.RTCWithAccount(channel, account, role, e1, e2) },
			func(a, c string) (string, error) {
				return refrtc.BuildTokenWithUserAccount(a, c, channel, account, refrtc.Role(role), e1, e2)
			}},
		{"rte", func(m *Minter) (Minted, error) { return m.RTE(channel, rteAccount, role, e1, e2, rtmUID, e3) },
			func(a, c string) (string, error) {
				return refrtc.BuildTokenWithRtm2(a, c, channel, rteAccount, refrtc.Role(role), e1, e2, e2, e2, e2, rtmUID, e3)
			}},
		{"rtc uid per privilege", func(m *Minter) (Minted, error) { return m.RTCWithUIDAndPrivilege(channel, numUID, e1, pe) },
			func(a, c string) (string, error) {
				return refrtc.BuildTokenWithUidAndPrivilege(a, c, channel, numUID, e1, pe.JoinChannel, pe.PublishAudio, pe.PublishVideo, pe.PublishData)
			}},
		{"rtc account per privilege", func(m *Minter) (Minted, error) {
			return m.RTCWithAccountAndPrivilege(channel, account, e1, pe)
		},
			func(a, c string) (string, error) {
				return refrtc.BuildTokenWithUserAccountAndPrivilege(a, c, channel, account, e1, pe.JoinChannel, pe.PublishAudio, pe.PublishVideo, pe.PublishData)
			}},
		{"chat user", func(m *Minter) (Minted, error) { return m.ChatUser(uid, e1) },
			func(a, c string) (string, error) { return refchat.BuildChatUserToken(a, c, uid, e1) }},
		{"chat app", func(m *Minter) (Minted, error) { return m.ChatApp(e1) },
			func(a, c string) (string, error) { return refchat.BuildChatAppToken(a, c, e1) }},
	}
}

// differentialRounds is how many random inputs of every kind each differential test
// builds: ten passes over every user ID length (four under -race or -short).
func differentialRounds() int {
	if testing.Short() || raceEnabled {
		return 4 * maxUserIDLen
	}
	return 10 * maxUserIDLen
}

// TestDifferentialAgainstReferenceBuilders calls the reference's public builders, which
// read time.Now and a random salt themselves, reads the issueTs and salt they chose from
// the token with the reference's own parser, and mints the same inputs with a Minter
// whose clock and salt return those values.
func TestDifferentialAgainstReferenceBuilders(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	count := 0
	for i := range differentialRounds() {
		appID, cert := randString(r, hexDigits, 32), randString(r, hexDigits, 32)
		for _, k := range randomKinds(r, i) {
			want, err := k.ref(appID, cert)
			if err != nil {
				t.Fatalf("reference %s: %v", k.name, err)
			}
			parsed := ref.CreateAccessToken()
			if ok, err := parsed.Parse(want); !ok || err != nil {
				t.Fatalf("reference cannot parse its own %s token: %v", k.name, err)
			}
			m, err := NewMinter(appID, cert,
				WithClock(func() time.Time { return time.Unix(int64(parsed.IssueTs), 0) }),
				WithSalt(func() uint32 { return parsed.Salt }))
			if err != nil {
				t.Fatalf("NewMinter: %v", err)
			}
			got, err := k.ours(m)
			if err != nil {
				t.Fatalf("%s (round %d): %v", k.name, i, err)
			}
			if got.Token != want {
				t.Fatalf("%s (round %d, seed %d) differs from the reference\n got %s\nwant %s", k.name, i, seed, got.Token, want)
			}
			count++
		}
	}
	t.Logf("%d tokens identical", count)
}

// TestDifferentialAgainstReferenceAccessToken drives the reference's lower-level
// accesstoken2 API, whose IssueTs and Salt fields can be set, so that issueTs and salt
// range over all of uint32 (the public builders only ever use now and 1..99999998).
func TestDifferentialAgainstReferenceAccessToken(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range differentialRounds() {
		appID, cert := randString(r, hexDigits, 32), randString(r, hexDigits, 32)
		issueTs, salt := r.Uint32(), r.Uint32()
		if i%16 == 0 {
			issueTs, salt = 0, 0
		}
		uid := randString(r, printableASCII, i%maxUserIDLen+1)
		channel := randString(r, agoraNameChars, (i*3)%maxChannelLen+1)
		e1, e2 := randExpire(r), randExpire(r)
		m, err := NewMinter(appID, cert,
			WithClock(func() time.Time { return time.Unix(int64(issueTs), 0) }),
			WithSalt(func() uint32 { return salt }))
		if err != nil {
			t.Fatalf("NewMinter: %v", err)
		}

		rtm := ref.NewAccessToken(appID, cert, e1)
		rtm.IssueTs, rtm.Salt = issueTs, salt
		s := ref.NewServiceRtm(uid)
		s.AddPrivilege(ref.PrivilegeLogin, e1)
		rtm.AddService(s)
		want, err := rtm.Build()
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Signaling(uid, e1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token != want {
			t.Fatalf("signaling (round %d, seed %d) differs\n got %s\nwant %s", i, seed, got.Token, want)
		}

		// RTC (uid 0, publisher) + RTM in one token.
		rtc := ref.NewAccessToken(appID, cert, e1)
		rtc.IssueTs, rtc.Salt = issueTs, salt
		sr := ref.NewServiceRtc(channel, "")
		sr.AddPrivilege(ref.PrivilegeJoinChannel, e2)
		sr.AddPrivilege(ref.PrivilegePublishAudioStream, e2)
		sr.AddPrivilege(ref.PrivilegePublishVideoStream, e2)
		sr.AddPrivilege(ref.PrivilegePublishDataStream, e2)
		rtc.AddService(sr)
		sm := ref.NewServiceRtm(uid)
		sm.AddPrivilege(ref.PrivilegeLogin, e1)
		rtc.AddService(sm)
		want, err = rtc.Build()
		if err != nil {
			t.Fatal(err)
		}
		got, err = m.RTE(channel, "", RolePublisher, e1, e2, uid, e1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token != want {
			t.Fatalf("rte (round %d, seed %d) differs\n got %s\nwant %s", i, seed, got.Token, want)
		}

		// The RTM-with-channel token of agora-token-service: RTC (join, publish data) for
		// the channel with the RTM user as account, then RTM login, all for e1.
		account := randString(r, agoraNameChars, (i*11)%maxUserIDLen+1)
		wc := ref.NewAccessToken(appID, cert, e1)
		wc.IssueTs, wc.Salt = issueTs, salt
		wr := ref.NewServiceRtc(channel, account)
		wr.AddPrivilege(ref.PrivilegeJoinChannel, e1)
		wr.AddPrivilege(ref.PrivilegePublishDataStream, e1)
		wc.AddService(wr)
		wm := ref.NewServiceRtm(account)
		wm.AddPrivilege(ref.PrivilegeLogin, e1)
		wc.AddService(wm)
		want, err = wc.Build()
		if err != nil {
			t.Fatal(err)
		}
		got, err = m.SignalingWithChannel(account, channel, e1)
		if err != nil {
			t.Fatal(err)
		}
		if got.Token != want {
			t.Fatalf("signaling with channel (round %d, seed %d) differs\n got %s\nwant %s", i, seed, got.Token, want)
		}
		if got.IssuedAt.Unix() != int64(issueTs) {
			t.Fatalf("IssuedAt %v, want issueTs %d", got.IssuedAt, issueTs)
		}
	}
}
