package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/iplimit"
	"signaling-auth/corsproxy/internal/metrics"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
	"signaling-auth/ratelimit/redis"
)

// limits are newHandler's rate limits; a nil one is off.
type limits struct {
	preflights func(http.Handler) http.Handler // before CORS, which answers preflights
	requests   func(http.Handler) http.Handler // after CORS, so a 429 carries its headers
}

// rateLimits builds the per-IP limits (none when rate_limit.per_ip is off)
// and what to close at shutdown.
func rateLimits(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (limits, func(), error) {
	rl := cfg.RateLimit
	if rl.PerIP.IsZero() {
		return limits{}, func() {}, nil
	}
	var store ratelimit.Store = memory.New(memory.Options{MaxKeys: rl.MaxKeys})
	closeStore := func() {}
	if rl.Store == "redis" {
		rs, err := redis.New(redis.Options{URL: rl.RedisURL.Reveal(), Timeout: rl.RedisTimeout, Prefix: "corsproxy:"})
		if err != nil {
			return limits{}, nil, fmt.Errorf("corsproxy: rate_limit.redis_url: %v", err)
		}
		store, closeStore = rs, func() { _ = rs.Close() }
	}
	lim := ratelimit.New(ratelimit.Options{Store: store, OnStoreError: rl.OnStoreError, Timeout: rl.RedisTimeout, Name: "corsproxy", Logger: log})
	o := iplimit.Options{Limiter: lim, PerIP: rl.PerIP, Clients: cfg.Clients, Observer: m}
	return limits{preflights: iplimit.Preflights(o), requests: iplimit.Middleware(o)}, closeStore, nil
}
