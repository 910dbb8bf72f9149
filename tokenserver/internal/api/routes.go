package api

import (
	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/tokens"
)

// routes maps the whole HTTP surface. Every path is also described in
// openapi.go; TestOpenAPIMatchesRoutes fails when the two disagree.
// Only the token routes read a body; limit caps it (413).
func (a *API) routes(r *gin.Engine, limit gin.HandlerFunc) {
	// Open to everyone, always: probes, scrapers and documentation.
	r.GET("/healthz", a.handleHealthz())
	r.GET("/readyz", a.handleReadyz())
	r.GET("/metrics", a.handleMetrics())
	r.GET("/openapi.json", a.handleOpenAPI())
	both(r, "GET", "/ping", a.handlePing())

	// Everything that hands out a token, behind the per-IP limit and caller
	// authentication (gates.go), and then, as a mintRoute, the user ID
	// binding and the per-user-ID limit (mint_route.go); each minted or
	// refused token is a line of the audit log (audit.go).
	gated := r.Group("", a.auditTokens, limit, noStore, a.tokenMode, a.limitIP, a.authenticate)

	// Compatible routes: agora-token-service and the Node token server,
	// same paths and JSON, with or without the trailing slash; their errors
	// also carry error and message (compatErrors), which those clients read.
	compat := r.Group("", a.auditTokens, compatErrors, limit, noStore, a.tokenMode, a.limitIP, a.authenticate)
	both(compat, "GET", "/rtm/:uid", mintRoute(a, decodeUserPath, a.mintUser(a.minter.Signaling, tokens.TypeSignaling, "rtmToken")))
	both(compat, "GET", "/rtc/:channel/:role/:tokentype/:uid", mintRoute(a, decodeRTCPath, a.mintRTC))
	both(compat, "GET", "/rte/:channel/:role/:tokentype/:rtcuid", mintRoute(a, decodeRTEPath, a.mintRTE))
	both(compat, "GET", "/rte/:channel/:role/:tokentype/:rtcuid/:rtmuid", mintRoute(a, decodeRTEPath, a.mintRTE))
	both(compat, "GET", "/chat/app", mintRoute(a, decodeChatApp, a.mintChatApp))
	both(compat, "GET", "/chat/account/:uid", mintRoute(a, decodeUserPath, a.mintUser(a.minter.ChatUser, tokens.TypeChatUser, "chatToken")))
	both(compat, "POST", "/getToken", mintRoute(a, decodeGetToken, a.mintGetToken))

	// Native API. Inspect and diagnose hand out no token, but it is a signature oracle
	// and costs CPU: it is not left open when callers need credentials.
	gated.POST("/v1/tokens", mintRoute(a, decodeMintRequest, a.mintNative))
	ops := r.Group("", limit, noStore, a.tokenMode, a.limitIP, a.authenticate)
	ops.POST("/v1/tokens/inspect", a.handleInspect())
	ops.POST("/v1/tokens/diagnose", a.handleDiagnose())
}

// both registers path and path + "/" because gin, with redirects off, would
// otherwise answer one of them 404.
func both(r gin.IRoutes, method, path string, h gin.HandlerFunc) {
	r.Handle(method, path, h)
	r.Handle(method, path+"/", h)
}
