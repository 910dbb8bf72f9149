package api

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/tokenserver/internal/auth"
)

// The gates in front of the token routes (issue 7), in the order they run:
//
//	limitIP       per client IP, before anything else, so guessing API keys
//	              or tokens costs the guesser its own rate limit (429)
//	authenticate  credentials per auth.mode (401)
//	bindUsers     the user IDs the token would carry: a JWT caller may only
//	              ask for its own (403); then the per-user-ID limit (429)
//
// /v1/tokens/inspect gets the first two: it hands out no token, but it is a
// signature oracle and costs CPU, so it is not left open when the server
// asks callers for credentials.

// gin context keys.
const (
	ctxClientIP = "clientIP"
	ctxCaller   = "caller"
	ctxLimit    = "rateLimit" // the tightest ratelimit.Result so far
)

// clientAddr is the caller's address (see package clientip), resolved once
// per request.
func (a *API) clientAddr(c *gin.Context) netip.Addr {
	if v, ok := c.Get(ctxClientIP); ok {
		return v.(netip.Addr)
	}
	ip := a.clientIPs.ClientIP(c.Request)
	c.Set(ctxClientIP, ip)
	return ip
}

// limitIP enforces rate_limit.per_ip.
func (a *API) limitIP(c *gin.Context) {
	if a.limiter == nil || a.perIP.IsZero() {
		c.Next()
		return
	}
	d := a.limiter.Allow(c.Request.Context(), "ip:"+clientip.Key(a.clientAddr(c)), a.perIP)
	if a.refused(c, d, "ip", "too many requests from your address") {
		return
	}
	a.noteLimit(c, d.Result)
	c.Next()
}

// noteLimit keeps the tightest result of this request and writes it as the
// RateLimit-* headers (set before the handler writes its answer).
func (a *API) noteLimit(c *gin.Context, r ratelimit.Result) {
	if prev, ok := c.Get(ctxLimit); ok {
		r = ratelimit.Tighter(prev.(ratelimit.Result), r)
	}
	c.Set(ctxLimit, r)
	ratelimit.SetHeaders(c.Writer.Header(), r)
}

// refused answers a refusal and reports whether it did: 429 over the limit,
// 503 when the store failed and on_store_error is deny.
func (a *API) refused(c *gin.Context, d ratelimit.Decision, limit, detail string) bool {
	if d.StoreErr != nil {
		a.metrics.storeErrors.Inc()
	}
	if d.Allowed {
		return false
	}
	if d.StoreErr != nil {
		c.Header("Retry-After", "1")
		writeProblem(c, http.StatusServiceUnavailable,
			"rate limits cannot be checked right now (rate_limit.on_store_error is deny); retry shortly")
		return true
	}
	a.metrics.rateLimited.WithLabelValues(limit).Inc()
	a.noteLimit(c, d.Result)
	writeProblem(c, http.StatusTooManyRequests,
		detail+"; retry after "+strconv.FormatInt(ratelimit.RetryAfterSeconds(d.Result), 10)+" s")
	return true
}

// authenticate checks the caller's credentials per auth.mode.
func (a *API) authenticate(c *gin.Context) {
	caller, e := a.auth.Authenticate(c.Request)
	if e != nil {
		a.metrics.authRefused.WithLabelValues(strconv.Itoa(e.Status)).Inc()
		if e.Status == http.StatusUnauthorized {
			c.Header("WWW-Authenticate", a.auth.Challenge(e))
		}
		a.log.Debug("caller refused", "request_id", c.GetString(ctxRequestID), "route", routeLabel(c),
			"status", e.Status, "reason", e.Reason)
		writeProblem(c, e.Status, e.Reason)
		return
	}
	c.Set(ctxCaller, caller)
	c.Next()
}

func callerOf(c *gin.Context) auth.Caller {
	if v, ok := c.Get(ctxCaller); ok {
		return v.(auth.Caller)
	}
	return auth.Caller{Kind: "anonymous"}
}

// userField is a user ID a request asks a token for, and the request field
// that names it.
type userField struct {
	field, id string
	anyUser   bool // RTC uid 0: a token any user may join with
}

// bindUsers finds the user IDs the token would carry; a bound (JWT) caller
// must be each of them, then each goes through rate_limit.per_uid.
func (a *API) bindUsers(c *gin.Context) {
	caller := callerOf(c)
	limitUIDs := a.limiter != nil && !a.perUID.IsZero()
	if !caller.Bound() && !limitUIDs {
		c.Next()
		return
	}
	users, app, ok := a.requestedUsers(c)
	if !ok {
		return // answered: the body is unusable, exactly as the handler would say
	}
	if caller.Bound() {
		if e := bindingProblem(caller, users, app); e != nil {
			a.metrics.authRefused.WithLabelValues("403").Inc()
			c.Header("WWW-Authenticate", a.auth.Challenge(e))
			writeProblem(c, e.Status, e.Reason)
			return
		}
	}
	if limitUIDs {
		seen := map[string]bool{}
		for _, u := range users {
			if u.id == "" || seen[u.id] {
				continue
			}
			seen[u.id] = true
			d := a.limiter.Allow(c.Request.Context(), "uid:"+u.id, a.perUID)
			if a.refused(c, d, "uid", "too many tokens for user ID "+quote(u.id)) {
				return
			}
			a.noteLimit(c, d.Result)
		}
	}
	c.Next()
}

// bindingProblem is the 403 for a JWT caller asking beyond its own user ID.
func bindingProblem(caller auth.Caller, users []userField, app bool) *auth.Error {
	if app {
		return auth.Forbidden("chat app tokens carry no user ID; with auth.mode jwt a caller gets tokens only for its own user ID")
	}
	if len(users) == 0 {
		return auth.Forbidden("this request names no user ID; with auth.mode jwt a caller gets tokens only for its own user ID")
	}
	for _, u := range users {
		if u.anyUser {
			return auth.Forbidden(u.field + ": uid 0 lets anyone join; with auth.mode jwt a caller gets tokens only for its own user ID")
		}
		if u.id != caller.UserID {
			return auth.Forbidden(u.field + ": " + quote(u.id) + " is not the user ID in your token; you can ask tokens only for yourself")
		}
	}
	return nil
}

// requestedUsers reads the user IDs from the path or, for the JSON routes,
// the body (decoded with the handler's own decoder and field list, then put
// back for the handler). app reports a chat app token, which has no user.
// ok is false when the body was unusable and the answer is written.
func (a *API) requestedUsers(c *gin.Context) (users []userField, app, ok bool) {
	route := routeLabel(c)
	rtcUID := func(tokenType, field, s string) userField {
		if tokenType == "uid" || tokenType == "" {
			if n, err := strconv.ParseUint(s, 10, 32); err == nil && strings.Trim(s, "0123456789") == "" {
				return userField{field: field, id: strconv.FormatUint(n, 10), anyUser: n == 0}
			}
		}
		return userField{field: field, id: s}
	}
	switch route {
	case "/rtm/:uid", "/chat/account/:uid":
		return []userField{{field: "uid", id: c.Param("uid")}}, false, true
	case "/rtc/:channel/:role/:tokentype/:uid":
		return []userField{rtcUID(c.Param("tokentype"), "uid", c.Param("uid"))}, false, true
	case "/rte/:channel/:role/:tokentype/:rtcuid", "/rte/:channel/:role/:tokentype/:rtcuid/:rtmuid":
		rtc := c.Param("rtcuid")
		users = []userField{rtcUID(c.Param("tokentype"), "rtcuid", rtc)}
		if rtm, given := c.Params.Get("rtmuid"); given {
			users = append(users, userField{field: "rtmuid", id: rtm})
		} else {
			users = append(users, userField{field: "rtcuid", id: rtc}) // the Signaling user, spelt as sent
		}
		return users, false, true
	case "/chat/app":
		return nil, true, true
	case "/getToken":
		var tokenType, channel, role, uid string
		var expire *int64
		if !a.decodeTwice(c, jsonField{"tokenType", &tokenType}, jsonField{"channel", &channel},
			jsonField{"role", &role}, jsonField{"uid", &uid}, jsonField{"expire", &expire}) {
			return nil, false, false
		}
		switch {
		case tokenType == "chat" && uid == "":
			return nil, true, true
		case tokenType == "rtc" && isRTCUID(uid):
			return []userField{rtcUID("uid", "uid", uid)}, false, true
		}
		return []userField{{field: "uid", id: uid}}, false, true
	case "/v1/tokens":
		var q MintRequest
		if !a.decodeTwice(c, jsonField{"type", &q.Type}, jsonField{"uid", &q.UID}, jsonField{"channel", &q.Channel},
			jsonField{"role", &q.Role}, jsonField{"rtmUid", &q.RTMUID}, jsonField{"expiresIn", &q.ExpiresIn}) {
			return nil, false, false
		}
		switch q.Type {
		case typeChatApp:
			return nil, true, true
		case typeRTC:
			return []userField{rtcUID("", "uid", q.UID)}, false, true
		case typeRTE:
			rtm := q.RTMUID
			if rtm == "" {
				rtm = q.UID
			}
			return []userField{rtcUID("", "uid", q.UID), {field: "rtmUid", id: rtm}}, false, true
		}
		return []userField{{field: "uid", id: q.UID}}, false, true
	}
	// A token route this function does not know: name no user, which a bound
	// caller is refused for. New routes must be added above.
	return nil, false, true
}

// decodeTwice decodes the JSON body with decodeJSON (answering as the
// handler would when it is unusable) and puts the bytes back for the handler.
func (a *API) decodeTwice(c *gin.Context, fields ...jsonField) bool {
	body, err := io.ReadAll(c.Request.Body)
	c.Request.Body = replay(body, err)
	ok := decodeJSON(c, fields...)
	c.Request.Body = replay(body, err)
	return ok
}

// replay is a body that yields b and then err (a body-size error stays a
// body-size error for the next reader).
func replay(b []byte, err error) io.ReadCloser {
	var r io.Reader = bytes.NewReader(b)
	if err != nil {
		r = io.MultiReader(r, errReader{err})
	}
	return io.NopCloser(r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
