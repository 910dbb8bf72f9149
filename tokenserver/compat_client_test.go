package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// legacyClient is written the way clients of agora-token-service and the
// Node token server are: the same URLs and JSON field names, no knowledge of
// this server. If it works unchanged, ours is a drop-in replacement.
type legacyClient struct {
	base  string
	slash string // agora-token-service clients end paths with "/", Node ones often do not
}

func (c legacyClient) getJSON(path string, out any) error {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	// The original web sample sends this through its CORS proxy.
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c legacyClient) rtm(uid string, expiry int) (string, error) {
	var r struct {
		RtmToken string `json:"rtmToken"`
	}
	err := c.getJSON("/rtm/"+url.PathEscape(uid)+c.slash+"?expiry="+strconv.Itoa(expiry), &r)
	return r.RtmToken, err
}

func (c legacyClient) rtc(channel, role, tokentype, uid string, expiry int) (string, error) {
	var r struct {
		RtcToken string `json:"rtcToken"`
	}
	err := c.getJSON(fmt.Sprintf("/rtc/%s/%s/%s/%s%s?expiry=%d", channel, role, tokentype, uid, c.slash, expiry), &r)
	return r.RtcToken, err
}

func (c legacyClient) rte(channel, role, tokentype, rtcuid, rtmuid string, expiry int) (string, string, error) {
	var r struct {
		RtcToken string `json:"rtcToken"`
		RtmToken string `json:"rtmToken"`
	}
	path := fmt.Sprintf("/rte/%s/%s/%s/%s", channel, role, tokentype, rtcuid)
	if rtmuid != "" {
		path += "/" + rtmuid
	}
	err := c.getJSON(path+c.slash+"?expiry="+strconv.Itoa(expiry), &r)
	return r.RtcToken, r.RtmToken, err
}

func (c legacyClient) chat(path string) (string, error) {
	var r struct {
		ChatToken string `json:"chatToken"`
	}
	err := c.getJSON(path, &r)
	return r.ChatToken, err
}

// tokenRequest is agora-token-service's POST /getToken body.
type tokenRequest struct {
	TokenType         string `json:"tokenType"`
	Channel           string `json:"channel,omitempty"`
	RtcRole           string `json:"role,omitempty"`
	Uid               string `json:"uid,omitempty"`
	ExpirationSeconds int    `json:"expire,omitempty"`
}

func (c legacyClient) getToken(req tokenRequest) (string, error) {
	b, _ := json.Marshal(req)
	resp, err := http.Post(c.base+"/getToken", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST /getToken: %s", resp.Status)
	}
	var r struct {
		Token string `json:"token"`
	}
	return r.Token, json.NewDecoder(resp.Body).Decode(&r)
}

func TestLegacyClientsWorkUnchanged(t *testing.T) {
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert))
	for _, c := range []legacyClient{{base: s.url, slash: "/"}, {base: s.url}} {
		name := "agora-token-service style, trailing slash"
		if c.slash == "" {
			name = "Node token server style, no trailing slash"
		}
		t.Run(name, func(t *testing.T) {
			check := func(what, token string, err error, services ...accesstoken.ServiceType) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				tok, perr := accesstoken.Parse(token)
				if perr != nil || !tok.Verify(testCert) {
					t.Fatalf("%s: not a valid token: %v", what, perr)
				}
				if len(services) > 0 && len(tok.Services) != len(services) {
					t.Fatalf("%s: %d services, want %d", what, len(tok.Services), len(services))
				}
				for i, st := range services {
					if tok.Services[i].Type != st {
						t.Fatalf("%s: service %d is %d, want %d", what, i, tok.Services[i].Type, st)
					}
				}
			}
			var pong struct {
				Message string `json:"message"`
			}
			if err := c.getJSON("/ping", &pong); err != nil || pong.Message != "pong" {
				t.Fatalf("ping: %v %q", err, pong.Message)
			}
			tok, err := c.rtm("alice", 3600)
			check("rtm", tok, err, accesstoken.ServiceRTM)
			tok, err = c.rtc("room1", "publisher", "uid", "1234", 3600)
			check("rtc uid", tok, err, accesstoken.ServiceRTC)
			tok, err = c.rtc("room1", "audience", "userAccount", "bob", 3600)
			check("rtc account, Node's audience role", tok, err, accesstoken.ServiceRTC)
			rtc, rtm, err := c.rte("room1", "subscriber", "uid", "1234", "", 3600)
			check("rte rtc part", rtc, err, accesstoken.ServiceRTC)
			check("rte rtm part (joins the channel as a stream channel, as agora-token-service's)", rtm, err, accesstoken.ServiceRTC, accesstoken.ServiceRTM)
			rtc, rtm, err = c.rte("room1", "publisher", "userAccount", "bob", "alice", 3600)
			check("rte with rtmuid, rtc part", rtc, err, accesstoken.ServiceRTC)
			check("rte with rtmuid, rtm part", rtm, err, accesstoken.ServiceRTC, accesstoken.ServiceRTM)
			tok, err = c.chat("/chat/app" + c.slash + "?expiry=3600")
			check("chat app", tok, err, accesstoken.ServiceChat)
			tok, err = c.chat("/chat/account/alice" + c.slash + "?expiry=3600")
			check("chat user", tok, err, accesstoken.ServiceChat)
			for _, req := range []tokenRequest{
				{TokenType: "rtc", Channel: "my_channel", RtcRole: "publisher", Uid: "user123", ExpirationSeconds: 3600},
				{TokenType: "rtc", Channel: "my_channel", RtcRole: "subscriber", Uid: "123"},
				{TokenType: "rtm", Uid: "user123", ExpirationSeconds: 3600},
				{TokenType: "chat", ExpirationSeconds: 3600},
				{TokenType: "chat", Uid: "user123"},
			} {
				tok, err := c.getToken(req)
				check("getToken "+req.TokenType, tok, err)
			}
		})
	}
}
