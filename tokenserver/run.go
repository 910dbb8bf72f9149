package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"signaling-auth/lifecycle"
	"signaling-auth/telemetry"
	"signaling-auth/telemetry/connmetrics"
	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/api"
	"signaling-auth/tokenserver/internal/auth"
	"signaling-auth/tokenserver/internal/config"
)

const prog = "tokenserver"

const usage = `Usage:
  tokenserver [serve] [flags]          run the HTTP token server (default)
  tokenserver mint --type TYPE [--uid ID] [--channel NAME] [--role ROLE] [--rtmuid ID] [--expire SECONDS] [flags]
                                       print one token (TYPE: signaling or rtm, rtc, rte, chat-user or chat-account, chat-app);
                                       signaling also takes --read/--write RESOURCE=NAME (RTM2 permissions)
                                       or --channel; rtc takes per-privilege --join-expire, --publish-*-expire
  tokenserver inspect [--json] TOKEN   print a token's fields; verify it when a certificate is configured
  tokenserver doctor [--json] TOKEN [--service rtc|signaling] [--channel NAME] [--uid N | --user-account ID]
                     [--action join|publish-audio|publish-video|publish-data|login] [--at RFC3339]
                                       say whether Agora will accept the token for that, and why not;
                                       exit status 1 when it will be refused
  tokenserver healthcheck [flags]      exit 0 when the local server answers /healthz with 200
  tokenserver version                  print the version
  tokenserver help                     print this help (also --help)

Every subcommand reads the configuration (configs/tokenserver.yaml, TOKENSERVER_* and the
AGORA_APP_ID/AGORA_APP_CERTIFICATE(_FILE)/APP_ID/APP_CERTIFICATE/SERVER_PORT/PORT/CORS_ALLOW_ORIGIN
names, .env here and at the repository root, flags).
Configuration flags:
`

// run is the whole program: subcommand, flags, configuration, and for serve
// the listener and graceful shutdown when ctx is done (after the drain when
// its cause is lifecycle.ErrTerminated).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := lifecycle.Subcommand(args)
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "mint":
		return mint(rest, getenv, stdout, stderr)
	case "inspect":
		return inspect(rest, getenv, stdout)
	case "doctor":
		return doctor(rest, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, rest, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage+flagSet("help", nil).FlagUsages())
		return nil
	}
	return fmt.Errorf("%s: unknown subcommand %q (serve, mint, inspect, doctor, healthcheck, version, help)", prog, cmd)
}

// flagSet has the configuration flags plus whatever extra adds.
func flagSet(cmd string, extra func(*pflag.FlagSet)) *pflag.FlagSet {
	fs := pflag.NewFlagSet(prog+" "+cmd, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard) // errors are returned, usage printed on --help only
	if extra != nil {
		extra(fs)
	}
	config.AddFlags(fs)
	return fs
}

// errHelp means --help was printed; run returns nil.
var errHelp = errors.New("help printed")

// load parses the flags and loads the configuration.
func load(cmd string, fs *pflag.FlagSet, args []string, getenv func(string) string, stdout io.Writer) (config.Config, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage+fs.FlagUsages())
			return config.Config{}, errHelp
		}
		return config.Config{}, fmt.Errorf("%s %s: %v (see %s help)", prog, cmd, err, prog)
	}
	dir, err := os.Getwd()
	if err != nil {
		return config.Config{}, fmt.Errorf("%s: working directory: %v", prog, err)
	}
	return config.Load(config.Source{Flags: fs, Getenv: getenv, Dir: dir})
}

// newMinter builds the minter for the configured pair, or in demo mode for a
// random pair that lives as long as this process.
func newMinter(cfg config.Config) (*accesstoken.Minter, error) {
	appID, cert := cfg.AppID, cfg.AppCertificate
	if cfg.Demo {
		appID, cert = randomHex(), config.NewSecret(randomHex())
	}
	m, err := accesstoken.NewMinter(appID, cert.Reveal())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", prog, err)
	}
	return m, nil
}

// newSecondaryMinter holds agora.app_certificate_secondary for the token
// doctor; nil when none is configured.
func newSecondaryMinter(cfg config.Config) (*accesstoken.Minter, error) {
	if cfg.Demo || cfg.AppCertificateSecondary.IsZero() {
		return nil, nil
	}
	m, err := accesstoken.NewMinter(cfg.AppID, cfg.AppCertificateSecondary.Reveal())
	if err != nil {
		return nil, fmt.Errorf("%s: agora.app_certificate_secondary: %v", prog, err)
	}
	return m, nil
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// demoWarning says what the token server looked for and where, so that a
// credential under another name or in another file is found at once.
func demoWarning(cfg config.Config) string {
	file := "no config file"
	if cfg.File != "" {
		file = cfg.File
	}
	return fmt.Sprintf("DEMO MODE: no Agora App ID or App Certificate found. Looked for AGORA_APP_ID and AGORA_APP_CERTIFICATE "+
		"(or AGORA_APP_CERTIFICATE_FILE; also TOKENSERVER_AGORA_APP_ID, TOKENSERVER_AGORA_APP_CERTIFICATE, APP_ID, APP_CERTIFICATE) "+
		"in the environment and in %s, and agora.app_id and agora.app_certificate in %s and the flags. "+
		"Tokens are signed with a random pair made for this run; they are well-formed but Agora rejects them. "+
		"For real tokens put AGORA_APP_ID=<App ID> and AGORA_APP_CERTIFICATE=<App Certificate> into .env at the repository root (see configs/.env.example).",
		strings.Join(cfg.DotEnv, " and "), file)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := load("serve", flagSet("serve", nil), args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := cfg.Log.Logger(stderr)
	minter, err := newMinter(cfg)
	if err != nil {
		return err
	}
	if cfg.Demo {
		log.Warn(demoWarning(cfg), "appId", minter.AppID())
	}
	sec, err := newSecurity(cfg, log)
	if err != nil {
		return fmt.Errorf("%s: %v", prog, err)
	}
	defer sec.close()
	tracing, err := telemetry.NewTracing(prog, getenv)
	if err != nil {
		return fmt.Errorf("%s: %v", prog, err)
	}
	defer tracing.Flush(log)
	audit, releaseAudit, err := openAudit(ctx, cfg.AuditOutput, stdout, stderr, log)
	if err != nil {
		return fmt.Errorf("%s: %v", prog, err)
	}
	defer releaseAudit()
	authCtx, stopAuth := context.WithCancel(ctx)
	defer stopAuth()
	go sec.auth.Run(authCtx)
	var draining atomic.Bool
	conns := cfg.Conns.ConnLimits()
	connMetrics := connmetrics.New(prog, conns.Max, draining.Load)
	conns.Observer = connMetrics
	second, err := newSecondaryMinter(cfg)
	if err != nil {
		return err
	}
	handler, err := api.New(api.Options{
		Minter:          minter,
		SecondaryMinter: second,
		Demo:            cfg.Demo,
		DefaultExpiry:   cfg.DefaultExpiry,
		MaxExpiry:       cfg.MaxExpiry,
		Origins:         cfg.Origins,
		Clients:         cfg.Clients,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		Version:         version,
		Logger:          log,
		Audit:           audit,
		Tracer:          tracing.Tracer(prog),
		Collectors:      []prometheus.Collector{connMetrics},
		Auth:            sec.auth,
		Limiter:         sec.limiter,
		PerIP:           cfg.RateLimit.PerIP,
		PerUID:          cfg.RateLimit.PerUID,
		Ready: func() []string {
			if draining.Load() {
				return []string{"shutting down"}
			}
			return sec.auth.Ready()
		},
	})
	if err != nil {
		return fmt.Errorf("%s: %v", prog, err)
	}

	ln, err := lifecycle.Listen(ctx, prog, "", cfg.Listen)
	if err != nil {
		return err
	}
	srv := lifecycle.NewServer(lifecycle.CloseWhileDraining(tracing.Handler(handler, prog), &draining), cfg.Timeouts, cfg.MaxHeaderBytes, log)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	// HTTP/2 without TLS (prior knowledge) besides HTTP/1.1, for a proxy in
	// front that speaks it (corsproxy's transport.protocol=h2c): every
	// answer then travels on its own request's stream, where a stray frame
	// cannot become another client's answer.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	log.Info("listening", "service", prog, "addr", ln.Addr().String(), "version", version, "mode", api.Mode(cfg.Demo),
		"appId", minter.AppID(), "config", cfg.File, "cors", len(cfg.Origins.Entries()) > 0,
		"auth", cfg.Auth.Mode, "rate_limit", sec.summary,
		"max_conns", cfg.Conns.Max, "max_conns_per_ip", cfg.Conns.PerIP)
	if cfg.Auth.Mode == auth.ModeNone && !loopbackOnly(ln.Addr()) {
		log.Warn(openWarning, "addr", ln.Addr().String())
	}

	return lifecycle.Serve(ctx, lifecycle.Options{Service: prog, Log: log, Timeouts: cfg.Timeouts,
		Draining: &draining}, lifecycle.Listener{Server: srv, Listener: ln, Conns: conns})
}

// healthcheck GETs /healthz on the configured port of this machine.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := load("healthcheck", flagSet("healthcheck", nil), args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := lifecycle.Healthcheck(ctx, cfg.Listen); err != nil {
		return fmt.Errorf("%s healthcheck: %w", prog, err)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
