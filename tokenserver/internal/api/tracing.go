package api

import (
	"github.com/gin-gonic/gin"

	"signaling-auth/telemetry"
)

// nameSpan names the request's server span (made around the whole handler
// when tracing is on) by its route pattern once gin has routed it. Spans
// carry no token, credential or request body: the mint span (mintRoute) has
// only its name and timing.
func nameSpan(c *gin.Context) {
	c.Next()
	telemetry.NameSpan(c.Request, routeLabel(c))
}
