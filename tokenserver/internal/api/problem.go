package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"
	"signaling-auth/tokenserver/internal/tokens"
)

// problemContentType is RFC 9457's media type for error bodies.
const problemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. Type is always "about:blank": the
// status code says what kind of problem it is, Title is its reason phrase,
// Detail and InvalidParams say what exactly was wrong.
type Problem struct {
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Status        int            `json:"status"`
	Detail        string         `json:"detail"`
	InvalidParams []InvalidParam `json:"invalidParams,omitempty"`
	RequestID     string         `json:"requestId,omitempty"`
	// Error and Message repeat Detail on the compatible routes, whose
	// clients read one of them (agora-token-service answers either);
	// RFC 9457 allows such extension members.
	Error   string `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

// InvalidParam names one bad request field and the rule it broke
// (tokens.InvalidParam: the token service names them as the JSON does).
type InvalidParam = tokens.InvalidParam

// ctxCompat marks a request of a compatible route (compatErrors).
const ctxCompat = "tokenserver.compat"

// compatErrors marks the requests of the compatible routes, so that every
// problem they get, from the gates in front of them too, carries error and
// message.
func compatErrors(c *gin.Context) { c.Set(ctxCompat, true) }

// writeProblem aborts the chain and answers with a problem document.
func writeProblem(c *gin.Context, status int, detail string, params ...InvalidParam) {
	p := Problem{
		Type:          "about:blank",
		Title:         http.StatusText(status),
		Status:        status,
		Detail:        detail,
		InvalidParams: params,
		RequestID:     c.GetString(ctxRequestID),
	}
	if c.GetBool(ctxCompat) {
		p.Error, p.Message = detail, detail
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen: only strings and ints
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500}`)
		status = http.StatusInternalServerError
	}
	c.Abort()
	c.Data(status, problemContentType, body)
}

// badRequest answers 400 listing every bad field.
func badRequest(c *gin.Context, params []InvalidParam) {
	detail := "the request has invalid parameters"
	if len(params) == 1 {
		detail = params[0].Name + ": " + params[0].Reason
	}
	writeProblem(c, http.StatusBadRequest, detail, params...)
}
