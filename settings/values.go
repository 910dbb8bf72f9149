package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Values are the merged raw values of one Load. Its getters convert them,
// and every problem they or the program find (Fail) becomes one line of Err.
type Values struct {
	v        *viper.Viper
	problems []string
	// File is the config file that was read, "" if none.
	File string
}

// Fail records a problem with key.
func (vs *Values) Fail(key, format string, a ...any) {
	vs.problems = append(vs.problems, "config: "+key+": "+fmt.Sprintf(format, a...))
}

// Failed reports whether a problem with key was recorded, so a value that
// did not parse is not also reported as out of range.
func (vs *Values) Failed(key string) bool {
	prefix := "config: " + key + ":"
	return slices.ContainsFunc(vs.problems, func(p string) bool { return strings.HasPrefix(p, prefix) })
}

// Err is every recorded problem, one line each, or nil.
func (vs *Values) Err() error {
	if len(vs.problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(vs.problems, "\n"))
}

// String is key's value as text, trimmed. Numbers and booleans in YAML are
// taken as written, except a fraction: a long all-digit ID comes out of YAML
// as one, so it must be quoted.
func (vs *Values) String(key string) string {
	switch x := vs.v.Get(key).(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case int, int64, uint64, bool:
		return fmt.Sprint(x)
	case float64:
		vs.Fail(key, "must be a string; quote the value in YAML (got a number)")
	default:
		vs.Fail(key, "must be a single value (got %s)", describe(x))
	}
	return ""
}

// Secret is String wrapped so that it never prints.
func (vs *Values) Secret(key string) Secret { return NewSecret(vs.String(key)) }

// List accepts a YAML list or comma-separated text (environment, flags);
// entries are trimmed, split on commas, and empty or repeated ones dropped.
func (vs *Values) List(key string) []string {
	var items []string
	switch x := vs.v.Get(key).(type) {
	case nil:
	case string:
		items = strings.Split(x, ",")
	case []string:
		for _, s := range x {
			items = append(items, strings.Split(s, ",")...)
		}
	case []any:
		for _, e := range x {
			switch e := e.(type) {
			case string:
				items = append(items, strings.Split(e, ",")...)
			case int, int64, uint64, bool:
				items = append(items, fmt.Sprint(e))
			default:
				vs.Fail(key, "every entry must be a string (got %s)", describe(e))
				return nil
			}
		}
	default:
		vs.Fail(key, "must be a list or a comma-separated string (got %s)", describe(x))
		return nil
	}
	out := []string{}
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Bool accepts true/false, 1/0, yes/no and on/off.
func (vs *Values) Bool(key string) bool {
	b, _ := Parsed(vs, key, func(s string) (bool, error) {
		switch strings.ToLower(s) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off", "":
			return false, nil
		}
		return false, errors.New("must be true or false")
	})
	return b
}

// Int is a whole number from lo to hi.
func (vs *Values) Int(key string, lo, hi int) int {
	n, ok := Parsed(vs, key, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, errors.New("must be a whole number")
		}
		return n, nil
	})
	if ok && (n < lo || n > hi) {
		vs.Fail(key, "must be %d-%d (got %d)", lo, hi, n)
		return 0
	}
	return n
}

// Size is a byte count (ParseSize) from lo to hi.
func (vs *Values) Size(key string, lo, hi int64) int64 {
	n, ok := Parsed(vs, key, ParseSize)
	switch {
	case !ok || (lo <= n && n <= hi):
		return n
	case hi == math.MaxInt64:
		vs.Fail(key, "must be at least %d bytes (got %d)", lo, n)
	default:
		vs.Fail(key, "must be %d-%d bytes (got %d)", lo, hi, n)
	}
	return 0
}

// Duration is a duration (ParseDuration) from lo to hi.
func (vs *Values) Duration(key string, lo, hi time.Duration) time.Duration {
	d, ok := Parsed(vs, key, ParseDuration)
	switch {
	case !ok || (lo <= d && d <= hi):
	case hi == Forever:
		vs.Fail(key, "must be at least %s (got %s)", short(lo), short(d))
	default:
		vs.Fail(key, "must be %s-%s (got %s)", short(lo), short(hi), short(d))
	}
	if d < lo || d > hi {
		return 0
	}
	return d
}

// short writes 10m instead of 10m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Seconds is Duration in whole seconds, as token lifetimes are.
func (vs *Values) Seconds(key string, lo, hi time.Duration) time.Duration {
	d := vs.Duration(key, lo, hi)
	if d%time.Second != 0 {
		vs.Fail(key, "must be a whole number of seconds (got %s)", d)
		return 0
	}
	return d
}

// HostPort is a listen address (ParseHostPort).
func (vs *Values) HostPort(key string) string {
	s, _ := Parsed(vs, key, func(s string) (string, error) { return s, ParseHostPort(s) })
	return s
}

// URL is an absolute URL with one of schemes (ParseURL), nil when empty.
func (vs *Values) URL(key string, schemes ...string) *url.URL {
	u, _ := Parsed(vs, key, func(s string) (*url.URL, error) {
		if s == "" {
			return nil, nil
		}
		return ParseURL(s, schemes...)
	})
	return u
}

// Level is a log level (ParseLevel).
func (vs *Values) Level(key string) slog.Level {
	l, _ := Parsed(vs, key, ParseLevel)
	return l
}

// OneOf is key's value lower-cased, which must be one of choices.
func (vs *Values) OneOf(key string, choices ...string) string {
	s := strings.ToLower(vs.String(key))
	if !slices.Contains(choices, s) && !vs.Failed(key) {
		vs.Fail(key, "must be %s (got %q)", orList(choices), clip(s))
		return ""
	}
	return s
}

func orList(c []string) string {
	if len(c) < 2 {
		return strings.Join(c, "")
	}
	return strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1]
}

// Parsed runs parse on key's text; a parse error is recorded as
// "config: key: error (got "text")" and ok is false.
func Parsed[T any](vs *Values, key string, parse func(string) (T, error)) (t T, ok bool) {
	if vs.Failed(key) {
		return t, false
	}
	var s string
	if f, isFloat := vs.v.Get(key).(float64); isFloat {
		s = strconv.FormatFloat(f, 'f', -1, 64) // 1.5 (seconds) in YAML
	} else if s = vs.String(key); vs.Failed(key) {
		return t, false
	}
	t, err := parse(s)
	if err != nil {
		vs.Fail(key, "%v (got %q)", err, clip(s))
		return t, false
	}
	return t, true
}

// clip shortens a value quoted in an error, so a pasted blob does not
// become a screenful, and hides the password of a URL.
func clip(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		s = u.Redacted()
	}
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func describe(x any) string {
	switch x := x.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case nil:
		return "nothing"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprintf("%v", x)
	}
}

// Forever is the upper bound of a duration that has none.
const Forever = time.Duration(math.MaxInt64)

// SecretOrFile reads a secret given either inline (key) or as a file holding
// it (fileKey, e.g. a Docker secret), never both. It returns the secret and
// the key that gave it, for the caller's own messages.
func (vs *Values) SecretOrFile(key, fileKey string) (Secret, string) {
	s, path := vs.Secret(key), vs.String(fileKey)
	if path == "" {
		return s, key
	}
	if !s.IsZero() {
		vs.Fail(fileKey, "set either %s or %s, not both", key, fileKey)
		return Secret{}, fileKey
	}
	b, err := os.ReadFile(path)
	if err != nil {
		vs.Fail(fileKey, "cannot read %s: %v", path, unwrapPathErr(err))
		return Secret{}, fileKey
	}
	if s = NewSecret(strings.TrimSpace(string(b))); s.IsZero() {
		vs.Fail(fileKey, "%s is empty", path)
	}
	return s, fileKey
}
