package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// runCLI runs the program in-process with the test app's credentials.
func runCLI(t *testing.T, args ...string) (string, error) {
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with more environment variables (name, value, ...).
func runCLIEnv(t *testing.T, kv []string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := env(append([]string{"APP_ID", testAppID, "APP_CERTIFICATE", testCert}, kv...)...)
	err := run(context.Background(), append([]string{"tokenserver"}, args...), getenv, &out, &errOut)
	return out.String(), err
}

func TestMintNewTokenKinds(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct {
		name string
		args []string
		want []accesstoken.Service
	}{
		{"--read and --write make an RTM2 token with the permissions grouped by resource type",
			[]string{"mint", "--uid", "bob", "--expire", "600", "--write", "streamChannels=room-1", "--read", "users=a,b", "--read", "streamChannels=room-*", "--read", "streamChannels=lobby"},
			[]accesstoken.Service{{Type: accesstoken.ServiceRTM2, Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivLogin, Expire: 600}}, UserID: "bob",
				Permissions: []accesstoken.Rtm2Resource{
					{Resource: accesstoken.ResourceStreamChannels, Lists: []accesstoken.Rtm2List{
						{Permission: accesstoken.PermissionRead, Names: []string{"room-*", "lobby"}},
						{Permission: accesstoken.PermissionWrite, Names: []string{"room-1"}}}},
					{Resource: accesstoken.ResourceUsers, Lists: []accesstoken.Rtm2List{{Permission: accesstoken.PermissionRead, Names: []string{"a,b"}}}},
				}}}},
		{"--channel on a signaling token adds RTC join and publish data for the user, as agora-token-service does",
			[]string{"mint", "--uid", "bob", "--channel", "room", "--expire", "10m"},
			[]accesstoken.Service{
				{Type: accesstoken.ServiceRTC, Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivJoinChannel, Expire: 600}, {Privilege: accesstoken.PrivPublishData, Expire: 600}}, Channel: "room", UserID: "bob"},
				{Type: accesstoken.ServiceRTM, Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivLogin, Expire: 600}}, UserID: "bob"},
			}},
		{"per-privilege flags give each RTC privilege its lifetime, the others the token's",
			[]string{"mint", "--type", "rtc", "--channel", "c", "--uid", "42", "--expire", "600", "--join-expire", "600", "--publish-audio-expire", "60", "--publish-video-expire", "2m"},
			[]accesstoken.Service{{Type: accesstoken.ServiceRTC, Channel: "c", UserID: "42", Privileges: []accesstoken.PrivilegeExpire{
				{Privilege: accesstoken.PrivJoinChannel, Expire: 600}, {Privilege: accesstoken.PrivPublishAudio, Expire: 60},
				{Privilege: accesstoken.PrivPublishVideo, Expire: 120}, {Privilege: accesstoken.PrivPublishData, Expire: 600}}}}},
		{"a convoai token for an agent uid: RTC with per-privilege lifetimes, RTM, then ConvoAI",
			[]string{"mint", "--type", "convoai", "--channel", "c", "--uid", "1001", "--rtmuid", "agent", "--expire", "600", "--publish-audio-expire", "60"},
			[]accesstoken.Service{
				{Type: accesstoken.ServiceRTC, Channel: "c", UserID: "1001", Privileges: []accesstoken.PrivilegeExpire{
					{Privilege: accesstoken.PrivJoinChannel, Expire: 600}, {Privilege: accesstoken.PrivPublishAudio, Expire: 60},
					{Privilege: accesstoken.PrivPublishVideo, Expire: 600}, {Privilege: accesstoken.PrivPublishData, Expire: 600}}},
				{Type: accesstoken.ServiceRTM, Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivLogin, Expire: 600}}, UserID: "agent"},
				{Type: accesstoken.ServiceConvoAI, Privileges: []accesstoken.PrivilegeExpire{}},
			}},
		{"an stt subscriber token has join only, RTM, then STT",
			[]string{"mint", "--type", "stt", "--channel", "c", "--uid", "bot", "--role", "subscriber", "--expire", "600", "--join-expire", "30"},
			[]accesstoken.Service{
				{Type: accesstoken.ServiceRTC, Channel: "c", UserID: "bot", Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivJoinChannel, Expire: 30}}},
				{Type: accesstoken.ServiceRTM, Privileges: []accesstoken.PrivilegeExpire{{Privilege: accesstoken.PrivLogin, Expire: 600}}, UserID: "bot"},
				{Type: accesstoken.ServiceSTT, Privileges: []accesstoken.PrivilegeExpire{}},
			}},
		{"per-privilege flags with a user account",
			[]string{"mint", "--type", "rtc", "--channel", "c", "--uid", "alice", "--expire", "600", "--publish-data-expire", "1"},
			[]accesstoken.Service{{Type: accesstoken.ServiceRTC, Channel: "c", UserID: "alice", Privileges: []accesstoken.PrivilegeExpire{
				{Privilege: accesstoken.PrivJoinChannel, Expire: 600}, {Privilege: accesstoken.PrivPublishAudio, Expire: 600},
				{Privilege: accesstoken.PrivPublishVideo, Expire: 600}, {Privilege: accesstoken.PrivPublishData, Expire: 1}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := accesstoken.Parse(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tok.Verify(testCert) {
				t.Error("the token does not verify")
			}
			if !reflect.DeepEqual(tok.Services, tt.want) {
				t.Errorf("services\n got %+v\nwant %+v", tok.Services, tt.want)
			}
		})
	}
}

func TestMintNewOptionsRefuseBadInput(t *testing.T) {
	t.Chdir(t.TempDir())
	many := []string{"mint", "--uid", "bob"}
	for range 65 {
		many = append(many, "--read", "messageChannels=m")
	}
	oneHour := []string{"TOKENSERVER_TOKEN_MAX_EXPIRY", "1h", "TOKENSERVER_TOKEN_DEFAULT_EXPIRY", "1h"}
	tests := []struct {
		name    string
		env     []string
		args    []string
		wantErr string
	}{
		{"a privilege lifetime above token.max_expiry is refused", oneHour, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--expire", "600", "--publish-video-expire", "3601"},
			`^tokenserver mint: --publish-video-expire: must be at most 3600 seconds \(1h0m0s\), the server's maximum \(got 3601\)$`},
		{"a permissions token's --expire above token.max_expiry is refused", oneHour, []string{"mint", "--uid", "u", "--read", "users=a", "--expire", "2h"},
			`^tokenserver mint: --expire: must be at most 3600 seconds \(1h0m0s\), the server's maximum \(got 7200\)$`},
		{"a permissions token's --expire of 0 is refused", nil, []string{"mint", "--uid", "u", "--read", "users=a", "--expire", "0"},
			`^tokenserver mint: --expire: must be at least 1 second \(got 0\)$`},
		{"an unknown resource type names the flag and the type", nil, []string{"mint", "--uid", "u", "--read", "channels=x"},
			`^tokenserver mint: --read/--write channels: unknown resource type; want one of messageChannels, streamChannels`},
		{"a value without = is refused", nil, []string{"mint", "--uid", "u", "--write", "room-1"},
			`^tokenserver mint: --write: want RESOURCE=NAME, e\.g\. streamChannels=room-1 \(got "room-1"\)$`},
		{"an empty name is refused by position", nil, []string{"mint", "--uid", "u", "--read", "users=a", "--read", "users="},
			`^tokenserver mint: --read users \(name 2\): must be 1-64 bytes \(got 0\)$`},
		{"65 names in one list are refused", nil, many, `^tokenserver mint: --read messageChannels: at most 64 names \(got 65\)$`},
		{"a privilege lifetime above the token's is refused", nil, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--expire", "600", "--join-expire", "601"},
			`^tokenserver mint: --join-expire: must be at most the token's expiresIn, 600 seconds \(got 601\)$`},
		{"a privilege lifetime above the server's maximum is refused", nil, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--publish-data-expire", "25h"},
			`^tokenserver mint: --publish-data-expire: must be at most 86400 seconds`},
		{"a privilege lifetime of 0 is refused", nil, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--publish-audio-expire", "0"},
			`^tokenserver mint: --publish-audio-expire: must be at least 1 second`},
		{"--role does not go with per-privilege lifetimes", nil, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--role", "subscriber", "--join-expire", "60"},
			`^tokenserver mint: --role: a token with privilegeExpiresIn has all four privileges`},
		{"permissions are only for signaling", nil, []string{"mint", "--type", "rtc", "--channel", "c", "--uid", "1", "--read", "users=a"},
			`^tokenserver mint: --read/--write: only for type signaling`},
		{"--channel and permissions make different tokens", nil, []string{"mint", "--uid", "u", "--channel", "c", "--read", "users=a"},
			`give one of them`},
		{"an stt subscriber's publish lifetime names its flag", nil, []string{"mint", "--type", "stt", "--channel", "c", "--uid", "1", "--role", "subscriber", "--publish-video-expire", "60"},
			`^tokenserver mint: --publish-video-expire: a subscriber has no publish privileges; leave it out$`},
		{"a convoai token needs a channel", nil, []string{"mint", "--type", "convoai", "--uid", "1"},
			`^tokenserver mint: --channel: must be 1-64 bytes \(got 0\)$`},
		{"a signaling user ID with a channel must be an RTC account", nil, []string{"mint", "--uid", "a/b", "--channel", "c"},
			`^tokenserver mint: --uid: must contain only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLIEnv(t, tt.env, tt.args...)
			if err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error()) {
				t.Fatalf("error %v, want match %q", err, tt.wantErr)
			}
			if out != "" {
				t.Errorf("a token was printed: %q", out)
			}
		})
	}
}

// signedToken packs hand-written content as a token signed with the test certificate.
func signedToken(content []byte) string {
	h := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	issueTs, salt := binary.LittleEndian.Uint32(content[34:]), binary.LittleEndian.Uint32(content[42:])
	key := h(binary.LittleEndian.AppendUint32(nil, salt), h(binary.LittleEndian.AppendUint32(nil, issueTs), []byte(testCert)))
	raw := append(binary.LittleEndian.AppendUint16(nil, 32), h(key, content)...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(append(raw, content...))
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

func TestInspectShowsEveryServiceType(t *testing.T) {
	t.Chdir(t.TempDir())
	str := func(s string) []byte { return append(binary.LittleEndian.AppendUint16(nil, uint16(len(s))), s...) }
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	priv := func(p uint16, e uint32) []byte { return binary.LittleEndian.AppendUint32(u16(p), e) }
	c := str(testAppID)
	c = binary.LittleEndian.AppendUint32(c, 1111111)                                                                   // issueTs
	c = binary.LittleEndian.AppendUint32(c, 600)                                                                       // expire
	c = binary.LittleEndian.AppendUint32(c, 1)                                                                         // salt
	c = append(c, u16(5)...)                                                                                           // 5 services
	c = slices.Concat(c, u16(3), u16(2), priv(1, 600), priv(2, 300), str("live"), str("42"))                           // Streaming
	c = slices.Concat(c, u16(4), u16(1), priv(1, 600))                                                                 // FPA
	c = slices.Concat(c, u16(6), u16(1), priv(2, 600), str("cdn"), str(""))                                            // FCDN
	c = slices.Concat(c, u16(7), u16(1), priv(1, 600), str("room-uuid"), str("user-uuid"), u16(2))                     // aPaaS, role 2
	c = slices.Concat(c, u16(8), u16(1), priv(1, 600), str("bob"), u16(1), u16(2), u16(1), u16(0), u16(1), str("grp")) // RTM2: groupChannels read "grp"
	token := signedToken(c)

	out, err := runCLI(t, "inspect", token)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	for _, want := range []string{
		`service     streaming (3) channel "live" user "42"
  privilege publishMixStream (1) until 1970-01-13T20:48:31Z (expire 600 s)
  privilege publishRawStream (2) until 1970-01-13T20:43:31Z (expire 300 s)
service     fpa (4)
  privilege login (1) `,
		`service     fcdn (6) channel "cdn"
  privilege play (2) `,
		`service     apaas (7) channel "room-uuid" user "user-uuid" role 2
  privilege roomUser (1) `,
		`service     rtm2 (8) user "bob"
  privilege login (1) until 1970-01-13T20:48:31Z (expire 600 s)
  may read groupChannels: "grp"
signature   valid`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks\n%s\n--- output:\n%s", want, out)
		}
	}

	out, err = runCLI(t, "inspect", "--json", token)
	if err != nil {
		t.Fatalf("inspect --json: %v", err)
	}
	var got struct {
		SignatureValid bool `json:"signatureValid"`
		Services       []struct {
			Type        uint16                  `json:"type"`
			Name        string                  `json:"name"`
			Role        *int16                  `json:"role"`
			Privileges  []struct{ Name string } `json:"privileges"`
			Permissions json.RawMessage         `json:"permissions"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect --json: %v\n%s", err, out)
	}
	if !got.SignatureValid || len(got.Services) != 5 {
		t.Fatalf("signatureValid %v, %d services", got.SignatureValid, len(got.Services))
	}
	var names []string
	for _, s := range got.Services {
		names = append(names, s.Name+"/"+s.Privileges[0].Name)
	}
	if want := []string{"streaming/publishMixStream", "fpa/login", "fcdn/play", "apaas/roomUser", "rtm2/login"}; !reflect.DeepEqual(names, want) {
		t.Errorf("services %v, want %v", names, want)
	}
	if r := got.Services[3].Role; r == nil || *r != 2 {
		t.Errorf("aPaaS role %v, want 2", r)
	}
	if want := `[{"resourceType":2,"resource":"groupChannels","permissionType":0,"permission":"read","names":["grp"]}]`; string(compactJSON(t, got.Services[4].Permissions)) != want {
		t.Errorf("permissions %s, want %s", got.Services[4].Permissions, want)
	}
}

func compactJSON(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestMintNewOptionsAcceptTheServersMaximum(t *testing.T) {
	t.Chdir(t.TempDir())
	out, err := runCLIEnv(t, []string{"TOKENSERVER_TOKEN_MAX_EXPIRY", "1h", "TOKENSERVER_TOKEN_DEFAULT_EXPIRY", "1h"},
		"mint", "--type", "rtc", "--channel", "c", "--uid", "0", "--publish-data-expire", "3600")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := accesstoken.Parse(strings.TrimSpace(out))
	if err != nil || tok.Expire != 3600 || tok.Services[0].Privileges[3].Expire != 3600 || tok.Services[0].UserID != "" {
		t.Fatalf("want a uid-0 token of 3600 s with publish data for 3600 s, got %+v (%v)", tok, err)
	}
}

// `tokenserver inspect --json` and POST /v1/tokens/inspect are one function
// (tokens.Inspect): for the same token they answer the same JSON, aPaaS roles,
// RTM2 permissions and repeated services included.
func TestInspectCLIAndHTTPAgree(t *testing.T) {
	str := func(s string) []byte { return append(binary.LittleEndian.AppendUint16(nil, uint16(len(s))), s...) }
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	priv := func(p uint16, e uint32) []byte { return binary.LittleEndian.AppendUint32(u16(p), e) }
	c := str(testAppID)
	c = binary.LittleEndian.AppendUint32(c, 1111111)
	c = binary.LittleEndian.AppendUint32(c, 600)
	c = binary.LittleEndian.AppendUint32(c, 1)
	c = append(c, u16(3)...)
	c = slices.Concat(c, u16(7), u16(1), priv(3, 600), str("room-uuid"), str("user-uuid"), u16(1))                              // aPaaS, role 1
	c = slices.Concat(c, u16(8), u16(1), priv(1, 600), str("bob"), u16(1), u16(4), u16(1), u16(1), u16(2), str("a"), str("b*")) // RTM2: users write a, b*
	c = slices.Concat(c, u16(8), u16(1), priv(1, 300), str("bob"), u16(0))                                                      // a repeated RTM2
	minted, err := runCLI(t, "mint", "--uid", "carol", "--read", "streamChannels=room-*", "--write", "messageChannels=news", "--expire", "600")
	if err != nil {
		t.Fatal(err)
	}
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	for _, token := range []string{signedToken(c), strings.TrimSpace(minted)} {
		out, err := runCLI(t, "inspect", "--json", token)
		if err != nil {
			t.Fatalf("inspect --json: %v", err)
		}
		body, _ := json.Marshal(map[string]string{"token": token})
		resp, err := http.Post(s.url+"/v1/tokens/inspect", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("inspect over HTTP: %d %s", resp.StatusCode, answer)
		}
		var cli, web map[string]any
		if err := json.Unmarshal([]byte(out), &cli); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(answer, &web); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cli, web) {
			t.Errorf("CLI and HTTP disagree\nCLI  %s\nHTTP %s", compactJSON(t, []byte(out)), answer)
		}
		if services, _ := web["services"].([]any); len(services) == 0 {
			t.Errorf("no services: %s", answer)
		}
	}
}

// inspect names ConvoAI and STT, shows a service of a type it does not know with
// the bytes it could not read and the services declared after it, and still checks
// the signature, which covers them.
func TestInspectShowsAgentAndUnknownServices(t *testing.T) {
	t.Chdir(t.TempDir())
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	c := append(u16(uint16(len(testAppID))), testAppID...)
	c = binary.LittleEndian.AppendUint32(c, 1111111) // issueTs
	c = binary.LittleEndian.AppendUint32(c, 600)     // expire
	c = binary.LittleEndian.AppendUint32(c, 1)       // salt
	c = slices.Concat(c, u16(4), u16(9), u16(0), u16(10), u16(0), u16(77), []byte{1, 2, 3})
	out, err := runCLI(t, "inspect", signedToken(c))
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	want := `service     convoai (9)
service     stt (10)
service     unknown service type 77 (77) then 3 bytes this version cannot read
            1 more services declared after it, not read
signature   valid`
	if !strings.Contains(out, want) {
		t.Errorf("inspect output lacks\n%s\n--- output:\n%s", want, out)
	}
}
