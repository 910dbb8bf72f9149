package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The built tokenserver answers agora-token-service's clients as they expect: the RTM
// token of /rte and of POST /getToken with a channel also joins the channel, /getToken
// reads JSON whatever the Content-Type and ignores unknown members, an empty RTC uid is
// uid 0, and errors carry error and message next to detail. The tokens are read back
// through the binary's own POST /v1/tokens/inspect. (The full table of the peer's
// endpoint tests is tokenserver's TestAgoraTokenServiceCompat.)
func TestStackTokenserverAnswersAgoraTokenServiceClients(t *testing.T) {
	token := start(t, "tokenserver", faultTokenEnv(), "--listen", "127.0.0.1:0")
	base := token.url()
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		field                                 string // the answer's token member
		services                              string // inspected: name:privilege,... per service, | between
	}{
		{"rte's rtmToken joins the channel", "GET", "/rte/room1/publisher/uid/42/alice/?expiry=600", "", "", 200,
			"rtmToken", "rtc:joinChannel,publishDataStream|rtm:login"},
		{"getToken rtm with a channel, sent as fetch does", "POST", "/getToken", "text/plain;charset=UTF-8",
			`{"tokenType":"rtm","uid":"alice","channel":"room1","expire":600}`, 200, "token", "rtc:joinChannel,publishDataStream|rtm:login"},
		{"getToken as curl -d sends it, with an unknown member", "POST", "/getToken", "application/x-www-form-urlencoded",
			`{"tokenType":"rtm","uid":"alice","expire":600,"platform":"web"}`, 200, "token", "rtm:login"},
		{"a plain /rtm stays RTM only", "GET", "/rtm/alice/?expiry=600", "", "", 200, "rtmToken", "rtm:login"},
		{"an empty RTC uid is uid 0", "GET", "/rtc/room1/publisher/uid//?expiry=600", "", "", 200,
			"rtcToken", "rtc:joinChannel,publishAudioStream,publishVideoStream,publishDataStream"},
		{"getToken rtc with uid \"\"", "POST", "/getToken", "", `{"tokenType":"rtc","channel":"room1","uid":"","role":"subscriber"}`, 200,
			"token", "rtc:joinChannel"},
		{"a body that is not JSON", "POST", "/getToken", "application/x-www-form-urlencoded", "tokenType=rtm&uid=alice", 400, "", ""},
		{"a bad expiry", "GET", "/rtm/alice/?expiry=failing", "", "", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.contentType != "" {
				header.Set("Content-Type", tt.contentType)
			}
			resp, body := opsSend(t, tt.method, base+tt.path, header, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			var answer map[string]any
			if err := json.Unmarshal(body, &answer); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if tt.status != 200 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q", ct)
				}
				if d, _ := answer["detail"].(string); d == "" || answer["error"] != d || answer["message"] != d {
					t.Errorf("want error and message equal to detail: %s", body)
				}
				return
			}
			tok, _ := answer[tt.field].(string)
			if got := compatInspect(t, base, tok); got != tt.services {
				t.Errorf("services %s, want %s", got, tt.services)
			}
		})
	}
}

// compatInspect asks the token server what tok holds, as name:privilege,... per service.
func compatInspect(t *testing.T, base, tok string) string {
	t.Helper()
	req, _ := json.Marshal(map[string]string{"token": tok})
	resp, err := http.Post(base+"/v1/tokens/inspect", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		SignatureValid bool `json:"signatureValid"`
		Services       []struct {
			Name       string `json:"name"`
			Privileges []struct {
				Name string `json:"name"`
			} `json:"privileges"`
		} `json:"services"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != 200 {
		t.Fatalf("inspect: %d %v", resp.StatusCode, err)
	}
	if !in.SignatureValid {
		t.Error("the token does not verify")
	}
	var services []string
	for _, s := range in.Services {
		var privs []string
		for _, p := range s.Privileges {
			privs = append(privs, p.Name)
		}
		services = append(services, s.Name+":"+strings.Join(privs, ","))
	}
	return strings.Join(services, "|")
}
