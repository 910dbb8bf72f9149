package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit is one token bucket: Rate requests per Period refill it and Burst is
// how many it holds, i.e. how many requests in a row a fresh client may make.
// The zero Limit means no limit.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// Bounds of what ParseRate and Check accept. They keep the arithmetic in
// int64 nanoseconds far from overflow (Period/Rate*Burst < 2^63).
const (
	MaxRate  = 1_000_000
	MaxBurst = 100_000
)

// IsZero reports whether l means "no limit".
func (l Limit) IsZero() bool { return l == Limit{} }

// Interval is the time one request's token takes to come back.
func (l Limit) Interval() time.Duration { return l.Period / time.Duration(l.Rate) }

// String writes l in ParseRate's syntax plus the burst: "10/s burst 20".
func (l Limit) String() string {
	if l.IsZero() {
		return "off"
	}
	return FormatRate(l.Rate, l.Period) + " burst " + strconv.Itoa(l.Burst)
}

// Check reports what is wrong with a non-zero l, or nil.
func (l Limit) Check() error {
	if l.IsZero() {
		return nil
	}
	switch {
	case l.Rate < 1 || l.Rate > MaxRate:
		return fmt.Errorf("rate must be 1-%d per period (got %d)", MaxRate, l.Rate)
	case l.Period != time.Second && l.Period != time.Minute && l.Period != time.Hour:
		return fmt.Errorf("period must be 1s, 1m or 1h (got %s)", l.Period)
	case l.Burst < 1 || l.Burst > MaxBurst:
		return fmt.Errorf("burst must be 1-%d (got %d)", MaxBurst, l.Burst)
	}
	return nil
}

var units = []struct {
	name string
	d    time.Duration
}{{"s", time.Second}, {"min", time.Minute}, {"h", time.Hour}}

// RateSyntax is the one-line description of what ParseRate accepts, for
// error messages and documentation.
const RateSyntax = `N/s, N/min or N/h (e.g. "10/s", "30/min"), or "off"`

// ParseRate reads a rate: "N/s", "N/min" or "N/h" with N from 1 to MaxRate,
// or "off" (rate 0, period 0). There is exactly one spelling of each rate on
// purpose: "10/m" (minute or metre?), "10" (per what?) and "0.5/s" are refused
// rather than guessed at.
func ParseRate(s string) (rate int, period time.Duration, err error) {
	s = strings.TrimSpace(s)
	if s == "off" {
		return 0, 0, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, errors.New("must be " + RateSyntax)
	}
	for _, u := range units {
		if unit != u.name {
			continue
		}
		if n == "" || strings.Trim(n, "0123456789") != "" {
			return 0, 0, errors.New("must be " + RateSyntax)
		}
		r, err := strconv.Atoi(n)
		if err != nil || r < 1 || r > MaxRate {
			return 0, 0, fmt.Errorf("the count must be 1-%d (or the whole rate \"off\")", MaxRate)
		}
		return r, u.d, nil
	}
	return 0, 0, errors.New("must be " + RateSyntax)
}

// FormatRate is the inverse of ParseRate.
func FormatRate(rate int, period time.Duration) string {
	if rate == 0 {
		return "off"
	}
	for _, u := range units {
		if u.d == period {
			return strconv.Itoa(rate) + "/" + u.name
		}
	}
	return strconv.Itoa(rate) + "/" + period.String()
}
