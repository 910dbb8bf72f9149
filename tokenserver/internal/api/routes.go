package api

import "github.com/gin-gonic/gin"

// routes maps the whole HTTP surface. Every path is also described in
// openapi.go; TestOpenAPIMatchesRoutes fails when the two disagree.
func (a *API) routes(r *gin.Engine) {
	// Open to everyone, always: probes, scrapers and documentation.
	r.GET("/healthz", a.handleHealthz())
	r.GET("/readyz", a.handleReadyz())
	r.GET("/metrics", a.handleMetrics())
	r.GET("/openapi.json", a.handleOpenAPI())
	both(r, "GET", "/ping", a.handlePing())

	// Everything that hands out a token, behind the per-IP limit, caller
	// authentication, user ID binding and the per-user-ID limit (security.go).
	mint := r.Group("", append([]gin.HandlerFunc{noStore}, a.beforeMint...)...)

	// Compatible routes: agora-token-service and the Node token server,
	// same paths and JSON, with or without the trailing slash.
	both(mint, "GET", "/rtm/:uid", a.handleRTM())
	both(mint, "GET", "/rtc/:channel/:role/:tokentype/:uid", a.handleRTC())
	both(mint, "GET", "/rte/:channel/:role/:tokentype/:rtcuid", a.handleRTE())
	both(mint, "GET", "/rte/:channel/:role/:tokentype/:rtcuid/:rtmuid", a.handleRTE())
	both(mint, "GET", "/chat/app", a.handleChatApp())
	both(mint, "GET", "/chat/account/:uid", a.handleChatUser())
	both(mint, "POST", "/getToken", a.handleGetToken())

	// Native API.
	mint.POST("/v1/tokens", a.handleMint())
	r.POST("/v1/tokens/inspect", append(append([]gin.HandlerFunc{noStore}, a.beforeInspect...), a.handleInspect())...)
}

// both registers path and path + "/" because gin, with redirects off, would
// otherwise answer one of them 404.
func both(r gin.IRoutes, method, path string, h gin.HandlerFunc) {
	r.Handle(method, path, h)
	r.Handle(method, path+"/", h)
}
