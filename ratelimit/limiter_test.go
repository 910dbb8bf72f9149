package ratelimit_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
	"signaling-auth/ratelimit/redis"
	"signaling-auth/ratelimit/redistest"
)

var lim = ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 2}

func TestLimiterPassesTheStoresVerdict(t *testing.T) {
	l := ratelimit.New(ratelimit.Options{Store: memory.New(memory.Options{})})
	for i, want := range []bool{true, true, false} {
		d := l.Allow(context.Background(), "k", lim)
		if d.StoreErr != nil || d.Allowed != want {
			t.Fatalf("request %d: %+v, want allowed=%v", i+1, d, want)
		}
	}
	if d := l.Allow(context.Background(), "k", ratelimit.Limit{}); !d.Allowed {
		t.Fatal("no limit refused a request")
	}
}

// storeDown is a Redis store whose server is gone (stopped) or hangs (tarpit).
func storeDown(t *testing.T, hang bool) *redis.Store {
	t.Helper()
	url := ""
	if hang {
		url = "redis://" + redistest.Tarpit(t) + "/0"
	} else {
		srv := redistest.Start(t)
		url = srv.URL()
		srv.Stop()
	}
	s, err := redis.New(redis.Options{URL: url, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOnStoreErrorPolicy(t *testing.T) {
	tests := []struct {
		name        string
		policy      ratelimit.Policy
		hang        bool
		wantAllowed bool
		wantErr     string
	}{
		{name: "allow lets requests through when Redis is stopped", policy: ratelimit.OnErrorAllow, wantAllowed: true},
		{name: "deny refuses requests when Redis is stopped", policy: ratelimit.OnErrorDeny, wantAllowed: false},
		{name: "allow lets requests through when Redis hangs, after the store timeout", policy: ratelimit.OnErrorAllow, hang: true, wantAllowed: true, wantErr: "no answer within 200ms"},
		{name: "deny refuses requests when Redis hangs, after the store timeout", policy: ratelimit.OnErrorDeny, hang: true, wantAllowed: false, wantErr: "no answer within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testlog.Buffer
			l := ratelimit.New(ratelimit.Options{
				Store: storeDown(t, tt.hang), OnStoreError: tt.policy, Timeout: 200 * time.Millisecond,
				Name: "test", Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			// A guard far above the store timeout: hitting it means the limiter hung.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d := l.Allow(ctx, "k", lim)
			if ctx.Err() != nil {
				t.Fatal("the limiter waited for the test's 20s guard: it hangs on a broken store")
			}
			if d.StoreErr == nil || d.Allowed != tt.wantAllowed {
				t.Fatalf("decision %+v, want allowed=%v with a store error", d, tt.wantAllowed)
			}
			if tt.wantErr != "" && !strings.Contains(d.StoreErr.Error(), tt.wantErr) {
				t.Errorf("store error %q does not say %q", d.StoreErr, tt.wantErr)
			}
			if !tt.wantAllowed && d.RetryAfter != time.Second {
				t.Errorf("a refusal for a broken store says retry after %s, want 1s", d.RetryAfter)
			}
			// During the back-off the store is not asked again: same verdict, at once.
			for i := 0; i < 20; i++ {
				d2 := l.Allow(ctx, "k", lim)
				if !errors.Is(d2.StoreErr, ratelimit.ErrStoreDown) || d2.Allowed != tt.wantAllowed {
					t.Fatalf("decision %d in the back-off: %+v", i, d2)
				}
			}
			recs := logs.Records(t, "rate limit store failed")
			if len(recs) != 1 {
				t.Fatalf("%d failure records for 21 requests, want exactly 1", len(recs))
			}
			if recs[0]["level"] != "ERROR" || recs[0]["on_store_error"] != tt.policy.String() {
				t.Errorf("failure record %v", recs[0])
			}
		})
	}
}

func TestRecoveryAfterRedisComesBack(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redis.New(redis.Options{URL: srv.URL(), Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var logs testlog.Buffer
	l := ratelimit.New(ratelimit.Options{Store: s, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if d := l.Allow(context.Background(), "k", lim); d.StoreErr != nil {
		t.Fatal(d.StoreErr)
	}
	srv.Stop()
	if d := l.Allow(context.Background(), "k", lim); d.StoreErr == nil {
		t.Fatal("no store error with Redis stopped")
	}
	srv.Restart(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		d := l.Allow(context.Background(), "k", lim)
		if d.StoreErr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the limiter never used Redis again: %v", d.StoreErr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(logs.Records(t, "rate limit store recovered")); n != 1 {
		t.Errorf("%d recovery records, want 1", n)
	}
}

func TestAClientThatLeavesDoesNotMarkTheStoreDown(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redis.New(redis.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := ratelimit.New(ratelimit.Options{Store: s})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Allow(ctx, "k", lim)
	if d := l.Allow(context.Background(), "k", lim); d.StoreErr != nil {
		t.Errorf("after a cancelled request the next one skipped the store: %v", d.StoreErr)
	}
}
