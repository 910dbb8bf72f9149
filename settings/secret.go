package settings

import (
	"fmt"
	"log/slog"
)

// Secret holds a value that must never be printed (a certificate, a key, a
// password inside a URL). Every formatting path — fmt verbs, slog, JSON and
// other text encoders — shows "[redacted]"; only Reveal returns the value,
// so each use of the real value is greppable.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the value. Call it only where the value is used, never to
// log or return it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no value is set.
func (s Secret) IsZero() bool { return s.v == "" }

// String is "" for an unset secret and "[redacted]" otherwise.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the field.
func (s Secret) GoString() string { return `settings.Secret("` + s.String() + `")` }

// Format makes every fmt verb (%s, %v, %+v, %q, %x…) print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json, YAML and other text encoders from seeing
// the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
