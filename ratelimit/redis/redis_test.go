package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/ratelimit/redistest"
)

func newStore(t *testing.T, url, prefix string) *redis.Store {
	t.Helper()
	s, err := redis.New(redis.Options{URL: url, Prefix: prefix, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var hourly = ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 5}

func TestTwoReplicasShareOneLimit(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newStore(t, srv.URL(), "tokenserver:"), newStore(t, srv.URL(), "tokenserver:")
	allowed := 0
	for i := 0; i < 10; i++ {
		s := a
		if i%2 == 1 {
			s = b
		}
		r, err := s.Allow(context.Background(), "ip:203.0.113.9", hourly)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed {
			allowed++
		} else if r.RetryAfter <= 0 || r.Remaining != 0 {
			t.Errorf("refusal %+v lacks a Retry-After", r)
		}
	}
	if allowed != 5 {
		t.Errorf("two replicas allowed %d requests together, want the one burst of 5", allowed)
	}
}

func TestPrefixesKeepProgramsApart(t *testing.T) {
	srv := redistest.Start(t)
	ts, cp := newStore(t, srv.URL(), "tokenserver:"), newStore(t, srv.URL(), "corsproxy:")
	for i := 0; i < 5; i++ {
		if r, err := ts.Allow(context.Background(), "ip:198.51.100.1", hourly); err != nil || !r.Allowed {
			t.Fatalf("tokenserver request %d: %+v %v", i, r, err)
		}
	}
	if r, err := cp.Allow(context.Background(), "ip:198.51.100.1", hourly); err != nil || !r.Allowed || r.Remaining != 4 {
		t.Fatalf("corsproxy's bucket was touched by tokenserver's requests: %+v %v", r, err)
	}
}

func TestRedisAndMemoryStoresCountAlike(t *testing.T) {
	srv := redistest.Start(t)
	rs := newStore(t, srv.URL(), "x:")
	ms := memory.New(memory.Options{})
	for i := 0; i < 7; i++ {
		r1, err1 := rs.Allow(context.Background(), "k", hourly)
		r2, err2 := ms.Allow(context.Background(), "k", hourly)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if r1.Allowed != r2.Allowed || r1.Remaining != r2.Remaining {
			t.Errorf("request %d: redis %+v, memory %+v", i+1, r1, r2)
		}
	}
}

func TestAStoppedRedisFailsFast(t *testing.T) {
	srv := redistest.Start(t)
	s := newStore(t, srv.URL(), "x:")
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Allow(ctx, "k", hourly); err == nil {
		t.Fatal("no error with Redis stopped")
	}
	if ctx.Err() != nil {
		t.Fatal("Allow ran into the test's own 30s guard instead of the store timeout")
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{name: "a plain redis URL is fine", url: "redis://127.0.0.1:6379/0", ok: true},
		{name: "a URL with a password is fine", url: "redis://:s3cret@redis.internal:6379", ok: true},
		{name: "TLS is fine", url: "rediss://user:s3cret@redis.example.com:6380/2", ok: true},
		{name: "a unix socket is fine", url: "unix:///run/redis.sock", ok: true},
		{name: "http is refused", url: "http://127.0.0.1:6379"},
		{name: "a bare host:port is refused", url: "127.0.0.1:6379"},
		{name: "no host is refused", url: "redis://"},
		{name: "a database that is not a number is refused", url: "redis://:s3cret@h:6379/zero"},
		{name: "an unknown option is refused", url: "redis://:s3cret@h:6379/0?frobnicate=1"},
		{name: "a malformed URL is refused", url: "redis://:s3cret@h:6379/0%zz"},
		{name: "an empty URL is refused", url: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := redis.CheckURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
			if strings.Contains(redis.Redact(tt.url), "s3cret") {
				t.Errorf("Redact shows the password: %s", redis.Redact(tt.url))
			}
		})
	}
}
