package authsettings

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"signaling-auth/settings"
)

var program = settings.Program{Name: "t", EnvPrefix: "T_", Keys: Keys}

func load(t *testing.T, env map[string]string) (Settings, error) {
	t.Helper()
	vs, err := program.Load(settings.Source{Getenv: func(k string) string { return env[k] }, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Load(vs), vs.Err()
}

// The loaded keys reach auth.Options whole: keys and secret revealed only
// there, every JWT setting, the mode.
func TestOptionsCarryEverySetting(t *testing.T) {
	const key, secret = "k-0123456789abcdef", "0123456789abcdef0123456789abcdef-secret"
	s, err := load(t, map[string]string{"T_AUTH_MODE": "api_key", "T_AUTH_API_KEYS": key})
	if err != nil {
		t.Fatal(err)
	}
	o := s.Options(slog.New(slog.DiscardHandler))
	if o.Mode != "api_key" || !slices.Equal(o.APIKeys, []string{key}) || o.Logger == nil {
		t.Errorf("api_key options: mode %q keys %d logger %v", o.Mode, len(o.APIKeys), o.Logger != nil)
	}
	if strings.Contains(fmt.Sprintf("%+v", s), key) {
		t.Error("the settings print the key")
	}
	s, err = load(t, map[string]string{"T_AUTH_MODE": "jwt", "T_AUTH_JWT_SECRET": secret, "T_AUTH_JWT_UID_CLAIM": "uid", "T_AUTH_JWT_LEEWAY": "10s"})
	if err != nil {
		t.Fatal(err)
	}
	j := s.Options(nil).JWT
	if string(j.Secret) != secret || j.UIDClaim != "uid" || j.Leeway != 10*time.Second || j.JWKSRefresh != 5*time.Minute {
		t.Errorf("jwt options: claim %q leeway %v refresh %v, secret passed %v", j.UIDClaim, j.Leeway, j.JWKSRefresh, string(j.Secret) == secret)
	}
}

// Credentials configured but not asked for are refused, naming the key.
func TestCredentialsWithoutTheirModeAreRefused(t *testing.T) {
	_, err := load(t, map[string]string{"T_AUTH_API_KEYS": "k-0123456789abcdef"})
	if err == nil || !strings.Contains(err.Error(), "auth.api_keys") || strings.Contains(err.Error(), "k-0123456789abcdef") {
		t.Errorf("keys with mode none: %v", err)
	}
}
