package cors

import (
	"fmt"
	"strings"
	"time"

	"signaling-auth/origin"
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

// Policy is a Config that Compile accepted, its origins parsed and its
// methods as Fetch sends them: what the configuration hands out and New
// builds on, so nothing is parsed twice.
type Policy struct {
	Config
	origins origin.List
	methods []string
}

// Compile returns every problem with cfg, one per bad value, in key order,
// and its Policy, which is unusable when there are problems. rs/cors accepts
// anything and quietly does something else with a dangerous config (an empty
// origin list allows every origin, "*" with credentials reflects any
// origin), so this is where such configs are refused instead.
func Compile(cfg Config) (Policy, []FieldError) {
	origins, errs := check(cfg)
	methods := make([]string, 0, len(cfg.AllowedMethods))
	for _, m := range cfg.AllowedMethods {
		// Fetch upper-cases these six methods before sending them, so the
		// config may spell them in any case; any other method is
		// case-sensitive and is kept as written.
		if u := strings.ToUpper(m); fetchNormalizedMethods[u] {
			m = u
		}
		methods = append(methods, m)
	}
	return Policy{Config: cfg, origins: origins, methods: methods}, errs
}

var fetchNormalizedMethods = map[string]bool{"DELETE": true, "GET": true, "HEAD": true, "OPTIONS": true, "POST": true, "PUT": true}

// check returns every problem with cfg and its parsed origins.
func check(cfg Config) (origin.List, []FieldError) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	// allowed_origins
	if len(cfg.AllowedOrigins) == 0 {
		add("allowed_origins", "must list at least one origin (rs/cors would allow every origin for an empty list)")
	}
	// Parsing, normalising and the credentials rules are package origin's,
	// shared with tokenserver.
	origins, originErrs := origin.ParseList(cfg.AllowedOrigins, cfg.AllowCredentials)
	for _, err := range originErrs {
		add("allowed_origins", "%v", err)
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
	return origins, errs
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
