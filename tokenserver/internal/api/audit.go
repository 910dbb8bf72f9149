package api

import (
	"signaling-auth/tokenserver/internal/tokens"

	"encoding/json"
	"io"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// The audit log answers "who got a token for this user or channel, and on
// whose authority": one JSON line per token request that was minted or
// refused by a gate (authentication, user ID binding, rate limit). A request
// that fails validation (400) or the engine (500) hands out nothing and is
// only in the access log. The line never holds a token, a credential or the
// certificate: callers are named by API key ID (auth.KeyIDOf) or JWT sub and
// iss. The fields are AuditRecord's, documented in docs/operations.md.

// AuditRecord is one line of the audit log. Every field is always present
// (empty when unknown, e.g. the user IDs of a request refused before its body
// was read), so the shape is the same for every line.
type AuditRecord struct {
	Time      string `json:"time"`       // RFC 3339, UTC, milliseconds
	RequestID string `json:"request_id"` // as in the access log, X-Request-Id and problem answers
	Outcome   string `json:"outcome"`    // minted or refused
	Gate      string `json:"gate"`       // refused: auth, binding or limit; minted: ""
	Reason    string `json:"reason"`     // refused: what the client was told
	Status    int    `json:"status"`
	Caller    string `json:"caller"` // none, api_key or jwt
	KeyID     string `json:"key_id"` // api_key: sha256: + 12 hex digits of the key's digest
	Subject   string `json:"sub"`    // jwt: sub claim
	Issuer    string `json:"iss"`    // jwt: iss claim
	ClientIP  string `json:"client_ip"`
	Method    string `json:"method"`
	Route     string `json:"route"`
	// Kind is the token asked for: signaling, rtc, rte, chat-user or chat-app.
	Kind string `json:"kind"`
	// Types are the token types handed out (tokenserver_tokens_minted_total's
	// type label); the compatible /rte route hands out rtc and signaling.
	Types         []string `json:"types"`
	Users         []string `json:"users"` // user IDs the tokens name (RTC uid or account, Signaling or Chat user)
	Channel       string   `json:"channel"`
	ExpireSeconds uint32   `json:"expire_seconds"` // lifetime asked for, after the default
}

// ctxAudit is the gin context key of the request's *auditEntry.
const ctxAudit = "audit"

// auditEntry collects what the gates and the handler learn about a request.
type auditEntry struct {
	outcome, gate, reason string
	kind, channel         string
	users, types          []string
	expire                uint32
}

// auditWriter writes whole lines, one at a time.
type auditWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// auditTokens is the first handler of every group of token routes: it
// writes the line once the request is answered, if a gate refused it or a
// token was minted.
func (a *API) auditTokens(c *gin.Context) {
	if a.audit == nil {
		c.Next()
		return
	}
	e := &auditEntry{}
	c.Set(ctxAudit, e)
	c.Next()
	if e.outcome == "" {
		return
	}
	caller := callerOf(c)
	rec := AuditRecord{
		Time:      a.now().UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		RequestID: c.GetString(ctxRequestID),
		Outcome:   e.outcome, Gate: e.gate, Reason: e.reason,
		Status: c.Writer.Status(),
		Caller: caller.Kind, KeyID: caller.KeyID, Subject: caller.Subject, Issuer: caller.Issuer,
		ClientIP: a.clientAddr(c).String(),
		Method:   c.Request.Method, Route: routeLabel(c),
		Kind: e.kind, Types: e.types, Users: e.users, Channel: e.channel, ExpireSeconds: e.expire,
	}
	if rec.Caller == "anonymous" {
		rec.Caller = "none"
	}
	if rec.Types == nil {
		rec.Types = []string{}
	}
	if rec.Users == nil {
		rec.Users = []string{}
	}
	line, err := json.Marshal(rec)
	if err == nil {
		a.audit.mu.Lock()
		_, err = a.audit.w.Write(append(line, '\n'))
		a.audit.mu.Unlock()
	}
	if err != nil {
		a.log.Error("audit log write failed", "request_id", rec.RequestID, "err", err)
	}
}

func auditOf(c *gin.Context) *auditEntry {
	if v, ok := c.Get(ctxAudit); ok {
		return v.(*auditEntry)
	}
	return nil
}

// auditRefused records that gate refused the request, telling the client reason.
func auditRefused(c *gin.Context, gate, reason string) {
	if e := auditOf(c); e != nil {
		e.outcome, e.gate, e.reason = "refused", gate, reason
	}
}

// auditAsked records what a decoded request asks for.
func (a *API) auditAsked(c *gin.Context, r mintRequest) {
	e := auditOf(c)
	if e == nil {
		return
	}
	users, _ := r.users()
	for _, u := range users {
		e.users = append(e.users, u.id)
	}
	e.kind, e.channel, e.expire = r.asks(routeLabel(c), a.expiry)
}

// auditMinted records the token types a request was given.
func auditMinted(c *gin.Context, types []string) {
	if e := auditOf(c); e != nil {
		e.outcome, e.types = "minted", types
	}
}

// asks of each request: the kind of token, its channel and lifetime. The
// lifetime is read as the mint reads it; a bad value reads as 0 (such a
// request gets 400 and no token).
func (r userPath) asks(route string, e tokens.Limits) (string, string, uint32) {
	kind := tokens.TypeSignaling
	if strings.HasPrefix(route, "/chat/") {
		kind = tokens.TypeChatUser
	}
	return kind, "", fromQueryOrZero(e, r.expiry)
}

func (r rtcPath) asks(_ string, e tokens.Limits) (string, string, uint32) {
	return tokens.TypeRTC, r.channel, fromQueryOrZero(e, r.expiry)
}

func (r rtePath) asks(_ string, e tokens.Limits) (string, string, uint32) {
	return tokens.TypeRTE, r.channel, fromQueryOrZero(e, r.expiry)
}

func (r chatAppRequest) asks(_ string, e tokens.Limits) (string, string, uint32) {
	return tokens.TypeChatApp, "", fromQueryOrZero(e, r.expiry)
}

func (q getTokenRequest) asks(_ string, e tokens.Limits) (string, string, uint32) {
	kind := map[string]string{"rtc": tokens.TypeRTC, "rtm": tokens.TypeSignaling, "chat": tokens.TypeChatUser}[q.tokenType]
	if q.tokenType == "chat" && q.uid == "" {
		kind = tokens.TypeChatApp
	}
	var bad tokens.Params
	exp := e.FromJSON(q.expire, true, "expire", &bad)
	return kind, q.channel, orZero(exp, bad)
}

func (q mintBody) asks(_ string, e tokens.Limits) (string, string, uint32) {
	var bad tokens.Params
	exp := e.FromJSON(q.ExpiresIn, false, "expiresIn", &bad)
	return q.Type, q.Channel, orZero(exp, bad)
}

func fromQueryOrZero(e tokens.Limits, vals []string) uint32 {
	var bad tokens.Params
	return orZero(e.FromQuery(vals, "expiry", &bad), bad)
}

func orZero(exp uint32, bad tokens.Params) uint32 {
	if len(bad) > 0 {
		return 0
	}
	return exp
}
