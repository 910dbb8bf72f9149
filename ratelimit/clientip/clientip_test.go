package clientip

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		peer    string
		xff     []string
		fwd     []string
		want    string
	}{
		{name: "with no trusted proxies the peer is the client", peer: "203.0.113.9:5000", want: "203.0.113.9"},
		{name: "X-Forwarded-For from an untrusted peer is ignored (spoofing)", peer: "203.0.113.9:5000",
			xff: []string{"198.51.100.1"}, want: "203.0.113.9"},
		{name: "Forwarded from an untrusted peer is ignored (spoofing)", peer: "203.0.113.9:5000",
			fwd: []string{"for=198.51.100.1"}, want: "203.0.113.9"},
		{name: "a peer outside the trusted CIDR is not believed", trusted: []string{"10.0.0.0/8"}, peer: "11.0.0.1:1",
			xff: []string{"198.51.100.1"}, want: "11.0.0.1"},
		{name: "a trusted proxy's X-Forwarded-For gives the client", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "a client's own X-Forwarded-For entry left of the proxy's is not believed", trusted: []string{"10.0.0.0/8"},
			peer: "10.0.0.2:1", xff: []string{"1.1.1.1, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "a chain of trusted proxies is walked to the first untrusted hop", trusted: []string{"10.0.0.0/8", "192.0.2.7"},
			peer: "10.0.0.2:1", xff: []string{"6.6.6.6, 198.51.100.1, 192.0.2.7", "10.1.1.1"}, want: "198.51.100.1"},
		{name: "when every hop is trusted the farthest is the client", trusted: []string{"10.0.0.0/8"},
			peer: "10.0.0.2:1", xff: []string{"10.9.9.9, 10.8.8.8"}, want: "10.9.9.9"},
		{name: "garbage a client put there stops the walk at the last trusted hop", trusted: []string{"10.0.0.0/8"},
			peer: "10.0.0.2:1", xff: []string{"<script>, 10.3.3.3"}, want: "10.3.3.3"},
		{name: "garbage between a spoofed address and a trusted hop ends the walk, never skipped to the spoof", trusted: []string{"10.0.0.0/8"},
			peer: "10.0.0.2:1", xff: []string{"6.6.6.6, <script>, 10.3.3.3"}, want: "10.3.3.3"},
		{name: "an empty X-Forwarded-For leaves the peer", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{""}, want: "10.0.0.2"},
		{name: "entries with ports are read", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"198.51.100.1:4711"}, want: "198.51.100.1"},
		{name: "IPv6 entries with and without brackets are read", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"[2001:db8::1]:80"}, want: "2001:db8::1"},
		{name: "an IPv4-mapped peer matches an IPv4 trusted proxy", trusted: []string{"127.0.0.1"}, peer: "[::ffff:127.0.0.1]:80",
			xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "a trusted IPv6 loopback proxy is believed", trusted: []string{"::1"}, peer: "[::1]:80",
			xff: []string{"2001:db8::5"}, want: "2001:db8::5"},
		{name: "a trusted proxy's Forwarded is not read: the next tier would never see it", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			fwd: []string{`for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"`}, want: "10.0.0.2"},
		{name: "a Forwarded header next to X-Forwarded-For changes nothing", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"198.51.100.1"}, fwd: []string{"for=6.6.6.6"}, want: "198.51.100.1"},
		{name: "a very long header is read from its right end only", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{strings.Repeat("6.6.6.6, ", 10000) + "198.51.100.1"}, want: "198.51.100.1"},
		{name: "an RFC 7239 pair in X-Forwarded-For is garbage and ends the walk", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"for=6.6.6.6, 10.3.3.3"}, want: "10.3.3.3"},
		{name: "an address with a zone is refused, never stripped to a plain one", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"fe80::1%25eth0"}, want: "10.0.0.2"},
		{name: "an obfuscated node (unknown) ends the walk", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"6.6.6.6, unknown"}, want: "10.0.0.2"},
		{name: "control bytes and spaces inside an entry are refused", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"6.6.6.6\x00, 1.2.3.4 5.6.7.8"}, want: "10.0.0.2"},
		{name: "leading zeros (octal spelling) are refused", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"010.000.000.001"}, want: "10.0.0.2"},
		{name: "an overlong entry is refused before it is parsed", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"[" + strings.Repeat("0", 70) + "1]"}, want: "10.0.0.2"},
		{name: "a thousand header lines are read from the last 64 hops only", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: append(slices.Repeat([]string{"10.1.1.1"}, 936), slices.Repeat([]string{"10.2.2.2"}, 64)...), want: "10.2.2.2"},
		{name: "a spoofed client address hidden in IPv4-mapped form is read as IPv4", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"::ffff:10.1.1.1, ::ffff:198.51.100.7"}, want: "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", "http://x/", nil)
			req.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.fwd {
				req.Header.Add("Forwarded", v)
			}
			if got := r.ClientIP(req); got.String() != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestForward(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		peer    string
		xff     []string
		fwd     []string
		want    []string // X-Forwarded-For sent on
	}{
		{name: "from an untrusted peer only the peer goes on, whatever it claimed", peer: "203.0.113.9:5000",
			xff: []string{"6.6.6.6"}, fwd: []string{"for=7.7.7.7"}, want: []string{"203.0.113.9"}},
		{name: "from a trusted balancer the client it reported goes on, alone", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			xff: []string{"6.6.6.6, 198.51.100.1"}, want: []string{"198.51.100.1"}},
		{name: "a trusted balancer's Forwarded is dropped, not passed on", trusted: []string{"10.0.0.0/8"}, peer: "10.0.0.2:1",
			fwd: []string{"for=198.51.100.1"}, want: []string{"10.0.0.2"}},
		{name: "a peer that is no address sends no header", peer: "@unix", xff: []string{"6.6.6.6"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			in, _ := http.NewRequest("GET", "http://x/", nil)
			in.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				in.Header.Add(Header, v)
			}
			for _, v := range tt.fwd {
				in.Header.Add("Forwarded", v)
			}
			out := in.Header.Clone()
			r.Forward(in, out)
			if got := out.Values(Header); !slices.Equal(got, tt.want) {
				t.Errorf("X-Forwarded-For sent on = %q, want %q", got, tt.want)
			}
			if got := out.Values("Forwarded"); len(got) > 0 {
				t.Errorf("Forwarded sent on = %q, want none", got)
			}
			// The next tier, trusting this proxy, believes what this tier believed.
			next, _ := http.NewRequest("GET", "http://x/", nil)
			next.RemoteAddr = "192.0.2.200:1"
			next.Header = out
			behind, _ := New([]string{"192.0.2.200"})
			if got, want := behind.ClientIP(next), r.ClientIP(in); len(tt.want) > 0 && got != want {
				t.Errorf("the tier behind keys on %s, this tier on %s", got, want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "a CIDR is kept", in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{name: "a single IPv4 address is a /32", in: "192.0.2.7", want: "192.0.2.7/32"},
		{name: "a single IPv6 address is a /128", in: "::1", want: "::1/128"},
		{name: "host bits in a CIDR are masked", in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{name: "an IPv4-mapped CIDR becomes IPv4", in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{name: "a host name is refused", in: "proxy.internal", wantErr: "IP address or CIDR"},
		{name: "a bad prefix length is refused", in: "10.0.0.0/33", wantErr: "IP address or CIDR"},
		{name: "0.0.0.0/0 is refused: everyone could pick their address", in: "0.0.0.0/0", wantErr: "trusts every address"},
		{name: "::/0 is refused too", in: "::/0", wantErr: "trusts every address"},
		{name: "a zone is refused", in: "fe80::1%eth0", wantErr: "IP address or CIDR"},
		{name: "an empty entry is refused", in: "", wantErr: "IP address or CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ParsePrefixes([]string{tt.in})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePrefixes(%q) = %v, %v; want an error with %q", tt.in, ps, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(ps) != 1 || ps[0].String() != tt.want {
				t.Fatalf("ParsePrefixes(%q) = %v, %v; want %s", tt.in, ps, err, tt.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an IPv4 address is its own key", "203.0.113.9", "203.0.113.9"},
		{"an IPv6 address is keyed by its /64, which one subscriber usually holds", "2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"},
		{"an IPv4-mapped address is keyed as IPv4", "::ffff:203.0.113.9", "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Key(netip.MustParseAddr(tt.in)); got != tt.want {
				t.Errorf("Key(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
	if Key(netip.Addr{}) != "unknown" {
		t.Error("an invalid address has a key other than unknown")
	}
}

// FuzzClientIP: whatever the headers, the answer is the peer or an address
// that appears in X-Forwarded-For, Forwarded never changes it, Forward sends
// on exactly that address, and nothing panics.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.2:1", "198.51.100.1, 10.3.3.3", "")
	f.Add("10.0.0.2:1", "", `for="[2001:db8::1]:80";by=x`)
	f.Add("[::ffff:10.0.0.2]:1", "[::1", "for=")
	f.Add("garbage", "1.1.1.1", "")
	f.Add("10.0.0.2:1", "", "for=198.51.100.1")
	f.Add("10.0.0.2:1", "6.6.6.6, unknown", "for=198.51.100.1")
	r, err := New([]string{"10.0.0.0/8", "2001:db8::/32"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		req, _ := http.NewRequest("GET", "http://x/", nil)
		req.RemoteAddr = peer
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		if fwd != "" {
			req.Header.Set("Forwarded", fwd)
		}
		got := r.ClientIP(req)
		withoutFwd := req.Clone(req.Context())
		withoutFwd.Header.Del("Forwarded")
		if other := r.ClientIP(withoutFwd); other != got {
			t.Fatalf("Forwarded %q changed the client from %s to %s", fwd, other, got)
		}
		out := http.Header{}
		r.Forward(req, out)
		if sent := out.Values(Header); got.IsValid() && (len(sent) != 1 || sent[0] != got.String()) || !got.IsValid() && len(sent) != 0 {
			t.Fatalf("Forward sent %q for client %s", sent, got)
		}
		if got == Peer(req) {
			return
		}
		if !got.IsValid() {
			t.Fatalf("invalid address for peer %q", peer)
		}
		if !r.Trusted(Peer(req)) {
			t.Fatalf("an untrusted peer %q was replaced by %s", peer, got)
		}
		s := got.String()
		if !strings.Contains(strings.ToLower(xff), strings.ToLower(s)) {
			// Mapped and expanded spellings are normalised; parse to compare.
			found := false
			for _, part := range strings.FieldsFunc(xff, func(r rune) bool { return r == ',' || r == ' ' }) {
				if a, err := parseAddr(part); err == nil && a == got {
					found = true
				}
			}
			if !found {
				t.Fatalf("client %s appears nowhere in X-Forwarded-For %q", got, xff)
			}
		}
	})
}
