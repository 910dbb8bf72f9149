// Package connsettings holds the connection-limit keys every program shares,
// max_conns and max_conns_per_ip, and loads them through package settings
// into a finished lifecycle.ConnLimits: clients are told apart by the rate
// limits' own rule (clientip.Key, IPv6 by /64), and trusted proxies, which
// speak for many clients, are bounded only by max_conns.
package connsettings

import (
	"signaling-auth/lifecycle"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/settings"
)

// DefaultPerIP is max_conns_per_ip's default. A browser opens at most 6
// connections to one host over HTTP/1.1 (one over HTTP/2) plus a speculative
// one or two, so 32 leaves room for several browsers behind one NAT, while
// one client needs 128 addresses (128 IPv6 /64s) to fill the default
// max_conns of 4096.
const DefaultPerIP = 32

// Keys are the shared connection keys, for each program's key table.
var Keys = []settings.Key{
	{Name: "max_conns", Kind: settings.Int, Default: "4096", Doc: "Most client connections open at once on listen (0: no cap). At the cap the connection idle\nlongest is closed for a new one; with none idle, new ones wait to be accepted."},
	{Name: "max_conns_per_ip", Kind: settings.Int, Default: "32", Doc: "Most connections one client address holds open (an IPv6 address counts as its /64); more are\nclosed at once. trusted_proxies are bounded by max_conns only (0: no cap)."},
}

// Limits are the loaded keys, a plain value a Config can hold (compared,
// printed); ConnLimits makes the listener's limits of it.
type Limits struct {
	Max, PerIP int
	Trusted    *clientip.Resolver // trusted_proxies: not capped per address; nil: none
}

// Load reads Keys; trusted is trusted_proxies as the program parsed it (nil:
// none).
func Load(vs *settings.Values, trusted *clientip.Resolver) Limits {
	return Limits{
		Max:     vs.Int("max_conns", 0, 1_000_000),
		PerIP:   vs.Int("max_conns_per_ip", 0, 1_000_000),
		Trusted: trusted,
	}
}

// ConnLimits is l for lifecycle: clients told apart by clientip.Key (an IPv6
// address by its /64), trusted proxies exempt from PerIP.
func (l Limits) ConnLimits() lifecycle.ConnLimits {
	c := lifecycle.ConnLimits{Max: l.Max, PerIP: l.PerIP, Key: clientip.Key}
	if l.Trusted != nil {
		c.Exempt = l.Trusted.Trusted
	}
	return c
}
