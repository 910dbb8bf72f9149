package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"signaling-auth/corsproxy/internal/admin"
	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/connlimit"
	"signaling-auth/corsproxy/internal/metrics"
	"signaling-auth/corsproxy/internal/proxy"
)

// serve runs the proxy and its admin listener until ctx is done, then shuts
// both down, letting in-flight requests finish (up to timeouts.shutdown).
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stdout)
	if errors.Is(err, config.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	m := metrics.New()
	limits, closeLimits, err := rateLimits(cfg, log, m)
	if err != nil {
		return err
	}
	defer closeLimits()
	handler, err := newHandler(cfg, log, m, limits...)
	if err != nil {
		return err
	}

	ln, err := listen(ctx, cfg.Listen, "listen")
	if err != nil {
		return err
	}
	adminLn, err := listen(ctx, cfg.AdminListen, "admin_listen")
	if err != nil {
		ln.Close()
		return err
	}
	if cfg.MaxConns > 0 {
		// Past the cap a connection waits in the kernel's accept queue
		// until one of ours closes: idle keep-alive sockets cannot grow
		// memory without bound. The admin listener has no cap, so health
		// checks still answer.
		ln = connlimit.Listen(ln, cfg.MaxConns)
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.Timeouts.ReadHeader,
		ReadTimeout:       cfg.Timeouts.Read,
		WriteTimeout:      cfg.Timeouts.Write,
		IdleTimeout:       cfg.Timeouts.Idle,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.TLS != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cfg.TLS}, MinVersion: tls.VersionTLS12}
	}
	adminSrv := &http.Server{
		Handler: admin.New(admin.Options{
			Version:      version,
			Ready:        readiness(cfg),
			ReadyTimeout: cfg.Timeouts.Readiness,
			Metrics:      m.Handler(),
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       cfg.Timeouts.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 2)
	go func() {
		if cfg.TLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	go func() { errc <- adminSrv.Serve(adminLn) }()

	upstream := ""
	if cfg.Upstream != nil {
		upstream = cfg.Upstream.String()
	}
	log.Info("listening", "service", "corsproxy", "addr", ln.Addr().String(), "tls", cfg.TLS != nil,
		"upstream", upstream, "allowed_targets", len(cfg.AllowedTargets), "config", cfg.File, "version", version,
		"rate_limit", cfg.RateLimit.PerIP.String()+" per IP, store "+cfg.RateLimit.Store, "max_conns", cfg.MaxConns)
	log.Info("admin listening", "service", "corsproxy", "addr", adminLn.Addr().String())
	if cfg.AllowedPaths == nil {
		log.Warn("allowed_paths is empty: every path is passed on to the upstream, its private routes (metrics, readiness, token inspection) included",
			"service", "corsproxy")
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		serveErr = fmt.Errorf("corsproxy: server stopped: %w", serveErr)
	}
	log.Info("shutting down", "service", "corsproxy", "grace", cfg.Timeouts.Shutdown)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeouts.Shutdown)
	defer cancel()
	err = errors.Join(srv.Shutdown(shutdownCtx), adminSrv.Shutdown(shutdownCtx))
	if serveErr != nil {
		return serveErr
	}
	if err != nil {
		return fmt.Errorf("corsproxy: shutdown: %w", err)
	}
	return nil
}

// listen binds addr; the error is one line, with the likely cause when the
// port is taken.
func listen(ctx context.Context, addr, key string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("corsproxy: cannot listen on %s (%s): address already in use (is another corsproxy running?)", addr, key)
	default:
		var sysErr *net.OpError
		if errors.As(err, &sysErr) && sysErr.Err != nil {
			err = sysErr.Err
		}
		return nil, fmt.Errorf("corsproxy: cannot listen on %s (%s): %v", addr, key, err)
	}
}

// readiness reports the upstream (or every allowed target) that does not
// accept a TCP connection.
func readiness(cfg config.Config) admin.ReadyFunc {
	var dests []*url.URL
	if cfg.Upstream != nil {
		dests = append(dests, cfg.Upstream)
	}
	dests = append(dests, cfg.AllowedTargets...)
	return func(ctx context.Context) []string {
		var reasons []string
		for _, err := range proxy.Reachable(ctx, dests, cfg.Transport.Proxy, cfg.Timeouts.Readiness) {
			reasons = append(reasons, err.Error())
		}
		return reasons
	}
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// healthcheck GETs the admin /healthz of the configured admin_listen on the
// loopback interface and fails unless it answers 200. Docker's HEALTHCHECK
// runs it (there is no curl in the image).
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv, stdout)
	if errors.Is(err, config.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.AdminListen)
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if port == "0" {
		return errors.New("healthcheck: admin_listen has port 0; give the port the proxy is listening on")
	}
	u := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", u, res.Status)
	}
	_, _ = stdout.Write(body)
	return nil
}
