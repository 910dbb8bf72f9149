package tokens

import (
	"fmt"
	"strconv"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// The token types Mint knows, as MintRequest.Type and the metrics name them.
const (
	TypeSignaling = "signaling"
	TypeRTC       = "rtc"
	TypeRTE       = "rte"
	TypeChatUser  = "chat-user"
	TypeChatApp   = "chat-app"
	TypeConvoAI   = "convoai"
	TypeSTT       = "stt"
)

// Types lists every token type Mint knows.
var Types = []string{TypeSignaling, TypeRTC, TypeRTE, TypeChatUser, TypeChatApp, TypeConvoAI, TypeSTT}

// Mode is what answers, logs and metrics say about the credentials: "demo"
// for a random pair made for this run, else "live".
func Mode(demo bool) string {
	if demo {
		return "demo"
	}
	return "live"
}

// MintRequest is the body of POST /v1/tokens, and what `tokenserver mint` asks for.
type MintRequest struct {
	Type      string // signaling, rtc, rte, chat-user, chat-app, convoai or stt
	UID       string
	Channel   string // rtc, rte, convoai, stt; signaling: also join this stream channel
	Role      string // rtc, rte, convoai, stt: publisher (default) or subscriber
	RTMUID    string // rte, convoai, stt: the Signaling user; defaults to UID
	ExpiresIn *int64 // seconds; nil means the default
	// Permissions makes a signaling token an RTM2 token (service 8) limited
	// to these resources; nil keeps the plain RTM (service 2) token.
	Permissions accesstoken.Permissions
	// PrivilegeExpiresIn gives an rtc token all four privileges, each with
	// its own lifetime; nil keeps the role's privileges at ExpiresIn. For
	// convoai and stt it sets the lifetimes of the role's privileges.
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
func (p PrivilegeExpiresIn) privileges(e Limits, exp uint32, bad *Params) accesstoken.RTCPrivilegeExpires {
	one := func(n *int64, name string) uint32 {
		if n == nil {
			return exp
		}
		v := e.FromJSON(n, false, "privilegeExpiresIn."+name, bad)
		if !bad.Has("privilegeExpiresIn."+name) && !bad.Has("expiresIn") && v > exp {
			bad.Add("privilegeExpiresIn."+name, fmt.Sprintf("must be at most the token's expiresIn, %d seconds (got %d)", exp, v))
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
	var bad Params
	exp := lim.FromJSON(q.ExpiresIn, false, "expiresIn", &bad)
	unused := func(name, val string) {
		if val != "" {
			bad.Add(name, "not used by type "+q.Type+"; leave it out")
		}
	}
	role := func() accesstoken.Role {
		if q.Role == "" {
			return accesstoken.RolePublisher
		}
		return ParseRole(q.Role, "role", &bad)
	}
	var (
		t   accesstoken.Minted
		err error
	)
	if q.Permissions != nil && q.Type != TypeSignaling {
		bad.Add("permissions", "only for type signaling; leave it out")
	}
	if q.PrivilegeExpiresIn != nil && q.Type != TypeRTC && q.Type != TypeConvoAI && q.Type != TypeSTT {
		bad.Add("privilegeExpiresIn", "only for types rtc, convoai and stt; leave it out")
	}
	// Each case checks what only it knows, then mints; once something is
	// known to be bad it only validates the rest (no token for a bad request).
	switch q.Type {
	case TypeSignaling:
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		switch {
		case q.Permissions != nil && q.Channel != "":
			bad.Add("permissions", "channel and permissions make different Signaling tokens; give one of them")
		case q.Permissions != nil && len(q.Permissions) == 0:
			bad.Add("permissions", "must name at least one resource type: messageChannels, streamChannels, groupChannels, serverGroups or users")
		}
		switch {
		case len(bad) > 0:
			bad.Check("uid", accesstoken.ValidateUserID(q.UID))
			if q.Channel != "" {
				bad.Check("channel", accesstoken.ValidateChannel(q.Channel))
			}
		case q.Permissions != nil:
			t, err = m.SignalingWithPermissions(q.UID, exp, q.Permissions)
		case q.Channel != "":
			t, err = m.SignalingWithChannel(q.UID, q.Channel, exp)
		default:
			t, err = m.Signaling(q.UID, exp)
		}
	case TypeRTC:
		unused("rtmUid", q.RTMUID)
		r := RTCRequest{Channel: q.Channel, Role: role(), Expire: exp, UIDName: "uid"}
		if n, ok := RTCUID(q.UID); ok {
			r.ByUID, r.UID = true, n
		} else {
			r.Account = q.UID
		}
		if q.PrivilegeExpiresIn == nil {
			t, err = r.Mint(m, &bad)
			break
		}
		if r.Role != accesstoken.RolePublisher && !bad.Has("role") {
			bad.Add("role", "a token with privilegeExpiresIn has all four privileges, a publisher's; leave role out")
		}
		pe := q.PrivilegeExpiresIn.privileges(lim, exp, &bad)
		switch {
		case len(bad) > 0:
			r.Mint(m, &bad) // checks the fields not yet reported, mints nothing
		case r.ByUID:
			t, err = m.RTCWithUIDAndPrivilege(r.Channel, r.UID, exp, pe)
		default:
			t, err = m.RTCWithAccountAndPrivilege(r.Channel, r.Account, exp, pe)
		}
	case TypeRTE:
		r := role()
		account := rtcAndRTMUsers(&q, &bad)
		if len(bad) == 0 {
			t, err = m.RTE(q.Channel, account, r, exp, exp, q.RTMUID, exp)
		} else {
			bad.Check("channel", accesstoken.ValidateChannel(q.Channel))
			if account != "" {
				bad.Check("uid", accesstoken.ValidateAccount(account))
			}
			bad.Check("rtmUid", accesstoken.ValidateUserID(q.RTMUID))
		}
	case TypeConvoAI, TypeSTT:
		a := accesstoken.Agent{Role: role(), Channel: q.Channel, Expire: exp, RTMExpire: exp}
		a.RTCAccount = rtcAndRTMUsers(&q, &bad) // sets q.RTMUID's default first
		a.RTMUserID = q.RTMUID
		a.Privileges = accesstoken.RTCPrivilegeExpires{JoinChannel: exp, PublishAudio: exp, PublishVideo: exp, PublishData: exp}
		if q.PrivilegeExpiresIn != nil {
			a.Privileges = q.PrivilegeExpiresIn.privileges(lim, exp, &bad)
		}
		if a.Role == accesstoken.RoleSubscriber {
			a.Privileges = subscriberPrivileges(q.PrivilegeExpiresIn, a.Privileges, &bad)
		}
		switch {
		case len(bad) > 0:
			bad.Check("channel", accesstoken.ValidateChannel(q.Channel))
			if a.RTCAccount != "" {
				bad.Check("uid", accesstoken.ValidateAccount(a.RTCAccount))
			}
			bad.Check("rtmUid", accesstoken.ValidateUserID(q.RTMUID))
		case q.Type == TypeConvoAI:
			t, err = m.ConvoAI(a)
		default:
			t, err = m.STT(a)
		}
	case TypeChatUser:
		unused("channel", q.Channel)
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		t, err = MintForUser(m.ChatUser, q.UID, exp, "uid", &bad)
	case TypeChatApp:
		unused("uid", q.UID)
		unused("channel", q.Channel)
		unused("role", q.Role)
		unused("rtmUid", q.RTMUID)
		if len(bad) == 0 {
			t, err = m.ChatApp(exp)
		}
	case "":
		bad.Add("type", "required: signaling, rtc, rte, chat-user, chat-app, convoai or stt")
	default:
		bad.Add("type", "must be signaling, rtc, rte, chat-user, chat-app, convoai or stt (got "+Quote(q.Type)+")")
	}
	if err := bad.Merge(err, mintNames); err != nil {
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
	if q.Type == TypeRTE || q.Type == TypeConvoAI || q.Type == TypeSTT {
		resp.RTMUID = q.RTMUID
	}
	return resp, nil, nil
}

// rtcAndRTMUsers reads the users of a token with RTC and Signaling services (rte,
// convoai, stt): uid is an RTC account, a numeric uid or "0" for any user, and the
// Signaling user rtmUid defaults to it. It returns the RTC account as the engine
// spells it ("" for uid 0, a uid without leading zeros) and sets q.RTMUID.
func rtcAndRTMUsers(q *MintRequest, bad *Params) string {
	if q.RTMUID == "" {
		q.RTMUID = q.UID
		if q.UID == "0" {
			bad.Add("rtmUid", `required when uid is 0 (any user): a Signaling user ID cannot be "0"`)
		}
	}
	n, isUID := RTCUID(q.UID)
	switch {
	case q.UID == "":
		bad.Add("uid", `required: an RTC user account, a numeric uid, or "0" for any user`)
	case q.UID == "0":
		return "" // the engine's spelling of uid 0, as in RTCWithUID
	case isUID:
		return strconv.FormatUint(uint64(n), 10) // "007" → "7", as the uid builder does
	}
	return q.UID
}

// subscriberPrivileges keeps a subscriber's join lifetime and refuses a publish
// lifetime the request gave: a subscriber has no publish privilege to give it to.
func subscriberPrivileges(asked *PrivilegeExpiresIn, p accesstoken.RTCPrivilegeExpires, bad *Params) accesstoken.RTCPrivilegeExpires {
	if asked != nil {
		for _, f := range []struct {
			name string
			v    *int64
		}{{"publishAudio", asked.PublishAudio}, {"publishVideo", asked.PublishVideo}, {"publishData", asked.PublishData}} {
			if f.v != nil && !bad.Has("privilegeExpiresIn."+f.name) {
				bad.Add("privilegeExpiresIn."+f.name, "a subscriber has no publish privileges; leave it out")
			}
		}
	}
	return accesstoken.RTCPrivilegeExpires{JoinChannel: p.JoinChannel}
}
