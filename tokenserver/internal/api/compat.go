package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/tokens"
)

// The compatible routes answer exactly what agora-token-service and the Node
// token server answer on success ({"rtmToken": ...} and so on), so their
// clients need no change. Errors are problem JSON with error and message
// members too (compatErrors): those servers answered {"error"|"message": ...}.

// handlePing answers the liveness call both existing servers have.
func (a *API) handlePing() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "pong"})
	}
}

// The engine's parameter names, as each route names them.
var (
	expiryNames   = map[string]string{"expire": "expiry"}
	rtcPathNames  = map[string]string{"expire": "expiry", "privilegeExpire": "expiry"}
	rteRTCNames   = map[string]string{"uid": "rtcuid", "expire": "expiry", "privilegeExpire": "expiry"}
	rteRTMNames   = map[string]string{"uid": "rtmuid", "expire": "expiry"}
	rteRTMFromRTC = map[string]string{"uid": "rtcuid", "expire": "expiry"} // no rtmuid: the complaint is about the rtcuid sent
	getTokenNames = map[string]string{"privilegeExpire": "expire"}
)

// userPath is a request of GET /rtm/:uid/?expiry=N or
// /chat/account/:uid/?expiry=N: one token for the path's user.
type userPath struct {
	uid    string
	expiry []string // the ?expiry values
}

func decodeUserPath(c *gin.Context) (userPath, bool) {
	return userPath{uid: c.Param("uid"), expiry: c.QueryArray("expiry")}, true
}

func (r userPath) users() ([]user, bool) { return []user{{field: "uid", id: r.uid}}, false }

// mintUser mints a userPath's token with mint and answers {key: token}:
// {"rtmToken"} is the Signaling login token the original web sample asks for.
func (a *API) mintUser(mint tokens.UserMinter, typ, key string) func(userPath, *params) (mintAnswer, error) {
	return func(r userPath, bad *params) (mintAnswer, error) {
		exp := a.expiry.FromQuery(r.expiry, "expiry", bad)
		m, err := tokens.MintForUser(mint, r.uid, exp, "uid", bad)
		return mintAnswer{gin.H{key: m.Token}, []string{typ}}, bad.Merge(err, expiryNames)
	}
}

// rtcPath is a request of GET /rtc/:channel/:role/:tokentype/:uid/?expiry=N,
// and the RTC half of /rte.
type rtcPath struct {
	channel, role, tokenType string
	uidName, uid             string // the path parameter holding the RTC uid or account, and its value
	expiry                   []string
}

func decodeRTCPath(c *gin.Context) (rtcPath, bool) { return rtcPathOf(c, "uid"), true }

// rtcPathOf reads the RTC path parameters; an empty uid (/rtc/c/publisher/uid//)
// is uid 0, any user, as agora-token-service reads it.
func rtcPathOf(c *gin.Context, uidParam string) rtcPath {
	r := rtcPath{channel: c.Param("channel"), role: c.Param("role"), tokenType: c.Param("tokentype"),
		uidName: uidParam, uid: c.Param(uidParam), expiry: c.QueryArray("expiry")}
	if r.uid == "" && r.tokenType == "uid" {
		r.uid = "0"
	}
	return r
}

func (r rtcPath) rtcUser() user {
	return rtcUser(r.uidName, r.uid, r.tokenType == "uid" || r.tokenType == "")
}

func (r rtcPath) users() ([]user, bool) { return []user{r.rtcUser()}, false }

// request checks r's fields into an tokens.RTCRequest.
func (r rtcPath) request(e tokens.Limits, bad *params) tokens.RTCRequest {
	q := tokens.RTCRequest{Channel: r.channel, UIDName: r.uidName}
	q.Role = tokens.ParseRole(r.role, "role", bad)
	switch r.tokenType {
	case "uid":
		q.ByUID = true
		q.UID = tokens.ParseRTCUID(r.uid, r.uidName, bad)
	case "userAccount":
		q.Account = r.uid
	default:
		bad.Add("tokentype", "must be uid or userAccount (got "+quote(r.tokenType)+")")
		q.ByUID = true // placeholder; the engine still checks the channel
	}
	q.Expire = e.FromQuery(r.expiry, "expiry", bad)
	return q
}

// mintRTC answers an rtcPath with {"rtcToken"}.
func (a *API) mintRTC(r rtcPath, bad *params) (mintAnswer, error) {
	m, err := r.request(a.expiry, bad).Mint(a.minter, bad)
	return mintAnswer{gin.H{"rtcToken": m.Token}, []string{tokens.TypeRTC}}, bad.Merge(err, rtcPathNames)
}

// rtePath is a request of GET /rte/:channel/:role/:tokentype/:rtcuid/[:rtmuid/]:
// two tokens, as agora-token-service gives: the RTC token and a Signaling
// token that also joins the channel as a stream channel (SignalingWithChannel).
// Without rtmuid the Signaling user is the RTC uid, which then must not be 0
// (anyone).
type rtePath struct {
	rtcPath
	rtmUID   string
	explicit bool // rtmuid was in the path
}

func decodeRTEPath(c *gin.Context) (rtePath, bool) {
	r := rtePath{rtcPath: rtcPathOf(c, "rtcuid")}
	r.rtmUID, r.explicit = c.Params.Get("rtmuid")
	return r, true
}

func (r rtePath) users() ([]user, bool) {
	if r.explicit {
		return []user{r.rtcUser(), {field: "rtmuid", id: r.rtmUID}}, false
	}
	return []user{r.rtcUser(), {field: "rtcuid", id: r.uid}}, false // the Signaling user, spelt as sent
}

// mintRTE answers an rtePath with {"rtcToken", "rtmToken"}.
func (a *API) mintRTE(r rtePath, bad *params) (mintAnswer, error) {
	q := r.request(a.expiry, bad)
	rtmUID, names, rtmName := r.rtmUID, rteRTMNames, "rtmuid"
	if !r.explicit {
		rtmUID, names, rtmName = r.uid, rteRTMFromRTC, "rtcuid"
		if q.ByUID && q.UID == 0 && !bad.Has("rtcuid") {
			bad.Add("rtmuid", `required when rtcuid is 0 (any user): a Signaling user ID cannot be "0"`)
		}
	}
	rtc, err := q.Mint(a.minter, bad)
	if err := bad.Merge(err, rteRTCNames); err != nil {
		return mintAnswer{}, err
	}
	rtm, err := tokens.MintForUser(a.signalingIn(r.channel), rtmUID, q.Expire, rtmName, bad)
	return mintAnswer{gin.H{"rtcToken": rtc.Token, "rtmToken": rtm.Token}, []string{tokens.TypeRTC, tokens.TypeSignaling}}, bad.Merge(err, names)
}

// signalingIn mints agora-token-service's RTM token for a channel: RTM login
// plus RTC join and publish-data for the channel, with the user ID as the RTC
// account (the community go-tokenbuilder rtmtokenbuilder.BuildToken).
func (a *API) signalingIn(channel string) tokens.UserMinter {
	return func(userID string, expire uint32) (accesstoken.Minted, error) {
		return a.minter.SignalingWithChannel(userID, channel, expire)
	}
}

// chatAppRequest is a request of GET /chat/app/?expiry=N: a token with app
// privileges, which carries no user.
type chatAppRequest struct{ expiry []string }

func decodeChatApp(c *gin.Context) (chatAppRequest, bool) {
	return chatAppRequest{expiry: c.QueryArray("expiry")}, true
}

func (chatAppRequest) users() ([]user, bool) { return nil, true }

// mintChatApp answers a chatAppRequest with {"chatToken"}.
func (a *API) mintChatApp(r chatAppRequest, bad *params) (mintAnswer, error) {
	exp := a.expiry.FromQuery(r.expiry, "expiry", bad)
	var m accesstoken.Minted
	var err error
	if len(*bad) == 0 {
		m, err = a.minter.ChatApp(exp)
	}
	return mintAnswer{gin.H{"chatToken": m.Token}, []string{tokens.TypeChatApp}}, bad.Merge(err, expiryNames)
}

// getTokenRequest is the body of POST /getToken {tokenType, channel, role,
// uid, expire}, agora-token-service's JSON API. As there, the body is JSON
// whatever its Content-Type, other members are ignored, and an rtc request
// without uid is for uid 0 (any user).
type getTokenRequest struct {
	tokenType, channel, role, uid string
	expire                        *int64
}

func decodeGetToken(c *gin.Context) (getTokenRequest, bool) {
	var q getTokenRequest
	ok := decodeJSON(c, compatBody, jsonField{"tokenType", &q.tokenType}, jsonField{"channel", &q.channel},
		jsonField{"role", &q.role}, jsonField{"uid", &q.uid}, jsonField{"expire", &q.expire})
	if q.tokenType == "rtc" && q.uid == "" {
		q.uid = "0"
	}
	return q, ok
}

func (q getTokenRequest) users() ([]user, bool) {
	switch q.tokenType {
	case "chat":
		if q.uid == "" {
			return nil, true
		}
	case "rtc":
		return []user{rtcUser("uid", q.uid, true)}, false
	}
	return []user{{field: "uid", id: q.uid}}, false
}

// mintGetToken answers a getTokenRequest with {"token"}. As
// agora-token-service: a numeric uid gives an RTC uid token, any other an
// account token; a missing role means subscriber; expire 0 or absent means
// the default; rtm with a channel also joins it as a stream channel; chat
// without uid is an app token. Unlike there, a bad role or an over-long
// expiry is refused.
func (a *API) mintGetToken(q getTokenRequest, bad *params) (mintAnswer, error) {
	exp := a.expiry.FromJSON(q.expire, true, "expire", bad)
	var (
		m   accesstoken.Minted
		err error
		typ string
	)
	switch q.tokenType {
	case "rtc":
		r := tokens.RTCRequest{Channel: q.channel, Role: accesstoken.RoleSubscriber, Expire: exp, UIDName: "uid"}
		if q.role != "" {
			r.Role = tokens.ParseRole(q.role, "role", bad)
		}
		if n, isUID := tokens.RTCUID(q.uid); isUID {
			r.ByUID, r.UID = true, n
		} else {
			r.Account = q.uid
		}
		m, err = r.Mint(a.minter, bad)
		typ = tokens.TypeRTC
	case "rtm":
		mint := a.minter.Signaling
		if q.channel != "" {
			mint = a.signalingIn(q.channel)
		}
		m, err = tokens.MintForUser(mint, q.uid, exp, "uid", bad)
		typ = tokens.TypeSignaling
	case "chat":
		if q.uid != "" {
			m, err = tokens.MintForUser(a.minter.ChatUser, q.uid, exp, "uid", bad)
			typ = tokens.TypeChatUser
		} else {
			if len(*bad) == 0 {
				m, err = a.minter.ChatApp(exp)
			}
			typ = tokens.TypeChatApp
		}
	default:
		bad.Add("tokenType", "must be rtc, rtm or chat (got "+quote(q.tokenType)+")")
	}
	return mintAnswer{gin.H{"token": m.Token}, []string{typ}}, bad.Merge(err, getTokenNames)
}
