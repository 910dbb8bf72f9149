package settings

import (
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"90", 90 * time.Second, true},
		{" 90 ", 90 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"0", 0, true},
		{"-5s", -5 * time.Second, true}, // the getters' bounds refuse it
		{"", 0, false},
		{"-5", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1.2.3", 0, false},
		{".", 0, false},
		{"99999999999999999999", 0, false},
		{"9223372037", 0, false}, // seconds that overflow int64 nanoseconds
		{"2d", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"16384", 16384, true},
		{"16KiB", 16 << 10, true},
		{"1 MiB", 1 << 20, true},
		{"2GiB", 2 << 30, true},
		{"10B", 10, true},
		{"0", 0, true},
		{"16k", 0, false},
		{"1MB", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"KiB", 0, false},
		{"1.5KiB", 0, false},
		{"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false},
		{"8589934592GiB", 0, false}, // 2^33 GiB = 2^63 bytes, one past the top
		{"8589934591GiB", 8589934591 << 30, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = accepted, else part of the error
	}{
		{":8080", ""},
		{"127.0.0.1:0", ""},
		{"[::1]:65535", ""},
		{"localhost:1", ""},
		{"tokenserver.internal.:80", ""},
		{"8080", "must be host:port"},
		{":65536", "port must be"},
		{":00", "port must be"},
		{":-1", "port must be"},
		{":http", "port must be"},
		{"bad host:1", "host must be"},
		{"a..b:1", "host must be"},
		{"under_score:1", "host must be"},
		{strings.Repeat("a", 64) + ":1", "host must be"},
	}
	for _, tt := range tests {
		err := ParseHostPort(tt.in)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("ParseHostPort(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = accepted, else part of the error
	}{
		{"http://localhost:8081", ""},
		{"HTTPS://a.example/x", ""},
		{"http://[::1]:1/", ""},
		{"ftp://a.example", "must be a URL with scheme http or https"},
		{"/relative", "must be a URL with scheme"},
		{"http://", "must have a valid host"},
		{"http://a_b.example", "must have a valid host"},
		{"http://a.example:0", "port 1-65535"},
		{"http://a.example:99999", "port 1-65535"},
		{"http://a b", "must be a URL"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.in, "http", "https")
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("ParseURL(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError, "info+2": slog.LevelInfo + 2} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "loud", "info+", "9"} {
		if _, err := ParseLevel(in); err == nil {
			t.Errorf("ParseLevel(%q) accepted", in)
		}
	}
}

// The fuzz targets' seeds run in every go test; `go test -fuzz FuzzX` explores further.

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "90", "1.5", "-1s", "NaN", "9223372037", "1e9", "..", "0.000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if d != 0 {
				t.Errorf("ParseDuration(%q) = %v with an error", s, d)
			}
			return
		}
		// Plain seconds are never negative: no sign is accepted.
		if strings.Trim(strings.TrimSpace(s), "0123456789.") == "" && d < 0 {
			t.Errorf("ParseDuration(%q) = %v", s, d)
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"16384", "16KiB", "1 MiB", "8589934592GiB", "-1", "1e3", "KiB", "0B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Errorf("ParseSize(%q) = %d", s, n)
		}
		if err != nil && n != 0 {
			t.Errorf("ParseSize(%q) = %d with an error", s, n)
		}
	})
}

func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{":8080", "[::1]:0", "a.b:1", "bad host:1", ":99999", "[::1", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ParseHostPort(s) != nil {
			return
		}
		host, port, err := net.SplitHostPort(s)
		if err != nil || port == "" || strings.ContainsAny(host, " /?#@") {
			t.Errorf("ParseHostPort accepted %q (host %q, port %q, %v)", s, host, port, err)
		}
	})
}
