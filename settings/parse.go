package settings

import (
	"errors"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads Go duration syntax ("90s", "1h30m") or a plain number
// of seconds ("90", "1.5"). Plain seconds take digits and at most one dot:
// no sign, exponent, NaN or Inf, and nothing that overflows.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789.") == "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f*float64(time.Second) >= math.MaxInt64 {
			return 0, errors.New("must be a duration like 90s or a number of seconds")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("must be a duration like 90s or a number of seconds")
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"B", 0}}

// ParseSize reads a byte count: a whole number ("16384") or one with a
// binary unit ("16KiB", "1MiB", "1GiB"). "16k" and "1MB" are refused rather
// than guessed at (kilo or kibi?).
func ParseSize(s string) (int64, error) {
	const want = "must be a size in bytes like 16384 or 16KiB"
	s = strings.TrimSpace(s)
	shift := uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New(want)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return 0, errors.New(want + " (too large)")
	}
	return n << shift, nil
}

// ParseHostPort checks a listen address: host:port with an empty host, an
// IP address or a host name, and a port from 0 (any free port) to 65535.
func ParseHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port, e.g. :8080 or 127.0.0.1:0")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return errors.New("port must be a number 0-65535")
	}
	if host != "" && net.ParseIP(host) == nil && !ValidHostname(host) {
		return errors.New("host must be an IP address or a host name")
	}
	return nil
}

// ValidHostname reports whether h is a DNS name: dot-separated labels of
// letters, digits and hyphens, 1-63 bytes each, 253 in all, and perhaps the
// root's dot at the end.
func ValidHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ParseURL reads an absolute URL whose scheme is one of schemes and whose
// host is an IP address or a host name.
func ParseURL(s string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || !containsFold(schemes, u.Scheme):
		return nil, errors.New("must be a URL with scheme " + orList(schemes))
	case u.Hostname() == "" || (net.ParseIP(u.Hostname()) == nil && !ValidHostname(u.Hostname())):
		return nil, errors.New("must have a valid host")
	case u.Port() != "":
		if n, err := strconv.ParseUint(u.Port(), 10, 16); err != nil || n == 0 {
			return nil, errors.New("must have a port 1-65535")
		}
	}
	return u, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// ParseLevel reads a log level the way slog does (debug, info, warn, error,
// any case, optionally with an offset like info+2); "warning" means warn.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if strings.EqualFold(s, "warning") {
		s = "warn"
	}
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, errors.New("must be debug, info, warn or error")
	}
	return l, nil
}
