// Package target decides where a request may be forwarded: to the one fixed
// upstream, or — in the cors-anywhere style of Agora's original proxy.js,
// http://proxy/http://host:port/path — to a target whose origin is on an
// explicit allowlist. Everything else is refused, so the proxy is never an
// open proxy.
//
// An embedded target is accepted only when the bytes between the leading
// slash and the path are exactly one allowed origin in its canonical
// spelling. Alternative spellings (scheme or host case, default or
// zero-padded ports, user info, IP address variants, percent-encoded
// separators) are refused rather than normalized: there is one way to name
// each allowed target, so no parser disagreement can reach another host.
//
// In both forms the path that goes to the upstream must also be on the
// allowed_paths list (Paths), so an upstream's private routes (its metrics,
// readiness, token inspection) stay private.
package target

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Destination is where one request goes.
type Destination struct {
	// Base is the upstream URL (fixed mode) or the allowed origin (embedded
	// mode). It is shared: do not modify it.
	Base *url.URL
	// Embedded reports the cors-anywhere form; Path and RawPath are then the
	// path that follows the embedded origin.
	Embedded      bool
	Path, RawPath string
}

// Resolver maps request targets to destinations. It is immutable and safe
// for concurrent use.
type Resolver struct {
	upstream     *url.URL            // nil: fixed mode is off
	upstreamPath string              // upstream.Path without a trailing slash
	allowed      map[string]*url.URL // canonical origin → origin URL
	paths        *Paths              // nil: every path
}

// Error is a refused request target. Its message is safe to show to the
// client: it never includes more of the target than the client sent.
type Error struct {
	Reason string
	// Path reports a well-formed path that allowed_paths does not list
	// (the proxy answers 404); otherwise the target itself is refused.
	Path bool
}

func (e *Error) Error() string { return e.Reason }

func refusePath() error {
	return &Error{Reason: "no such path here (the proxy passes on only the paths in allowed_paths)", Path: true}
}

func refuse(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// New returns a Resolver. upstream may be nil (embedded targets only);
// allowed are origins already checked by ParseOrigin; paths (from
// ParsePaths) are the paths passed on, nil for every path.
func New(upstream *url.URL, allowed []*url.URL, paths *Paths) *Resolver {
	r := &Resolver{upstream: upstream, allowed: make(map[string]*url.URL, len(allowed)), paths: paths}
	if upstream != nil {
		r.upstreamPath = strings.TrimSuffix(upstream.Path, "/")
	}
	for _, u := range allowed {
		r.allowed[u.Scheme+"://"+u.Host] = u
	}
	return r
}

// Resolve returns the destination of a request whose request-target (as sent
// on the request line, http.Request.RequestURI) is requestURI. The error, if
// any, is an *Error.
func (r *Resolver) Resolve(requestURI string) (Destination, error) {
	if !strings.HasPrefix(requestURI, "/") {
		// absolute-form (GET http://evil/ HTTP/1.1), authority-form
		// (CONNECT) and asterisk-form: this is not a forward proxy.
		return Destination{}, refuse("only origin-form request targets (starting with /) are accepted; this is not a forward proxy")
	}
	path, _, _ := strings.Cut(requestURI, "?")
	if strings.ContainsAny(path, "#\\") || hasControl(path) {
		return Destination{}, refuse("the request path contains characters that are not allowed")
	}
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return Destination{}, refuse("the request path has a malformed percent-encoding")
	}
	if strings.HasPrefix(decoded, "//") {
		return Destination{}, refuse("a request path starting with // is not accepted")
	}
	if hasDotSegment(decoded) {
		return Destination{}, refuse("a request path with . or .. segments is not accepted")
	}
	if looksEmbedded(decoded) {
		return r.resolveEmbedded(path)
	}
	if r.upstream == nil {
		return Destination{}, refuse("no fixed upstream is configured; name an allowed target: /http://host:port/path")
	}
	if !r.paths.Allows(decoded, path) {
		return Destination{}, refusePath()
	}
	return Destination{Base: r.upstream}, nil
}

func (r *Resolver) resolveEmbedded(path string) (Destination, error) {
	if len(r.allowed) == 0 {
		return Destination{}, refuse("forwarding to a target named in the path is turned off (allowed_targets is empty)")
	}
	rest := path[1:]
	i := strings.Index(rest, "://")
	if i < 0 {
		return Destination{}, refuse("a target in the path must be written scheme://host[:port]/path, without percent-encoding")
	}
	end := strings.IndexByte(rest[i+3:], '/')
	if end < 0 {
		end = len(rest)
	} else {
		end += i + 3
	}
	origin, tail := rest[:end], rest[end:]
	base, ok := r.allowed[origin]
	if !ok {
		return Destination{}, refuse("target %s is not in allowed_targets", origin)
	}
	if tail == "" {
		tail = "/"
	}
	p, err := url.PathUnescape(tail)
	if err != nil {
		return Destination{}, refuse("the target path has a malformed percent-encoding")
	}
	if !r.paths.Allows(p, tail) {
		return Destination{}, refusePath()
	}
	// RawPath keeps the client's encoding (e.g. %2F inside a segment);
	// url.URL ignores it if it does not match Path.
	return Destination{Base: base, Embedded: true, Path: p, RawPath: tail}, nil
}

// looksEmbedded reports whether the first path segment starts with a URL
// scheme followed by a colon ("/http:", "/HTTPS:", "/evil.example:80"): such
// a path is read as an embedded target and must then be an allowed one,
// whatever fixed upstream is configured.
func looksEmbedded(decoded string) bool {
	seg := decoded[1:]
	if i := strings.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	colon := strings.IndexByte(seg, ':')
	if colon <= 0 {
		return false
	}
	for i := 0; i < colon; i++ {
		c := seg[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			continue
		}
		return false
	}
	return true
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// ProxyLocation maps a Location header from the upstream of dest so that it
// points at the proxy, as an absolute-path reference ("/rtm/x" or
// "/http://tokenserver:8081/rtm/x"). out is the URL the request was sent to,
// for resolving a relative Location. It reports false, and the Location must
// then be passed on unchanged, when the Location points anywhere the proxy
// would not forward to.
func (r *Resolver) ProxyLocation(loc string, out *url.URL, dest Destination) (string, bool) {
	ref, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	abs := out.ResolveReference(ref)
	if abs.User != nil || (abs.Scheme != "http" && abs.Scheme != "https") {
		return "", false
	}
	origin := abs.Scheme + "://" + canonicalHost(abs.Scheme, abs.Host)
	suffix := abs.EscapedPath()
	if suffix == "" {
		suffix = "/"
	}
	if abs.RawQuery != "" {
		suffix += "?" + abs.RawQuery
	}
	if abs.Fragment != "" {
		suffix += "#" + abs.EscapedFragment()
	}
	if !dest.Embedded && r.upstream != nil && origin == r.upstream.Scheme+"://"+r.upstream.Host {
		p := abs.EscapedPath()
		if p == r.upstreamPath || strings.HasPrefix(p, r.upstreamPath+"/") {
			rest := strings.TrimPrefix(suffix, r.upstreamPath)
			if !strings.HasPrefix(rest, "/") {
				rest = "/" + rest
			}
			return rest, true
		}
		return "", false
	}
	if _, ok := r.allowed[origin]; ok {
		return "/" + origin + suffix, true
	}
	return "", false
}

// canonicalHost lower-cases host and drops the scheme's default port.
func canonicalHost(scheme, host string) string {
	host = strings.ToLower(host)
	if h, p, err := net.SplitHostPort(host); err == nil && p == defaultPorts[scheme] {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

var defaultPorts = map[string]string{"http": "80", "https": "443"}

// ParseOrigin parses an allowed_targets entry and returns it in canonical
// form: http or https, lower-case host, no default port, no path. A trailing
// slash is tolerated; anything else beyond the origin is an error.
func ParseOrigin(s string) (*url.URL, error) {
	u, err := parseHTTPURL(s)
	if err != nil {
		return nil, err
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery {
		return nil, errors.New("must be an origin (scheme://host[:port]) without a path or query")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// ParseUpstream parses the fixed upstream URL: http or https, a host, an
// optional path prefix, no user info, query or fragment.
func ParseUpstream(s string) (*url.URL, error) {
	u, err := parseHTTPURL(s)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, errors.New("must not have a query")
	}
	return u, nil
}

func parseHTTPURL(s string) (*url.URL, error) {
	if hasControl(s) {
		return nil, errors.New("must not contain spaces or control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("is not a valid URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("must start with http:// or https://")
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("must have a host (scheme://host[:port])")
	}
	if u.User != nil {
		return nil, errors.New("must not contain user info")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, errors.New("must not have a fragment")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, errors.New("must have a host (scheme://host[:port])")
	}
	if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("has an empty port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return nil, fmt.Errorf("port %q must be a number from 1 to 65535", port)
		}
	}
	if strings.Contains(host, "%") {
		return nil, errors.New("must not use an IPv6 zone")
	}
	u.Host = canonicalHost(u.Scheme, u.Host)
	return u, nil
}
