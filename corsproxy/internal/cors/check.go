package cors

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
)

// FieldError is one invalid setting: Field is the key inside the cors section
// ("allowed_origins"), Reason says what is wrong and with which value.
type FieldError struct {
	Field  string
	Reason string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// MaxMaxAge is the longest preflight cache lifetime accepted. Browsers cap it
// anyway (Firefox at 24h, Chromium at 2h); a larger value is a typo.
const MaxMaxAge = 24 * time.Hour

// Check returns every problem with cfg, one per bad value, in key order; nil
// means New will accept cfg. rs/cors accepts anything and quietly does
// something else with a dangerous config (an empty origin list allows every
// origin, "*" with credentials reflects any origin), so this is where such
// configs are refused instead.
func Check(cfg Config) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	// allowed_origins
	if len(cfg.AllowedOrigins) == 0 {
		add("allowed_origins", "must list at least one origin (rs/cors would allow every origin for an empty list)")
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			if cfg.AllowCredentials {
				add("allowed_origins", `"*" cannot be combined with allow_credentials: true (any site could read credentialed answers); list the origins`)
			}
			if len(cfg.AllowedOrigins) > 1 {
				add("allowed_origins", `"*" must be the only entry (it already allows every origin)`)
			}
			continue
		}
		if reason := checkOrigin(o); reason != "" {
			add("allowed_origins", "%q: %s", o, reason)
			continue
		}
		if cfg.AllowCredentials {
			if reason := checkCredentialedOrigin(o); reason != "" {
				add("allowed_origins", "%q: %s", o, reason)
			}
		}
	}

	// allowed_methods
	if len(cfg.AllowedMethods) == 0 {
		add("allowed_methods", "must list at least one method (rs/cors would fall back to its own defaults)")
	}
	for _, m := range cfg.AllowedMethods {
		switch {
		case m == "*":
			add("allowed_methods", `"*" is not supported: rs/cors compares methods literally; list them`)
		case !isToken(m):
			add("allowed_methods", "%q is not a valid method name", m)
		case forbiddenMethods[strings.ToUpper(m)]:
			add("allowed_methods", "%q is a forbidden method: browsers never send it", m)
		}
	}

	// allowed_headers
	if len(cfg.AllowedHeaders) == 0 {
		add("allowed_headers", "must list at least one header (rs/cors would fall back to its own defaults)")
	}
	for _, h := range cfg.AllowedHeaders {
		switch {
		case h == "*":
			if cfg.AllowCredentials {
				add("allowed_headers", `"*" cannot be combined with allow_credentials: true; list the headers`)
			}
			if len(cfg.AllowedHeaders) > 1 {
				add("allowed_headers", `"*" must be the only entry (it already allows every header)`)
			}
		case !isToken(h):
			add("allowed_headers", "%q is not a valid header name", h)
		case isForbiddenRequestHeader(h):
			add("allowed_headers", "%q is a forbidden request header: browsers never let a page set it", h)
		}
	}

	// exposed_headers
	for _, h := range cfg.ExposedHeaders {
		switch {
		case h == "*":
			if cfg.AllowCredentials {
				add("exposed_headers", `"*" cannot be combined with allow_credentials: true (browsers then read it as a header named "*"); list the headers`)
			}
			if len(cfg.ExposedHeaders) > 1 {
				add("exposed_headers", `"*" must be the only entry (it already exposes every header)`)
			}
		case !isToken(h):
			add("exposed_headers", "%q is not a valid header name", h)
		case strings.EqualFold(h, "Set-Cookie") || strings.EqualFold(h, "Set-Cookie2"):
			add("exposed_headers", "%q is a forbidden response header: browsers never expose it", h)
		}
	}

	// max_age
	switch {
	case cfg.MaxAge < 0:
		add("max_age", "must not be negative (got %s)", cfg.MaxAge)
	case cfg.MaxAge%time.Second != 0:
		add("max_age", "must be whole seconds (got %s)", cfg.MaxAge)
	case cfg.MaxAge > MaxMaxAge:
		add("max_age", "must be at most %s, browsers cap it anyway (got %s)", MaxMaxAge, cfg.MaxAge)
	}
	return errs
}

// forbiddenMethods are the methods Fetch refuses to send.
var forbiddenMethods = map[string]bool{"CONNECT": true, "TRACE": true, "TRACK": true}

// forbiddenRequestHeaders are the Fetch "forbidden request-header" names
// (lower case); allowing them is meaningless and usually a misunderstanding.
var forbiddenRequestHeaders = map[string]bool{
	"accept-charset": true, "accept-encoding": true, "access-control-request-headers": true,
	"access-control-request-method": true, "connection": true, "content-length": true,
	"cookie": true, "cookie2": true, "date": true, "dnt": true, "expect": true, "host": true,
	"keep-alive": true, "origin": true, "referer": true, "set-cookie": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true, "via": true,
}

func isForbiddenRequestHeader(name string) bool {
	n := strings.ToLower(name)
	return forbiddenRequestHeaders[n] || strings.HasPrefix(n, "proxy-") || strings.HasPrefix(n, "sec-")
}

// isToken reports whether s is an RFC 9110 token (method and header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkOrigin returns why o is not an acceptable origin or origin pattern, or "".
// Accepted: scheme://host[:port] as a browser serializes it in the Origin
// header, and https://*.example.com[:port] patterns (the star stands for one
// or more labels in front of a domain that is not a public suffix).
func checkOrigin(o string) string {
	if o == "null" {
		return `the "null" origin is sent by sandboxed iframes, data: URLs and local files, so anyone can forge it; it cannot be allowed`
	}
	for i := 0; i < len(o); i++ {
		if o[i] <= ' ' || o[i] >= 0x7f {
			return "must not contain spaces, control or non-ASCII characters (write internationalized hosts in punycode)"
		}
	}
	i := strings.Index(o, "://")
	if i <= 0 || !isScheme(o[:i]) {
		return "must look like scheme://host[:port], e.g. https://app.example.com"
	}
	scheme, rest := strings.ToLower(o[:i]), o[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		if rest[j:] == "/" {
			return "must not end with a slash (an Origin header never has one)"
		}
		return "must not have a path, query or fragment (an Origin header never has one)"
	}
	if strings.Contains(rest, "@") {
		return "must not contain user info"
	}
	host, port, hasPort, err := splitHostPort(rest)
	if err != "" {
		return err
	}
	if hasPort {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Sprintf("port %q must be a number from 1 to 65535", port)
		}
		if defaultPort[scheme] == port {
			return fmt.Sprintf("the default port :%s is never sent in an Origin header; drop it", port)
		}
	}
	if strings.Contains(host, "*") {
		if scheme != "http" && scheme != "https" {
			return "wildcard patterns are only supported for http and https"
		}
		if !strings.HasPrefix(host, "*.") || strings.Count(host, "*") != 1 {
			return `a pattern must be scheme://*.domain[:port]: "*." only as the first label`
		}
		domain := host[2:]
		if !isDNSName(domain) {
			return fmt.Sprintf("%q is not a valid host name", domain)
		}
		if !strings.Contains(domain, ".") {
			return fmt.Sprintf("%q would match every site under a top-level domain", host)
		}
		// *.co.uk or *.github.io: anyone can register a name there and
		// read the answers. The list covers both ICANN suffixes and
		// private ones (hosting platforms that hand out subdomains).
		lower := strings.ToLower(domain)
		if ps, _ := publicsuffix.PublicSuffix(lower); ps == lower {
			return fmt.Sprintf("%q would match every site under the public suffix %q, where anyone can register a name", host, domain)
		}
		return ""
	}
	if strings.HasPrefix(host, "[") {
		return "" // validated by splitHostPort
	}
	if isDNSName(host) {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && ip.String() == host {
		return ""
	}
	return fmt.Sprintf("%q is not a valid host name or IP address", host)
}

// checkCredentialedOrigin returns why o, a valid origin or pattern, must not
// be trusted with credentials, or "". Credentials go only to exact origins
// that nobody else can speak for: https, or http on the loopback interface.
func checkCredentialedOrigin(o string) string {
	if strings.Contains(o, "*") {
		return "a pattern cannot be combined with allow_credentials: true (any subdomain, including a forgotten or taken-over one, could read credentialed answers); list the origins"
	}
	scheme, rest, _ := strings.Cut(o, "://")
	if !strings.EqualFold(scheme, "http") {
		return ""
	}
	host, _, _, _ := splitHostPort(rest)
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "[::1]":
		return ""
	}
	return "an http origin cannot be combined with allow_credentials: true (anyone on the network path can run script in it and read credentialed answers); use https (plain http is accepted for localhost, 127.0.0.1 and [::1])"
}

var defaultPort = map[string]string{"http": "80", "https": "443"}

// splitHostPort splits host[:port] where host may be a bracketed IPv6 literal.
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
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}
