package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// handleHealthz says the process is up and which build it is.
func (a *API) handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "version": a.version})
	}
}

// handleReadyz says whether tokens can be minted. Demo mode is ready (200, so
// compose health checks pass on a fresh machine) but says so: Agora will
// reject its tokens.
// It answers 503 while something it needs is missing (Options.Ready: no
// JWKS keys loaded yet), so a load balancer sends callers elsewhere.
func (a *API) handleReadyz() gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.ready != nil {
			if reasons := a.ready(); len(reasons) > 0 {
				writeProblem(c, http.StatusServiceUnavailable, "not ready: "+strings.Join(reasons, "; "))
				return
			}
		}
		body := gin.H{"status": "ready", "mode": Mode(a.demo), "appId": a.minter.AppID()}
		if a.demo {
			body["warning"] = "demo mode: no Agora App ID/certificate configured; tokens are signed with a random pair made for this run and Agora rejects them"
		}
		c.JSON(http.StatusOK, body)
	}
}

func (a *API) handleMetrics() gin.HandlerFunc {
	h := promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{Registry: a.metrics.reg})
	return gin.WrapH(h)
}

func (a *API) handleOpenAPI() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", a.openapi)
	}
}

// MintRequest is the body of POST /v1/tokens, and what `tokenserver mint` asks for.
type MintRequest struct {
	Type      string // signaling, rtc, rte, chat-user or chat-app
	UID       string
	Channel   string
	Role      string // rtc/rte: publisher (default) or subscriber
	RTMUID    string // rte: the Signaling user; defaults to UID
	ExpiresIn *int64 // seconds; nil means the default
}

// MintResponse is the answer of POST /v1/tokens.
type MintResponse struct {
	Token     string `json:"token"`
	Type      string `json:"type"`
	AppID     string `json:"appId"`
	UID       string `json:"uid,omitempty"`
	Channel   string `json:"channel,omitempty"`
	RTMUID    string `json:"rtmUid,omitempty"`
	IssuedAt  string `json:"issuedAt"`
	ExpiresAt string `json:"expiresAt"`
	Mode      string `json:"mode"`
}

// Limits are the lifetimes a client may ask for.
type Limits struct {
	DefaultExpiry, MaxExpiry time.Duration
}

// mintNames maps the engine's parameter names to MintRequest's JSON names.
var mintNames = map[string]string{"expire": "expiresIn", "privilegeExpire": "expiresIn", "rtmExpire": "expiresIn"}

// Mint checks q and mints its token. Every bad field comes back in the
// InvalidParam list (named as in the JSON body); the error is for anything
// else. Unlike the compatible routes every rule is explicit: a field the type
// does not use is refused, not ignored. Mode is left for the caller.
func Mint(m *accesstoken.Minter, lim Limits, q MintRequest) (MintResponse, []InvalidParam, error) {
	var bad params
	exp := expiry{def: lim.DefaultExpiry, max: lim.MaxExpiry}.fromJSON(q.ExpiresIn, false, "expiresIn", &bad)
	unused := func(name, val string) {
		if val != "" {
			bad.add(name, "not used by type "+q.Type+"; leave it out")
		}
	}
	role := func() accesstoken.Role {
		if q.Role == "" {
			return accesstoken.RolePublisher
		}
		return parseRole(q.Role, "role", &bad)
	}
	var (
		t   accesstoken.Minted
		err error
	)
	// Each case checks what only it knows, then mints; once something is
	// known to be bad it only validates the rest (no token for a bad request).
	switch q.Type {
	case typeSignaling:
		unused("channel", q.Channel)
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		t, err = mintForUser(m.Signaling, q.UID, exp, "uid", &bad)
	case typeRTC:
		unused("rtmUid", q.RTMUID)
		r := rtcRequest{channel: q.Channel, role: role(), expire: exp, uidName: "uid"}
		if n, ok := rtcUID(q.UID); ok {
			r.byUID, r.uid = true, n
		} else {
			r.account = q.UID
		}
		t, err = r.mint(m, &bad)
	case typeRTE:
		r := role()
		if q.RTMUID == "" {
			q.RTMUID = q.UID
			if q.UID == "0" {
				bad.add("rtmUid", `required when uid is 0 (any user): a Signaling user ID cannot be "0"`)
			}
		}
		account := q.UID
		n, isUID := rtcUID(q.UID)
		switch {
		case q.UID == "":
			bad.add("uid", `required: an RTC user account, a numeric uid, or "0" for any user`)
		case q.UID == "0":
			account = "" // the engine's spelling of uid 0, as in RTCWithUID
		case isUID:
			account = strconv.FormatUint(uint64(n), 10) // "007" → "7", as the uid builder does
		}
		if len(bad) == 0 {
			t, err = m.RTE(q.Channel, account, r, exp, exp, q.RTMUID, exp)
		} else {
			bad.check("channel", accesstoken.ValidateChannel(q.Channel))
			if account != "" {
				bad.check("uid", accesstoken.ValidateAccount(account))
			}
			bad.check("rtmUid", accesstoken.ValidateUserID(q.RTMUID))
		}
	case typeChatUser:
		unused("channel", q.Channel)
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		t, err = mintForUser(m.ChatUser, q.UID, exp, "uid", &bad)
	case typeChatApp:
		unused("uid", q.UID)
		unused("channel", q.Channel)
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		if len(bad) == 0 {
			t, err = m.ChatApp(exp)
		}
	case "":
		bad.add("type", "required: signaling, rtc, rte, chat-user or chat-app")
	default:
		bad.add("type", "must be signaling, rtc, rte, chat-user or chat-app (got "+quote(q.Type)+")")
	}
	if err := bad.merge(err, mintNames); err != nil {
		return MintResponse{}, nil, err
	}
	if len(bad) > 0 {
		return MintResponse{}, bad, nil
	}
	resp := MintResponse{
		Token:     t.Token,
		Type:      q.Type,
		AppID:     m.AppID(),
		UID:       q.UID,
		Channel:   q.Channel,
		IssuedAt:  t.IssuedAt.UTC().Format(time.RFC3339),
		ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339),
	}
	if q.Type == typeRTE {
		resp.RTMUID = q.RTMUID
	}
	return resp, nil, nil
}

// decodeMintRequest reads the body of POST /v1/tokens.
func decodeMintRequest(c *gin.Context) (MintRequest, bool) {
	var q MintRequest
	ok := decodeJSON(c,
		jsonField{"type", &q.Type}, jsonField{"uid", &q.UID}, jsonField{"channel", &q.Channel},
		jsonField{"role", &q.Role}, jsonField{"rtmUid", &q.RTMUID}, jsonField{"expiresIn", &q.ExpiresIn})
	return q, ok
}

func (q MintRequest) users() ([]user, bool) {
	switch q.Type {
	case typeChatApp:
		return nil, true
	case typeRTC:
		return []user{rtcUser("uid", q.UID, true)}, false
	case typeRTE:
		rtm := q.RTMUID
		if rtm == "" {
			rtm = q.UID
		}
		return []user{rtcUser("uid", q.UID, true), {field: "rtmUid", id: rtm}}, false
	}
	return []user{{field: "uid", id: q.UID}}, false
}

// mintNative answers POST /v1/tokens with a MintResponse.
func (a *API) mintNative(q MintRequest, bad *params) (mintAnswer, error) {
	resp, invalid, err := Mint(a.minter, Limits{a.expiry.def, a.expiry.max}, q)
	*bad = append(*bad, invalid...)
	resp.Mode = Mode(a.demo)
	return mintAnswer{resp, []string{q.Type}}, err
}

// Inspection is the answer of POST /v1/tokens/inspect: every field of the
// token, and what this server can say about it. The token itself is not
// echoed.
type Inspection struct {
	Version        string             `json:"version"`
	AppID          string             `json:"appId"`
	IssueTs        uint32             `json:"issueTs"`
	IssuedAt       string             `json:"issuedAt"`
	Expire         uint32             `json:"expire"`
	ExpiresAt      string             `json:"expiresAt"`
	Salt           uint32             `json:"salt"`
	Services       []InspectedService `json:"services"`
	AppIDMatches   bool               `json:"appIdMatches"`
	SignatureValid bool               `json:"signatureValid"`
	Expired        bool               `json:"expired"`
	Mode           string             `json:"mode"`
}

// InspectedService is one service of an inspected token.
type InspectedService struct {
	Type       uint16               `json:"type"`
	Name       string               `json:"name"`
	Channel    string               `json:"channel,omitempty"`
	UID        string               `json:"uid,omitempty"`
	Privileges []InspectedPrivilege `json:"privileges"`
}

// InspectedPrivilege is one privilege of an inspected service.
type InspectedPrivilege struct {
	Privilege uint16 `json:"privilege"`
	Name      string `json:"name"`
	Expire    uint32 `json:"expire"`
	ExpiresAt string `json:"expiresAt"`
}

// Inspect checks a decoded token against m's app and certificate; a nil m
// (demo mode's CLI, which has no certificate) matches and verifies nothing.
func Inspect(t *accesstoken.Token, m *accesstoken.Minter, now time.Time) Inspection {
	out := Inspection{
		Version:        t.Version,
		AppID:          t.AppID,
		IssueTs:        t.IssueTs,
		IssuedAt:       t.IssuedAt().UTC().Format(time.RFC3339),
		Expire:         t.Expire,
		ExpiresAt:      t.ExpiresAt().UTC().Format(time.RFC3339),
		Salt:           t.Salt,
		Services:       []InspectedService{},
		AppIDMatches:   t.AppID == m.AppID(),
		SignatureValid: m.Verify(t),
		Expired:        !now.Before(t.ExpiresAt()),
	}
	for _, s := range t.Services {
		is := InspectedService{Type: uint16(s.Type), Name: serviceName(s.Type), Channel: s.Channel, UID: s.UserID,
			Privileges: []InspectedPrivilege{}}
		for _, p := range s.Privileges {
			is.Privileges = append(is.Privileges, InspectedPrivilege{
				Privilege: uint16(p.Privilege),
				Name:      privilegeName(s.Type, p.Privilege),
				Expire:    p.Expire,
				ExpiresAt: t.IssuedAt().Add(time.Duration(p.Expire) * time.Second).UTC().Format(time.RFC3339),
			})
		}
		out.Services = append(out.Services, is)
	}
	return out
}

func serviceName(t accesstoken.ServiceType) string {
	switch t {
	case accesstoken.ServiceRTC:
		return "rtc"
	case accesstoken.ServiceRTM:
		return "rtm"
	case accesstoken.ServiceChat:
		return "chat"
	}
	return "unknown"
}

func privilegeName(s accesstoken.ServiceType, p accesstoken.Privilege) string {
	switch {
	case s == accesstoken.ServiceRTC && p == accesstoken.PrivJoinChannel:
		return "joinChannel"
	case s == accesstoken.ServiceRTC && p == accesstoken.PrivPublishAudio:
		return "publishAudioStream"
	case s == accesstoken.ServiceRTC && p == accesstoken.PrivPublishVideo:
		return "publishVideoStream"
	case s == accesstoken.ServiceRTC && p == accesstoken.PrivPublishData:
		return "publishDataStream"
	case s == accesstoken.ServiceRTM && p == accesstoken.PrivLogin:
		return "login"
	case s == accesstoken.ServiceChat && p == accesstoken.PrivChatUser:
		return "user"
	case s == accesstoken.ServiceChat && p == accesstoken.PrivChatApp:
		return "app"
	}
	return "unknown"
}

// handleInspect serves POST /v1/tokens/inspect {token}.
func (a *API) handleInspect() gin.HandlerFunc {
	return func(c *gin.Context) {
		var token string
		if !decodeJSON(c, jsonField{"token", &token}) {
			return
		}
		if token == "" {
			badRequest(c, params{{Name: "token", Reason: "required"}})
			return
		}
		t, err := accesstoken.Parse(token)
		if err != nil {
			badRequest(c, params{{Name: "token", Reason: "not an AccessToken2: " + strings.TrimPrefix(err.Error(), "accesstoken: ")}})
			return
		}
		out := Inspect(t, a.minter, a.now())
		out.Mode = Mode(a.demo)
		c.JSON(http.StatusOK, out)
	}
}
