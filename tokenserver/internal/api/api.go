package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/config"
)

// Options is everything the HTTP layer needs; New copies what it keeps.
type Options struct {
	Minter *accesstoken.Minter
	// Certificate is the one Minter signs with, used only to check signatures
	// in /v1/tokens/inspect. It is never logged or returned.
	Certificate config.Secret
	// Demo says Minter holds a random pair made for this run.
	Demo           bool
	DefaultExpiry  time.Duration
	MaxExpiry      time.Duration
	AllowedOrigins []string // empty: no CORS headers at all
	TrustedProxies []string // IPs/CIDRs; empty: X-Forwarded-For is ignored
	MaxBodyBytes   int64
	Version        string
	Logger         *slog.Logger
	// Now tells inspect whether a token has expired; nil means time.Now.
	Now func() time.Time
}

// API is the tokenserver HTTP handler.
type API struct {
	engine  *gin.Engine
	minter  *accesstoken.Minter
	cert    config.Secret
	demo    bool
	expiry  expiry
	version string
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	openapi []byte
	// beforeMint runs in front of every route that hands out a token. Caller
	// authentication and rate limits (issue 7) go here; today it is empty.
	beforeMint []gin.HandlerFunc
}

// New builds the handler. It fails on options that cannot work, such as a
// missing minter or a malformed trusted proxy.
func New(o Options) (*API, error) {
	if o.Minter == nil {
		return nil, errors.New("api: no minter")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DefaultExpiry < time.Second || o.MaxExpiry < o.DefaultExpiry {
		return nil, errors.New("api: expiry defaults out of range")
	}
	if o.MaxBodyBytes <= 0 {
		return nil, errors.New("api: MaxBodyBytes must be positive")
	}
	a := &API{
		minter:  o.Minter,
		cert:    o.Certificate,
		demo:    o.Demo,
		expiry:  expiry{def: o.DefaultExpiry, max: o.MaxExpiry},
		version: o.Version,
		log:     o.Logger,
		metrics: newMetrics(o.Version, o.Demo),
		now:     o.Now,
	}

	// gin's mode is process-wide; release mode stops its debug printing to stdout.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	// Existing clients call both /rtm/alice and /rtm/alice/; both are routed
	// explicitly, and nothing is redirected (a redirect breaks CORS preflights
	// and POST bodies).
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, errors.New("api: trusted proxies: " + err.Error())
	}
	r.Use(requestID(), observe(a.log, a.metrics), recovery(a.log))
	if len(o.AllowedOrigins) > 0 {
		r.Use(newCORS(o.AllowedOrigins))
	}
	r.Use(limitBody(o.MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, http.StatusNotFound, "no route for "+c.Request.Method+" "+quote(c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, http.StatusMethodNotAllowed,
			c.Request.Method+" is not allowed here; allowed: "+c.Writer.Header().Get("Allow"))
	})
	a.routes(r)
	a.engine = r

	doc, err := openAPIDocument(o.Version)
	if err != nil {
		return nil, err
	}
	a.openapi = doc
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.engine.ServeHTTP(w, r) }

// mode is what /readyz and /v1/tokens answers say about the credentials.
func (a *API) mode() string {
	if a.demo {
		return "demo"
	}
	return "live"
}
