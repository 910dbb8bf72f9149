package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"signaling-auth/e2e/internal/load"
)

// drive loads a server that is already running — one started under a
// profiler, say — with the same clients and checks as bench, and prints
// what it measured.
func drive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("drive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "host:port of the server to load (required)")
	duration := fs.Duration("duration", 10*time.Second, "measured time")
	warmup := fs.Duration("warmup", time.Second, "unmeasured load first")
	clients := fs.Int("clients", 64, "concurrent closed-loop clients")
	cors := fs.Bool("cors", false, "require Access-Control-Allow-Origin for "+allowedOrigin+" (a corsproxy)")
	preflight := fs.Bool("preflight", false, "send a preflight before each GET (implies -cors)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *addr == "" || *clients < 1 {
		return errors.New("drive: -addr is required and -clients must be positive")
	}
	res := load.Run(ctx, load.Options{
		Addr: *addr, Clients: *clients, Warmup: *warmup, Duration: *duration,
		Fetch: tokenFetch(*clients, *cors || *preflight, *preflight),
	})
	l := &res.Latency
	fmt.Fprintf(stdout, "%.0f fetches/s, p50 %s, p99 %s, p99.9 %s, %d errors %s\n",
		res.Rate(), ms(l.Quantile(.5)), ms(l.Quantile(.99)), ms(l.Quantile(.999)), res.Errors, res.ErrorSummary())
	if res.Errors > 0 {
		return fmt.Errorf("drive: %d errors", res.Errors)
	}
	return nil
}
