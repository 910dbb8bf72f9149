package api

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"signaling-auth/tokenserver/internal/tokens"
)

// operation describes one route for the OpenAPI document. The list is kept
// by hand next to routes.go on purpose: the test that compares it with gin's
// routes is what catches a route added without documentation.
type operation struct {
	method, path  string // gin syntax: /rtm/:uid
	slashOptional bool   // also served with a trailing slash
	tag, summary  string
	query         bool   // takes ?expiry=
	request       string // component schema of the JSON body, "" for none
	ok            string // component schema of the 200 answer
	okType        string // media type of the 200 answer, default application/json
	errors        []int  // problem answers besides 404/405/500
	noStore       bool   // answer carries Cache-Control: no-store
	guarded       bool   // behind caller authentication and rate limits (gates.go, mint_route.go)
}

var operations = []operation{
	{method: "GET", path: "/healthz", tag: "ops", summary: "Liveness and version", ok: "Health"},
	{method: "GET", path: "/readyz", tag: "ops", summary: "Readiness; says whether the server runs in demo mode", ok: "Ready"},
	{method: "GET", path: "/metrics", tag: "ops", summary: "Prometheus metrics", ok: "", okType: "text/plain"},
	{method: "GET", path: "/openapi.json", tag: "ops", summary: "This document", ok: ""},
	{method: "GET", path: "/ping", slashOptional: true, tag: "compatible", summary: "Liveness as the existing token servers answer it", ok: "Pong"},

	{method: "GET", path: "/rtm/:uid", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "Signaling (RTM) login token for uid", ok: "RTMToken", errors: []int{400}},
	{method: "GET", path: "/rtc/:channel/:role/:tokentype/:uid", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "RTC token for a channel", ok: "RTCToken", errors: []int{400}},
	{method: "GET", path: "/rte/:channel/:role/:tokentype/:rtcuid", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "RTC and Signaling tokens; the Signaling user is rtcuid", ok: "RTEToken", errors: []int{400}},
	{method: "GET", path: "/rte/:channel/:role/:tokentype/:rtcuid/:rtmuid", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "RTC and Signaling tokens for separate user IDs", ok: "RTEToken", errors: []int{400}},
	{method: "GET", path: "/chat/app", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "Chat token with app privileges", ok: "ChatToken", errors: []int{400}},
	{method: "GET", path: "/chat/account/:uid", slashOptional: true, tag: "compatible", query: true, noStore: true, guarded: true,
		summary: "Chat token with user privileges", ok: "ChatToken", errors: []int{400}},
	{method: "POST", path: "/getToken", slashOptional: true, tag: "compatible", request: "GetTokenRequest", noStore: true, guarded: true,
		summary: "agora-token-service's JSON API (the body is read as JSON whatever its Content-Type)", ok: "GetTokenResponse", errors: []int{400, 413}},

	{method: "POST", path: "/v1/tokens", tag: "native", request: "MintRequest", noStore: true, guarded: true,
		summary: "Mint a token", ok: "MintResponse", errors: []int{400, 413, 415}},
	{method: "POST", path: "/v1/tokens/inspect", tag: "native", request: "InspectRequest", noStore: true, guarded: true,
		summary: "Decode a token and check it against this server's app", ok: "Inspection", errors: []int{400, 413, 415}},
	{method: "POST", path: "/v1/tokens/diagnose", tag: "native", request: "DiagnoseRequest", noStore: true, guarded: true,
		summary: "Say whether Agora will accept a token for what the caller means to do, and why not", ok: "Diagnosis", errors: []int{400, 413, 415}},
}

var pathParamDoc = map[string]string{
	"uid":       "user ID (Signaling/Chat: 1-64 bytes of printable ASCII; RTC: a number 0-4294967295 for tokentype uid, else a user account)",
	"channel":   "RTC channel name",
	"role":      "publisher (or 1) or subscriber (or 2; audience is accepted too)",
	"tokentype": "uid (numeric RTC uid) or userAccount",
	"rtcuid":    "RTC uid or user account, as tokentype says",
	"rtmuid":    "Signaling user ID; defaults to rtcuid",
}

var ginParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIPath turns gin's /rtm/:uid into OpenAPI's /rtm/{uid}.
func openAPIPath(p string) string { return ginParam.ReplaceAllString(p, "{$1}") }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	integer = map[string]any{"type": "integer"}
	boolean = map[string]any{"type": "boolean"}
	dateStr = map[string]any{"type": "string", "format": "date-time"}
)

func tokenProp(field string) map[string]any {
	return obj([]string{field}, map[string]any{field: map[string]any{"type": "string", "description": "AccessToken2, starts with 007"}})
}

// openObj lets an object schema have other members (the compatible routes
// ignore them).
func openObj(o map[string]any) map[string]any {
	o["additionalProperties"] = true
	return o
}

// privSeconds is one privilegeExpiresIn member.
var privSeconds = map[string]any{"type": "integer", "minimum": 1, "description": "seconds, at most expiresIn"}

var schemas = map[string]any{
	"Problem": map[string]any{
		"type":     "object",
		"required": []string{"type", "title", "status", "detail"},
		"properties": map[string]any{
			"type": str, "title": str, "status": integer, "detail": str, "requestId": str,
			"error":         map[string]any{"type": "string", "description": "compatible routes only: detail again, for agora-token-service's clients"},
			"message":       map[string]any{"type": "string", "description": "compatible routes only: detail again, for agora-token-service's clients"},
			"invalidParams": map[string]any{"type": "array", "items": obj([]string{"name", "reason"}, map[string]any{"name": str, "reason": str})},
		},
	},
	"Health":    obj([]string{"status", "version"}, map[string]any{"status": map[string]any{"const": "ok"}, "version": str}),
	"Ready":     obj([]string{"status", "mode", "appId"}, map[string]any{"status": str, "mode": map[string]any{"enum": []string{"live", "demo"}}, "appId": str, "warning": str}),
	"Pong":      obj([]string{"message"}, map[string]any{"message": map[string]any{"const": "pong"}}),
	"RTMToken":  tokenProp("rtmToken"),
	"RTCToken":  tokenProp("rtcToken"),
	"ChatToken": tokenProp("chatToken"),
	"RTEToken":  obj([]string{"rtcToken", "rtmToken"}, map[string]any{"rtcToken": str, "rtmToken": str}),
	"GetTokenRequest": openObj(obj([]string{"tokenType"}, map[string]any{
		"tokenType": map[string]any{"enum": []string{"rtc", "rtm", "chat"}},
		"channel":   map[string]any{"type": "string", "description": "rtc: the channel; rtm: also join this stream channel (RTC join and publish-data for uid, as agora-token-service's RTM token)"},
		"role":      str,
		"uid":       map[string]any{"type": "string", "description": "rtc: a number for a uid token, else a user account; empty or absent: uid 0 (any user); chat: absent for an app token"},
		"expire":    map[string]any{"type": "integer", "description": "seconds; 0 or absent: the server's default"},
	})),
	"GetTokenResponse": tokenProp("token"),
	"MintRequest": obj([]string{"type"}, map[string]any{
		"type": map[string]any{"enum": tokens.Types, "description": "convoai and stt: the token Agora's Conversational AI and real-time STT REST APIs take " +
			"(Authorization: agora token=...), for the agent's channel and uid: RTC (the role's privileges), Signaling login for rtmUid, " +
			"then the ConvoAI (9) or STT (10) service, as npm agora-token 2.0.6's ConvoAITokenBuilder and SttTokenBuilder"},
		"uid":       str,
		"channel":   map[string]any{"type": "string", "description": "rtc, rte, convoai, stt: the channel; signaling: also join this stream channel (RTC join and publish-data for uid, as agora-token-service's RTM token)"},
		"role":      map[string]any{"enum": []string{"publisher", "subscriber", "audience", "1", "2"}},
		"rtmUid":    map[string]any{"type": "string", "description": "rte, convoai, stt: the Signaling user; defaults to uid"},
		"expiresIn": map[string]any{"type": "integer", "minimum": 1, "description": "seconds; absent: the server's default"},
		"permissions": map[string]any{
			"type": "object", "additionalProperties": false, "minProperties": 1,
			"description": "signaling only: makes an RTM2 token (service 8) limited to these resources; absent: the plain Signaling (RTM, service 2) token. " +
				"Each list holds 1-64 names of 1-64 bytes of printable ASCII (a wildcard like room-* is a name), 4096 bytes of names in all; not with channel. " +
				"RTM2 permissions need Agora's assistance to be enabled on a project: ask Agora support before relying on them.",
			"properties": map[string]any{
				"messageChannels": ref("ResourceAccess"), "streamChannels": ref("ResourceAccess"), "groupChannels": ref("ResourceAccess"),
				"serverGroups": ref("ResourceAccess"), "users": ref("ResourceAccess"),
			},
		},
		"privilegeExpiresIn": map[string]any{
			"type": "object", "additionalProperties": false,
			"description": "rtc: the token gets all four privileges (a publisher's), each lasting its own seconds, 1 to expiresIn; an absent one lasts expiresIn. As Agora's BuildTokenWithUidAndPrivilege. " +
				"convoai, stt: the lifetimes of the role's privileges (a subscriber has join only, so no publish member).",
			"properties": map[string]any{
				"join": privSeconds, "publishAudio": privSeconds, "publishVideo": privSeconds, "publishData": privSeconds,
			},
		},
	}),
	"ResourceAccess": map[string]any{
		"type": "object", "additionalProperties": false, "minProperties": 1,
		"description": "the names of one resource type that may be read and written",
		"properties": map[string]any{
			"read":  map[string]any{"type": "array", "maxItems": 64, "items": map[string]any{"type": "string", "minLength": 1, "maxLength": 64}},
			"write": map[string]any{"type": "array", "maxItems": 64, "items": map[string]any{"type": "string", "minLength": 1, "maxLength": 64}},
		},
	},
	"MintResponse": obj([]string{"token", "type", "appId", "issuedAt", "expiresAt", "mode"}, map[string]any{
		"token": str, "type": map[string]any{"enum": tokens.Types}, "appId": str, "uid": str, "channel": str, "rtmUid": str,
		"issuedAt": dateStr, "expiresAt": dateStr, "mode": map[string]any{"enum": []string{"live", "demo"}},
	}),
	"InspectRequest": obj([]string{"token"}, map[string]any{"token": str}),
	"DiagnoseRequest": obj([]string{"token"}, map[string]any{
		"token": map[string]any{"type": "string", "description": "an AccessToken2 (007) or 006 token"},
		"service": map[string]any{"enum": tokens.Services,
			"description": "what the token is for (convoai, stt: Agora's Conversational AI and real-time STT REST APIs); absent: rtc"},
		"channel": map[string]any{"type": "string", "description": "rtc, convoai, stt: required, the channel the client (or agent) joins; signaling, chat: leave it out"},
		"uid":     map[string]any{"type": "string", "description": "the numeric uid (1-4294967295) the client or agent uses, as a string; not with userAccount"},
		"userAccount": map[string]any{"type": "string",
			"description": "the string user account (rtc, convoai, stt) or user ID (signaling, chat) the client uses; not with uid; a chat app token names neither"},
		"action": map[string]any{"enum": tokens.Actions,
			"description": "rtc: join (default) or publish-audio/-video/-data; signaling: login (default); chat: user (default) or app; convoai, stt: join (default)"},
		"at": map[string]any{"type": "string", "format": "date-time", "description": "when the client uses the token (RFC 3339); absent: now"},
	}),
	"Diagnosis": obj([]string{"verdict", "findings", "signedBy", "mode"}, map[string]any{
		"verdict": map[string]any{"enum": []string{tokens.VerdictAccepted, tokens.VerdictRefused, tokens.VerdictCannotTell}},
		"findings": map[string]any{"type": "array", "description": "every reason Agora will refuse the token; docs/tokenserver.md lists the codes",
			"items": obj([]string{"code", "problem", "want", "got", "fix"}, map[string]any{
				"code": map[string]any{"enum": tokens.FindingCodes}, "problem": str, "want": str, "got": str, "fix": str,
			})},
		"signedBy":   map[string]any{"enum": []string{"primary", "secondary", "none", "unchecked"}, "description": "which configured certificate signed the token"},
		"inspection": ref("Inspection"),
		"token006": obj([]string{"version", "appId", "expiresAt", "salt", "privileges"}, map[string]any{
			"version": str, "appId": str, "expiresAt": dateStr, "salt": integer,
			"privileges": map[string]any{"type": "array", "items": obj([]string{"privilege", "name", "expire", "expiresAt"},
				map[string]any{"privilege": integer, "name": str, "expire": integer, "expiresAt": dateStr})},
		}),
		"mode": str,
	}),
	"Inspection": obj([]string{"version", "appId", "issueTs", "issuedAt", "expire", "expiresAt", "salt", "services", "appIdMatches", "signatureValid", "expired", "mode"},
		map[string]any{
			"version": str, "appId": str, "issueTs": integer, "issuedAt": dateStr, "expire": integer, "expiresAt": dateStr, "salt": integer,
			"services": map[string]any{"type": "array", "description": "every service in token order, of the ten AccessToken2 defines; one of a type this server does not know ends the list",
				"items": obj([]string{"type", "name", "privileges"}, map[string]any{
					"type":        integer,
					"name":        map[string]any{"type": "string", "description": "rtc, rtm, streaming, fpa, chat, fcdn, apaas, rtm2, convoai, stt, or unknown service type N"},
					"unreadBytes": map[string]any{"type": "integer", "description": "an unknown type only: the bytes after it, which only its type could say how to read; the signature covers them"},
					"channel":     map[string]any{"type": "string", "description": "rtc, streaming, fcdn: the channel; apaas: the room UUID"},
					"uid":         map[string]any{"type": "string", "description": "the account or user ID; apaas: the user UUID"},
					"role":        map[string]any{"type": "integer", "description": "apaas only"},
					"privileges": map[string]any{"type": "array", "items": obj([]string{"privilege", "name", "expire", "expiresAt"},
						map[string]any{"privilege": integer, "name": str, "expire": integer, "expiresAt": dateStr})},
					"permissions": map[string]any{"type": "array", "description": "rtm2 only: one entry per resource type and permission",
						"items": obj([]string{"resourceType", "resource", "permissionType", "permission", "names"}, map[string]any{
							"resourceType": integer, "resource": str, "permissionType": integer, "permission": str,
							"names": map[string]any{"type": "array", "items": str},
						})},
				})},
			"appIdMatches": boolean, "signatureValid": boolean, "expired": boolean, "mode": str,
			"unreadServices": map[string]any{"type": "integer", "description": "how many services the token declares after one of an unknown type"},
		}),
}

// securitySchemes are the two ways a caller proves itself (auth.mode
// api_key: either; jwt: bearer with a JWT).
var securitySchemes = map[string]any{
	"apiKey": map[string]any{"type": "apiKey", "in": "header", "name": "X-API-Key",
		"description": "auth.mode api_key: one of the configured API keys"},
	"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT or API key",
		"description": "auth.mode jwt: the caller's JWT (tokens only for the user ID in its uid claim); auth.mode api_key: an API key"},
}

// openAPIDocument renders the OpenAPI 3.1 document once, at start, for the
// configured auth mode; limited says rate limits are on.
func openAPIDocument(version, authMode string, limited bool) ([]byte, error) {
	problem := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{problemContentType: map[string]any{"schema": ref("Problem")}}}
	}
	errDesc := map[int]string{
		400: "invalid parameters, each named in invalidParams",
		404: "no such route", 405: "method not allowed",
		413: "request body too large", 415: "Content-Type is not application/json",
		500: "server bug",
		401: "no or bad credentials; WWW-Authenticate says which scheme",
		403: "the request asks for a user ID other than the caller's (or for no user at all)",
		429: "rate limit reached; Retry-After says when to try again",
		503: "rate limits cannot be checked (the store is down and rate_limit.on_store_error is deny)",
	}
	var security []any
	switch authMode {
	case "api_key":
		security = []any{map[string]any{"apiKey": []string{}}, map[string]any{"bearer": []string{}}}
	case "jwt":
		security = []any{map[string]any{"bearer": []string{}}}
	}
	rateHeaders := map[string]any{
		"RateLimit-Limit":     map[string]any{"schema": integer, "description": "bucket size (rate_limit.burst)"},
		"RateLimit-Remaining": map[string]any{"schema": integer, "description": "requests left right now"},
		"RateLimit-Reset":     map[string]any{"schema": integer, "description": "seconds until the bucket is full again"},
	}
	paths := map[string]any{}
	for _, op := range operations {
		o := map[string]any{
			"summary":     op.summary,
			"tags":        []string{op.tag},
			"operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", ":", "", ".", "_").Replace(op.path),
		}
		var ps []any
		for _, m := range ginParam.FindAllStringSubmatch(op.path, -1) {
			ps = append(ps, map[string]any{"name": m[1], "in": "path", "required": true, "schema": str, "description": pathParamDoc[m[1]]})
		}
		if op.query {
			ps = append(ps, map[string]any{"name": "expiry", "in": "query", "required": false,
				"schema":      map[string]any{"type": "integer", "minimum": 1},
				"description": "token lifetime in seconds; absent: the server's default; above the server's maximum: 400"})
		}
		if len(ps) > 0 {
			o["parameters"] = ps
		}
		if op.request != "" {
			o["requestBody"] = map[string]any{"required": true,
				"content": map[string]any{"application/json": map[string]any{"schema": ref(op.request)}}}
		}
		okType := op.okType
		if okType == "" {
			okType = "application/json"
		}
		okMedia := map[string]any{}
		if op.ok != "" {
			okMedia["schema"] = ref(op.ok)
		}
		ok := map[string]any{"description": "OK", "content": map[string]any{okType: okMedia}}
		if op.noStore {
			ok["headers"] = map[string]any{"Cache-Control": map[string]any{"schema": map[string]any{"const": "no-store"}}}
		}
		codes := append([]int{404, 405, 500}, op.errors...)
		if op.guarded {
			if security != nil {
				o["security"] = security
				codes = append(codes, 401)
			}
			if authMode == "jwt" && op.path != "/v1/tokens/inspect" && op.path != "/v1/tokens/diagnose" {
				codes = append(codes, 403)
			}
			if limited {
				codes = append(codes, 429, 503)
				ok["headers"] = cloneWith(rateHeaders, "Cache-Control", map[string]any{"schema": map[string]any{"const": "no-store"}})
			}
		}
		responses := map[string]any{"200": ok}
		for _, code := range codes {
			responses[strconv.Itoa(code)] = problem(errDesc[code])
		}
		if r, ok := responses["429"].(map[string]any); ok {
			responses["429"] = cloneWith(r, "headers", cloneWith(rateHeaders, "Retry-After",
				map[string]any{"schema": integer, "description": "seconds to wait"}))
		}
		if r, ok := responses["401"].(map[string]any); ok {
			responses["401"] = cloneWith(r, "headers", map[string]any{"WWW-Authenticate": map[string]any{"schema": str}})
		}
		o["responses"] = responses
		for _, p := range pathsOf(op) {
			item, _ := paths[p].(map[string]any)
			if item == nil {
				item = map[string]any{}
				paths[p] = item
			}
			op2 := o
			if strings.HasSuffix(p, "/") && p != "/" {
				op2 = cloneWith(o, "operationId", o["operationId"].(string)+"_slash")
			}
			item[strings.ToLower(op.method)] = op2
		}
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "tokenserver",
			"version":     version,
			"description": "Mints Agora AccessToken2 tokens. Compatible routes match agora-token-service and the Node token server; /v1 is the native API. Every error is application/problem+json. This server's auth.mode is " + authMode + "; /healthz, /readyz, /metrics, /openapi.json and /ping need no credentials.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": securitySchemes},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// pathsOf lists the OpenAPI paths one operation is served on.
func pathsOf(op operation) []string {
	p := openAPIPath(op.path)
	if op.slashOptional {
		return []string{p, p + "/"}
	}
	return []string{p}
}

func cloneWith(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m))
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}
