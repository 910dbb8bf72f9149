package api

import (
	"net/http"
	"net/netip"
	"strconv"

	"github.com/gin-gonic/gin"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/tokenserver/internal/auth"
)

// The gates in front of the token routes, so only the app's own callers get
// tokens, in the order they run:
//
//	limitIP       per client IP, before anything else, so guessing API keys
//	              or tokens costs the guesser its own rate limit (429)
//	authenticate  credentials per auth.mode (401)
//	admit         in mintRoute (mint_route.go), once the request is decoded:
//	              the user IDs the token would carry; a JWT caller may only
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
		detail = "rate limits cannot be checked right now (rate_limit.on_store_error is deny); retry shortly"
		auditRefused(c, "limit", detail)
		writeProblem(c, http.StatusServiceUnavailable, detail)
		return true
	}
	a.metrics.rateLimited.WithLabelValues(limit).Inc()
	a.noteLimit(c, d.Result)
	detail += "; retry after " + strconv.FormatInt(ratelimit.RetryAfterSeconds(d.Result), 10) + " s"
	auditRefused(c, "limit", detail)
	writeProblem(c, http.StatusTooManyRequests, detail)
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
		auditRefused(c, "auth", e.Reason)
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
