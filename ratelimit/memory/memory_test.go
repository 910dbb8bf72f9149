package memory

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"signaling-auth/ratelimit"
)

// clock is a hand-stepped time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func allow(t *testing.T, s *Store, key string, l ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := s.Allow(context.Background(), key, l)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var tenPerSecond = ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 5}

func TestBucket(t *testing.T) {
	c := newClock()
	s := New(Options{Now: c.now})

	// A fresh key may spend the whole burst at once, Remaining counting down.
	for i := 4; i >= 0; i-- {
		r := allow(t, s, "alice", tenPerSecond)
		if !r.Allowed || r.Remaining != i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", 5-i, r, i)
		}
	}
	r := allow(t, s, "alice", tenPerSecond)
	if r.Allowed || r.Remaining != 0 || r.RetryAfter != 100*time.Millisecond || r.ResetAfter != 500*time.Millisecond {
		t.Fatalf("sixth request: %+v, want refused, retry after 100ms, full after 500ms", r)
	}
	// Another key has its own bucket.
	if r := allow(t, s, "bob", tenPerSecond); !r.Allowed || r.Remaining != 4 {
		t.Fatalf("bob: %+v", r)
	}
	// One interval later exactly one more request passes.
	c.add(100 * time.Millisecond)
	if r := allow(t, s, "alice", tenPerSecond); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("after one interval: %+v", r)
	}
	if r := allow(t, s, "alice", tenPerSecond); r.Allowed {
		t.Fatalf("second request after one interval: %+v", r)
	}
	// A refused request costs nothing: waiting the refill time gives the whole burst back.
	c.add(500 * time.Millisecond)
	if r := allow(t, s, "alice", tenPerSecond); !r.Allowed || r.Remaining != 4 {
		t.Fatalf("after a full refill: %+v", r)
	}
}

func TestConcurrentRequestsOnOneKeyGetExactlyTheBurst(t *testing.T) {
	c := newClock() // frozen: no refill during the test
	s := New(Options{Now: c.now})
	lim := ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 50}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				r, err := s.Allow(context.Background(), "shared", lim)
				if err == nil && r.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Errorf("%d of 800 concurrent requests allowed, want exactly the burst, 50", got)
	}
}

func TestMemoryStaysBoundedUnderAFloodOfDistinctKeys(t *testing.T) {
	c := newClock()
	s := New(Options{MaxKeys: 5000, Now: c.now})
	lim := ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}
	for i := 0; i < 50_000; i++ {
		allow(t, s, "ip:"+strconv.Itoa(i), lim)
		if i%1000 == 0 && s.Len() > s.MaxKeys() {
			t.Fatalf("after %d keys: %d kept, cap %d", i+1, s.Len(), s.MaxKeys())
		}
	}
	if s.Len() > s.MaxKeys() || s.MaxKeys() < 5000 || s.MaxKeys() > 5000+64 {
		t.Fatalf("%d kept, cap %d (asked for 5000)", s.Len(), s.MaxKeys())
	}
	for i := range s.shards {
		if n := len(s.shards[i].slots); n > s.shards[i].max {
			t.Fatalf("shard %d holds %d slots, over its share %d", i, n, s.shards[i].max)
		}
	}
}

func TestAnActiveKeyIsNotEvictedByAFlood(t *testing.T) {
	c := newClock()
	s := New(Options{MaxKeys: 1000, Now: c.now})
	lim := ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 3}
	for i := 0; i < 3; i++ {
		allow(t, s, "attacker", lim)
	}
	// Ten times the capacity in fresh keys, the limited key asking between them:
	// it is the most recently used, so eviction never picks it and its bucket
	// does not reset.
	for i := 0; i < 10_000; i++ {
		allow(t, s, "flood:"+strconv.Itoa(i), lim)
		if r := allow(t, s, "attacker", lim); r.Allowed {
			t.Fatalf("the limited key was allowed again after %d flood keys: its bucket was evicted", i+1)
		}
	}
}

func TestFullBucketsExpire(t *testing.T) {
	c := newClock()
	s := New(Options{MaxKeys: 1000, Now: c.now}) // one shard
	lim := ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 10}
	for i := 0; i < 500; i++ {
		allow(t, s, "k"+strconv.Itoa(i), lim)
	}
	if s.Len() != 500 {
		t.Fatalf("%d kept, want 500", s.Len())
	}
	// A bucket with one token spent is full again after one interval; from
	// then on each request drops up to two such entries.
	c.add(time.Second)
	for i := 0; i < 300; i++ {
		allow(t, s, "new", lim)
	}
	if s.Len() != 1 {
		t.Errorf("%d kept after every old bucket refilled, want only the one in use", s.Len())
	}
}

func TestZeroLimitAlwaysAllowsAndStoresNothing(t *testing.T) {
	s := New(Options{})
	for i := 0; i < 10; i++ {
		if r := allow(t, s, "x", ratelimit.Limit{}); !r.Allowed {
			t.Fatal("refused without a limit")
		}
	}
	if s.Len() != 0 {
		t.Errorf("%d buckets kept for no limit", s.Len())
	}
	if _, err := s.Allow(context.Background(), "x", ratelimit.Limit{Rate: 1, Period: time.Second}); err == nil {
		t.Error("a limit with burst 0 was accepted")
	}
}

// TestMemoryPerKey fills a store with a million keys (fewer under the race
// detector), checks the bound holds and measures the heap each key costs.
// The figure goes into docs/security.md as "per 1M keys".
func TestMemoryPerKey(t *testing.T) {
	n := 1_000_000
	if raceEnabled || testing.Short() {
		n = 100_000
	}
	c := newClock()
	lim := ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 5}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	// Room to spare: keys spread over shards a little unevenly, and this
	// measures what n keys cost, not eviction.
	s := New(Options{MaxKeys: n + n/10, Now: c.now})
	for _, k := range keys {
		if _, err := s.Allow(context.Background(), k, lim); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keys) // else they are freed by now and the store looks smaller than it is
	if s.Len() != n {
		t.Fatalf("%d kept, want all %d (capacity %d)", s.Len(), n, s.MaxKeys())
	}
	perKey := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	t.Logf("%d keys: %.0f bytes per key, %.0f MB per 1M keys", n, perKey, perKey*1e6/(1<<20))
	// 24-byte slots plus a map slot (8-byte hash, 4-byte index, control
	// byte) with the maps' and slices' spare room; far above that means an
	// allocation per key crept in.
	if perKey > 120 {
		t.Errorf("%.0f bytes per key, want at most 120", perKey)
	}
	// Twice as many keys again: nothing more is kept.
	for i := 0; i < n; i++ {
		if _, err := s.Allow(context.Background(), "other:"+strconv.Itoa(i), lim); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() > s.MaxKeys() {
		t.Fatalf("%d kept, capacity %d", s.Len(), s.MaxKeys())
	}
	runtime.KeepAlive(s)
}

func BenchmarkAllow(b *testing.B) {
	s := New(Options{})
	lim := ratelimit.Limit{Rate: 1000, Period: time.Second, Burst: 1000}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "ip:192.0.2." + strconv.Itoa(i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = s.Allow(context.Background(), keys[i&1023], lim)
			i++
		}
	})
}
