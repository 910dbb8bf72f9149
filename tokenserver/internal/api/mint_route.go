package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/auth"
	"signaling-auth/tokenserver/internal/tokens"
)

// Every route that hands out a token is registered as a mintRoute (routes.go),
// so none can skip the user ID binding or the per-user-ID limit:
// TestEveryMintingRouteBindsAndLimits walks the router and fails on a route
// that does.

// user is a user ID a request asks a token for, and the request field that
// names it.
type user struct {
	field, id string
	anyUser   bool // RTC uid 0: a token any user may join with
}

// rtcUser is the user an RTC uid or account field names; byUID says the
// field holds a uid when it is numeric, which is then spelt as the token
// carries it ("007" is user "7").
func rtcUser(field, s string, byUID bool) user {
	if n, ok := tokens.RTCUID(s); byUID && ok {
		return user{field: field, id: strconv.FormatUint(uint64(n), 10), anyUser: n == 0}
	}
	return user{field: field, id: s}
}

// mintRequest is a decoded request of a route that hands out tokens.
type mintRequest interface {
	// users lists the user IDs its tokens would carry; app reports a chat
	// app token, which carries none.
	users() (users []user, app bool)
	// asks is what the audit log says it asks for (audit.go).
	asks(route string, e tokens.Limits) (kind, channel string, expire uint32)
}

// mintAnswer is a successful answer: its JSON body and the token types it holds
// (counted in tokenserver_tokens_minted_total).
type mintAnswer struct {
	body  any
	types []string
}

// mintRoute is the handler of every route that hands out a token. It decodes
// the request once (decode answers the client itself and returns false when
// the request is unusable), admits its users (403, 429), then mints. mint
// adds bad fields to bad, named as the request names them (400), and returns
// only errors that are not about parameters (500).
func mintRoute[R mintRequest](a *API, decode func(*gin.Context) (R, bool), mint func(R, *params) (mintAnswer, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := decode(c)
		if !ok {
			return
		}
		a.auditAsked(c, r)
		if !a.admit(c, r) {
			return
		}
		var bad params
		_, span := a.tracer.Start(c.Request.Context(), "mint")
		ans, err := mint(r, &bad)
		span.End()
		if err := bad.Merge(err, nil); err != nil {
			// Not a parameter problem: the engine failed. Its message never
			// carries the certificate (contract), but we still keep it to the log.
			a.log.Error("minting failed", "request_id", c.GetString(ctxRequestID), "route", routeLabel(c), "err", err)
			writeProblem(c, http.StatusInternalServerError, "the token could not be built")
			return
		}
		if len(bad) > 0 {
			badRequest(c, bad)
			return
		}
		for _, t := range ans.types {
			a.metrics.minted.WithLabelValues(t).Inc()
		}
		auditMinted(c, ans.types)
		c.JSON(http.StatusOK, ans.body)
	}
}

// admit lets r's users through or answers the refusal and returns false: a
// bound (JWT) caller must be each of them (403), then each goes through
// rate_limit.per_uid (429).
func (a *API) admit(c *gin.Context, r mintRequest) bool {
	caller := callerOf(c)
	limitUIDs := a.limiter != nil && !a.perUID.IsZero()
	if !caller.Bound() && !limitUIDs {
		return true
	}
	users, app := r.users()
	if caller.Bound() {
		if e := bindingProblem(caller, users, app); e != nil {
			a.metrics.authRefused.WithLabelValues("403").Inc()
			c.Header("WWW-Authenticate", a.auth.Challenge(e))
			auditRefused(c, "binding", e.Reason)
			writeProblem(c, e.Status, e.Reason)
			return false
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
				return false
			}
			a.noteLimit(c, d.Result)
		}
	}
	return true
}

// bindingProblem is the 403 for a JWT caller asking beyond its own user ID.
func bindingProblem(caller auth.Caller, users []user, app bool) *auth.Error {
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
