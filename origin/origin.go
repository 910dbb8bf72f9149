// Package origin parses, checks and matches the list of web origins that may
// read a program's answers cross-origin (CORS): exact origins
// ("https://app.example.com"), subdomain patterns ("https://*.example.com")
// and the single entry "*". tokenserver and corsproxy both use it, so one
// allowlist means the same thing in both programs.
//
// One spelling per origin. A browser sends the Origin header as the Fetch
// standard serializes an origin: scheme://host[:port], lower case, the
// scheme's default port left out, no path and no trailing slash. A config
// entry is normalised once, when it is parsed, to that form:
// "HTTPS://App.Example.com:443/" is accepted and becomes
// "https://app.example.com". Anything beyond a single trailing slash (a path,
// query, fragment or user info) is refused, as are hosts a browser would never
// send (mangled IPv4, IPv6 not in its canonical form, non-ASCII). Matching
// then compares the header as the browser sent it, ASCII case aside: an
// Origin header carrying a default port or a slash is not what browsers send
// and matches nothing.
//
// It does not set or read CORS headers; each program's middleware does
// (rs/cors in corsproxy, gin-contrib/cors in tokenserver), through their
// AllowOriginFunc hook. The matching is ours rather than theirs because their
// wildcard is a plain prefix and suffix compare: rs/cors let
// "https://*.example.net" match "https://.example.net" and
// "https://evil.org:1.example.net", which TestAllows refuses.
package origin

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Any is the entry that allows every origin; it must be the only entry.
const Any = "*"

// Error is one refused entry: Entry as written, Reason what is wrong with it.
type Error struct {
	Entry  string
	Reason string
}

func (e *Error) Error() string {
	if e.Entry == Any {
		return e.Reason // which starts with "*"
	}
	return fmt.Sprintf("%q: %s", e.Entry, e.Reason)
}

// Entry is one parsed, normalised allowlist entry: an exact origin or a
// subdomain pattern.
type Entry struct {
	scheme string
	host   string // for a pattern: the domain under "*."
	port   string // "" for the scheme's default port
	// pattern: the entry is scheme://*.host[:port], matching one or more
	// labels in front of host.
	pattern bool
}

// String returns the entry in its one accepted spelling.
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(e.scheme)
	b.WriteString("://")
	if e.pattern {
		b.WriteString("*.")
	}
	b.WriteString(e.host)
	if e.port != "" {
		b.WriteString(":")
		b.WriteString(e.port)
	}
	return b.String()
}

// IsPattern reports whether e is a subdomain pattern rather than one origin.
func (e Entry) IsPattern() bool { return e.pattern }

// Parse checks one entry and returns it normalised. "*" and "null" are not
// entries Parse accepts: ParseList handles "*", and "null" is never safe.
func Parse(s string) (Entry, error) {
	e, reason := parse(s)
	if reason != "" {
		return Entry{}, &Error{Entry: s, Reason: reason}
	}
	return e, nil
}

var defaultPort = map[string]string{"http": "80", "https": "443"}

func parse(o string) (Entry, string) {
	switch o {
	case Any:
		return Entry{}, `"*" allows every origin and must be the whole list`
	case "null":
		return Entry{}, `the "null" origin is sent by sandboxed iframes, data: URLs and local files, so anyone can forge it; it cannot be allowed`
	}
	for i := 0; i < len(o); i++ {
		if o[i] <= ' ' || o[i] >= 0x7f {
			return Entry{}, "must not contain spaces, control or non-ASCII characters (write internationalized hosts in punycode)"
		}
	}
	i := strings.Index(o, "://")
	if i <= 0 || !isScheme(o[:i]) {
		return Entry{}, "must look like scheme://host[:port], e.g. https://app.example.com"
	}
	e := Entry{scheme: strings.ToLower(o[:i])}
	rest := strings.TrimSuffix(o[i+3:], "/") // the one tolerated spelling difference
	if strings.ContainsAny(rest, "/?#") {
		return Entry{}, "must not have a path, query or fragment (an Origin header never has one)"
	}
	if strings.Contains(rest, "@") {
		return Entry{}, "must not contain user info"
	}
	host, port, hasPort, reason := splitHostPort(rest)
	if reason != "" {
		return Entry{}, reason
	}
	if hasPort {
		// Digits only: Atoi would also take "+80".
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] < '1' || port[0] > '9' {
			return Entry{}, fmt.Sprintf("port %q must be a number from 1 to 65535", port)
		}
		if defaultPort[e.scheme] != port {
			e.port = port
		}
	}
	host = strings.ToLower(host)
	if strings.Contains(host, "*") {
		if e.scheme != "http" && e.scheme != "https" {
			return Entry{}, "wildcard patterns are only supported for http and https"
		}
		domain, ok := strings.CutPrefix(host, "*.")
		if !ok || strings.Contains(domain, "*") {
			return Entry{}, `a pattern must be scheme://*.domain[:port]: "*." only as the first label`
		}
		if !isDNSName(domain) {
			return Entry{}, fmt.Sprintf("%q is not a valid host name", domain)
		}
		if !strings.Contains(domain, ".") {
			return Entry{}, fmt.Sprintf("%q would match every site under a top-level domain", host)
		}
		// *.co.uk or *.github.io: anyone can register a name there and
		// read the answers. The list covers both ICANN suffixes and
		// private ones (hosting platforms that hand out subdomains).
		if ps, _ := publicsuffix.PublicSuffix(domain); ps == domain {
			return Entry{}, fmt.Sprintf("%q would match every site under the public suffix %q, where anyone can register a name", host, domain)
		}
		e.host, e.pattern = domain, true
		return e, ""
	}
	e.host = host
	if strings.HasPrefix(host, "[") || isDNSName(host) {
		return e, "" // an IPv6 literal was validated by splitHostPort
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ip.String() == host {
		return e, ""
	}
	return Entry{}, fmt.Sprintf("%q is not a valid host name or IP address", host)
}

// credentialsReason returns why e must not be trusted with credentials, or
// "". Credentials go only to exact origins nobody else can speak for: https,
// or http on the loopback interface.
func credentialsReason(e Entry) string {
	if e.pattern {
		return "a pattern cannot be combined with allow_credentials (any subdomain, including a forgotten or taken-over one, could read credentialed answers); list the origins"
	}
	if e.scheme != "http" {
		return ""
	}
	switch e.host {
	case "localhost", "127.0.0.1", "[::1]":
		return ""
	}
	return "an http origin cannot be combined with allow_credentials (anyone on the network path can run script in it and read credentialed answers); use https (plain http is accepted for localhost, 127.0.0.1 and [::1])"
}

// List is a checked allowlist. Its zero value allows no origin.
type List struct {
	any      bool
	exact    []string
	patterns []Entry
	entries  []string
}

// ParseList checks every entry and returns the list of those that are
// valid, with one *Error per refused entry (nil when all are valid). With
// credentials set (the answers will carry Access-Control-Allow-Credentials),
// "*", patterns and plain-http origins off the loopback are refused too.
// An empty entries allows nothing; whether that is an error is the caller's
// call.
func ParseList(entries []string, credentials bool) (List, []error) {
	var l List
	var errs []error
	refuse := func(entry, reason string) { errs = append(errs, &Error{Entry: entry, Reason: reason}) }
	for _, s := range entries {
		if s == Any {
			if credentials {
				refuse(s, `"*" cannot be combined with allow_credentials (any site could read credentialed answers); list the origins`)
			}
			if len(entries) > 1 {
				refuse(s, `"*" must be the only entry (it already allows every origin)`)
			}
			if !credentials && len(entries) == 1 {
				l.any = true
				l.entries = []string{Any}
			}
			continue
		}
		e, reason := parse(s)
		if reason == "" && credentials {
			reason = credentialsReason(e)
		}
		if reason != "" {
			refuse(s, reason)
			continue
		}
		norm := e.String()
		if slices.Contains(l.entries, norm) {
			continue
		}
		l.entries = append(l.entries, norm)
		if e.pattern {
			l.patterns = append(l.patterns, e)
		} else {
			l.exact = append(l.exact, norm)
		}
	}
	return l, errs
}

// AllowsAny reports whether the list is "*".
func (l List) AllowsAny() bool { return l.any }

// Entries returns the normalised entries, in the order given, without
// duplicates (never nil).
func (l List) Entries() []string { return append([]string{}, l.entries...) }

// Allows reports whether origin, the value of an Origin header, is allowed.
// The header is compared as browsers send it (see the package comment),
// ignoring ASCII case.
func (l List) Allows(origin string) bool {
	if l.any {
		return true
	}
	if origin == "" || len(origin) > maxOriginLen {
		return false
	}
	origin = strings.ToLower(origin)
	if slices.Contains(l.exact, origin) {
		return true
	}
	for _, p := range l.patterns {
		if p.matches(origin) {
			return true
		}
	}
	return false
}

// maxOriginLen bounds the work per request: a scheme, a 253-byte host and a
// port fit in it many times over.
const maxOriginLen = 1024

// matches reports whether origin (lower case) is scheme://sub.domain[:port]
// for pattern p, where sub is one or more host-name labels.
func (p Entry) matches(origin string) bool {
	rest, ok := strings.CutPrefix(origin, p.scheme+"://")
	if !ok {
		return false
	}
	if p.port != "" {
		if rest, ok = strings.CutSuffix(rest, ":"+p.port); !ok {
			return false
		}
	}
	sub, ok := strings.CutSuffix(rest, "."+p.host)
	return ok && isLabels(sub)
}

// isLabels reports whether s is one or more dot-separated, non-empty labels
// of the bytes browsers leave in a host name's labels (letters, digits, '-'
// and '_'), so that no port, user info or path hides in a pattern's "*".
func isLabels(s string) bool {
	if s == "" {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// splitHostPort splits host[:port] where host may be a bracketed IPv6 literal,
// which must be written as browsers write it.
func splitHostPort(s string) (host, port string, hasPort bool, reason string) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false, "unterminated IPv6 literal"
		}
		ip := net.ParseIP(s[1:end])
		if ip == nil || ip.To4() != nil || strings.Contains(s[1:end], "%") {
			return "", "", false, fmt.Sprintf("%q is not a valid IPv6 address", s[1:end])
		}
		if s[1:end] != ip.String() {
			return "", "", false, fmt.Sprintf("write the IPv6 address the way browsers do: [%s]", ip)
		}
		host, s = s[:end+1], s[end+1:]
		if s == "" {
			return host, "", false, ""
		}
		if s[0] != ':' {
			return "", "", false, "unexpected text after the IPv6 literal"
		}
		return host, s[1:], true, ""
	}
	if strings.Count(s, ":") > 1 {
		return "", "", false, "IPv6 addresses must be in brackets"
	}
	host, port, hasPort = strings.Cut(s, ":")
	return host, port, hasPort, ""
}

// isScheme reports whether s is an RFC 3986 scheme.
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			continue
		}
		return false
	}
	return s != ""
}

// isDNSName reports whether s is a host name browsers would put in an Origin:
// dot-separated labels of letters, digits and hyphens, whose last label is
// not all digits (that would be a mangled IPv4 address).
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}
