package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// The compatible routes answer exactly what agora-token-service and the Node
// token server answer on success ({"rtmToken": ...} and so on), so their
// clients need no change. Errors are problem JSON: those servers answered
// {"error"|"message": ...} with 400 or 500, which clients can only show.

// handlePing answers the liveness call both existing servers have.
func (a *API) handlePing() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "pong"})
	}
}

// mintFailed answers 400 for bad parameters (ours and the engine's), 500 for
// anything else, and reports whether it did.
func (a *API) mintFailed(c *gin.Context, bad params, err error, names map[string]string) bool {
	if err := bad.merge(err, names); err != nil {
		// Not a parameter problem: the engine failed. Its message never
		// carries the certificate (contract), but we still keep it to the log.
		a.log.Error("minting failed", "request_id", c.GetString(ctxRequestID), "route", routeLabel(c), "err", err)
		writeProblem(c, http.StatusInternalServerError, "the token could not be built")
		return true
	}
	if len(bad) > 0 {
		badRequest(c, bad)
		return true
	}
	return false
}

// handleRTM serves GET /rtm/:uid/?expiry=N → {"rtmToken"}: the Signaling
// login token the original web sample asks for.
func (a *API) handleRTM() gin.HandlerFunc {
	return a.handleUserToken(a.minter.Signaling, typeSignaling, "rtmToken")
}

// handleUserToken serves a route that mints one token for the :uid path
// parameter with ?expiry=N, and answers {key: token}.
func (a *API) handleUserToken(mint userMinter, minted, key string) gin.HandlerFunc {
	names := map[string]string{"expire": "expiry"}
	return func(c *gin.Context) {
		var bad params
		exp := a.expiry.fromQuery(c, "expiry", &bad)
		m, err := mintForUser(mint, c.Param("uid"), exp, "uid", &bad)
		if a.mintFailed(c, bad, err, names) {
			return
		}
		a.metrics.minted.WithLabelValues(minted).Inc()
		c.JSON(http.StatusOK, gin.H{key: m.Token})
	}
}

// rtcFromPath reads an rtcRequest from the path; uidParam names the path
// parameter holding the RTC uid or account.
func (a *API) rtcFromPath(c *gin.Context, uidParam string, bad *params) rtcRequest {
	r := rtcRequest{channel: c.Param("channel"), uidName: uidParam}
	r.role = parseRole(c.Param("role"), "role", bad)
	switch tt := c.Param("tokentype"); tt {
	case "uid":
		r.byUID = true
		r.uid = parseRTCUID(c.Param(uidParam), uidParam, bad)
	case "userAccount":
		r.account = c.Param(uidParam)
	default:
		bad.add("tokentype", "must be uid or userAccount (got "+quote(tt)+")")
		r.byUID = true // placeholder; the engine still checks the channel
	}
	r.expire = a.expiry.fromQuery(c, "expiry", bad)
	return r
}

// handleRTC serves GET /rtc/:channel/:role/:tokentype/:uid/?expiry=N → {"rtcToken"}.
func (a *API) handleRTC() gin.HandlerFunc {
	names := map[string]string{"expire": "expiry", "privilegeExpire": "expiry"}
	return func(c *gin.Context) {
		var bad params
		r := a.rtcFromPath(c, "uid", &bad)
		m, err := r.mint(a.minter, &bad)
		if a.mintFailed(c, bad, err, names) {
			return
		}
		a.metrics.minted.WithLabelValues(typeRTC).Inc()
		c.JSON(http.StatusOK, gin.H{"rtcToken": m.Token})
	}
}

// handleRTE serves GET /rte/:channel/:role/:tokentype/:rtcuid/[:rtmuid/] →
// {"rtcToken", "rtmToken"}: two tokens, as agora-token-service gives. Without
// rtmuid the Signaling user is the RTC uid, which then must not be 0 (anyone).
func (a *API) handleRTE() gin.HandlerFunc {
	rtcNames := map[string]string{"uid": "rtcuid", "expire": "expiry", "privilegeExpire": "expiry"}
	rtmNames := map[string]string{"uid": "rtmuid", "expire": "expiry"}
	// Without rtmuid, a Signaling complaint is about the rtcuid the client sent.
	rtmFromRTC := map[string]string{"uid": "rtcuid", "expire": "expiry"}
	return func(c *gin.Context) {
		var bad params
		r := a.rtcFromPath(c, "rtcuid", &bad)
		rtmUID, explicit := c.Params.Get("rtmuid")
		names, rtmName := rtmNames, "rtmuid"
		if !explicit {
			rtmUID, names, rtmName = c.Param("rtcuid"), rtmFromRTC, "rtcuid"
			if r.byUID && r.uid == 0 && !bad.has("rtcuid") {
				bad.add("rtmuid", `required when rtcuid is 0 (any user): a Signaling user ID cannot be "0"`)
			}
		}
		rtc, err := r.mint(a.minter, &bad)
		if err := bad.merge(err, rtcNames); err != nil {
			a.mintFailed(c, bad, err, nil)
			return
		}
		rtm, err := mintForUser(a.minter.Signaling, rtmUID, r.expire, rtmName, &bad)
		if a.mintFailed(c, bad, err, names) {
			return
		}
		a.metrics.minted.WithLabelValues(typeRTC).Inc()
		a.metrics.minted.WithLabelValues(typeSignaling).Inc()
		c.JSON(http.StatusOK, gin.H{"rtcToken": rtc.Token, "rtmToken": rtm.Token})
	}
}

// handleChatApp serves GET /chat/app/?expiry=N → {"chatToken"} (app privileges).
func (a *API) handleChatApp() gin.HandlerFunc {
	names := map[string]string{"expire": "expiry"}
	return func(c *gin.Context) {
		var bad params
		exp := a.expiry.fromQuery(c, "expiry", &bad)
		var m accesstoken.Minted
		var err error
		if len(bad) == 0 {
			m, err = a.minter.ChatApp(exp)
		}
		if a.mintFailed(c, bad, err, names) {
			return
		}
		a.metrics.minted.WithLabelValues(typeChatApp).Inc()
		c.JSON(http.StatusOK, gin.H{"chatToken": m.Token})
	}
}

// handleChatUser serves GET /chat/account/:uid/?expiry=N → {"chatToken"}.
func (a *API) handleChatUser() gin.HandlerFunc {
	return a.handleUserToken(a.minter.ChatUser, typeChatUser, "chatToken")
}

// handleGetToken serves POST /getToken {tokenType, channel, role, uid, expire}
// → {"token"}, agora-token-service's JSON API. As there: a numeric uid gives
// an RTC uid token, any other an account token; a missing role means
// subscriber; expire 0 or absent means the default; chat without uid is an
// app token. Unlike there, a bad role or an over-long expiry is refused.
func (a *API) handleGetToken() gin.HandlerFunc {
	names := map[string]string{"privilegeExpire": "expire"}
	return func(c *gin.Context) {
		var tokenType, channel, role, uid string
		var expire *int64
		if !decodeJSON(c,
			jsonField{"tokenType", &tokenType}, jsonField{"channel", &channel},
			jsonField{"role", &role}, jsonField{"uid", &uid}, jsonField{"expire", &expire}) {
			return
		}
		var bad params
		exp := a.expiry.fromJSON(expire, true, "expire", &bad)
		var (
			m      accesstoken.Minted
			err    error
			minted string
		)
		switch tokenType {
		case "rtc":
			r := rtcRequest{channel: channel, role: accesstoken.RoleSubscriber, expire: exp, uidName: "uid"}
			if role != "" {
				r.role = parseRole(role, "role", &bad)
			}
			switch {
			case uid == "":
				bad.add("uid", "required for tokenType rtc (a number for a uid token, else a user account)")
				r.byUID = true
			case isRTCUID(uid):
				r.byUID, r.uid = true, parseRTCUID(uid, "uid", &bad)
			default:
				r.account = uid
			}
			m, err = r.mint(a.minter, &bad)
			minted = typeRTC
		case "rtm":
			if channel != "" {
				// agora-token-service adds stream-channel privileges for a channel;
				// this server does not build those, and a token without them would fail later.
				bad.add("channel", "stream-channel RTM tokens are not supported; leave channel out")
			}
			m, err = mintForUser(a.minter.Signaling, uid, exp, "uid", &bad)
			minted = typeSignaling
		case "chat":
			if uid != "" {
				m, err = mintForUser(a.minter.ChatUser, uid, exp, "uid", &bad)
				minted = typeChatUser
			} else {
				if len(bad) == 0 {
					m, err = a.minter.ChatApp(exp)
				}
				minted = typeChatApp
			}
		default:
			bad.add("tokenType", "must be rtc, rtm or chat (got "+quote(tokenType)+")")
		}
		if a.mintFailed(c, bad, err, names) {
			return
		}
		a.metrics.minted.WithLabelValues(minted).Inc()
		c.JSON(http.StatusOK, gin.H{"token": m.Token})
	}
}
