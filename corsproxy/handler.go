package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"signaling-auth/corsproxy/internal/accesslog"
	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/cors"
	"signaling-auth/corsproxy/internal/metrics"
	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/corsproxy/internal/target"
	"signaling-auth/ratelimit/clientip"
	"signaling-auth/telemetry"
)

// newHandler builds the proxy's whole request path from cfg. Outside in:
//
//	access log (one record per request, 499 for clients that left)
//	→ CORS (preflights answered here; CORS headers set; disallowed origins 403)
//	→ extra middleware, in order (the slot for rate limiting: after CORS so a
//	  429 carries CORS headers and the page can read it, before anything
//	  reaches the upstream)
//	→ proxy (target allowlist 403, body cap 413, forwarding, 502/504)
//
// tr adds a client span to each upstream request (and its traceparent);
// serve wraps the whole handler in tr's server span.
func newHandler(cfg config.Config, log *slog.Logger, m *metrics.Metrics, tr *telemetry.Tracing, extra ...func(http.Handler) http.Handler) (http.Handler, error) {
	corsMW, err := cors.New(cfg.CORS, m)
	if err != nil {
		return nil, err
	}
	trusted, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("corsproxy: trusted_proxies: %v", err) // validated at load
	}
	var h http.Handler = proxy.New(proxy.Options{
		Resolver: target.New(cfg.Upstream, cfg.AllowedTargets, cfg.AllowedPaths),
		Transport: tr.Transport(proxy.NewTransport(proxy.TransportConfig{
			DialTimeout:           cfg.Timeouts.Dial,
			TLSHandshakeTimeout:   cfg.Timeouts.TLSHandshake,
			ResponseHeaderTimeout: cfg.Timeouts.ResponseHeader,
			IdleConnTimeout:       cfg.Timeouts.UpstreamIdle,
			MaxIdleConnsPerHost:   cfg.Transport.MaxIdleConnsPerHost,
			Proxy:                 cfg.Transport.Proxy,
		})),
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Logger:         log,
		Observer:       m,
		TrustedProxies: trusted,
	})
	for i := len(extra) - 1; i >= 0; i-- {
		h = extra[i](h)
	}
	h = corsMW.Handler(h)
	return accesslog.Handler(h, log, m), nil
}
