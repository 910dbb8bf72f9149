// Package problem writes HTTP error answers as RFC 9457 problem documents
// (application/problem+json), the one error shape every corsproxy answer uses.
//
// It only sets its own headers: CORS headers already on the ResponseWriter are
// left alone, so a page can read the error it caused.
package problem

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Details is an RFC 9457 problem document.
type Details struct {
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Status        int            `json:"status"`
	Detail        string         `json:"detail,omitempty"`
	InvalidParams []InvalidParam `json:"invalidParams,omitempty"`
	// Reasons lists why a check failed (used by /readyz).
	Reasons []string `json:"reasons,omitempty"`
}

// InvalidParam names one bad input field.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// maxDetail bounds how much of a client-supplied value can be echoed back.
const maxDetail = 512

// New returns a problem of type about:blank whose title is the status text.
func New(status int, detail string) Details {
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "…"
	}
	return Details{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// Write sends p. Encoding a Details cannot fail, so there is no error to return;
// a failed write means the client is gone, which the access log records.
func Write(w http.ResponseWriter, p Details) {
	body, _ := json.Marshal(p)
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// Error writes a problem of type about:blank with the given status and detail.
func Error(w http.ResponseWriter, status int, detail string) {
	Write(w, New(status, detail))
}
