package config

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoadFile feeds arbitrary bytes as the config file. Load must never panic, and
// whatever it accepts must hold the invariants the rest of the program relies on.
// Seeds live in testdata/fuzz/FuzzLoadFile.
func FuzzLoadFile(f *testing.F) {
	f.Add([]byte("listen: \":9000\"\ntoken_expiry: 600\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body []byte) {
		p := filepath.Join(dir, "webdemo.yaml")
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load([]string{"--config", p}, func(string) string { return "" })
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			t.Errorf("accepted listen %q: %v", c.Listen, err)
		}
		if c.ProxyURL != "" && !strings.HasSuffix(c.ProxyURL, "/") {
			t.Errorf("accepted proxy_url %q without a trailing slash", c.ProxyURL)
		}
		if strings.HasSuffix(c.ServerURL, "/") {
			t.Errorf("accepted server_url %q with a trailing slash", c.ServerURL)
		}
		if c.ProxyURL == "" && c.ServerURL == "" {
			t.Error("accepted a config with nowhere to fetch tokens from")
		}
		if c.TokenExpiry < time.Second || c.TokenExpiry > MaxTokenExpiry || c.TokenExpiry%time.Second != 0 {
			t.Errorf("accepted token_expiry %v", c.TokenExpiry)
		}
		if c.SDKURL == "" || strings.ContainsAny(c.SDKURL+c.ProxyURL+c.ServerURL, " ;,'\"\r\n") {
			t.Errorf("accepted URLs unsafe for the CSP header: %q %q %q", c.SDKURL, c.ProxyURL, c.ServerURL)
		}
	})
}
