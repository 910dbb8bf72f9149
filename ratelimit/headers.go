package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// SetHeaders writes r as the rate-limit headers of draft-ietf-httpapi-ratelimit-headers
// in its widely deployed separate-field form (draft 06):
//
//	RateLimit-Limit      the bucket size (burst)
//	RateLimit-Remaining  requests left right now
//	RateLimit-Reset      seconds until the bucket is full again
//
// and, when r refuses the request, Retry-After (RFC 9110) in whole seconds,
// never 0 (a client told 0 retries at once). A zero Limit writes nothing.
func SetHeaders(h http.Header, r Result) {
	if r.Limit.IsZero() {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(r.Limit.Burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(r.Remaining, 0)))
	h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(r.ResetAfter), 10))
	if !r.Allowed {
		h.Set("Retry-After", strconv.FormatInt(max(ceilSeconds(r.RetryAfter), 1), 10))
	}
}

// RetryAfterSeconds is what SetHeaders writes as Retry-After.
func RetryAfterSeconds(r Result) int64 { return max(ceilSeconds(r.RetryAfter), 1) }

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}

// Tighter returns whichever of a and b a client should be told about: a
// refusal over an allowance, else the one with fewer requests left.
func Tighter(a, b Result) Result {
	switch {
	case a.Limit.IsZero():
		return b
	case b.Limit.IsZero():
		return a
	case a.Allowed != b.Allowed:
		if !a.Allowed {
			return a
		}
		return b
	case !a.Allowed:
		if a.RetryAfter >= b.RetryAfter {
			return a
		}
		return b
	case a.Remaining <= b.Remaining:
		return a
	}
	return b
}
