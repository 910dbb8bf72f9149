package api

// The operations routes: /healthz, /readyz, /metrics and /openapi.json.

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handleHealthz says the process is up and which build it is.
func (a *API) handleHealthz() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "version": a.version})
	}
}

// handleReadyz says whether tokens can be minted. Demo mode is ready (200, so
// compose health checks pass on a fresh machine) but says so: Agora will
// reject its tokens.
// It answers 503 while something it needs is missing (Options.Ready: no
// JWKS keys loaded yet), so a load balancer sends callers elsewhere.
func (a *API) handleReadyz() gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.ready != nil {
			if reasons := a.ready(); len(reasons) > 0 {
				writeProblem(c, http.StatusServiceUnavailable, "not ready: "+strings.Join(reasons, "; "))
				return
			}
		}
		body := gin.H{"status": "ready", "mode": Mode(a.demo), "appId": a.minter.AppID()}
		if a.demo {
			body["warning"] = "demo mode: no Agora App ID/certificate configured; tokens are signed with a random pair made for this run and Agora rejects them"
		}
		c.JSON(http.StatusOK, body)
	}
}

func (a *API) handleMetrics() gin.HandlerFunc {
	h := promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{Registry: a.metrics.reg})
	return gin.WrapH(h)
}

func (a *API) handleOpenAPI() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", a.openapi)
	}
}
