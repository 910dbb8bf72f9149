package api

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"signaling-auth/origin"
)

// ctxRequestID is the gin context key holding the request ID.
const ctxRequestID = "requestID"

// requestID takes a sane X-Request-Id from the caller (a proxy's, so logs
// line up) or makes one, and echoes it in the answer.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !validRequestID(id) {
			id = rand.Text()
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// routeLabel is the route pattern from the route table (never the raw path:
// that holds user IDs, a client could put a token there, and every distinct
// path would be a series of its own), one label for both slash forms, and
// "unmatched" for every request no route took.
func routeLabel(c *gin.Context) string {
	r := c.FullPath()
	if r == "" {
		return "unmatched"
	}
	if len(r) > 1 {
		r = strings.TrimSuffix(r, "/")
	}
	return r
}

// observe writes the one access-log record per request and the request
// metrics. clientIP gives the address logged (the same one rate limits use).
func observe(log *slog.Logger, m *metrics, clientIP func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		elapsed := time.Since(start)
		route, status := routeLabel(c), c.Writer.Status()
		m.requests.WithLabelValues(route, methodLabel(c.Request.Method), strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("latency", elapsed),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("client_ip", clientIP(c)),
		)
	}
}

// recovery turns a panic into a 500 problem and an error record, so one bad
// request cannot take the server down or leave the client without an answer.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic", "request_id", c.GetString(ctxRequestID), "route", routeLabel(c),
					"panic", r, "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					writeProblem(c, http.StatusInternalServerError, "the server hit a bug; the request ID is in the logs")
				}
				c.Abort()
			}
		}()
		c.Next()
	}
}

// limitBody refuses bodies over max: at once when Content-Length says so,
// else when the handler reads past the limit (decodeJSON turns that into 413).
func limitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			writeProblem(c, http.StatusRequestEntityTooLarge,
				"request body must be at most "+strconv.FormatInt(max, 10)+" bytes")
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}

// noStore keeps tokens out of every cache between us and the client.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// TokenModeHeader on every answer of a token route says whether the token
// server signs with a real App Certificate ("live") or with a random pair made
// for this run ("demo"), so a page learns demo mode from the token server
// itself, however it is wired. It says nothing secret: /readyz says the same.
const TokenModeHeader = "Token-Mode"

func (a *API) tokenMode(c *gin.Context) {
	c.Header(TokenModeHeader, Mode(a.demo))
	c.Next()
}

// newCORS wraps gin-contrib/cors for deployments without corsproxy. The
// origins are matched by package origin, the same rules corsproxy uses, as
// the config parsed them. The wrapper fixes three things the library gets
// wrong for us: it answers every OPTIONS that carries Origin as a preflight (a
// preflight also carries Access-Control-Request-Method), it answers a
// disallowed origin with a bare 403 (we send no CORS headers and let the
// browser block, like corsproxy), and with "*" it omits Vary: Origin (caches
// must still key on Origin).
func newCORS(list origin.List) gin.HandlerFunc {
	allowAll := list.AllowsAny()
	cfg := cors.Config{
		AllowMethods: []string{http.MethodGet, http.MethodPost},
		AllowHeaders: []string{"Content-Type", "X-Requested-With", "Authorization", "X-API-Key", "X-Request-Id"},
		// Retry-After and RateLimit-* let a page back off on 429; Token-Mode
		// tells it demo mode.
		ExposeHeaders: []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", TokenModeHeader},
		MaxAge:        10 * time.Minute,
	}
	if allowAll {
		cfg.AllowAllOrigins = true
	} else {
		cfg.AllowOriginFunc = list.Allows
	}
	lib := cors.New(cfg)
	return func(c *gin.Context) {
		addVaryOrigin(c.Writer.Header())
		from := c.GetHeader("Origin")
		if from == "" || !list.Allows(from) {
			c.Next()
			return
		}
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") == "" {
			// Not a preflight: an ordinary OPTIONS request, routed as such (405).
			if allowAll {
				c.Header("Access-Control-Allow-Origin", "*")
			} else {
				c.Header("Access-Control-Allow-Origin", from)
			}
			c.Next()
			return
		}
		lib(c)
		addVaryOrigin(c.Writer.Header())
		if !c.IsAborted() {
			c.Next()
		}
	}
}

func addVaryOrigin(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Origin") {
				return
			}
		}
	}
	h.Add("Vary", "Origin")
}
