package main

import (
	"log/slog"
	"net/http"

	"signaling-auth/corsproxy/internal/accesslog"
	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/metrics"
	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/telemetry"
)

// newHandler builds the proxy's whole request path from cfg. Outside in:
//
//	access log (one record per request, 499 for clients that left)
//	→ preflight rate limit (429; a preflight answered otherwise than 2xx
//	  fails in the browser with or without CORS headers)
//	→ CORS (preflights answered here; CORS headers set; disallowed origins 403)
//	→ request rate limit (after CORS so a 429 carries CORS headers and the
//	  page can read it, before anything reaches the upstream)
//	→ proxy (target allowlist 403, body cap 413, forwarding, 502/504)
//
// install puts the hooks the upstream transport needs (one per client
// connection, see proxy.PerConnection) on the http.Server that serves h.
// tr adds a client span to each upstream request (and its traceparent);
// serve wraps the whole handler in tr's server span.
func newHandler(cfg config.Config, log *slog.Logger, m *metrics.Metrics, tr *telemetry.Tracing, lim limits) (h http.Handler, install func(*http.Server), err error) {
	corsMW := cors.New(cfg.CORS, m)
	upstream, install := proxy.NewUpstream(proxy.TransportConfig{
		DialTimeout:           cfg.Timeouts.Dial,
		TLSHandshakeTimeout:   cfg.Timeouts.TLSHandshake,
		ResponseHeaderTimeout: cfg.Timeouts.ResponseHeader,
		IdleConnTimeout:       cfg.Timeouts.UpstreamIdle,
		MaxIdleConnsPerHost:   cfg.Transport.MaxIdleConnsPerHost,
		Protocol:              cfg.Transport.Protocol,
		Proxy:                 cfg.Transport.Proxy,
	})
	h = proxy.New(proxy.Options{
		Resolver:       target.New(cfg.Upstream, cfg.AllowedTargets, cfg.AllowedPaths),
		Transport:      tr.Transport(upstream),
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Logger:         log,
		Observer:       m,
		TrustedProxies: cfg.Clients,
	})
	if lim.requests != nil {
		h = lim.requests(h)
	}
	h = corsMW.Handler(h)
	if lim.preflights != nil {
		h = lim.preflights(h)
	}
	return accesslog.Handler(h, log, m), install, nil
}
