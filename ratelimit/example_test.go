package ratelimit_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"signaling-auth/ratelimit"
	"signaling-auth/ratelimit/memory"
)

// A Limiter asks its store about each request; a client gets Burst requests in a row,
// then one per Interval, and every answer carries the standard RateLimit headers.
func ExampleLimiter_Allow() {
	now := time.Unix(1_700_000_000, 0)
	store := memory.New(memory.Options{Now: func() time.Time { return now }})
	limiter := ratelimit.New(ratelimit.Options{Store: store, OnStoreError: ratelimit.OnErrorDeny, Name: "example"})

	rate, period, err := ratelimit.ParseRate("30/min")
	if err != nil {
		panic(err)
	}
	lim := ratelimit.Limit{Rate: rate, Period: period, Burst: 2}
	fmt.Println(lim, "one every", lim.Interval())
	for i := range 3 {
		d := limiter.Allow(context.Background(), "203.0.113.7", lim)
		fmt.Printf("request %d: allowed %v, remaining %d, retry after %v\n", i+1, d.Allowed, d.Remaining, d.RetryAfter)
	}
	now = now.Add(2 * time.Second)
	d := limiter.Allow(context.Background(), "203.0.113.7", lim)
	fmt.Println("2 s later: allowed", d.Allowed)

	w := httptest.NewRecorder()
	ratelimit.SetHeaders(w.Header(), d.Result)
	fmt.Println(w.Header())
	// Output:
	// 30/min burst 2 one every 2s
	// request 1: allowed true, remaining 1, retry after 0s
	// request 2: allowed true, remaining 0, retry after 0s
	// request 3: allowed false, remaining 0, retry after 2s
	// 2 s later: allowed true
	// map[Ratelimit-Limit:[2] Ratelimit-Remaining:[0] Ratelimit-Reset:[4]]
}

// Rates are written as N per second, minute or hour; anything else is refused.
func ExampleParseRate() {
	for _, s := range []string{"10/s", "30/min", "off", "10/sec"} {
		rate, period, err := ratelimit.ParseRate(s)
		fmt.Println(s, rate, period, err)
	}
	// Output:
	// 10/s 10 1s <nil>
	// 30/min 30 1m0s <nil>
	// off 0 0s <nil>
	// 10/sec 0 0s must be N/s, N/min or N/h (e.g. "10/s", "30/min"), or "off"
}
