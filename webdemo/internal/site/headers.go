package site

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"signaling-auth/webdemo/internal/config"
)

// agoraSources are where agora-rtm-sdk 2.x itself connects once it has the token: its
// access points (ap-web-N.agora.io), edge servers (*.edge.agora.io, *.edge.sd-rtn.com
// over wss) and log/stats collectors. Without them the real SDK could not log in.
var agoraSources = []string{
	"https://*.agora.io", "wss://*.agora.io",
	"https://*.sd-rtn.com", "wss://*.sd-rtn.com",
}

// contentSecurityPolicy allows scripts only from this site and the SDK's exact URL (a
// CSP source with a file path matches that file alone, not the CDN's other files; an SDK
// served from this site needs nothing beyond 'self'), and network requests only to the
// token URL's origin and Agora. What the real SDK 2.x
// needs beyond that, seen in Chromium: web workers from blob: URLs, WebAssembly
// ('wasm-unsafe-eval', which does not allow JavaScript eval) and a style attribute on
// an element it hides (style-src-attr; style sheets stay 'self' only).
func contentSecurityPolicy(cfg config.Config, sdkURL string) string {
	connect := []string{"'self'"}
	for _, u := range []string{cfg.ProxyURL, cfg.ServerURL} {
		if o := origin(u); o != "" && !slices.Contains(connect, o) {
			connect = append(connect, o)
		}
	}
	connect = append(connect, agoraSources...)
	script := "'self'"
	if !strings.HasPrefix(sdkURL, "/") {
		script += " " + sdkURL
	}
	directives := []string{
		"default-src 'none'",
		"script-src " + script + " 'wasm-unsafe-eval'",
		"worker-src blob:",
		"connect-src " + strings.Join(connect, " "),
		"style-src 'self'",
		"style-src-attr 'unsafe-inline'",
		"img-src 'self' data:",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}
	return strings.Join(directives, "; ")
}

// origin is scheme://host[:port] of a URL that config has already validated.
func origin(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// securityHeaders sets the same headers on every answer, errors included.
func securityHeaders(next http.Handler, csp string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		// The token URL carries the user ID; no page of ours should leak it onwards.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}
