// Package limit is the proxy's per-client-IP rate limit: a middleware that
// sits after CORS (so a 429 carries the CORS headers and the page can read
// it) and before anything reaches the upstream. Preflights never get here:
// the CORS layer answers them itself, at no cost to the upstream.
//
// The bucket logic, the stores and the client address rule come from the
// shared module signaling-auth/ratelimit; this package only turns a refusal
// into the proxy's problem JSON.
package limit

import (
	"net/http"
	"strconv"

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
			d := o.Limiter.Allow(r.Context(), "ip:"+clientip.Key(o.Clients.ClientIP(r)), o.PerIP)
			if d.StoreErr != nil && o.Observer != nil {
				o.Observer.RateLimitStoreError()
			}
			switch {
			case d.Allowed:
				ratelimit.SetHeaders(w.Header(), d.Result)
				next.ServeHTTP(w, r)
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
		})
	}
}
