package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"signaling-auth/origin"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/auth"
	"signaling-auth/tokenserver/internal/tokens"
)

// Options is everything the HTTP layer needs; New copies what it keeps.
type Options struct {
	// Minter mints every token and checks signatures for /v1/tokens/inspect;
	// its certificate never leaves it.
	Minter *accesstoken.Minter
	// SecondaryMinter holds the project's other certificate during a
	// rotation; only the token doctor checks signatures with it. nil: none.
	SecondaryMinter *accesstoken.Minter
	// Demo says Minter holds a random pair made for this run.
	Demo          bool
	DefaultExpiry time.Duration
	MaxExpiry     time.Duration
	Origins       origin.List // empty: no CORS headers at all
	// Clients finds each request's client address: the peer, or
	// X-Forwarded-For from a trusted proxy. nil: the peer, always.
	Clients *clientip.Resolver
	// Auth checks who calls the token routes and /v1/tokens/inspect; nil
	// means anyone may (auth.mode none).
	Auth *auth.Authenticator
	// Limiter enforces PerIP and PerUID (a zero Limit is off); nil means no
	// rate limits at all.
	Limiter       *ratelimit.Limiter
	PerIP, PerUID ratelimit.Limit
	// Ready lists reasons /readyz answers 503 (say, no JWKS keys yet); nil
	// means always ready.
	Ready        func() []string
	MaxBodyBytes int64
	Version      string
	Logger       *slog.Logger
	// Audit receives the audit log, one JSON line (AuditRecord) per write;
	// nil means no audit log.
	Audit io.Writer
	// Tracer makes the span around minting; nil means none.
	Tracer trace.Tracer
	// Now tells inspect whether a token has expired; nil means time.Now.
	Now func() time.Time
	// Collectors are more metrics served on /metrics (the connection
	// limits' and the drain's, which the program around the API owns).
	Collectors []prometheus.Collector
}

// API is the tokenserver HTTP handler.
type API struct {
	engine  *gin.Engine
	minter  *accesstoken.Minter
	second  *accesstoken.Minter
	demo    bool
	expiry  tokens.Limits
	version string
	log     *slog.Logger
	metrics *metrics
	now     func() time.Time
	openapi []byte

	auth          *auth.Authenticator
	limiter       *ratelimit.Limiter
	perIP, perUID ratelimit.Limit
	clientIPs     *clientip.Resolver
	ready         func() []string
	audit         *auditWriter // nil: off
	tracer        trace.Tracer
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
	for _, l := range []ratelimit.Limit{o.PerIP, o.PerUID} {
		if err := l.Check(); err != nil {
			return nil, errors.New("api: rate limit: " + err.Error())
		}
	}
	if o.Auth == nil {
		o.Auth, _ = auth.New(auth.Options{Mode: auth.ModeNone})
	}
	a := &API{
		minter:    o.Minter,
		second:    o.SecondaryMinter,
		demo:      o.Demo,
		expiry:    tokens.Limits{DefaultExpiry: o.DefaultExpiry, MaxExpiry: o.MaxExpiry},
		version:   o.Version,
		log:       o.Logger,
		metrics:   newMetrics(o.Version, Mode(o.Demo)),
		now:       o.Now,
		auth:      o.Auth,
		limiter:   o.Limiter,
		perIP:     o.PerIP,
		perUID:    o.PerUID,
		clientIPs: o.Clients,
		ready:     o.Ready,
	}
	a.metrics.reg.MustRegister(o.Collectors...)
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider().Tracer("")
	}
	a.tracer = o.Tracer
	if o.Audit != nil {
		a.audit = &auditWriter{w: o.Audit}
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
	// The client address comes from package clientip (clientAddr), for logs
	// and limits alike; gin's own ClientIP, which trusts every proxy by
	// default, is not used.
	_ = r.SetTrustedProxies(nil)
	r.Use(requestID(), nameSpan, observe(a.log, a.metrics, func(c *gin.Context) string { return a.clientAddr(c).String() }), recovery(a.log))
	if len(o.Origins.Entries()) > 0 {
		r.Use(newCORS(o.Origins))
	}
	// Requests no route takes cost their sender the per-IP limit too, so
	// they cannot be sent for free at any rate.
	r.NoRoute(a.limitIP, func(c *gin.Context) {
		writeProblem(c, http.StatusNotFound, "no route for "+c.Request.Method+" "+quote(c.Request.URL.Path))
	})
	r.NoMethod(a.limitIP, func(c *gin.Context) {
		writeProblem(c, http.StatusMethodNotAllowed,
			c.Request.Method+" is not allowed here; allowed: "+c.Writer.Header().Get("Allow"))
	})
	a.routes(r, limitBody(o.MaxBodyBytes))
	a.engine = r

	doc, err := openAPIDocument(o.Version, a.auth.Mode(), a.limiter != nil && (!o.PerIP.IsZero() || !o.PerUID.IsZero()))
	if err != nil {
		return nil, err
	}
	a.openapi = doc
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.engine.ServeHTTP(w, r) }

// Mode is what answers, logs and metrics say about the credentials
// (tokens.Mode).
func Mode(demo bool) string { return tokens.Mode(demo) }
