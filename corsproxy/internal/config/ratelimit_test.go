package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"signaling-auth/ratelimit"
)

func TestRateLimitKeys(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // the one error line; "" means it loads
		not  string // must not appear in the error or the printed Config
		ok   func(Config) bool
	}{
		{name: "a rate per minute with a burst loads", env: map[string]string{"CORSPROXY_RATE_LIMIT_PER_IP": "30/min", "CORSPROXY_RATE_LIMIT_BURST": "5"},
			ok: func(c Config) bool {
				return c.RateLimit.PerIP == ratelimit.Limit{Rate: 30, Period: time.Minute, Burst: 5}
			}},
		{name: "off turns the limit off", args: []string{"--rate_limit.per_ip=off"}, ok: func(c Config) bool { return c.RateLimit.PerIP.IsZero() }},
		{name: "the redis store with a URL and deny loads, the password hidden", env: map[string]string{"CORSPROXY_RATE_LIMIT_STORE": "redis",
			"CORSPROXY_RATE_LIMIT_REDIS_URL": "redis://:hunter2@redis:6379/0", "CORSPROXY_RATE_LIMIT_ON_STORE_ERROR": "deny"}, not: "hunter2",
			ok: func(c Config) bool {
				return c.RateLimit.Store == "redis" && c.RateLimit.OnStoreError == ratelimit.OnErrorDeny && c.RateLimit.RedisURL.Reveal() == "redis://:hunter2@redis:6379/0"
			}},
		{name: "trusted proxies take addresses and CIDRs", env: map[string]string{"CORSPROXY_TRUSTED_PROXIES": "10.0.0.0/8, ::1"},
			ok: func(c Config) bool { return len(c.TrustedProxies) == 2 }},
		{name: "a rate without a unit is refused", args: []string{"--rate_limit.per_ip=10"},
			want: `config: rate_limit.per_ip: must be N/s, N/min or N/h (e.g. "10/s", "30/min"), or "off" (got "10")`},
		{name: "a burst of zero is refused", args: []string{"--rate_limit.burst=0"}, want: "config: rate_limit.burst: must be 1-100000 (got 0)"},
		{name: "an unknown store is refused", args: []string{"--rate_limit.store=disk"}, want: `config: rate_limit.store: must be memory or redis (got "disk")`},
		{name: "the redis store without a URL is refused", args: []string{"--rate_limit.store=redis"}, want: "config: rate_limit.redis_url: required when rate_limit.store is redis"},
		{name: "a Redis URL with the memory store is refused", env: map[string]string{"CORSPROXY_RATE_LIMIT_REDIS_URL": "redis://:hunter2@redis:6379"},
			want: "config: rate_limit.redis_url: set but rate_limit.store is memory, so limits are not shared; set rate_limit.store: redis", not: "hunter2"},
		{name: "a Redis URL that is not one is refused without its password", env: map[string]string{"CORSPROXY_RATE_LIMIT_STORE": "redis", "CORSPROXY_RATE_LIMIT_REDIS_URL": "https://:hunter2@redis"},
			want: "config: rate_limit.redis_url: must be redis://[user:password@]host:port[/db], rediss://… or unix:///path", not: "hunter2"},
		{name: "an unknown store error policy is refused", args: []string{"--rate_limit.on_store_error=retry"}, want: `config: rate_limit.on_store_error: must be allow or deny (got "retry")`},
		{name: "a Redis timeout over 10s is refused", args: []string{"--rate_limit.redis_timeout=1m"}, want: "config: rate_limit.redis_timeout: must be 1ms-10s (got 1m)"},
		{name: "a tiny key cap is refused", args: []string{"--rate_limit.max_keys=5"}, want: "config: rate_limit.max_keys: must be 1000-100000000 (got 5)"},
		{name: "a trusted proxy that is no address is refused", args: []string{"--trusted_proxies=lb.internal"}, want: `config: trusted_proxies: must be an IP address or CIDR (got "lb.internal")`},
		{name: "trusting every address is refused", args: []string{"--trusted_proxies=::/0"},
			want: `config: trusted_proxies: "::/0" trusts every address, so any client could choose its address with X-Forwarded-For; list the proxies' addresses`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env), &bytes.Buffer{})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !tt.ok(c) {
					t.Errorf("loaded %+v", c.RateLimit)
				}
			} else if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v\nwant  %s", err, tt.want)
			}
			if tt.not != "" && (strings.Contains(fmt.Sprint(err), tt.not) || strings.Contains(fmt.Sprintf("%v %+v", c, c), tt.not)) {
				t.Errorf("%q shows", tt.not)
			}
		})
	}
}
