// Package clientip finds the address of the client behind a request: the TCP
// peer, or — only when the peer is a trusted proxy — the address that proxy
// reports in X-Forwarded-For. Anything a client writes into that header
// itself is ignored unless a trusted proxy vouches for the hop.
//
// The rule is "rightmost untrusted": walk the chain of addresses from the
// peer towards the client and stop at the first one that is not a trusted
// proxy. Each trusted proxy appends the address it saw, so everything left of
// that point was written by the client and is not believed.
//
// One rule for every tier: X-Forwarded-For (Header) is the only header read.
// Forwarded (RFC 7239) is never believed, because a proxy in front of us
// would forward only X-Forwarded-For, and a limiter that read Forwarded would
// key on an address the next tier never sees. A trusted proxy must append to
// X-Forwarded-For (corsproxy, nginx, HAProxy, Envoy and cloud load balancers
// do). A proxy tier passes on what it believed with Forward, so the tier
// behind it, trusting that proxy, keys on the same address.
package clientip

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Header is the one header a trusted proxy's report of the client is read
// from, and the one Forward writes.
const Header = "X-Forwarded-For"

// Resolver finds client addresses. The zero Resolver trusts nobody: it
// always answers the TCP peer.
type Resolver struct {
	trusted []netip.Prefix
}

// ParsePrefixes reads trusted proxies: IP addresses ("10.0.0.7", "::1") and
// CIDRs ("10.0.0.0/8"). It refuses 0.0.0.0/0 and ::/0: trusting every
// address would let any client pick its own address with a header.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return nil, fmt.Errorf("must be an IP address or CIDR (got %q)", s)
			}
		} else {
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("must be an IP address or CIDR (got %q)", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Zone() != "" {
			return nil, fmt.Errorf("must be an IP address or CIDR, without a zone (got %q)", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8; peers are compared unmapped.
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q trusts every address, so any client could choose its address with X-Forwarded-For; list the proxies' addresses", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// New returns a Resolver that believes forwarding headers from the listed
// proxies (see ParsePrefixes).
func New(trusted []string) (*Resolver, error) {
	ps, err := ParsePrefixes(trusted)
	if err != nil {
		return nil, err
	}
	return &Resolver{trusted: ps}, nil
}

// Trusted reports whether a is one of the trusted proxies.
func (r *Resolver) Trusted(a netip.Addr) bool {
	if r == nil {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client's address for req (see the package comment).
// It is invalid only when req.RemoteAddr is not an address (a test server,
// a unix socket).
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	peer := Peer(req)
	if !peer.IsValid() || !r.Trusted(peer) {
		return peer
	}
	chain := splitList(req.Header.Values(Header))
	client := peer
	for i := len(chain) - 1; i >= 0; i-- {
		a, ok := parseNode(chain[i])
		if !ok {
			// Garbage no trusted proxy would write: it came from further
			// out, so the last trusted hop is as far as we can see.
			return client
		}
		client = a
		if !r.Trusted(a) {
			return a
		}
	}
	// Every hop is a trusted proxy: the farthest one is the client.
	return client
}

// Forward writes into out, the headers of the request a proxy sends on for
// in, the client address this Resolver believes for in as the only
// X-Forwarded-For entry, and removes any Forwarded. The tier behind, trusting
// the proxy, then reads the address the proxy's own limits used, without
// having to trust the proxies in front of it too. With no address (a unix
// socket peer) the header is removed.
func (r *Resolver) Forward(in *http.Request, out http.Header) {
	out.Del("Forwarded")
	a := r.ClientIP(in)
	if !a.IsValid() {
		out.Del(Header)
		return
	}
	out.Set(Header, a.String())
}

// Peer is the TCP peer's address, IPv4-mapped IPv6 unmapped.
func Peer(req *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(req.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// Key is the address as a rate-limit key: an IPv4 address as is, an IPv6
// address as its /64, because one subscriber usually holds a whole /64 and
// could otherwise rotate through 2^64 keys. "unknown" for an invalid address.
func Key(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// maxHops bounds how much of a forwarding header is read: a client can send
// a long one, and no real chain of proxies is this deep.
const maxHops = 64

// splitList splits comma-separated header lines into trimmed elements, the
// last maxHops of them.
func splitList(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, e := range strings.Split(l, ",") {
			out = append(out, strings.TrimSpace(e))
		}
	}
	if len(out) > maxHops {
		out = out[len(out)-maxHops:]
	}
	return out
}

var errNode = errors.New("not an address")

// parseNode reads one hop: "203.0.113.9", "203.0.113.9:4711", "2001:db8::1",
// "[2001:db8::1]:4711". Obfuscated ("_hidden", "unknown") and malformed
// nodes are refused.
func parseNode(s string) (netip.Addr, bool) {
	a, err := parseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

func parseAddr(s string) (netip.Addr, error) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, errNode
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() && a.Zone() == "" {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, errNode
}
