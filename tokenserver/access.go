package main

import (
	"fmt"
	"log/slog"
	"net"
	"strings"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/tokenserver/internal/auth"
	"signaling-auth/tokenserver/internal/config"
)

const openWarning = "auth.mode is none and the server listens beyond loopback: anyone who can reach it gets a token for any user ID. Put it behind your own authentication or set auth.mode to api_key or jwt (docs/security.md: Securing the token server)."

// security is what serve builds from auth.* and rate_limit.*.
type security struct {
	auth    *auth.Authenticator
	limiter *ratelimit.Limiter // nil when both limits are off
	summary string             // for the listening record
	close   func()
}

func newSecurity(cfg config.Config, log *slog.Logger) (security, error) {
	a, err := auth.New(cfg.Auth.Options(log))
	if err != nil {
		return security{}, err
	}
	s := security{auth: a, close: func() {}}
	rl := cfg.RateLimit
	if rl.PerIP.IsZero() && rl.PerUID.IsZero() {
		s.summary = "off"
		return s, nil
	}
	var store ratelimit.Store
	switch rl.Store {
	case "redis":
		rs, err := redis.New(redis.Options{URL: rl.RedisURL.Reveal(), Timeout: rl.RedisTimeout, Prefix: prog + ":"})
		if err != nil {
			return security{}, fmt.Errorf("rate_limit.redis_url: %v", err)
		}
		store, s.close = rs, func() { _ = rs.Close() }
	default:
		store = memory.New(memory.Options{MaxKeys: rl.MaxKeys})
	}
	s.limiter = ratelimit.New(ratelimit.Options{
		Store: store, OnStoreError: rl.OnStoreError, Timeout: rl.RedisTimeout, Name: prog, Logger: log,
	})
	s.summary = fmt.Sprintf("per_ip %s, per_uid %s, store %s", rl.PerIP, rl.PerUID, rl.Store)
	return s, nil
}

// loopbackOnly reports whether addr accepts connections from this machine only.
func loopbackOnly(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return strings.HasPrefix(addr.Network(), "unix")
	}
	return tcp.IP.IsLoopback()
}
