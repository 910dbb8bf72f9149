package tokens

import (
	"slices"
	"strings"
	"testing"
	"time"

	ref006 "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/RtcTokenBuilder"
	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	refrtm "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"

	"signaling-auth/tokenserver/internal/accesstoken"
)

const (
	testAppID     = "970ca35de60c44645bbae8a215061b33"
	otherAppID    = "0123456789abcdef0123456789abcdef"
	primaryCert   = "5cfd2fd1755d40ecb72977518be15d3b"
	secondaryCert = "aaaabbbbccccddddeeeeffff00001111"
	strangerCert  = "99998888777766665555444433332222"
)

func testCertificates(t testing.TB, secondary bool) Certificates {
	t.Helper()
	p, err := accesstoken.NewMinter(testAppID, primaryCert)
	if err != nil {
		t.Fatal(err)
	}
	c := Certificates{Primary: p}
	if secondary {
		if c.Secondary, err = accesstoken.NewMinter(testAppID, secondaryCert); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// ref returns a token from Agora's reference builders; they fail only on a
// bad App ID or certificate, a mistake in the test itself.
func ref(tok string, err error) string {
	if err != nil {
		panic("reference builder: " + err.Error())
	}
	return tok
}

func codes(d Diagnosis) []string {
	var c []string
	for _, f := range d.Findings {
		c = append(c, f.Code)
	}
	return c
}

// Each finding code has a token, built by Agora's reference builders, that
// has exactly that fault, and a fault-free twin that gets no finding at all.
func TestEveryFindingHasAFaultyTokenAndAFaultFreeTwin(t *testing.T) {
	now := time.Now()
	rtc := func(ch string, uid uint32, role refrtc.Role, exp, priv uint32) func(testing.TB) string {
		return func(t testing.TB) string {
			return ref(refrtc.BuildTokenWithUid(testAppID, primaryCert, ch, uid, role, exp, priv))
		}
	}
	cases := []struct {
		name          string
		code          string
		faulty, twin  func(testing.TB) string
		intent        Intent
		twinIntent    *Intent // nil: the same intent
		secondaryCert bool
	}{
		{name: "a token for another App ID is for another project", code: CodeAppIDMismatch,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUid(otherAppID, primaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
			},
			twin:   rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42"}},
		{name: "a token signed with neither certificate has a bad signature", code: CodeSignatureInvalid,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUid(testAppID, strangerCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
			},
			twin: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUid(testAppID, secondaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
			},
			intent: Intent{Channel: "room", UID: "42"}, secondaryCert: true},
		{name: "a token for another channel is refused", code: CodeChannelMismatch,
			faulty: rtc("Room", 42, refrtc.RolePublisher, 3600, 3600), twin: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42"}},
		{name: "a token for another uid is refused", code: CodeUserMismatch,
			faulty: rtc("room", 43, refrtc.RolePublisher, 3600, 3600), twin: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42"}},
		{name: "a user-account token for \"0123\" is not the numeric uid 123", code: CodeUIDAccountMismatch,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUserAccount(testAppID, primaryCert, "room", "0123", refrtc.RolePublisher, 3600, 3600))
			},
			twin:   rtc("room", 123, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "123"}},
		{name: "a uid 0 token does not serve a user account", code: CodeUIDAccountMismatch,
			faulty: rtc("room", 0, refrtc.RolePublisher, 3600, 3600),
			twin: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUserAccount(testAppID, primaryCert, "room", "alice", refrtc.RolePublisher, 3600, 3600))
			},
			intent: Intent{Channel: "room", UserAccount: "alice"}},
		{name: "an expired token is refused", code: CodeTokenExpired,
			faulty: rtc("room", 42, refrtc.RolePublisher, 600, 600), twin: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42", At: now.Add(30 * time.Minute)}},
		{name: "an expired join privilege refuses a token that is still valid", code: CodePrivilegeExpired,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUidAndPrivilege(testAppID, primaryCert, "room", 42, 3600, 600, 3600, 3600, 3600))
			},
			twin:   rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42", At: now.Add(30 * time.Minute)}},
		{name: "a subscriber token cannot publish audio", code: CodePrivilegeMissing,
			faulty: rtc("room", 42, refrtc.RoleSubscriber, 3600, 3600), twin: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42", Action: ActionPublishAudio}},
		{name: "an absolute Unix time passed as the lifetime is far past 24 hours", code: CodeExpiryAbsoluteTime,
			faulty: func(t testing.TB) string {
				abs := uint32(now.Unix()) + 3600
				return ref(refrtm.BuildToken(testAppID, primaryCert, "alice", abs))
			},
			twin:   func(t testing.TB) string { return ref(refrtm.BuildToken(testAppID, primaryCert, "alice", 3600)) },
			intent: Intent{Service: ServiceSignaling, UserAccount: "alice"}},
		{name: "an absolute Unix time as the RTC token's lifetime is found even when its privileges are sane", code: CodeExpiryAbsoluteTime,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUid(testAppID, primaryCert, "room", 42, refrtc.RolePublisher, uint32(now.Unix())+3600, 3600))
			},
			twin:   rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42"}},
		{name: "an RTC-only token cannot log in to Signaling", code: CodeServiceMissing,
			faulty: func(t testing.TB) string {
				return ref(refrtc.BuildTokenWithUserAccount(testAppID, primaryCert, "room", "alice", refrtc.RolePublisher, 3600, 3600))
			},
			twin:   func(t testing.TB) string { return ref(refrtm.BuildToken(testAppID, primaryCert, "alice", 3600)) },
			intent: Intent{Service: ServiceSignaling, UserAccount: "alice"}},
		{name: "a Signaling token for another user ID is refused", code: CodeUserMismatch,
			faulty: func(t testing.TB) string { return ref(refrtm.BuildToken(testAppID, primaryCert, "123", 3600)) },
			twin:   func(t testing.TB) string { return ref(refrtm.BuildToken(testAppID, primaryCert, "alice", 3600)) },
			intent: Intent{Service: ServiceSignaling, UserAccount: "alice"}},
		{name: "an RTC token cannot log in to Chat", code: CodeServiceMissing,
			faulty: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			twin:   func(t testing.TB) string { return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "42", 3600)) },
			intent: Intent{Service: ServiceChat, UID: "42"}},
		{name: "a Chat user token for another user is refused", code: CodeUserMismatch,
			faulty: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "Alice", 3600))
			},
			twin: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600))
			},
			intent: Intent{Service: ServiceChat, UserAccount: "alice"}},
		{name: "a Chat app token names no user, so no user logs in with it", code: CodeUserMismatch,
			faulty: func(t testing.TB) string { return ref(refchat.BuildChatAppToken(testAppID, primaryCert, 3600)) },
			twin: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600))
			},
			intent: Intent{Service: ServiceChat, UserAccount: "alice", Action: ActionChatUser}},
		{name: "a Chat user token cannot call Chat's REST API as the app", code: CodePrivilegeMissing,
			faulty: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600))
			},
			twin:   func(t testing.TB) string { return ref(refchat.BuildChatAppToken(testAppID, primaryCert, 3600)) },
			intent: Intent{Service: ServiceChat, Action: ActionChatApp}},
		{name: "an expired Chat user token is refused", code: CodeTokenExpired,
			faulty: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 600))
			},
			twin: func(t testing.TB) string {
				return ref(refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600))
			},
			intent: Intent{Service: ServiceChat, UserAccount: "alice", At: now.Add(30 * time.Minute)}},
		{name: "an RTC token lacks the ConvoAI service the Conversational AI REST API needs", code: CodeServiceMissing,
			faulty: rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			twin:   func(t testing.TB) string { return npmAgentToken(t, "convoai", primaryCert, "room", "42", 3600) },
			intent: Intent{Service: ServiceConvoAI, Channel: "room", UID: "42"}},
		{name: "a ConvoAI token is not an STT token", code: CodeServiceMissing,
			faulty: func(t testing.TB) string { return npmAgentToken(t, "convoai", primaryCert, "room", "42", 3600) },
			twin:   func(t testing.TB) string { return npmAgentToken(t, "stt", primaryCert, "room", "42", 3600) },
			intent: Intent{Service: ServiceSTT, Channel: "room", UID: "42"}},
		{name: "a ConvoAI token for another channel is refused", code: CodeChannelMismatch,
			faulty: func(t testing.TB) string { return npmAgentToken(t, "convoai", primaryCert, "room2", "42", 3600) },
			twin:   func(t testing.TB) string { return npmAgentToken(t, "convoai", primaryCert, "room", "42", 3600) },
			intent: Intent{Service: ServiceConvoAI, Channel: "room", UID: "42"}},
		{name: "an STT token for another agent uid is refused", code: CodeUserMismatch,
			faulty: func(t testing.TB) string { return npmAgentToken(t, "stt", primaryCert, "room", "43", 3600) },
			twin:   func(t testing.TB) string { return npmAgentToken(t, "stt", primaryCert, "room", "42", 3600) },
			intent: Intent{Service: ServiceSTT, Channel: "room", UID: "42"}},
		{name: "a 006 token is not the 007 Signaling 2.x needs", code: CodeVersion006,
			faulty: func(t testing.TB) string {
				return ref(ref006.BuildTokenWithUID(testAppID, primaryCert, "room", 42, ref006.RolePublisher, uint32(now.Unix())+3600))
			},
			twin:   rtc("room", 42, refrtc.RolePublisher, 3600, 3600),
			intent: Intent{Channel: "room", UID: "42"}},
	}
	covered := map[string]bool{}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			certs := testCertificates(t, tt.secondaryCert)
			in := tt.intent
			if in.At.IsZero() {
				in.At = now
			}
			d, bad := Diagnose(tt.faulty(t), in, certs)
			if len(bad) > 0 {
				t.Fatalf("intent refused: %v", bad)
			}
			if got := codes(d); !slices.Equal(got, []string{tt.code}) {
				t.Errorf("faulty token: findings %v, want exactly [%s]", got, tt.code)
			}
			if d.Verdict != VerdictRefused {
				t.Errorf("faulty token: verdict %q", d.Verdict)
			}
			for _, f := range d.Findings {
				if f.Problem == "" || f.Want == "" || f.Got == "" || f.Fix == "" {
					t.Errorf("finding %s lacks a part: %+v", f.Code, f)
				}
				for _, secret := range []string{primaryCert, secondaryCert, strangerCert} {
					if strings.Contains(f.Problem+f.Want+f.Got+f.Fix, secret) {
						t.Errorf("finding %s shows a certificate", f.Code)
					}
				}
			}
			d, bad = Diagnose(tt.twin(t), in, certs)
			if len(bad) > 0 || len(d.Findings) > 0 || d.Verdict != VerdictAccepted {
				t.Errorf("fault-free twin: verdict %q, findings %+v, bad %v", d.Verdict, d.Findings, bad)
			}
			covered[tt.code] = true
		})
	}
	for _, c := range FindingCodes {
		if !covered[c] {
			t.Errorf("finding code %s has no test", c)
		}
	}
}

// The answer says which certificate signed: after a rotation the old
// certificate's tokens are still accepted while it is configured as the
// secondary one, and refused once it is not.
func TestTheAnswerSaysWhichCertificateSigned(t *testing.T) {
	in := Intent{Channel: "room", UID: "42", At: time.Now()}
	bySecondary := ref(refrtc.BuildTokenWithUid(testAppID, secondaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
	byPrimary := ref(refrtc.BuildTokenWithUid(testAppID, primaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
	for _, tt := range []struct {
		name      string
		token     string
		secondary bool
		signedBy  string
		verdict   string
	}{
		{"the primary certificate's token says primary", byPrimary, true, "primary", VerdictAccepted},
		{"the secondary certificate's token says secondary", bySecondary, true, "secondary", VerdictAccepted},
		{"without a secondary certificate its token is refused", bySecondary, false, "none", VerdictRefused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, bad := Diagnose(tt.token, in, testCertificates(t, tt.secondary))
			if len(bad) > 0 || d.SignedBy != tt.signedBy || d.Verdict != tt.verdict {
				t.Errorf("signedBy %q verdict %q (bad %v), want %q %q", d.SignedBy, d.Verdict, bad, tt.signedBy, tt.verdict)
			}
		})
	}
}

// Without a certificate (demo mode) the doctor cannot say "will be accepted".
func TestWithoutACertificateTheDoctorCannotTell(t *testing.T) {
	tok := ref(refrtc.BuildTokenWithUid(testAppID, primaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600))
	d, bad := Diagnose(tok, Intent{Channel: "room", UID: "42", At: time.Now()}, Certificates{})
	if len(bad) > 0 || d.Verdict != VerdictCannotTell || d.SignedBy != "unchecked" || d.Inspection == nil {
		t.Errorf("verdict %q signedBy %q bad %v", d.Verdict, d.SignedBy, bad)
	}
}

// Two faults in one token are both reported.
func TestTwoFaultsAreBothReported(t *testing.T) {
	tok := ref(refrtc.BuildTokenWithUid(testAppID, primaryCert, "other", 42, refrtc.RoleSubscriber, 600, 600))
	d, _ := Diagnose(tok, Intent{Channel: "room", UID: "42", At: time.Now().Add(time.Hour)}, testCertificates(t, false))
	if got := codes(d); !slices.Equal(got, []string{CodeTokenExpired, CodeChannelMismatch}) {
		t.Errorf("findings %v", got)
	}
}

func TestABadIntentNamesEachField(t *testing.T) {
	tok := ref(refrtm.BuildToken(testAppID, primaryCert, "alice", 3600))
	for _, tt := range []struct {
		name   string
		token  string
		intent Intent
		fields []string
	}{
		{"an empty token is required", "", Intent{Channel: "c", UID: "1"}, []string{"token"}},
		{"garbage is not a token", "007garbage", Intent{Channel: "c", UID: "1"}, []string{"token"}},
		{"an unknown service is named", tok, Intent{Service: "video", UID: "1"}, []string{"service"}},
		{"rtc needs a channel", tok, Intent{UID: "1"}, []string{"channel"}},
		{"uid and userAccount are not both given", tok, Intent{Channel: "c", UID: "1", UserAccount: "a"}, []string{"uid"}},
		{"a uid is a number", tok, Intent{Channel: "c", UID: "abc"}, []string{"uid"}},
		{"uid 0 is not a user", tok, Intent{Channel: "c", UID: "0"}, []string{"uid"}},
		{"an unknown action is named", tok, Intent{Channel: "c", UID: "1", Action: "dance"}, []string{"action"}},
		{"signaling logs in only", tok, Intent{Service: "signaling", UID: "1", Action: "join"}, []string{"action"}},
		{"signaling takes no channel", tok, Intent{Service: "signaling", UID: "1", Channel: "c"}, []string{"channel"}},
		{"chat takes no channel", tok, Intent{Service: "chat", UID: "1", Channel: "c"}, []string{"channel"}},
		{"a chat user token needs the user", tok, Intent{Service: "chat"}, []string{"uid"}},
		{"a chat app token names no user", tok, Intent{Service: "chat", Action: "app", UserAccount: "a"}, []string{"uid"}},
		{"chat has user and app tokens only", tok, Intent{Service: "chat", UID: "1", Action: "login"}, []string{"action"}},
		{"convoai needs the agent's channel", tok, Intent{Service: "convoai", UID: "1"}, []string{"channel"}},
		{"stt needs the agent's uid", tok, Intent{Service: "stt", Channel: "c"}, []string{"uid"}},
		{"an agent only joins", tok, Intent{Service: "convoai", Channel: "c", UID: "1", Action: "publish-audio"}, []string{"action"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, bad := Diagnose(tt.token, tt.intent, testCertificates(t, false))
			var names []string
			for _, p := range bad {
				names = append(names, p.Name)
				if p.Reason == "" {
					t.Errorf("%s has no reason", p.Name)
				}
			}
			if !slices.Equal(names, tt.fields) {
				t.Errorf("bad fields %v, want %v", names, tt.fields)
			}
		})
	}
}

// FuzzDiagnose: whatever the token and intent, Diagnose never panics, answers
// either bad fields or a verdict, never says "will be accepted" with a
// finding, and never shows a certificate.
func FuzzDiagnose(f *testing.F) {
	good, _ := refrtc.BuildTokenWithUid(testAppID, primaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	rtm, _ := refrtm.BuildToken(testAppID, primaryCert, "alice", 3600)
	old, _ := ref006.BuildTokenWithUID(testAppID, primaryCert, "room", 42, ref006.RolePublisher, 1)
	chat, _ := refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600)
	for _, s := range []struct{ tok, svc, ch, uid, acct, act string }{
		{good, "", "room", "42", "", ""}, {good, "rtc", "room", "", "42", "publish-video"}, {rtm, "signaling", "", "", "alice", ""},
		{old, "", "room", "42", "", ""}, {"", "", "", "", "", ""}, {"007", "rtc", "r", "1", "", "join"}, {good[:40], "", "room", "42", "", ""},
		{"006" + strings.Repeat("A", 100), "signaling", "", "1", "", ""},
		{chat, "chat", "", "", "alice", ""}, {chat, "chat", "", "", "", "app"}, {good, "convoai", "room", "42", "", ""}, {good, "stt", "room", "", "42", "join"},
	} {
		f.Add(s.tok, s.svc, s.ch, s.uid, s.acct, s.act, int64(0))
	}
	certs := testCertificates(f, true)
	f.Fuzz(func(t *testing.T, tok, svc, ch, uid, acct, act string, at int64) {
		d, bad := Diagnose(tok, Intent{Service: svc, Channel: ch, UID: uid, UserAccount: acct, Action: act, At: time.Unix(at, 0)}, certs)
		if len(bad) > 0 {
			if d.Verdict != "" {
				t.Fatal("bad fields and a verdict")
			}
			return
		}
		switch d.Verdict {
		case VerdictAccepted:
			if len(d.Findings) > 0 || (d.SignedBy != "primary" && d.SignedBy != "secondary") {
				t.Fatalf("accepted with findings %v, signedBy %q", d.Findings, d.SignedBy)
			}
		case VerdictRefused:
			if len(d.Findings) == 0 {
				t.Fatal("refused without a finding")
			}
		default:
			t.Fatalf("verdict %q", d.Verdict)
		}
		for _, fd := range d.Findings {
			if !slices.Contains(FindingCodes, fd.Code) {
				t.Fatalf("unknown code %q", fd.Code)
			}
			for _, secret := range []string{primaryCert, secondaryCert} {
				if strings.Contains(fd.Problem+fd.Want+fd.Got+fd.Fix, secret) {
					t.Fatal("a finding shows a certificate")
				}
			}
		}
	})
}

// A token and a privilege are valid up to, not at, issue time + lifetime: the
// second before gets no finding, the second itself does.
func TestExpiryBoundariesAreExact(t *testing.T) {
	certs := testCertificates(t, false)
	tok := ref(refrtc.BuildTokenWithUidAndPrivilege(testAppID, primaryCert, "room", 42, 3600, 600, 3600, 3600, 3600))
	parsed, err := accesstoken.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	issued := parsed.IssuedAt()
	for _, tt := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"a second before the join privilege ends: no finding", issued.Add(599 * time.Second), nil},
		{"when the join privilege ends: privilege_expired", issued.Add(600 * time.Second), []string{CodePrivilegeExpired}},
		{"a second before the token ends: the privilege only", issued.Add(3599 * time.Second), []string{CodePrivilegeExpired}},
		{"when the token ends: token_expired alone", issued.Add(3600 * time.Second), []string{CodeTokenExpired}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, bad := Diagnose(tok, Intent{Channel: "room", UID: "42", At: tt.at}, certs)
			if got := codes(d); len(bad) > 0 || !slices.Equal(got, tt.want) {
				t.Errorf("findings %v (bad %v), want %v", got, bad, tt.want)
			}
		})
	}
}
