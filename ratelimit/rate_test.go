package ratelimit

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantRate   int
		wantPeriod time.Duration
		wantErr    string
	}{
		{name: "requests per second", in: "10/s", wantRate: 10, wantPeriod: time.Second},
		{name: "requests per minute", in: "30/min", wantRate: 30, wantPeriod: time.Minute},
		{name: "requests per hour", in: "1000/h", wantRate: 1000, wantPeriod: time.Hour},
		{name: "surrounding blanks are ignored", in: "  5/s ", wantRate: 5, wantPeriod: time.Second},
		{name: "off turns the limit off", in: "off"},
		{name: "the largest count is accepted", in: "1000000/s", wantRate: MaxRate, wantPeriod: time.Second},
		{name: "a bare number is refused: per what?", in: "10", wantErr: "N/s, N/min or N/h"},
		{name: "m is refused: minute and metre look alike", in: "10/m", wantErr: "N/s, N/min or N/h"},
		{name: "a unit in capitals is refused", in: "10/S", wantErr: "N/s, N/min or N/h"},
		{name: "zero is refused: off says it", in: "0/s", wantErr: "1-1000000"},
		{name: "a count over the maximum is refused", in: "1000001/s", wantErr: "1-1000000"},
		{name: "a fraction is refused", in: "0.5/s", wantErr: "N/s, N/min or N/h"},
		{name: "a negative count is refused", in: "-1/s", wantErr: "N/s, N/min or N/h"},
		{name: "a plus sign is refused", in: "+1/s", wantErr: "N/s, N/min or N/h"},
		{name: "a Go duration unit is refused", in: "10/1s", wantErr: "N/s, N/min or N/h"},
		{name: "an empty string is refused", in: "", wantErr: "N/s, N/min or N/h"},
		{name: "two slashes are refused", in: "1/s/s", wantErr: "N/s, N/min or N/h"},
		{name: "a count that overflows int is refused", in: "99999999999999999999999/s", wantErr: "1-1000000"},
		{name: "Off in capitals is refused", in: "OFF", wantErr: "N/s, N/min or N/h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, p, err := ParseRate(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRate(%q) = %d, %s, %v; want an error containing %q", tt.in, r, p, err, tt.wantErr)
				}
				return
			}
			if err != nil || r != tt.wantRate || p != tt.wantPeriod {
				t.Fatalf("ParseRate(%q) = %d, %s, %v; want %d, %s", tt.in, r, p, err, tt.wantRate, tt.wantPeriod)
			}
			if got := FormatRate(r, p); got != strings.TrimSpace(tt.in) {
				t.Errorf("FormatRate(%d, %s) = %q, want %q back", r, p, got, strings.TrimSpace(tt.in))
			}
		})
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10/s", "30/min", "1/h", "off", "", "0/s", "1e3/s", "１/s", "10/min\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, p, err := ParseRate(s)
		if err != nil {
			if r != 0 || p != 0 {
				t.Fatalf("error with a rate: %d %s", r, p)
			}
			return
		}
		if r == 0 {
			return // off
		}
		l := Limit{Rate: r, Period: p, Burst: 1}
		if err := l.Check(); err != nil {
			t.Fatalf("ParseRate(%q) gave a limit Check refuses: %v", s, err)
		}
		r2, p2, err := ParseRate(FormatRate(r, p))
		if err != nil || r2 != r || p2 != p {
			t.Fatalf("FormatRate does not round-trip %q", s)
		}
	})
}

func TestLimitCheck(t *testing.T) {
	tests := []struct {
		name string
		l    Limit
		ok   bool
	}{
		{name: "the zero limit means off and is fine", l: Limit{}, ok: true},
		{name: "a limit from ParseRate with a burst is fine", l: Limit{Rate: 10, Period: time.Second, Burst: 20}, ok: true},
		{name: "a burst of zero is refused: nothing would ever pass", l: Limit{Rate: 10, Period: time.Second}},
		{name: "a burst over the maximum is refused", l: Limit{Rate: 10, Period: time.Second, Burst: MaxBurst + 1}},
		{name: "a period other than s, min, h is refused", l: Limit{Rate: 1, Period: time.Millisecond, Burst: 1}},
		{name: "a negative rate is refused", l: Limit{Rate: -1, Period: time.Second, Burst: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.l.Check(); (err == nil) != tt.ok {
				t.Errorf("Check(%+v) = %v, want ok=%v", tt.l, err, tt.ok)
			}
		})
	}
}

func TestSetHeaders(t *testing.T) {
	lim := Limit{Rate: 10, Period: time.Second, Burst: 20}
	tests := []struct {
		name string
		r    Result
		want map[string]string
	}{
		{
			name: "an allowed request says the bucket size, what is left and when it is full, but no Retry-After",
			r:    Result{Allowed: true, Limit: lim, Remaining: 7, ResetAfter: 1300 * time.Millisecond},
			want: map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "7", "RateLimit-Reset": "2", "Retry-After": ""},
		},
		{
			name: "a refused request gets Retry-After rounded up",
			r:    Result{Limit: lim, RetryAfter: 100 * time.Millisecond, ResetAfter: 2 * time.Second},
			want: map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "0", "RateLimit-Reset": "2", "Retry-After": "1"},
		},
		{
			name: "a refusal never says Retry-After 0, which would invite an immediate retry",
			r:    Result{Limit: lim},
			want: map[string]string{"Retry-After": "1"},
		},
		{
			name: "no limit writes no headers",
			r:    Result{Allowed: true},
			want: map[string]string{"RateLimit-Limit": "", "RateLimit-Remaining": "", "RateLimit-Reset": "", "Retry-After": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			SetHeaders(h, tt.r)
			for k, v := range tt.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestTighter(t *testing.T) {
	lim := Limit{Rate: 1, Period: time.Second, Burst: 5}
	ok3 := Result{Allowed: true, Limit: lim, Remaining: 3}
	ok1 := Result{Allowed: true, Limit: lim, Remaining: 1}
	no := Result{Limit: lim, RetryAfter: time.Second}
	noLonger := Result{Limit: lim, RetryAfter: 5 * time.Second}
	tests := []struct {
		name string
		a, b Result
		want Result
	}{
		{name: "a refusal wins over an allowance", a: ok3, b: no, want: no},
		{name: "of two allowances the one with less left wins", a: ok3, b: ok1, want: ok1},
		{name: "of two refusals the longer wait wins", a: no, b: noLonger, want: noLonger},
		{name: "no limit gives way to a limit", a: Result{Allowed: true}, b: ok3, want: ok3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tighter(tt.a, tt.b); got != tt.want {
				t.Errorf("Tighter(a, b) = %+v, want %+v", got, tt.want)
			}
			if got := Tighter(tt.b, tt.a); got != tt.want {
				t.Errorf("Tighter(b, a) = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"allow", "deny"} {
		p, err := ParsePolicy(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePolicy(%q) = %v, %v", s, p, err)
		}
	}
	for _, s := range []string{"", "Allow", "open", "fail"} {
		if _, err := ParsePolicy(s); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", s)
		}
	}
}
