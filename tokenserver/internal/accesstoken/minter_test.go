package accesstoken

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewMinterValidatesTheCredentials(t *testing.T) {
	tests := []struct {
		name    string
		appID   string
		cert    string
		want    []InvalidParam
		noCheck bool
	}{
		{name: "a valid App ID and certificate in mixed case are accepted", appID: vecAppID, cert: vecCert},
		{name: "a short App ID is refused with its length", appID: vecAppID[1:], cert: vecCert,
			want: []InvalidParam{{"appId", "must be 32 hex characters (got 31)"}}},
		{name: "a non-hex App ID is refused naming the character", appID: "Z" + vecAppID[1:], cert: vecCert,
			want: []InvalidParam{{"appId", "must be 32 hex characters (byte 0x5a 'Z' at offset 0 is not hex)"}}},
		{name: "a long certificate is refused with its length", appID: vecAppID, cert: vecCert + "0",
			want: []InvalidParam{{"appCertificate", "must be 32 hex characters (got 33)"}}},
		{name: "a non-hex certificate is refused without showing the character", appID: vecAppID, cert: vecCert[:31] + "Z",
			want: []InvalidParam{{"appCertificate", "must be 32 hex characters (the character at offset 31 is not hex)"}}},
		{name: "both bad are both reported", appID: "", cert: "",
			want: []InvalidParam{{"appId", "must be 32 hex characters (got 0)"}, {"appCertificate", "must be 32 hex characters (got 0)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMinter(tt.appID, tt.cert)
			if tt.want == nil {
				if err != nil || m.AppID() != tt.appID {
					t.Fatalf("NewMinter: %v", err)
				}
				return
			}
			var ipe *InvalidParamsError
			if !errors.As(err, &ipe) {
				t.Fatalf("error %v is not an *InvalidParamsError", err)
			}
			if !slices.Equal(ipe.Params, tt.want) {
				t.Errorf("params\n got %q\nwant %q", ipe.Params, tt.want)
			}
			if len(tt.cert) > 8 && strings.Contains(err.Error(), tt.cert[20:]) {
				t.Error("the error shows part of the certificate")
			}
		})
	}
}

func TestMinterMethodsReportEveryBadParameter(t *testing.T) {
	m := vectorMinter(t)
	long := strings.Repeat("x", 70)
	tests := []struct {
		name string
		call func() (Minted, error)
		want []InvalidParam
	}{
		{"a Signaling user ID longer than 64 bytes and an expiry above 24 h are both reported",
			func() (Minted, error) { return m.Signaling(long, 90000) },
			[]InvalidParam{{"uid", "must be 1-64 characters long (got 70)"}, {"expire", "must be at most 86400 seconds (24 h) (got 90000)"}}},
		{"a Signaling user ID with a newline names the byte and its offset",
			func() (Minted, error) { return m.Signaling("bob\nx", 600) },
			[]InvalidParam{{"uid", "may use only English letters, digits, spaces and ASCII punctuation; a line break (character 4) is not allowed"}}},
		{"an empty Signaling user ID and a zero expiry are both reported",
			func() (Minted, error) { return m.Signaling("", 0) },
			[]InvalidParam{{"uid", "must be 1-64 characters long (got 0)"}, {"expire", "must be at least 1 second (got 0)"}}},
		{"a non-ASCII Signaling user ID is refused",
			func() (Minted, error) { return m.Signaling("zoë", 600) },
			[]InvalidParam{{"uid", "may use only English letters, digits, spaces and ASCII punctuation; 'ë' (character 3) is not allowed"}}},
		{"an RTC token with every parameter wrong reports all four",
			func() (Minted, error) { return m.RTCWithUID("a/b", 1, 3, 0, MaxExpire+1) },
			[]InvalidParam{
				{"channel", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x2f '/' at offset 1)"},
				{"role", "must be 1 (publisher) or 2 (subscriber) (got 3)"},
				{"expire", "must be at least 1 second (got 0)"},
				{"privilegeExpire", "must be at most 86400 seconds (24 h) (got 86401)"},
			}},
		{"an RTC account with a quote and a channel of 65 bytes are both reported",
			func() (Minted, error) {
				return m.RTCWithAccount(strings.Repeat("c", 65), `a"b`, RolePublisher, 600, 600)
			},
			[]InvalidParam{{"channel", "must be 1-64 bytes (got 65)"}, {"uid", `must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x22 '"' at offset 1)`}}},
		{"an empty RTC account is refused (uid 0 is RTCWithUID's job)",
			func() (Minted, error) { return m.RTCWithAccount("c", "", RolePublisher, 600, 600) },
			[]InvalidParam{{"uid", "must be 1-255 bytes (got 0)"}}},
		{"an RTE token reports its RTM user ID and expiry under their own names",
			func() (Minted, error) { return m.RTE("c", "", RoleSubscriber, 600, 600, "", 86401) },
			[]InvalidParam{{"rtmUid", "must be 1-64 characters long (got 0)"}, {"rtmExpire", "must be at most 86400 seconds (24 h) (got 86401)"}}},
		{"an RTE token with a bad channel, role and account reports them in parameter order",
			func() (Minted, error) { return m.RTE("", "\t", 0, 1, 1, "u", 1) },
			[]InvalidParam{
				{"channel", "must be 1-64 bytes (got 0)"},
				{"uid", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x09 at offset 0)"},
				{"role", "must be 1 (publisher) or 2 (subscriber) (got 0)"},
			}},
		{"a ConvoAI token reports every bad field under its own name",
			func() (Minted, error) {
				return m.ConvoAI(Agent{Channel: "a/b", RTCAccount: "\t", Role: 3, Expire: 600,
					Privileges: RTCPrivilegeExpires{0, 601, 600, 600}, RTMUserID: "", RTMExpire: 601})
			},
			[]InvalidParam{
				{"channel", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x2f '/' at offset 1)"},
				{"uid", "must contain only a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~, (byte 0x09 at offset 0)"},
				{"role", "must be 1 (publisher) or 2 (subscriber) (got 3)"},
				{ParamJoinChannelExpire, "must be at least 1 second (got 0)"},
				{ParamPublishAudioExpire, "must be at most the token's expire, 600 seconds (got 601)"},
				{"rtmUid", "must be 1-64 characters long (got 0)"},
				{"rtmExpire", "must be at most the token's expire, 600 seconds (got 601)"},
			}},
		{"an STT subscriber token refuses publish lifetimes, which a subscriber does not get",
			func() (Minted, error) {
				return m.STT(Agent{Channel: "c", Role: RoleSubscriber, Expire: 600,
					Privileges: RTCPrivilegeExpires{600, 0, 1, 0}, RTMUserID: "u", RTMExpire: 600})
			},
			[]InvalidParam{{ParamPublishVideoExpire, "a subscriber has no publish privileges; leave it 0 (got 1)"}}},
		{"an STT token's lifetimes may not exceed its expire by one second",
			func() (Minted, error) {
				return m.STT(Agent{Channel: "c", Role: RoleSubscriber, Expire: 600,
					Privileges: RTCPrivilegeExpires{JoinChannel: 601}, RTMUserID: "u", RTMExpire: 600})
			},
			[]InvalidParam{{ParamJoinChannelExpire, "must be at most the token's expire, 600 seconds (got 601)"}}},
		{"a Chat user token checks the user ID like Signaling",
			func() (Minted, error) { return m.ChatUser(long, 600) },
			[]InvalidParam{{"uid", "must be 1-64 characters long (got 70)"}}},
		{"a Chat app token checks its expiry",
			func() (Minted, error) { return m.ChatApp(MaxExpire + 1) },
			[]InvalidParam{{"expire", "must be at most 86400 seconds (24 h) (got 86401)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.call, tt.want)
		})
	}
}

// checkRefused calls mint and wants exactly the invalid parameters want, no token,
// and an Error() that names each of them.
func checkRefused(t *testing.T, mint func() (Minted, error), want []InvalidParam) {
	t.Helper()
	got, err := mint()
	var ipe *InvalidParamsError
	if !errors.As(err, &ipe) {
		t.Fatalf("error %v is not an *InvalidParamsError", err)
	}
	if got.Token != "" {
		t.Error("a token was returned with the error")
	}
	if !slices.Equal(ipe.Params, want) {
		t.Errorf("params\n got %q\nwant %q", ipe.Params, want)
	}
	for _, p := range want {
		if !strings.Contains(err.Error(), p.Name+": "+p.Reason) {
			t.Errorf("Error() %q lacks %q", err, p.Name+": "+p.Reason)
		}
	}
}

func TestValidatorsAcceptTheWholeAllowedRange(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"a 1-byte user ID", ValidateUserID("a")},
		{"a 64-byte user ID of every printable character", ValidateUserID(printableASCII[:64])},
		{"the rest of the printable characters", ValidateUserID(printableASCII[64:])},
		{"a channel of every allowed character but 25", ValidateChannel(agoraNameChars[:64])},
		{"the rest of the channel characters", ValidateChannel(agoraNameChars[64:])},
		{"a 255-byte account", ValidateAccount(strings.Repeat("Z", 255))},
		{"an expiry of 1 second", ValidateExpire(1)},
		{"an expiry of 24 h", ValidateExpire(MaxExpire)},
		{"a lower-case App ID", ValidateAppID(strings.ToLower(vecAppID))},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is valid", func(t *testing.T) {
			if tt.err != nil {
				t.Error(tt.err)
			}
		})
	}
	// Every byte outside the documented sets is refused.
	for c := range 256 {
		inUserSet := c >= 0x20 && c <= 0x7e
		if err := ValidateUserID(string(rune(c))[:1] + "x"); (err == nil) != inUserSet && c < 0x80 {
			t.Errorf("ValidateUserID with byte 0x%02x: %v", c, err)
		}
		inChannelSet := strings.IndexByte(agoraNameChars, byte(c)) >= 0
		if err := ValidateChannel(string([]byte{byte(c)})); (err == nil) != inChannelSet {
			t.Errorf("ValidateChannel with byte 0x%02x: %v", c, err)
		}
	}
	if err := ValidateUserID(string([]byte{0x80})); err == nil {
		t.Error("ValidateUserID accepts 0x80")
	}
	if err := ValidateExpire(-5); err == nil || err.Error() != "must be at least 1 second (got -5)" {
		t.Errorf("ValidateExpire(-5) = %v", err)
	}
}

func TestMinterNeverShowsItsCertificate(t *testing.T) {
	m := vectorMinter(t)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("minter", "m", m, "v", *m)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("minter", "m", m, "v", *m)
	outputs := map[string]string{"slog": logs.String(), "String": m.String(), "GoString": m.GoString()}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p"} {
		outputs[verb+" of the pointer"] = fmt.Sprintf(verb, m)
		outputs[verb+" of the value"] = fmt.Sprintf(verb, *m)
	}
	outputs["a struct holding it"] = fmt.Sprintf("%+v %#v", struct{ M Minter }{*m}, struct{ M *Minter }{m})
	lowerHex := strings.ToLower(vecCert)
	for name, out := range outputs {
		if strings.Contains(strings.ToLower(out), lowerHex) || strings.Contains(out, fmt.Sprintf("%x", vecCert)) ||
			strings.Contains(out, fmt.Sprint([]byte(vecCert))) {
			t.Errorf("%s shows the certificate: %s", name, out)
		}
	}
	if !strings.Contains(m.String(), vecAppID) || !strings.Contains(logs.String(), vecAppID) {
		t.Errorf("the App ID should stay visible: %s / %s", m.String(), logs.String())
	}
}

func TestDefaultSaltIsInTheReferenceRangeAndVaries(t *testing.T) {
	seen := map[uint32]bool{}
	for range 1000 {
		s := randomSalt()
		if s < 1 || s > 99999998 {
			t.Fatalf("salt %d outside 1..99999998", s)
		}
		seen[s] = true
	}
	if len(seen) < 990 {
		t.Errorf("only %d distinct salts in 1000 draws", len(seen))
	}
}

func TestDefaultClockStampsTheCurrentTime(t *testing.T) {
	m, err := NewMinter(vecAppID, vecCert)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Second)
	got, err := m.Signaling("alice", 60)
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuedAt.Before(before) || got.IssuedAt.After(after) {
		t.Errorf("IssuedAt %v not within [%v, %v]", got.IssuedAt, before, after)
	}
	if got.ExpiresAt.Sub(got.IssuedAt) != time.Minute {
		t.Errorf("ExpiresAt - IssuedAt = %v", got.ExpiresAt.Sub(got.IssuedAt))
	}
	tok, err := Parse(got.Token)
	if err != nil || !tok.Verify(vecCert) {
		t.Fatalf("Parse/Verify: %v", err)
	}
}

func TestRTEExpiresWithItsRTCTokenExpiry(t *testing.T) {
	got, err := vectorMinter(t).RTE("c", "1", RolePublisher, 100, 50, "u", 300)
	if err != nil {
		t.Fatal(err)
	}
	if d := got.ExpiresAt.Sub(got.IssuedAt); d != 100*time.Second {
		t.Errorf("ExpiresAt - IssuedAt = %v, want the RTC token expiry 100s", d)
	}
}

// Many goroutines share one Minter and the pools; run with -race. Every token must be
// the one a single goroutine would build.
func TestMinterIsSafeForConcurrentUse(t *testing.T) {
	m := vectorMinter(t)
	want := map[string]string{}
	for _, uid := range []string{"a", "bb", strings.Repeat("c", 64)} {
		got, err := m.Signaling(uid, 600)
		if err != nil {
			t.Fatal(err)
		}
		want[uid] = got.Token
		tok, _ := Parse(got.Token)
		want["parse "+uid] = tok.Services[0].UserID
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				uid := []string{"a", "bb", strings.Repeat("c", 64)}[(g+i)%3]
				got, err := m.Signaling(uid, 600)
				if err != nil || got.Token != want[uid] {
					errs <- fmt.Errorf("goroutine %d: token for %q differs (err %v)", g, uid, err)
					return
				}
				tok, err := Parse(got.Token)
				if err != nil || !tok.Verify(vecCert) || tok.Services[0].UserID != uid {
					errs <- fmt.Errorf("goroutine %d: parse/verify of %q failed (err %v)", g, uid, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAMinterNotMadeByNewMinterRefusesToMint(t *testing.T) {
	var zero Minter
	var nilMinter *Minter
	for name, m := range map[string]*Minter{"a zero Minter": &zero, "a nil Minter": nilMinter} {
		t.Run(name+" returns an error instead of panicking", func(t *testing.T) {
			if _, err := m.Signaling("alice", 60); !errors.Is(err, errNoCredentials) {
				t.Errorf("Signaling error = %v", err)
			}
			if m.AppID() != "" {
				t.Errorf("AppID = %q", m.AppID())
			}
		})
	}
}
