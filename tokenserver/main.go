// Command tokenserver mints Agora AccessToken2 tokens for Signaling, RTC and
// Chat over HTTP, speaking both the routes existing Agora token servers use
// and a native /v1 API. It also mints and inspects tokens from the command
// line. main only wires signals to run, which tests call in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is stamped at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
