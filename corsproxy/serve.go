package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync/atomic"
	"time"

	"signaling-auth/corsproxy/internal/admin"
	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/metrics"
	"signaling-auth/corsproxy/internal/proxy"
	"signaling-auth/lifecycle"
	"signaling-auth/telemetry"
	"signaling-auth/telemetry/connmetrics"
)

// serve runs the proxy and its admin listener until ctx is done, then shuts
// both down, letting in-flight requests finish (up to timeouts.shutdown). When
// ctx's cause is lifecycle.ErrTerminated it first drains: /readyz answers 503 for
// timeouts.drain while both listeners keep serving.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, io.Discard)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, usage+config.Program.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	log := cfg.Log.Logger(stderr)
	m := metrics.New()
	limits, closeLimits, err := rateLimits(cfg, log, m)
	if err != nil {
		return err
	}
	defer closeLimits()
	tracing, err := telemetry.NewTracing("corsproxy", getenv)
	if err != nil {
		return fmt.Errorf("corsproxy: %v", err)
	}
	defer tracing.Flush(log)
	handler, installUpstream, err := newHandler(cfg, log, m, tracing, limits)
	if err != nil {
		return err
	}
	handler = tracing.Handler(handler, "corsproxy")

	ln, err := lifecycle.Listen(ctx, "corsproxy", "listen", cfg.Listen)
	if err != nil {
		return err
	}
	adminLn, err := lifecycle.Listen(ctx, "corsproxy", "admin_listen", cfg.AdminListen)
	if err != nil {
		ln.Close()
		return err
	}

	var draining atomic.Bool
	conns := cfg.Conns.ConnLimits()
	connMetrics := connmetrics.New("corsproxy", conns.Max, draining.Load)
	m.Registry().MustRegister(connMetrics)
	conns.Observer = connMetrics
	srv := lifecycle.NewServer(lifecycle.CloseWhileDraining(handler, &draining), cfg.Timeouts.Timeouts, cfg.MaxHeaderBytes, log)
	installUpstream(srv)
	if cfg.TLS != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cfg.TLS}, MinVersion: tls.VersionTLS12}
	}
	adminSrv := lifecycle.NewServer(admin.New(admin.Options{
		Version:      version,
		Ready:        readiness(cfg, &draining),
		ReadyTimeout: cfg.Timeouts.Readiness,
		Metrics:      m.Handler(),
	}), lifecycle.Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: cfg.Timeouts.Idle}, 0, log)

	upstream := ""
	if cfg.Upstream != nil {
		upstream = cfg.Upstream.String()
	}
	log.Info("listening", "service", "corsproxy", "addr", ln.Addr().String(), "tls", cfg.TLS != nil,
		"upstream", upstream, "allowed_targets", len(cfg.AllowedTargets), "config", cfg.File, "version", version,
		"rate_limit", cfg.RateLimit.PerIP.String()+" per IP, store "+cfg.RateLimit.Store, "max_conns", cfg.Conns.Max, "max_conns_per_ip", cfg.Conns.PerIP)
	log.Info("admin listening", "service", "corsproxy", "addr", adminLn.Addr().String())
	if cfg.AllowedPaths == nil {
		log.Warn("allowed_paths is empty: every path is passed on to the upstream, its private routes (metrics, readiness, token inspection) included",
			"service", "corsproxy")
	}

	return lifecycle.Serve(ctx, lifecycle.Options{Service: "corsproxy", Log: log, Timeouts: cfg.Timeouts.Timeouts,
		Draining: &draining},
		// The admin listener has no connection limits, so probes and
		// scrapes still answer while clients fill the proxy's.
		lifecycle.Listener{Server: srv, Listener: ln, Conns: conns}, lifecycle.Listener{Server: adminSrv, Listener: adminLn})
}

// readiness reports the upstream (or every allowed target) that does not
// accept a TCP connection, or only that the proxy is shutting down once
// draining is set.
func readiness(cfg config.Config, draining *atomic.Bool) admin.ReadyFunc {
	var dests []*url.URL
	if cfg.Upstream != nil {
		dests = append(dests, cfg.Upstream)
	}
	dests = append(dests, cfg.AllowedTargets...)
	return func(ctx context.Context) []string {
		if draining.Load() {
			return []string{"shutting down"}
		}
		var reasons []string
		for _, err := range proxy.Reachable(ctx, dests, cfg.Transport.Proxy, cfg.Timeouts.Readiness) {
			reasons = append(reasons, err.Error())
		}
		return reasons
	}
}

// healthcheck GETs the admin /healthz of the configured admin_listen on the
// loopback interface and fails unless it answers 200. Docker's HEALTHCHECK
// runs it (there is no curl in the image).
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv, io.Discard)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, usage+config.Program.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	body, err := lifecycle.Healthcheck(ctx, cfg.AdminListen)
	if err != nil {
		return fmt.Errorf("corsproxy healthcheck: %w", err)
	}
	_, _ = stdout.Write(body)
	return nil
}
