package api

import (
	"encoding/json"
	"fmt"
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
	Channel   string // rtc, rte; signaling: also join this stream channel
	Role      string // rtc/rte: publisher (default) or subscriber
	RTMUID    string // rte: the Signaling user; defaults to UID
	ExpiresIn *int64 // seconds; nil means the default
	// Permissions makes a signaling token an RTM2 token (service 8) limited
	// to these resources; nil keeps the plain RTM (service 2) token.
	Permissions accesstoken.Permissions
	// PrivilegeExpiresIn gives an rtc token all four privileges, each with
	// its own lifetime; nil keeps the role's privileges at ExpiresIn.
	PrivilegeExpiresIn *PrivilegeExpiresIn
}

// PrivilegeExpiresIn is the lifetime in seconds of each RTC privilege
// (JSON privilegeExpiresIn); nil means the token's expiresIn. Each is 1 to
// the token's expiresIn.
type PrivilegeExpiresIn struct {
	Join         *int64 `json:"join"`
	PublishAudio *int64 `json:"publishAudio"`
	PublishVideo *int64 `json:"publishVideo"`
	PublishData  *int64 `json:"publishData"`
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

// mintNames maps the engine's parameter names to MintRequest's JSON names;
// the engine names permissions fields as the JSON does (permissions.users.read[0]).
var mintNames = map[string]string{
	"expire": "expiresIn", "privilegeExpire": "expiresIn", "rtmExpire": "expiresIn",
	accesstoken.ParamJoinChannelExpire:  "privilegeExpiresIn.join",
	accesstoken.ParamPublishAudioExpire: "privilegeExpiresIn.publishAudio",
	accesstoken.ParamPublishVideoExpire: "privilegeExpiresIn.publishVideo",
	accesstoken.ParamPublishDataExpire:  "privilegeExpiresIn.publishData",
}

// privileges checks p against the token's lifetime exp into the engine's
// RTCPrivilegeExpires; an absent one lasts as long as the token.
func (p PrivilegeExpiresIn) privileges(e expiry, exp uint32, bad *params) accesstoken.RTCPrivilegeExpires {
	one := func(n *int64, name string) uint32 {
		if n == nil {
			return exp
		}
		v := e.fromJSON(n, false, "privilegeExpiresIn."+name, bad)
		if !bad.has("privilegeExpiresIn."+name) && !bad.has("expiresIn") && v > exp {
			bad.add("privilegeExpiresIn."+name, fmt.Sprintf("must be at most the token's expiresIn, %d seconds (got %d)", exp, v))
		}
		return v
	}
	return accesstoken.RTCPrivilegeExpires{
		JoinChannel: one(p.Join, "join"), PublishAudio: one(p.PublishAudio, "publishAudio"),
		PublishVideo: one(p.PublishVideo, "publishVideo"), PublishData: one(p.PublishData, "publishData"),
	}
}

// Mint checks q and mints its token. Every bad field comes back in the
// InvalidParam list (named as in the JSON body); the error is for anything
// else. Unlike the compatible routes every rule is explicit: a field the type
// does not use is refused, not ignored. Mode is left for the caller.
func Mint(m *accesstoken.Minter, lim Limits, q MintRequest) (MintResponse, []InvalidParam, error) {
	var bad params
	e := expiry{def: lim.DefaultExpiry, max: lim.MaxExpiry}
	exp := e.fromJSON(q.ExpiresIn, false, "expiresIn", &bad)
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
	if q.Permissions != nil && q.Type != typeSignaling {
		bad.add("permissions", "only for type signaling; leave it out")
	}
	if q.PrivilegeExpiresIn != nil && q.Type != typeRTC {
		bad.add("privilegeExpiresIn", "only for type rtc; leave it out")
	}
	// Each case checks what only it knows, then mints; once something is
	// known to be bad it only validates the rest (no token for a bad request).
	switch q.Type {
	case typeSignaling:
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		switch {
		case q.Permissions != nil && q.Channel != "":
			bad.add("permissions", "channel and permissions make different Signaling tokens; give one of them")
		case q.Permissions != nil && len(q.Permissions) == 0:
			bad.add("permissions", "must name at least one resource type: messageChannels, streamChannels, groupChannels, serverGroups or users")
		}
		switch {
		case len(bad) > 0:
			bad.check("uid", accesstoken.ValidateUserID(q.UID))
			if q.Channel != "" {
				bad.check("channel", accesstoken.ValidateChannel(q.Channel))
			}
		case q.Permissions != nil:
			t, err = m.SignalingWithPermissions(q.UID, exp, q.Permissions)
		case q.Channel != "":
			t, err = m.SignalingWithChannel(q.UID, q.Channel, exp)
		default:
			t, err = m.Signaling(q.UID, exp)
		}
	case typeRTC:
		unused("rtmUid", q.RTMUID)
		r := rtcRequest{channel: q.Channel, role: role(), expire: exp, uidName: "uid"}
		if n, ok := rtcUID(q.UID); ok {
			r.byUID, r.uid = true, n
		} else {
			r.account = q.UID
		}
		if q.PrivilegeExpiresIn == nil {
			t, err = r.mint(m, &bad)
			break
		}
		if r.role != accesstoken.RolePublisher && !bad.has("role") {
			bad.add("role", "a token with privilegeExpiresIn has all four privileges, a publisher's; leave role out")
		}
		pe := q.PrivilegeExpiresIn.privileges(e, exp, &bad)
		switch {
		case len(bad) > 0:
			r.mint(m, &bad) // checks the fields not yet reported, mints nothing
		case r.byUID:
			t, err = m.RTCWithUIDAndPrivilege(r.channel, r.uid, exp, pe)
		default:
			t, err = m.RTCWithAccountAndPrivilege(r.channel, r.account, exp, pe)
		}
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
	ok := decodeJSON(c, strictBody, q.fields()...)
	return q, ok
}

// fields are the members of a MintRequest's JSON body.
func (q *MintRequest) fields() []jsonField {
	return []jsonField{
		{"type", &q.Type}, {"uid", &q.UID}, {"channel", &q.Channel},
		{"role", &q.Role}, {"rtmUid", &q.RTMUID}, {"expiresIn", &q.ExpiresIn},
		{"permissions", permissionsField{&q.Permissions}},
		{"privilegeExpiresIn", privilegeField{&q.PrivilegeExpiresIn}},
	}
}

// permissionsField decodes {"streamChannels": {"read": [...], "write": [...]}, ...};
// the engine checks the resource types and names.
type permissionsField struct{ dst *accesstoken.Permissions }

func (f permissionsField) decode(raw json.RawMessage) string {
	var in map[string]struct {
		Read  []string `json:"read"`
		Write []string `json:"write"`
	}
	if reason := strictObject(raw, &in, "must be an object of resource types, each {read, write} lists of names"); reason != "" {
		return reason
	}
	*f.dst = accesstoken.Permissions{}
	for k, v := range in {
		(*f.dst)[k] = accesstoken.Access{Read: v.Read, Write: v.Write}
	}
	return ""
}

// privilegeField decodes {"join": N, "publishAudio": N, "publishVideo": N, "publishData": N}.
type privilegeField struct{ dst **PrivilegeExpiresIn }

func (f privilegeField) decode(raw json.RawMessage) string {
	var p PrivilegeExpiresIn
	if reason := strictObject(raw, &p, "must be an object {join, publishAudio, publishVideo, publishData} of whole seconds"); reason != "" {
		return reason
	}
	*f.dst = &p
	return ""
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

// InspectedService is one service of an inspected token, any of the eight
// AccessToken2 defines, named as accesstoken.ServiceType.String does (rtc,
// rtm, streaming, fpa, chat, fcdn, apaas, rtm2).
type InspectedService struct {
	Type        uint16                `json:"type"`
	Name        string                `json:"name"`
	Channel     string                `json:"channel,omitempty"` // aPaaS: the room UUID
	UID         string                `json:"uid,omitempty"`     // aPaaS: the user UUID
	Role        *int16                `json:"role,omitempty"`    // aPaaS only
	Privileges  []InspectedPrivilege  `json:"privileges"`
	Permissions []InspectedPermission `json:"permissions,omitempty"` // RTM2 only
}

// InspectedPrivilege is one privilege of an inspected service.
type InspectedPrivilege struct {
	Privilege uint16 `json:"privilege"`
	Name      string `json:"name"`
	Expire    uint32 `json:"expire"`
	ExpiresAt string `json:"expiresAt"`
}

// InspectedPermission is one list of an RTM2 service: the resources of one
// type that may be read, or written.
type InspectedPermission struct {
	ResourceType   uint16   `json:"resourceType"`
	Resource       string   `json:"resource"`
	PermissionType uint16   `json:"permissionType"`
	Permission     string   `json:"permission"`
	Names          []string `json:"names"`
}

// Inspect checks a decoded token against m's app and certificate; a nil m
// (demo mode's CLI, which has no certificate) matches and verifies nothing.
// Services come in token order, repeated types too.
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
		is := InspectedService{Type: uint16(s.Type), Name: s.Type.String(), Channel: s.Channel, UID: s.UserID,
			Privileges: []InspectedPrivilege{}}
		if s.Type == accesstoken.ServiceAPaaS {
			is.Role = &s.APaaSRole
		}
		for _, p := range s.Privileges {
			is.Privileges = append(is.Privileges, InspectedPrivilege{
				Privilege: uint16(p.Privilege),
				Name:      s.Type.PrivilegeName(p.Privilege),
				Expire:    p.Expire,
				ExpiresAt: t.IssuedAt().Add(time.Duration(p.Expire) * time.Second).UTC().Format(time.RFC3339),
			})
		}
		for _, r := range s.Permissions {
			for _, l := range r.Lists {
				is.Permissions = append(is.Permissions, InspectedPermission{
					ResourceType: uint16(r.Resource), Resource: r.Resource.String(),
					PermissionType: uint16(l.Permission), Permission: l.Permission.String(),
					Names: append([]string{}, l.Names...),
				})
			}
		}
		out.Services = append(out.Services, is)
	}
	return out
}

// handleInspect serves POST /v1/tokens/inspect {token}.
func (a *API) handleInspect() gin.HandlerFunc {
	return func(c *gin.Context) {
		var token string
		if !decodeJSON(c, strictBody, jsonField{"token", &token}) {
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
