package api

// The native /v1 routes' JSON: the body of POST /v1/tokens and the handler of
// POST /v1/tokens/inspect (the doctor's is diagnose.go). The token service
// itself is package tokens.

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/tokens"
)

// mintBody is the body of POST /v1/tokens: the token service's request,
// read from JSON.
type mintBody struct{ tokens.MintRequest }

// decodeMintRequest reads the body of POST /v1/tokens.
func decodeMintRequest(c *gin.Context) (mintBody, bool) {
	var q mintBody
	ok := decodeJSON(c, strictBody, q.fields()...)
	return q, ok
}

// fields are the members of a MintRequest's JSON body.
func (q *mintBody) fields() []jsonField {
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
type privilegeField struct{ dst **tokens.PrivilegeExpiresIn }

func (f privilegeField) decode(raw json.RawMessage) string {
	var p tokens.PrivilegeExpiresIn
	if reason := strictObject(raw, &p, "must be an object {join, publishAudio, publishVideo, publishData} of whole seconds"); reason != "" {
		return reason
	}
	*f.dst = &p
	return ""
}

func (q mintBody) users() ([]user, bool) {
	switch q.Type {
	case tokens.TypeChatApp:
		return nil, true
	case tokens.TypeRTC:
		return []user{rtcUser("uid", q.UID, true)}, false
	case tokens.TypeRTE, tokens.TypeConvoAI, tokens.TypeSTT:
		rtm := q.RTMUID
		if rtm == "" {
			rtm = q.UID
		}
		return []user{rtcUser("uid", q.UID, true), {field: "rtmUid", id: rtm}}, false
	}
	return []user{{field: "uid", id: q.UID}}, false
}

// mintNative answers POST /v1/tokens with a MintResponse.
func (a *API) mintNative(q mintBody, bad *params) (mintAnswer, error) {
	resp, invalid, err := tokens.Mint(a.minter, a.expiry, q.MintRequest)
	*bad = append(*bad, invalid...)
	resp.Mode = Mode(a.demo)
	return mintAnswer{resp, []string{q.Type}}, err
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
		out := tokens.Inspect(t, a.minter, a.now())
		out.Mode = Mode(a.demo)
		c.JSON(http.StatusOK, out)
	}
}
