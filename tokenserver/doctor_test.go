package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	refrtm "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"
)

const testSecondaryCert = "aaaabbbbccccddddeeeeffff00001111"

func TestDoctorCLI(t *testing.T) {
	good, _ := refrtc.BuildTokenWithUid(testAppID, testCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	rotated, _ := refrtc.BuildTokenWithUid(testAppID, testSecondaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	subscriber, _ := refrtc.BuildTokenWithUid(testAppID, testCert, "room", 42, refrtc.RoleSubscriber, 3600, 3600)
	rtm, _ := refrtm.BuildToken(testAppID, testCert, "alice", 3600)
	secondary := []string{"TOKENSERVER_AGORA_APP_CERTIFICATE_SECONDARY", testSecondaryCert}
	for _, tt := range []struct {
		name    string
		env     []string
		args    []string
		refused bool
		errText string   // for an error other than the refusal
		want    []string // in the output
	}{
		{name: "a good token will be accepted and exits 0", args: []string{good, "--channel", "room", "--uid", "42"},
			want: []string{"WILL BE ACCEPTED", "primary", "app ID      " + testAppID}},
		{name: "a subscriber token used to publish is refused, exit status 1", args: []string{subscriber, "--channel", "room", "--uid", "42", "--action", "publish-audio"},
			refused: true, want: []string{"WILL BE REFUSED", "[privilege_missing]", "fix:"}},
		{name: "an RTC token for Signaling is refused", args: []string{good, "--service", "signaling", "--user-account", "42"},
			refused: true, want: []string{"[service_missing]"}},
		{name: "a Signaling token logs in", args: []string{rtm, "--service", "signaling", "--user-account", "alice"},
			want: []string{"WILL BE ACCEPTED"}},
		{name: "the secondary certificate's token says so", env: secondary, args: []string{rotated, "--channel", "room", "--uid", "42"},
			want: []string{"WILL BE ACCEPTED", "secondary certificate"}},
		{name: "without the secondary certificate its token is refused", args: []string{rotated, "--channel", "room", "--uid", "42"},
			refused: true, want: []string{"[signature_invalid]"}},
		{name: "later the token has expired", args: []string{good, "--channel", "room", "--uid", "42", "--at", time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)},
			refused: true, want: []string{"[token_expired]"}},
		{name: "bad input names the flags", args: []string{"nonsense", "--uid", "x", "--at", "soon"},
			errText: "tokenserver doctor: --at: must be an RFC 3339 time like 2026-01-02T15:04:05Z (got \"soon\")\ntokenserver doctor: --channel: required for service rtc: the channel the client joins\ntokenserver doctor: --uid: must be a number 1-4294967295 (got \"x\"); a string user goes in userAccount\ntokenserver doctor: TOKEN: not an AccessToken2"},
		{name: "no token is refused", args: []string{"--uid", "1"}, errText: "tokenserver doctor: want exactly one TOKEN argument (got 0)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLIEnv(t, tt.env, append([]string{"doctor"}, tt.args...)...)
			switch {
			case tt.errText != "":
				if err == nil || !strings.HasPrefix(err.Error(), tt.errText) {
					t.Fatalf("error %v, want %q", err, tt.errText)
				}
				return
			case tt.refused && !errors.Is(err, errRefused):
				t.Errorf("error %v, want the refusal", err)
			case !tt.refused && err != nil:
				t.Errorf("error %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, testCert) || strings.Contains(out, testSecondaryCert) {
				t.Error("the output shows a certificate")
			}
		})
	}
	t.Run("--help says what the doctor does", func(t *testing.T) {
		out, err := runCLI(t, "doctor", "--help")
		if err != nil || !strings.Contains(out, "--user-account") || !strings.Contains(out, "exit status 1 when it will be refused") {
			t.Errorf("help: %v\n%s", err, out)
		}
	})
}

// The doctor on the command line and over HTTP is the same code: the same
// token and intent get the same JSON.
func TestDoctorCLIAndHTTPAgree(t *testing.T) {
	rtc, _ := refrtc.BuildTokenWithUid(testAppID, testCert, "other", 42, refrtc.RoleSubscriber, 600, 600)
	chat, _ := refchat.BuildChatUserToken(testAppID, testCert, "alice", 3600)
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	for _, tt := range []struct {
		name     string
		args     []string
		body     map[string]string
		findings int
	}{
		{"rtc: expired, another channel, no publish privilege",
			[]string{rtc, "--channel", "room", "--uid", "42", "--action", "publish-video", "--at", at},
			map[string]string{"token": rtc, "channel": "room", "uid": "42", "action": "publish-video", "at": at}, 3},
		{"chat: a user token used as the app's",
			[]string{chat, "--service", "chat", "--action", "app"},
			map[string]string{"token": chat, "service": "chat", "action": "app"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(t, append([]string{"doctor", "--json"}, tt.args...)...)
			if !errors.Is(err, errRefused) {
				t.Fatalf("doctor: %v", err)
			}
			body, _ := json.Marshal(tt.body)
			resp, err := http.Post(s.url+"/v1/tokens/diagnose", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var cli, web map[string]any
			if err := json.Unmarshal([]byte(out), &cli); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(answer, &web); err != nil {
				t.Fatal(err)
			}
			// The CLI reads the clock a moment before the server does.
			if tt.body["at"] == "" {
				delete(cli, "inspection")
				delete(web, "inspection")
			}
			if resp.StatusCode != http.StatusOK || !reflect.DeepEqual(cli, web) {
				t.Errorf("CLI and HTTP disagree (%d)\nCLI  %s\nHTTP %s", resp.StatusCode, compactJSON(t, []byte(out)), answer)
			}
			if f, _ := web["findings"].([]any); len(f) != tt.findings {
				t.Errorf("want %d findings: %s", tt.findings, answer)
			}
		})
	}
}
