package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"signaling-auth/tokenserver/internal/tokens"
	"slices"
	"strings"
	"testing"
	"time"
)

// Compatible routes add error and message (the same text as detail) to every
// problem, the gates' refusals too; the native API does not.
func TestCompatProblemsCarryErrorAndMessage(t *testing.T) {
	open := newTestServer(t, newTestAPI(t, nil))
	keyed := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = keyAuth(t) }))
	bound := newTestServer(t, newTestAPI(t, func(o *Options) { o.Auth = jwtAuth(t) }))
	alice := bearer(userJWT(t, "alice"))
	// One request spends the whole per-IP allowance; every row on it is
	// over the limit.
	limited := newTestServer(t, newTestAPI(t, func(o *Options) { o.Limiter, o.PerIP = limiter(), hourly(1) }))
	if ans := do(t, limited, call{path: "/rtm/alice/"}); ans.status != http.StatusOK {
		t.Fatalf("the one allowed request: %d %s", ans.status, ans.body)
	}
	tests := []struct {
		name   string
		srv    *httptest.Server
		call   call
		status int
		compat bool
	}{
		{"GET /rtc with a bad uid", open, call{path: "/rtc/c/publisher/uid/x/"}, 400, true},
		{"GET /rtm with a bad expiry", open, call{path: "/rtm/alice?expiry=0"}, 400, true},
		{"POST /getToken that is not JSON", open, call{method: "POST", path: "/getToken", body: "tokenType=rtm"}, 400, true},
		{"POST /getToken over the body limit", open, call{method: "POST", path: "/getToken", body: `{"uid":"` + strings.Repeat("a", 20<<10) + `"}`}, 413, true},
		{"GET /chat/app without the API key", keyed, call{path: "/chat/app/"}, 401, true},
		{"GET /rtm over the rate limit", limited, call{path: "/rtm/alice/"}, 429, true},
		{"POST /getToken over the rate limit", limited, call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"alice"}`}, 429, true},
		{"GET /rtm for another user than the caller's", bound, call{path: "/rtm/bob/", header: alice}, 403, true},
		{"POST /getToken for another user than the caller's", bound, call{method: "POST", path: "/getToken", contentType: js, body: `{"tokenType":"rtm","uid":"bob"}`, header: alice}, 403, true},
		{"POST /v1/tokens over the rate limit", limited, call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"a"}`}, 429, false},
		{"POST /v1/tokens for another user than the caller's", bound, call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"signaling","uid":"bob"}`, header: alice}, 403, false},
		{"PUT on /getToken", open, call{method: "PUT", path: "/getToken"}, 405, false}, // answered by the router, not the route
		{"POST /v1/tokens with a bad type", open, call{method: "POST", path: "/v1/tokens", contentType: js, body: `{"type":"x"}`}, 400, false},
		{"POST /v1/tokens without the API key", keyed, call{method: "POST", path: "/v1/tokens", contentType: js, body: `{}`}, 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := do(t, tt.srv, tt.call)
			p := problemOf(t, ans, tt.status)
			var extra map[string]any
			_ = json.Unmarshal(ans.body, &extra)
			_, hasError := extra["error"]
			_, hasMessage := extra["message"]
			if !tt.compat {
				if hasError || hasMessage {
					t.Errorf("a native or unrouted answer has error/message: %s", ans.body)
				}
				return
			}
			if p.Error != p.Detail || p.Message != p.Detail || p.Detail == "" {
				t.Errorf("error %q, message %q, detail %q: want all three equal", p.Error, p.Message, p.Detail)
			}
		})
	}
}

// Hostile or malformed input in each new /v1/tokens field is a 400 naming
// the field, and mints nothing.
func TestMintNewFieldsRefuseBadInput(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	names := func(n int, name string) string {
		return `["` + strings.Repeat(name+`","`, n-1) + name + `"]`
	}
	long := strings.Repeat("n", 65)
	tests := []struct {
		name, body string
		params     []string
		reasonHas  string
	}{
		{"an unknown resource type", `{"type":"signaling","uid":"a","permissions":{"channels":{"read":["x"]}}}`, []string{"permissions.channels"}, "unknown resource type"},
		{"a resource type with no names", `{"type":"signaling","uid":"a","permissions":{"users":{}}}`, []string{"permissions.users"}, "needs read or write"},
		{"empty permissions", `{"type":"signaling","uid":"a","permissions":{}}`, []string{"permissions"}, "at least one resource type"},
		{"an empty name", `{"type":"signaling","uid":"a","permissions":{"users":{"read":["a",""]}}}`, []string{"permissions.users.read[1]"}, "1-64 bytes"},
		{"a name over 64 bytes", `{"type":"signaling","uid":"a","permissions":{"users":{"write":["` + long + `"]}}}`, []string{"permissions.users.write[0]"}, "1-64 bytes"},
		{"a control character in a name", `{"type":"signaling","uid":"a","permissions":{"streamChannels":{"read":["a\u0000"]}}}`, []string{"permissions.streamChannels.read[0]"}, "printable ASCII"},
		{"65 names in one list", `{"type":"signaling","uid":"a","permissions":{"messageChannels":{"read":` + names(65, "m") + `}}}`, []string{"permissions.messageChannels.read"}, "at most 64 names (got 65)"},
		{"over 4096 bytes of names", `{"type":"signaling","uid":"a","permissions":{"messageChannels":{"read":` + names(64, strings.Repeat("m", 64)) + `},"users":{"read":["u"]}}}`, []string{"permissions"}, "more than the 4096 allowed"},
		{"permissions that are a list", `{"type":"signaling","uid":"a","permissions":["users"]}`, []string{"permissions"}, "must be an object"},
		{"a list that is a string", `{"type":"signaling","uid":"a","permissions":{"users":{"read":"a"}}}`, []string{"permissions"}, "must be an object"},
		{"an unknown permission", `{"type":"signaling","uid":"a","permissions":{"users":{"admin":["a"]}}}`, []string{"permissions"}, `unknown member "admin"`},
		{"a permission named in other letter case", `{"type":"signaling","uid":"a","permissions":{"users":{"Read":["a"]}}}`, []string{"permissions"}, `unknown member "Read"`},
		{"permissions with a channel", `{"type":"signaling","uid":"a","channel":"c","permissions":{"users":{"read":["a"]}}}`, []string{"permissions"}, "give one of them"},
		{"permissions on an rtc token", `{"type":"rtc","uid":"1","channel":"c","permissions":{"users":{"read":["a"]}}}`, []string{"permissions"}, "only for type signaling"},
		{"a stream channel with a bad expiry and a bad channel", `{"type":"signaling","uid":"a","channel":"c/d","expiresIn":0}`, []string{"expiresIn", "channel"}, ""},
		{"a stream channel for a user ID that is no RTC account", `{"type":"signaling","uid":"a\\b","channel":"c"}`, []string{"uid"}, ""},
		{"permissions and a bad uid", `{"type":"signaling","uid":"","permissions":{"users":{"read":[""]}}}`, []string{"uid", "permissions.users.read[0]"}, ""},

		{"a privilege expiry above the token's", `{"type":"rtc","uid":"1","channel":"c","expiresIn":600,"privilegeExpiresIn":{"join":601}}`, []string{"privilegeExpiresIn.join"}, "at most the token's expiresIn, 600 seconds (got 601)"},
		{"a privilege expiry above the server's maximum", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"publishData":86401}}`, []string{"privilegeExpiresIn.publishData"}, "at most 86400 seconds"},
		{"a privilege expiry of 0", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"publishAudio":0}}`, []string{"privilegeExpiresIn.publishAudio"}, "at least 1 second"},
		{"a negative privilege expiry", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"publishVideo":-1}}`, []string{"privilegeExpiresIn.publishVideo"}, "at least 1 second"},
		{"a privilege expiry as a string", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"join":"60"}}`, []string{"privilegeExpiresIn"}, "join is string"},
		{"a fractional privilege expiry", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"join":1.5}}`, []string{"privilegeExpiresIn"}, "join is number"},
		{"an unknown privilege", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"kick":60}}`, []string{"privilegeExpiresIn"}, `unknown member "kick"`},
		{"a privilege named in other letter case", `{"type":"rtc","uid":"1","channel":"c","privilegeExpiresIn":{"JOIN":5}}`, []string{"privilegeExpiresIn"}, `unknown member "JOIN"`},
		{"privilege expiries with a subscriber", `{"type":"rtc","uid":"1","channel":"c","role":"subscriber","privilegeExpiresIn":{"join":60}}`, []string{"role"}, "publisher's"},
		{"privilege expiries on an rte token", `{"type":"rte","uid":"1","channel":"c","privilegeExpiresIn":{"join":60}}`, []string{"privilegeExpiresIn"}, "only for types rtc, convoai and stt"},
		{"privilege expiries and a bad channel", `{"type":"rtc","uid":"1","channel":"","privilegeExpiresIn":{"join":0}}`, []string{"privilegeExpiresIn.join", "channel"}, ""},
		{"privilege expiries and a bad account", `{"type":"rtc","uid":"` + strings.Repeat("b", 256) + `","channel":"c","privilegeExpiresIn":{"join":60}}`, []string{"uid"}, ""},

		{"a convoai token without a channel", `{"type":"convoai","uid":"1001"}`, []string{"channel"}, "1-64 bytes"},
		{"an stt token without a uid (so without the Signaling user it defaults to)", `{"type":"stt","channel":"c"}`, []string{"uid", "rtmUid"}, "required"},
		{"a convoai token for uid 0 without a Signaling user", `{"type":"convoai","uid":"0","channel":"c"}`, []string{"rtmUid"}, `cannot be "0"`},
		{"an stt subscriber given a publish lifetime", `{"type":"stt","uid":"1001","channel":"c","role":"subscriber","privilegeExpiresIn":{"join":60,"publishAudio":60}}`, []string{"privilegeExpiresIn.publishAudio"}, "a subscriber has no publish privileges"},
		{"a convoai privilege lifetime one second above the token's", `{"type":"convoai","uid":"1001","channel":"c","expiresIn":600,"privilegeExpiresIn":{"publishData":601}}`, []string{"privilegeExpiresIn.publishData"}, "at most the token's expiresIn, 600 seconds (got 601)"},
		{"a convoai token with RTM2 permissions", `{"type":"convoai","uid":"1001","channel":"c","permissions":{"users":{"read":["a"]}}}`, []string{"permissions"}, "only for type signaling"},
		{"an stt token with a bad role, channel and Signaling user", `{"type":"stt","uid":"1001","channel":"c/d","role":"boss","rtmUid":"a\nb"}`, []string{"role", "channel", "rtmUid"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := do(t, srv, call{method: "POST", path: "/v1/tokens", contentType: js, body: tt.body})
			p := problemOf(t, ans, http.StatusBadRequest)
			noToken(t, ans)
			got := paramNames(p)
			if !slices.Equal(got, tt.params) {
				t.Fatalf("invalidParams %v, want %v (%+v)", got, tt.params, p.InvalidParams)
			}
			if !strings.Contains(p.InvalidParams[0].Reason, tt.reasonHas) {
				t.Errorf("reason %q does not contain %q", p.InvalidParams[0].Reason, tt.reasonHas)
			}
		})
	}
}

// Each new token kind goes mint → inspect → verify over HTTP: what
// /v1/tokens/inspect shows is what was asked for, and the signature holds.
func TestNewTokenKindsRoundTrip(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	type privilege struct {
		Name   string `json:"name"`
		Expire uint32 `json:"expire"`
	}
	type permission struct {
		Resource   string   `json:"resource"`
		Permission string   `json:"permission"`
		Names      []string `json:"names"`
	}
	type service struct {
		Type        uint16       `json:"type"`
		Name        string       `json:"name"`
		Channel     string       `json:"channel"`
		UID         string       `json:"uid"`
		Privileges  []privilege  `json:"privileges"`
		Permissions []permission `json:"permissions"`
	}
	tests := []struct {
		name, body string
		want       []service
	}{
		{"signaling with RTM2 permissions",
			`{"type":"signaling","uid":"alice","expiresIn":900,"permissions":{"streamChannels":{"read":["room-*"],"write":["room-1"]},"messageChannels":{"read":["news"]}}}`,
			[]service{{Type: 8, Name: "rtm2", UID: "alice", Privileges: []privilege{{"login", 900}}, Permissions: []permission{
				{"messageChannels", "read", []string{"news"}}, {"streamChannels", "read", []string{"room-*"}}, {"streamChannels", "write", []string{"room-1"}}}}}},
		{"signaling with a stream channel",
			`{"type":"signaling","uid":"alice","channel":"room1","expiresIn":900}`,
			[]service{{Type: 1, Name: "rtc", Channel: "room1", UID: "alice", Privileges: []privilege{{"joinChannel", 900}, {"publishDataStream", 900}}},
				{Type: 2, Name: "rtm", UID: "alice", Privileges: []privilege{{"login", 900}}}}},
		{"rtc by uid with per-privilege expiries, one left to the token's",
			`{"type":"rtc","uid":"42","channel":"room1","expiresIn":900,"privilegeExpiresIn":{"join":900,"publishAudio":300,"publishVideo":1}}`,
			[]service{{Type: 1, Name: "rtc", Channel: "room1", UID: "42", Privileges: []privilege{
				{"joinChannel", 900}, {"publishAudioStream", 300}, {"publishVideoStream", 1}, {"publishDataStream", 900}}}}},
		{"convoai for an agent uid, publisher, per-privilege lifetimes",
			`{"type":"convoai","uid":"1001","channel":"room1","expiresIn":900,"privilegeExpiresIn":{"join":900,"publishAudio":300,"publishVideo":1}}`,
			[]service{{Type: 1, Name: "rtc", Channel: "room1", UID: "1001", Privileges: []privilege{
				{"joinChannel", 900}, {"publishAudioStream", 300}, {"publishVideoStream", 1}, {"publishDataStream", 900}}},
				{Type: 2, Name: "rtm", UID: "1001", Privileges: []privilege{{"login", 900}}},
				{Type: 9, Name: "convoai", Privileges: []privilege{}}}},
		{"stt for any uid, a subscriber, with its own Signaling user",
			`{"type":"stt","uid":"0","rtmUid":"stt-bot","channel":"room1","role":"subscriber","expiresIn":600,"privilegeExpiresIn":{"join":60}}`,
			[]service{{Type: 1, Name: "rtc", Channel: "room1", Privileges: []privilege{{"joinChannel", 60}}},
				{Type: 2, Name: "rtm", UID: "stt-bot", Privileges: []privilege{{"login", 600}}},
				{Type: 10, Name: "stt", Privileges: []privilege{}}}},
		{"rtc by account with per-privilege expiries at the server's maximum",
			`{"type":"rtc","uid":"bob","channel":"room1","privilegeExpiresIn":{"join":86400,"publishAudio":86400,"publishVideo":86400,"publishData":86400}}`,
			[]service{{Type: 1, Name: "rtc", Channel: "room1", UID: "bob", Privileges: []privilege{
				{"joinChannel", 86400}, {"publishAudioStream", 86400}, {"publishVideoStream", 86400}, {"publishDataStream", 86400}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			minted := do(t, srv, call{method: "POST", path: "/v1/tokens", contentType: js, body: tt.body})
			if minted.status != http.StatusOK {
				t.Fatalf("mint: %d %s", minted.status, minted.body)
			}
			resp := minted.json(t)
			tok, _ := resp["token"].(string)
			// A token with RTC and Signaling users answers with the Signaling one.
			if strings.Contains(tt.body, `"type":"convoai"`) || strings.Contains(tt.body, `"type":"stt"`) {
				if rtmUID, _ := resp["rtmUid"].(string); rtmUID != tt.want[1].UID {
					t.Errorf("rtmUid %q in the answer, the token's Signaling user is %q", rtmUID, tt.want[1].UID)
				}
			}
			body, _ := json.Marshal(map[string]string{"token": tok})
			inspected := do(t, srv, call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: string(body)})
			if inspected.status != http.StatusOK {
				t.Fatalf("inspect: %d %s", inspected.status, inspected.body)
			}
			var in struct {
				Services       []service `json:"services"`
				SignatureValid bool      `json:"signatureValid"`
				AppIDMatches   bool      `json:"appIdMatches"`
				Expired        bool      `json:"expired"`
			}
			if err := json.Unmarshal(inspected.body, &in); err != nil {
				t.Fatal(err)
			}
			if !in.SignatureValid || !in.AppIDMatches || in.Expired {
				t.Errorf("signatureValid %v appIdMatches %v expired %v", in.SignatureValid, in.AppIDMatches, in.Expired)
			}
			got, _ := json.Marshal(in.Services)
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Errorf("services\n got %s\nwant %s", got, want)
			}
		})
	}
}

// Inspect names every service by type and keeps repeated ones in order.
func TestInspectNamesEveryService(t *testing.T) {
	m := newTestAPI(t, nil).minter
	minted, err := m.SignalingWithChannel("alice", "room1", 60)
	if err != nil {
		t.Fatal(err)
	}
	in := tokens.Inspect(mustToken(t, minted.Token), m, time.Now())
	var names []string
	for _, s := range in.Services {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"rtc", "rtm"}) || !in.SignatureValid {
		t.Errorf("services %v, signature valid %v", names, in.SignatureValid)
	}
}

// The OpenAPI document describes the new /v1/tokens fields and says RTM2
// permissions need Agora to enable them.
func TestOpenAPIDescribesNewFields(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(do(t, srv, call{path: "/openapi.json"}).body, &doc); err != nil {
		t.Fatal(err)
	}
	props := doc.Components.Schemas["MintRequest"].Properties
	if !strings.Contains(props["permissions"].Description, "need Agora's assistance") {
		t.Errorf("permissions: %q", props["permissions"].Description)
	}
	if !strings.Contains(props["privilegeExpiresIn"].Description, "1 to expiresIn") {
		t.Errorf("privilegeExpiresIn: %q", props["privilegeExpiresIn"].Description)
	}
	if d := props["type"].Description; !strings.Contains(d, "Conversational AI") || !strings.Contains(d, "STT") {
		t.Errorf("type: %q", d)
	}
	if !strings.Contains(props["privilegeExpiresIn"].Description, "convoai, stt") {
		t.Errorf("privilegeExpiresIn: %q", props["privilegeExpiresIn"].Description)
	}
	if _, ok := doc.Components.Schemas["Inspection"].Properties["unreadServices"]; !ok {
		t.Error("Inspection has no unreadServices")
	}
	for _, f := range []string{"error", "message"} {
		if _, ok := doc.Components.Schemas["Problem"].Properties[f]; !ok {
			t.Errorf("Problem has no %s", f)
		}
	}
}
