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
	"sync/atomic"

	"signaling-auth/lifecycle"
	"signaling-auth/telemetry"
	"signaling-auth/telemetry/connmetrics"
	"signaling-auth/webdemo/internal/config"
	"signaling-auth/webdemo/internal/site"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

const name = "webdemo"

// main runs run with SIGTERM's drain and SIGINT's immediate stop, at Go's
// default GOGC (see lifecycle.Main).
func main() { lifecycle.Main(0, run) }

// usage is the first part of --help, as in tokenserver and corsproxy: the
// subcommands, then every configuration flag.
const usage = `Usage:
  webdemo [serve] [flags]        serve the demo page (default)
  webdemo healthcheck [flags]    GET /healthz of the configured listen address; exit 0 on 200
  webdemo version                print the version
  webdemo help                   print this help (also --help)

Flags (also in configs/webdemo.yaml and WEBDEMO_* variables; flags win):
`

// run is the whole program; main only wires it to the process. It returns when ctx is
// done (after the drain when its cause is lifecycle.ErrTerminated) and in-flight requests have
// finished.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, args := lifecycle.Subcommand(args)
	switch cmd {
	case "version":
		_, err := fmt.Fprintln(stdout, version)
		return err
	case "help":
		_, err := fmt.Fprint(stdout, usage+config.Program.Usage())
		return err
	case "serve", "healthcheck":
	default:
		return fmt.Errorf("%s: unknown command %q (want serve, healthcheck, version or help)", name, cmd)
	}

	cfg, err := config.Load(args, getenv)
	if errors.Is(err, config.ErrHelp) {
		_, err = fmt.Fprint(stdout, usage+config.Program.Usage())
		return err
	}
	if err != nil {
		return err
	}
	if cmd == "healthcheck" {
		// For Docker's HEALTHCHECK, where there is no curl: is the server this
		// config would start up?
		if _, err := lifecycle.Healthcheck(ctx, cfg.Listen); err != nil {
			return fmt.Errorf("%s healthcheck: %w", name, err)
		}
		return nil
	}
	return serve(ctx, cfg, getenv, stderr)
}

func serve(ctx context.Context, cfg config.Config, getenv func(string) string, stderr io.Writer) error {
	logger := cfg.Log.Logger(stderr)
	tracing, err := telemetry.NewTracing(name, getenv)
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	defer tracing.Flush(logger)

	ln, err := lifecycle.Listen(ctx, name, "", cfg.Listen)
	if err != nil {
		return err
	}
	var draining atomic.Bool
	conns := cfg.Conns.ConnLimits()
	connMetrics := connmetrics.New(name, conns.Max, draining.Load)
	conns.Observer = connMetrics
	srv := lifecycle.NewServer(lifecycle.CloseWhileDraining(tracing.Handler(site.New(cfg, version, logger, draining.Load, connMetrics), name), &draining),
		cfg.Timeouts, 64<<10, logger)
	logger.Info("listening", "service", name, "addr", ln.Addr().String(), "version", version,
		"config_file", cfg.File, "token_url", cfg.TokenURLPrefix()+"rtm/{uid}/")
	if cfg.AppID == "" {
		logger.Info("agora.app_id is empty: the page uses the App ID inside each token")
	}

	return lifecycle.Serve(ctx, lifecycle.Options{Service: name, Log: logger, Timeouts: cfg.Timeouts,
		Draining: &draining}, lifecycle.Listener{Server: srv, Listener: ln, Conns: conns})
}
