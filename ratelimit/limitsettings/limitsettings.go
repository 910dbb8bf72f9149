// Package limitsettings holds the rate_limit.* configuration keys every
// program with a limiter shares — the store, Redis, the failure policy and
// the burst — and loads them through package settings, so the programs'
// config packages describe only their own limits.
package limitsettings

import (
	"strings"
	"time"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/settings"
)

// Keys are the shared rate_limit.* keys; each program adds its own rates.
var Keys = []settings.Key{
	{Name: "rate_limit.burst", Kind: settings.Int, Default: "40", Doc: "Requests a client may make at once before the rate applies."},
	{Name: "rate_limit.store", Kind: settings.String, Default: "memory", Doc: "memory (this process) or redis (shared by every replica behind a load balancer)."},
	{Name: "rate_limit.redis_url", Kind: settings.String, Doc: "redis store: redis://[user:password@]host:port/db or rediss://...\nKeep a password out of this file: use the environment."},
	{Name: "rate_limit.redis_timeout", Kind: settings.Duration, Default: "250ms", Doc: "redis store: longest wait for Redis per request; then on_store_error applies."},
	{Name: "rate_limit.on_store_error", Kind: settings.String, Default: "allow", Doc: "When the store fails: allow (requests pass unlimited, logged) or deny (503)."},
	{Name: "rate_limit.max_keys", Kind: settings.Int, Default: "100000", Doc: "memory store: most clients tracked; the least recently seen go first."},
}

// StoreConfig is where the limits are counted and what happens when that fails.
type StoreConfig struct {
	Store        string          // memory or redis
	RedisURL     settings.Secret // may hold a password
	RedisTimeout time.Duration
	OnStoreError ratelimit.Policy
	MaxKeys      int
}

// Load reads Keys: the store and the burst every rate of the program uses.
func Load(vs *settings.Values) (s StoreConfig, burst int) {
	s = StoreConfig{
		Store:        vs.OneOf("rate_limit.store", "memory", "redis"),
		RedisURL:     vs.Secret("rate_limit.redis_url"),
		RedisTimeout: vs.Duration("rate_limit.redis_timeout", time.Millisecond, 10*time.Second),
		MaxKeys:      vs.Int("rate_limit.max_keys", 1000, 100_000_000),
	}
	burst = vs.Int("rate_limit.burst", 1, ratelimit.MaxBurst)
	switch {
	case s.Store == "memory" && !s.RedisURL.IsZero():
		vs.Fail("rate_limit.redis_url", "set but rate_limit.store is memory, so limits are not shared; set rate_limit.store: redis")
	case s.Store == "redis" && s.RedisURL.IsZero():
		vs.Fail("rate_limit.redis_url", "required when rate_limit.store is redis")
	}
	if !s.RedisURL.IsZero() {
		// CheckURL's reasons never quote the URL, so the password stays out.
		if err := redis.CheckURL(s.RedisURL.Reveal()); err != nil {
			vs.Fail("rate_limit.redis_url", "%v", err)
		}
	}
	s.OnStoreError, _ = settings.Parsed(vs, "rate_limit.on_store_error", func(p string) (ratelimit.Policy, error) {
		return ratelimit.ParsePolicy(strings.ToLower(p))
	})
	return s, burst
}

// Rate reads one rate key (ratelimit.ParseRate: N/s, N/min, N/h or off)
// into a Limit with burst; "off" is the zero Limit.
func Rate(vs *settings.Values, key string, burst int) ratelimit.Limit {
	l, _ := settings.Parsed(vs, key, func(s string) (ratelimit.Limit, error) {
		rate, period, err := ratelimit.ParseRate(s)
		if err != nil || rate == 0 {
			return ratelimit.Limit{}, err
		}
		return ratelimit.Limit{Rate: rate, Period: period, Burst: burst}, nil
	})
	return l
}
