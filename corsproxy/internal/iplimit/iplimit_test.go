package iplimit

import (
	"testing"
	"time"

	"signaling-auth/ratelimit"
)

func TestThePreflightBucketIsLargerAndStaysWithinTheLimiterBounds(t *testing.T) {
	tests := []struct {
		in, want ratelimit.Limit
	}{
		{ratelimit.Limit{Rate: 10, Period: time.Second, Burst: 40}, ratelimit.Limit{Rate: 40, Period: time.Second, Burst: 160}},
		{ratelimit.Limit{Rate: 1, Period: time.Hour, Burst: 1}, ratelimit.Limit{Rate: 4, Period: time.Hour, Burst: 4}},
		{ratelimit.Limit{Rate: ratelimit.MaxRate, Period: time.Second, Burst: ratelimit.MaxBurst},
			ratelimit.Limit{Rate: ratelimit.MaxRate, Period: time.Second, Burst: ratelimit.MaxBurst}},
	}
	for _, tt := range tests {
		got := PreflightLimit(tt.in)
		if got != tt.want {
			t.Errorf("PreflightLimit(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if err := got.Check(); err != nil {
			t.Errorf("PreflightLimit(%v) = %v, which the limiter refuses: %v", tt.in, got, err)
		}
	}
}
