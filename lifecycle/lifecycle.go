// Package lifecycle is how the three programs start, serve and stop, written
// once: main's signal handling and GOGC default, binding a listener with an
// error that says what to do, serving until the context is done, draining on
// SIGTERM (readiness off, still serving) before a graceful shutdown, and the
// healthcheck subcommand Docker's HEALTHCHECK runs. It never imports a program.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// ErrTerminated is the cause SignalContext cancels with on SIGTERM, the
// signal an orchestrator stops a server with: Serve then drains (readiness
// answers 503 for the drain time while requests are still served) before it
// shuts down. Any other cause (SIGINT, a test's cancel) shuts down at once,
// still letting in-flight requests finish.
var ErrTerminated = errors.New("SIGTERM")

// SignalContext is cancelled by the first SIGINT or SIGTERM, with cause
// ErrTerminated for SIGTERM. Later signals are ignored until stop.
func SignalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if s, ok := <-sigs; ok && s == syscall.SIGTERM {
			cancel(ErrTerminated)
		} else {
			cancel(context.Canceled)
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(context.Canceled) }
}

// Subcommand splits a program's arguments (args[0] is its name) into the
// subcommand, the first argument when it is not a flag, "serve" otherwise,
// and the arguments after it.
func Subcommand(args []string) (cmd string, rest []string) {
	if len(args) > 0 {
		args = args[1:]
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "serve", args
}

// RunFunc is a whole program: args[0] is its name, and it returns when ctx
// is done. Tests call it in-process.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main is a program's main: it sets GOGC to gcPercent unless the environment
// sets GOGC (0 keeps Go's default; set here, not in run, so tests in the same
// process keep Go's default), runs run with the process's arguments,
// environment and a SignalContext (runCaught), and exits 1 with run's error
// on stderr.
func Main(gcPercent int, run RunFunc) {
	if gcPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := runCaught(run); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runCaught runs run under a SignalContext and leaves SIGINT and SIGTERM
// caught when it returns: the process exits right after, and a signal in
// between (make run's SIGTERM arriving after Ctrl-C already stopped the
// program) must not turn a clean exit into death by that signal (143).
func runCaught(run RunFunc) error {
	ctx, _ := SignalContext()
	return run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
}
