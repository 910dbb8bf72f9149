// Package iplimit is the proxy's per-client-IP rate limit, in two middlewares.
// Middleware sits after CORS (so a 429 carries the CORS headers and the page
// can read it) and before anything reaches the upstream. Preflights never
// get there, as the CORS layer answers them itself; Preflights sits before
// it and gives them a bucket of their own, PreflightFactor times the rate
// and the burst of the requests' one. A page sends at most one preflight per
// request (fewer while Access-Control-Max-Age holds), and a browser cannot
// read a refused preflight at all: it reports a CORS failure, not the 429.
// So the preflight bucket must outlast the request bucket: the page's first
// refused requests (and a few retries) are preflighted successfully and their
// 429 is read and explained, where a bucket of the same size would run dry
// with the request bucket and hide every 429 behind a CORS error. Without a
// limit, preflights cost a client nothing and could be repeated for ever to
// keep connections busy; with it, a client sending only preflights is held to
// PreflightFactor times rate_limit.per_ip.
//
// The bucket logic, the stores and the client address rule come from the
// shared module signaling-auth/ratelimit; this package only turns a refusal
// into the proxy's problem JSON.
package iplimit

import (
	"net/http"
	"strconv"
	"strings"

	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/problem"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/clientip"
)

// Observer is told about refusals and store failures, for metrics.
type Observer interface {
	RateLimited()
	RateLimitStoreError()
}

// Options configures the middleware.
type Options struct {
	Limiter *ratelimit.Limiter
	PerIP   ratelimit.Limit
	// Clients finds the client address (the peer, or X-Forwarded-For from
	// a trusted proxy).
	Clients  *clientip.Resolver
	Observer Observer // may be nil
}

// Middleware returns the rate-limiting wrapper. Allowed answers carry the
// RateLimit-Limit/-Remaining/-Reset headers; refused ones are 429 problem
// JSON with Retry-After, or 503 when the store failed and on_store_error is
// deny. It does not read or change the request otherwise.
func Middleware(o Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o.allow(w, r, "ip:") {
				next.ServeHTTP(&oneLimitWriter{ResponseWriter: w}, r)
			}
		})
	}
}

// PreflightFactor is how much larger the preflight bucket is than the
// request bucket, in rate and in burst.
const PreflightFactor = 4

// Preflights returns the preflight limit: CORS preflights (cors.IsPreflight)
// take a token from the client's preflight bucket (PreflightLimit of PerIP)
// and are refused like other requests beyond it (a browser fails a preflight
// that is not 2xx either way, so the refusal needs no CORS headers). Other
// requests pass untouched.
func Preflights(o Options) func(http.Handler) http.Handler {
	o.PerIP = PreflightLimit(o.PerIP)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !cors.IsPreflight(r) || o.allow(w, r, "preflight:") {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// PreflightLimit is the preflight bucket for a request limit: PreflightFactor
// times its rate and burst, kept within ratelimit's bounds.
func PreflightLimit(perIP ratelimit.Limit) ratelimit.Limit {
	return ratelimit.Limit{
		Rate:   min(perIP.Rate*PreflightFactor, ratelimit.MaxRate),
		Period: perIP.Period,
		Burst:  min(perIP.Burst*PreflightFactor, ratelimit.MaxBurst),
	}
}

// allow takes a token from the client's bucket named by prefix and, when
// that is refused, answers the request.
func (o Options) allow(w http.ResponseWriter, r *http.Request, prefix string) bool {
	d := o.Limiter.Allow(r.Context(), prefix+clientip.Key(o.Clients.ClientIP(r)), o.PerIP)
	if d.StoreErr != nil && o.Observer != nil {
		o.Observer.RateLimitStoreError()
	}
	switch {
	case d.Allowed:
		ratelimit.SetHeaders(w.Header(), d.Result)
		return true
	case d.StoreErr != nil:
		w.Header().Set("Retry-After", "1")
		problem.Error(w, http.StatusServiceUnavailable,
			"rate limits cannot be checked right now (rate_limit.on_store_error is deny); retry shortly")
	default:
		if o.Observer != nil {
			o.Observer.RateLimited()
		}
		ratelimit.SetHeaders(w.Header(), d.Result)
		problem.Error(w, http.StatusTooManyRequests,
			"too many requests from your address; retry after "+strconv.FormatInt(ratelimit.RetryAfterSeconds(d.Result), 10)+" s")
	}
	return false
}

// rateLimitFields are the fields SetHeaders writes on an allowed answer.
var rateLimitFields = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// oneLimitWriter keeps a forwarded answer to one set of RateLimit-* fields. The
// proxy sets its own before forwarding; an upstream that limits too (tokenserver
// does) adds a second set, which a browser would read joined ("1, 39"). When the
// answer's header is written, the set with fewer requests remaining stays: that
// is the limit the client meets first.
type oneLimitWriter struct {
	http.ResponseWriter
	settled bool
}

func (w *oneLimitWriter) settle() {
	if w.settled {
		return
	}
	w.settled = true
	h := w.ResponseWriter.Header()
	rem := h.Values("RateLimit-Remaining")
	if len(rem) < 2 {
		return
	}
	best, bestN := 0, -1
	for i, v := range rem {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && n >= 0 && (bestN < 0 || n < bestN) {
			best, bestN = i, n
		}
	}
	for _, f := range rateLimitFields {
		if vs := h.Values(f); best < len(vs) {
			h.Set(f, vs[best])
		} else if len(vs) > 0 {
			h.Set(f, vs[0])
		}
	}
}

// WriteHeader settles the fields before the final status goes out (1xx
// answers carry no such fields and pass through).
func (w *oneLimitWriter) WriteHeader(code int) {
	if code >= 200 {
		w.settle()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *oneLimitWriter) Write(b []byte) (int, error) {
	w.settle()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack (streaming,
// protocol upgrades) on the writer underneath.
func (w *oneLimitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
