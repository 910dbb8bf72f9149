// Command webdemo serves the Agora Signaling Authentication Guide page: a user ID field,
// Login/Logout with a token fetched through the CORS proxy, token renewal, and a log of
// every step. The page's HTML, CSS and ES modules are embedded in the binary; the
// Signaling SDK is served from sdk_dir when `make sdk` put it there, else the browser
// loads it from sdk_url.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"signaling-auth/webdemo/internal/config"
	"signaling-auth/webdemo/internal/site"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const name = "webdemo"

func main() {
	ctx, stop := signalContext()
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// errTerminated is the cause main cancels run's context with on SIGTERM, the signal an
// orchestrator stops a server with: serve then drains (/readyz answers 503 for
// timeouts.drain while requests are still served) before it shuts down. Any other
// cause (SIGINT, a test's cancel) shuts down at once, still letting in-flight requests
// finish.
var errTerminated = errors.New("SIGTERM")

// signalContext is cancelled by the first SIGINT or SIGTERM, with cause errTerminated
// for SIGTERM. Later signals are ignored until stop.
func signalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok && s == syscall.SIGTERM {
			cancel(errTerminated)
		} else {
			cancel(context.Canceled)
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(context.Canceled) }
}

const usage = `Usage:
  webdemo [flags]              serve the demo page
  webdemo healthcheck [flags]  GET /healthz of the configured listen address; exit 0 if it answers 200
  webdemo version              print the version

Flags (also in configs/webdemo.yaml and WEBDEMO_* variables; flags win):
`

// run is the whole program; main only wires it to the process. It returns when ctx is
// done (after the drain when its cause is errTerminated) and in-flight requests have
// finished.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		args = args[1:] // the program name
	}
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		_, err := fmt.Fprintln(stdout, version)
		return err
	case "serve", "healthcheck":
	default:
		return fmt.Errorf("%s: unknown command %q (want healthcheck or version; see --help)", name, cmd)
	}

	cfg, err := config.Load(args, getenv)
	if errors.Is(err, config.ErrHelp) {
		_, err = fmt.Fprint(stdout, usage+config.Usage())
		return err
	}
	if err != nil {
		return err
	}
	if cmd == "healthcheck" {
		return healthcheck(ctx, cfg)
	}
	return serve(ctx, cfg, stderr)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(ctx context.Context, cfg config.Config, stderr io.Writer) error {
	logger := newLogger(cfg, stderr)

	ln, err := listen(ctx, cfg.Listen)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	srv := &http.Server{
		Handler:           closeWhileDraining(site.New(cfg, version, logger, draining.Load), &draining),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "service", name, "addr", ln.Addr().String(), "version", version,
		"config_file", cfg.File, "token_url", cfg.TokenURLPrefix()+"rtm/{uid}/", "sdk_url", cfg.SDKURL)
	if cfg.AppID == "" {
		logger.Info("agora.app_id is empty: the page uses the App ID inside each token")
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return fmt.Errorf("%s: %w", name, err)
	case <-ctx.Done():
	}
	if errors.Is(context.Cause(ctx), errTerminated) && cfg.Timeouts.Drain > 0 {
		draining.Store(true)
		logger.Info("draining: not ready, serving for "+cfg.Timeouts.Drain.String(), "service", name)
		select {
		case err := <-served:
			return fmt.Errorf("%s: %w", name, err)
		case <-time.After(cfg.Timeouts.Drain):
		}
	}
	logger.Info("shutting down", "service", name, "grace", cfg.Timeouts.Shutdown)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.Timeouts.Shutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", name, err)
	}
	<-served
	logger.Info("stopped", "service", name)
	return nil
}

// listen binds addr and turns the common failure into one line that says what to do.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: cannot listen on %s: address already in use (is another %s running?)", name, addr, name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot listen on %s: %w", name, addr, unwrapOp(err))
	}
	return ln, nil
}

// unwrapOp drops net.OpError's "listen tcp :9000:" prefix, which would repeat the address.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// closeWhileDraining asks every client to close its connection after the answer
// once draining is set: a kept-alive client reconnects, through the load
// balancer to another replica, during the drain, instead of sending on a
// connection the shutdown closes as idle (a POST lost in that race is not retried).
func closeWhileDraining(h http.Handler, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}
