package accesstoken

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken/npmoracle"
)

// agentCase is one ConvoAI or STT token: the arguments of npm's buildToken and the
// same request as an Agent.
type agentCase struct {
	kind           string // convoai or stt
	appID, cert    string
	issueTs, salt  uint32
	agent          Agent
	npmRTCAccount  any // what buildToken gets: a string, or the number 0
	npmPrivileges  [4]uint32
	npmRole        int
	mint           func(m *Minter, a Agent) (Minted, error)
	wantAgentType  ServiceType
	wantPrivileges []PrivilegeExpire
}

func (c agentCase) npmRequest() map[string]any {
	a := c.agent
	return map[string]any{
		"op": "agent", "kind": c.kind, "appId": c.appID, "cert": c.cert, "issueTs": c.issueTs, "salt": c.salt,
		"args": []any{a.Channel, c.npmRTCAccount, c.npmRole, a.Expire,
			c.npmPrivileges[0], c.npmPrivileges[1], c.npmPrivileges[2], c.npmPrivileges[3], a.RTMUserID, a.RTMExpire},
	}
}

// randomAgent draws case i: every RTC user spelling (account, numeric uid, uid 0 as
// "" and as the number 0), both roles, and lifetimes at the edges of 1..expire.
func randomAgent(r *rand.Rand, i int, kind string) agentCase {
	c := agentCase{kind: kind, appID: randString(r, hexDigits, 32), cert: randString(r, hexDigits, 32),
		issueTs: r.Uint32(), salt: 1 + r.Uint32N(99999999)}
	c.mint, c.wantAgentType = (*Minter).ConvoAI, ServiceConvoAI
	if kind == "stt" {
		c.mint, c.wantAgentType = (*Minter).STT, ServiceSTT
	}
	e := randExpire(r)
	below := func() uint32 { return 1 + r.Uint32N(e) }
	c.agent = Agent{Channel: randString(r, agoraNameChars, (i*7)%maxChannelLen+1), Expire: e,
		RTMUserID: randString(r, printableASCII, (i*5)%maxUserIDLen+1), RTMExpire: below()}
	switch i % 4 {
	case 0:
		c.agent.RTCAccount = randString(r, agoraNameChars, (i*13)%maxAccountLen+1)
		c.npmRTCAccount = c.agent.RTCAccount
	case 1:
		c.agent.RTCAccount = strconv.FormatUint(uint64(1+r.Uint32N(1<<32-1)), 10)
		c.npmRTCAccount = c.agent.RTCAccount
	case 2:
		c.npmRTCAccount = 0
	case 3:
		c.npmRTCAccount = ""
	}
	join := below()
	c.npmPrivileges = [4]uint32{join, below(), below(), e}
	c.wantPrivileges = []PrivilegeExpire{{PrivJoinChannel, join}}
	if i%3 == 2 {
		c.agent.Role, c.npmRole = RoleSubscriber, 2
		c.agent.Privileges = RTCPrivilegeExpires{JoinChannel: join}
	} else {
		c.agent.Role, c.npmRole = RolePublisher, 1
		p := c.npmPrivileges
		c.agent.Privileges = RTCPrivilegeExpires{p[0], p[1], p[2], p[3]}
		c.wantPrivileges = append(c.wantPrivileges, PrivilegeExpire{PrivPublishAudio, p[1]},
			PrivilegeExpire{PrivPublishVideo, p[2]}, PrivilegeExpire{PrivPublishData, p[3]})
	}
	return c
}

// sameContent fails unless got and want hold the same bytes under their zlib: npm
// compresses with Node's zlib and we, like Agora's Go reference, with compress/zlib's
// framing, so the strings differ while the signature and signed content do not.
func sameContent(t *testing.T, got, want, what string) {
	t.Helper()
	g, w := rawOf(t, got), rawOf(t, want)
	if !bytes.Equal(g, w) {
		t.Fatalf("%s differs from npm's\n got %x\nwant %x\n(tokens %s and %s)", what, g, w, got, want)
	}
}

// TestAgentTokensMatchNpmBuilders mints ConvoAI and STT tokens with npm agora-token
// 2.0.6's ConvoAITokenBuilder and SttTokenBuilder, run in node with the issue time and
// salt the test chose, and with a Minter given the same; the strings must be equal,
// and Parse must read back what was asked for.
func TestAgentTokensMatchNpmBuilders(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 9))
	var cases []agentCase
	var requests []map[string]any
	for i := range differentialRounds() {
		for _, kind := range []string{"convoai", "stt"} {
			c := randomAgent(r, i, kind)
			if i%16 == 0 {
				c.issueTs, c.salt = 0, 1
			}
			cases = append(cases, c)
			requests = append(requests, c.npmRequest())
		}
	}
	var answers []struct{ Token string }
	npmoracle.Call(t, requests, &answers)
	var ours []string
	if len(answers) != len(cases) {
		t.Fatalf("%d answers for %d requests", len(answers), len(cases))
	}
	for i, c := range cases {
		m, err := NewMinter(c.appID, c.cert,
			WithClock(func() time.Time { return time.Unix(int64(c.issueTs), 0) }),
			WithSalt(func() uint32 { return c.salt }))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.mint(m, c.agent)
		if err != nil {
			t.Fatalf("%s case %d: %v", c.kind, i, err)
		}
		sameContent(t, got.Token, answers[i].Token, c.kind)
		ours = append(ours, got.Token)
		tok, err := Parse(got.Token)
		if err != nil {
			t.Fatal(err)
		}
		want := []Service{
			{Type: ServiceRTC, Privileges: c.wantPrivileges, Channel: c.agent.Channel, UserID: c.agent.RTCAccount},
			{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, c.agent.RTMExpire}}, UserID: c.agent.RTMUserID},
			{Type: c.wantAgentType, Privileges: []PrivilegeExpire{}},
		}
		if !servicesEqual(tok.Services, want) || tok.Expire != c.agent.Expire || !tok.Verify(c.cert) {
			t.Fatalf("%s case %d reads back as %+v (expire %d)", c.kind, i, tok.Services, tok.Expire)
		}
	}
	t.Logf("%d tokens with npm's content", len(cases))

	// And npm's own AccessToken2 parser reads and verifies our strings.
	var parses []map[string]any
	for i, c := range cases {
		parses = append(parses, map[string]any{"op": "parse", "token": ours[i], "cert": c.cert})
	}
	var parsed []struct {
		OK, Verified bool
		Types        []ServiceType
	}
	npmoracle.Call(t, parses, &parsed)
	for i, p := range parsed {
		if !p.OK || !p.Verified || !slices.Equal(p.Types, []ServiceType{ServiceRTC, ServiceRTM, cases[i].wantAgentType}) {
			t.Fatalf("npm reads our %s token %d as %+v", cases[i].kind, i, p)
		}
	}
}

// TestAgentTokensMatchNpmAtItsOwnClock runs the npm builders unchanged (their own clock
// and random salt), reads the issue time and salt back with npm's parser, and mints
// the same with a Minter.
func TestAgentTokensMatchNpmAtItsOwnClock(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 10))
	var cases []agentCase
	var requests []map[string]any
	for i := range 8 {
		c := randomAgent(r, i, []string{"convoai", "stt"}[i%2])
		c.issueTs = 0
		req := c.npmRequest()
		delete(req, "issueTs")
		cases, requests = append(cases, c), append(requests, req)
	}
	var built []struct{ Token string }
	npmoracle.Call(t, requests, &built)
	var parses []map[string]any
	for i, b := range built {
		parses = append(parses, map[string]any{"op": "parse", "token": b.Token, "cert": cases[i].cert})
	}
	var parsed []struct {
		OK, Verified  bool
		IssueTs, Salt uint32
		Types         []ServiceType
	}
	npmoracle.Call(t, parses, &parsed)
	for i, c := range cases {
		p := parsed[i]
		if !p.OK || !p.Verified || !slices.Equal(p.Types, []ServiceType{ServiceRTC, ServiceRTM, c.wantAgentType}) {
			t.Fatalf("npm reads its own %s token as %+v", c.kind, p)
		}
		m, err := NewMinter(c.appID, c.cert,
			WithClock(func() time.Time { return time.Unix(int64(p.IssueTs), 0) }),
			WithSalt(func() uint32 { return p.Salt }))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.mint(m, c.agent)
		if err != nil {
			t.Fatal(err)
		}
		sameContent(t, got.Token, built[i].Token, c.kind)
	}
}
