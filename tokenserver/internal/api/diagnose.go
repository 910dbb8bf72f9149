package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/tokens"
)

// diagnosis is the answer of POST /v1/tokens/diagnose.
type diagnosis struct {
	tokens.Diagnosis
	Mode string `json:"mode"`
}

// handleDiagnose serves POST /v1/tokens/diagnose {token, service, channel,
// uid, userAccount, action, at}: the token doctor (tokens.Diagnose).
func (a *API) handleDiagnose() gin.HandlerFunc {
	return func(c *gin.Context) {
		var token, at string
		var in tokens.Intent
		if !decodeJSON(c, strictBody, jsonField{"token", &token}, jsonField{"service", &in.Service},
			jsonField{"channel", &in.Channel}, jsonField{"uid", &in.UID}, jsonField{"userAccount", &in.UserAccount},
			jsonField{"action", &in.Action}, jsonField{"at", &at}) {
			return
		}
		var bad params
		in.At = a.now()
		if at != "" {
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				bad.Add("at", "must be an RFC 3339 time like 2026-01-02T15:04:05Z (got "+quote(at)+")")
			}
			in.At = t
		}
		certs := tokens.Certificates{Primary: a.minter, Secondary: a.second}
		if a.demo { // a random pair made for this run signed nothing a client holds
			certs = tokens.Certificates{}
		}
		d, invalid := tokens.Diagnose(token, in, certs)
		if bad = append(bad, invalid...); len(bad) > 0 {
			badRequest(c, bad)
			return
		}
		if d.Inspection != nil {
			d.Inspection.Mode = Mode(a.demo)
		}
		c.JSON(http.StatusOK, diagnosis{d, Mode(a.demo)})
	}
}
