package connsettings

import (
	"net/netip"
	"testing"

	"signaling-auth/lifecycle"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/settings"
)

var program = settings.Program{Name: "t", EnvPrefix: "T_", Keys: Keys}

func load(t *testing.T, env map[string]string, trusted ...string) (lifecycle.ConnLimits, error) {
	t.Helper()
	vs, err := program.Load(settings.Source{Getenv: func(k string) string { return env[k] }, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var r *clientip.Resolver
	if len(trusted) > 0 {
		if r, err = clientip.New(trusted); err != nil {
			t.Fatal(err)
		}
	}
	return Load(vs, r).ConnLimits(), vs.Err()
}

func TestDefaults(t *testing.T) {
	l, err := load(t, nil)
	if err != nil || l.Max != 4096 || l.PerIP != DefaultPerIP || l.Exempt != nil {
		t.Fatalf("defaults: max %d, per IP %d, exempt set %v, %v", l.Max, l.PerIP, l.Exempt != nil, err)
	}
	if 6*3 > l.PerIP {
		t.Errorf("max_conns_per_ip %d leaves no room for three browsers' 6 connections behind one NAT", l.PerIP)
	}
	if l.Max/l.PerIP < 100 {
		t.Errorf("%d addresses fill max_conns %d; want an attacker to need at least 100", l.Max/l.PerIP, l.Max)
	}
}

func TestClientsAreAddressesAndIPv6Slash64s(t *testing.T) {
	l, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		a, b string
		same bool
	}{
		{"two addresses of one IPv6 /64 are one client", "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"the next /64 is another client", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"an IPv4-mapped address is the IPv4 client", "::ffff:192.0.2.1", "192.0.2.1", true},
		{"IPv4 addresses are one client each", "192.0.2.1", "192.0.2.2", false},
	} {
		ka, kb := l.Key(netip.MustParseAddr(tt.a)), l.Key(netip.MustParseAddr(tt.b))
		if (ka == kb) != tt.same {
			t.Errorf("%s: keys %q and %q", tt.name, ka, kb)
		}
	}
}

func TestTrustedProxiesAreNotCappedPerAddress(t *testing.T) {
	l, err := load(t, map[string]string{"T_MAX_CONNS_PER_IP": "0"}, "10.0.0.0/8", "::1")
	if err != nil || l.PerIP != 0 {
		t.Fatalf("max_conns_per_ip 0: %d, %v", l.PerIP, err)
	}
	for addr, want := range map[string]bool{"10.1.2.3": true, "::1": true, "11.0.0.1": false, "2001:db8::1": false} {
		if got := l.Exempt(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Exempt(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestBadValuesAreRefused(t *testing.T) {
	_, err := load(t, map[string]string{"T_MAX_CONNS_PER_IP": "-1", "T_MAX_CONNS": "lots"})
	want := "config: max_conns: must be a whole number (got \"lots\")\nconfig: max_conns_per_ip: must be 0-1000000 (got -1)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
