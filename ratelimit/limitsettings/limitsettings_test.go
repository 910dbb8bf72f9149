package limitsettings

import (
	"strings"
	"testing"
	"time"

	"signaling-auth/ratelimit"
	"signaling-auth/settings"
)

var program = settings.Program{Name: "t", EnvPrefix: "T_", Keys: append([]settings.Key{{Name: "rate_limit.per_ip", Default: "10/s"}}, Keys...)}

func load(t *testing.T, env map[string]string) (StoreConfig, ratelimit.Limit, error) {
	t.Helper()
	vs, err := program.Load(settings.Source{Getenv: func(k string) string { return env[k] }, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s, burst := Load(vs)
	l := Rate(vs, "rate_limit.per_ip", burst)
	return s, l, vs.Err()
}

func TestDefaultsAndOff(t *testing.T) {
	s, l, err := load(t, nil)
	want := StoreConfig{Store: "memory", RedisTimeout: 250 * time.Millisecond, OnStoreError: ratelimit.OnErrorAllow, MaxKeys: 100000}
	if err != nil || s != want || l != (ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 40}) {
		t.Errorf("defaults: %+v %v %v", s, l, err)
	}
	if _, l, err := load(t, map[string]string{"T_RATE_LIMIT_PER_IP": "off", "T_RATE_LIMIT_ON_STORE_ERROR": "DENY"}); err != nil || !l.IsZero() {
		t.Errorf("off: %v %v", l, err)
	}
}

func TestProblemsNeverShowTheRedisPassword(t *testing.T) {
	_, _, err := load(t, map[string]string{"T_RATE_LIMIT_STORE": "redis", "T_RATE_LIMIT_REDIS_URL": "http://u:pa55word@h:1", "T_RATE_LIMIT_BURST": "100001"})
	want := "config: rate_limit.burst: must be 1-100000 (got 100001)\nconfig: rate_limit.redis_url: must be redis://[user:password@]host:port[/db], rediss://… or unix:///path"
	if err == nil || err.Error() != want || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
