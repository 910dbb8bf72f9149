// Package cors adds CORS (Fetch standard) to an http.Handler: it answers
// preflights itself, puts the CORS response headers on every other answer,
// and refuses origins that are not allowed.
//
// The header logic is github.com/rs/cors v1.11.1, wrapped here once. We would
// rather use github.com/jub0bs/cors (it refuses dangerous configs by itself),
// but its v1.0.2 is not served by the module proxy this project builds with,
// so Compile does that refusing for rs/cors, and the Middleware fills the few
// gaps rs/cors leaves (see Handler). Origins are parsed and matched by the
// shared module signaling-auth/origin (so tokenserver's built-in CORS means
// the same thing by the same list); the header values are rs/cors's.
package cors

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"signaling-auth/corsproxy/internal/accesslog"
	"signaling-auth/corsproxy/internal/problem"
	"signaling-auth/origin"

	rscors "github.com/rs/cors"
)

// Config is the CORS policy as configured; Compile checks it into the
// Policy that New builds on.
type Config struct {
	// AllowedOrigins are exact origins ("https://app.example.com"),
	// patterns ("https://*.example.com") or the single entry "*", as
	// package origin parses and matches them (a default port or a trailing
	// slash is dropped once, here).
	AllowedOrigins   []string
	AllowCredentials bool
	AllowedMethods   []string
	AllowedHeaders   []string
	ExposedHeaders   []string
	// MaxAge is how long browsers may cache a preflight answer; 0 sends no
	// Access-Control-Max-Age, which leaves browsers at their default (5s).
	MaxAge time.Duration
	// RejectDisallowedOrigins answers a request from an origin that is not
	// allowed with 403 instead of passing it on without CORS headers.
	RejectDisallowedOrigins bool
}

// Observer is told about CORS decisions, for metrics. Its methods must be
// safe for concurrent use.
type Observer interface {
	// Preflight is called once per preflight, with whether it was allowed.
	Preflight(allowed bool)
	// DisallowedOrigin is called for each non-preflight request from an
	// origin that is not allowed, with whether it was rejected (403).
	DisallowedOrigin(rejected bool)
}

// Middleware applies one CORS policy.
type Middleware struct {
	c       *rscors.Cors
	reject  bool
	obs     Observer
	methods []string // as given to rs/cors, for naming a refusal
}

// New returns the middleware for p. obs may be nil.
func New(p Policy, obs Observer) *Middleware {
	cfg := p.Config
	maxAge := int(cfg.MaxAge / time.Second) // 0: rs/cors sends no header
	if obs == nil {
		obs = nopObserver{}
	}
	opts := rscors.Options{
		AllowCredentials: cfg.AllowCredentials,
		AllowedMethods:   p.methods,
		AllowedHeaders:   cfg.AllowedHeaders,
		ExposedHeaders:   cfg.ExposedHeaders,
		MaxAge:           maxAge,
		// Preflights reach our gate (never the upstream) so that we
		// can reject disallowed origins and count preflights.
		OptionsPassthrough: true,
	}
	if p.origins.AllowsAny() {
		opts.AllowedOrigins = []string{origin.Any} // rs/cors then answers "*"
	} else {
		// The matching is package origin's; rs/cors echoes the origin.
		opts.AllowOriginFunc = p.origins.Allows
	}
	return &Middleware{c: rscors.New(opts), reject: cfg.RejectDisallowedOrigins, obs: obs, methods: p.methods}
}

// Handler returns next behind the CORS policy:
//
//   - A preflight (OPTIONS with Access-Control-Request-Method) is answered
//     here with 204 and never reaches next: with the Access-Control-Allow-*
//     headers if rs/cors allowed it, without them otherwise, and with 403 when
//     its origin is not allowed and RejectDisallowedOrigins is set.
//   - Any other request from an allowed origin, or without Origin, goes to
//     next with the CORS headers already set; OPTIONS without
//     Access-Control-Request-Method is such a request (Fetch does not treat it
//     as a preflight), so it is forwarded.
//   - A request from an origin that is not allowed gets no CORS headers, and
//     with RejectDisallowedOrigins a 403 problem without reaching next.
//   - Every answer carries Vary: Origin (rs/cors sets it before next runs, so
//     errors written by next carry it too).
//
// What it adds to rs/cors: a request with more than one Origin header is
// refused (rs/cors would echo all of them as separate
// Access-Control-Allow-Origin headers); Access-Control-Request-Headers is
// folded into one sorted, lower-case, de-duplicated list before rs/cors sees
// it (rs/cors only accepts the canonical form browsers send, so a gateway that
// splits or re-cases the header broke preflights); and CORS headers survive an
// upstream 1xx answer (httputil.ReverseProxy clears the header map after
// forwarding one).
//
// It does not strip CORS headers coming from next; the proxy does that.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	inner := m.c.Handler(m.gate(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header["Origin"]) > 1 {
			w.Header().Add("Vary", "Origin")
			problem.Error(w, http.StatusBadRequest, "more than one Origin header")
			return
		}
		if IsPreflight(r) {
			foldRequestHeaders(r.Header)
		}
		inner.ServeHTTP(w, r)
	})
}

// gate runs after rs/cors has set (or withheld) the CORS headers.
func (m *Middleware) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if IsPreflight(r) {
			// rs/cors's verdict is whether it set Allow-Origin.
			allowed := w.Header().Get("Access-Control-Allow-Origin") != ""
			m.obs.Preflight(allowed)
			if allowed {
				accesslog.Note(r.Context(), slog.String("cors", "allowed"))
				w.WriteHeader(http.StatusNoContent)
				return
			}
			originAllowed := origin != "" && m.c.OriginAllowed(r)
			accesslog.Note(r.Context(), slog.String("cors", "refused"), slog.String("cors_reason", m.refusal(r, originAllowed)))
			if m.reject && origin != "" && !originAllowed {
				problem.Error(w, http.StatusForbidden, disallowedOrigin(origin))
				return
			}
			// Fetch fails a preflight answered without the Allow headers;
			// the status does not matter to the browser.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin != "" && !m.c.OriginAllowed(r) {
			m.obs.DisallowedOrigin(m.reject)
			accesslog.Note(r.Context(), slog.String("cors", "refused"), slog.String("cors_reason", "origin"))
			if m.reject {
				problem.Error(w, http.StatusForbidden, disallowedOrigin(origin))
				return
			}
		}
		next.ServeHTTP(keepCORSHeaders(w), r)
	})
}

// disallowedOrigin is the detail of the 403 for origin: it names the setting
// to change.
func disallowedOrigin(origin string) string {
	return "origin " + origin + " is not allowed: it is not in cors.allowed_origins"
}

// refusal says why rs/cors refused a preflight, for the access log: "origin",
// "method" (Access-Control-Request-Method not in cors.allowed_methods) or
// "headers" (a requested header not in cors.allowed_headers). The verdict
// itself is rs/cors's; this only names the part that failed, checking the
// origin and then the method the way rs/cors does.
func (m *Middleware) refusal(r *http.Request, originAllowed bool) string {
	if !originAllowed {
		return "origin"
	}
	method := r.Header.Get("Access-Control-Request-Method")
	if method != http.MethodOptions && !slices.Contains(m.methods, method) {
		return "method"
	}
	return "headers"
}

// IsPreflight is rs/cors's own test, so that gate, rs/cors and the
// preflight rate limit (package iplimit) agree.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// Bounds on what foldRequestHeaders will normalize; a larger header is left
// as it is, and rs/cors (which reads it in bounded steps) refuses it.
const (
	maxRequestHeadersBytes = 4096
	maxRequestHeaderNames  = 64
)

// foldRequestHeaders rewrites Access-Control-Request-Headers into the single
// sorted, lower-case, duplicate-free line that rs/cors expects.
func foldRequestHeaders(h http.Header) {
	values, ok := h["Access-Control-Request-Headers"]
	if !ok {
		return
	}
	size := 0
	for _, v := range values {
		size += len(v)
	}
	if size > maxRequestHeadersBytes {
		return
	}
	names := make([]string, 0, 8)
	for _, v := range values {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.ToLower(strings.Trim(n, " \t")); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) > maxRequestHeaderNames {
		return
	}
	if len(names) == 0 {
		delete(h, "Access-Control-Request-Headers")
		return
	}
	slices.Sort(names)
	names = slices.Compact(names)
	h["Access-Control-Request-Headers"] = []string{strings.Join(names, ",")}
}

// corsHeaderKeys are the response headers rs/cors sets on a non-preflight answer.
var corsHeaderKeys = [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers", "Vary"}

// keepCORSHeaders wraps w so that the CORS headers set so far are put back on
// the final answer if something cleared them while sending a 1xx answer.
func keepCORSHeaders(w http.ResponseWriter) http.ResponseWriter {
	rw := &restoringWriter{ResponseWriter: w}
	h := w.Header()
	for i, k := range corsHeaderKeys {
		rw.saved[i] = h[k]
	}
	return rw
}

type restoringWriter struct {
	http.ResponseWriter
	saved   [len(corsHeaderKeys)][]string
	saw1xx  bool
	written bool
}

func (w *restoringWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		w.saw1xx = true
	} else if !w.written {
		w.restore()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *restoringWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.restore()
	}
	return w.ResponseWriter.Write(b)
}

func (w *restoringWriter) restore() {
	w.written = true
	if !w.saw1xx {
		return
	}
	h := w.ResponseWriter.Header()
	for i, k := range corsHeaderKeys {
		saved := w.saved[i]
		if len(saved) == 0 {
			continue
		}
		if k != "Vary" {
			if _, ok := h[k]; !ok {
				h[k] = saved
			}
			continue
		}
		// The final answer's own Vary values were copied in after the
		// clear; ours go first, as they would have without the 1xx.
		vary := slices.Clone(saved)
		for _, v := range h[k] {
			if !slices.Contains(saved, v) {
				vary = append(vary, v)
			}
		}
		h[k] = vary
	}
}

// Unwrap lets http.ResponseController (used by httputil.ReverseProxy to
// flush and to hijack for upgrades) reach the underlying writer.
func (w *restoringWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type nopObserver struct{}

func (nopObserver) Preflight(bool)        {}
func (nopObserver) DisallowedOrigin(bool) {}
