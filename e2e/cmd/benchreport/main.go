// Command benchreport measures the stack on this machine and writes the
// figures as a Markdown report: the token engine against Agora's reference
// builder, and the real tokenserver and corsproxy binaries under closed-loop
// HTTP load on loopback, each as a ratio to a bare net/http server measured
// in the same run. `make bench` runs it; `make soak` runs its soak
// subcommand, a long steady load through the proxy that watches for leaks.
//
//	benchreport [bench] [flags]   engine + HTTP report (bench/results/latest.md)
//	benchreport soak [flags]      steady load through corsproxy; RSS, goroutines, fds at start and end
//	benchreport drive -addr HOST:PORT [flags]  the same load against a server already running (to profile it)
//	benchreport bare [flags]      the bare ceiling server (started by bench as its own process)
//	benchreport reverseproxy -upstream URL  a bare httputil.ReverseProxy (the baseline of corsproxy)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "bench", []string(nil)
	if len(args) > 1 {
		rest = args[1:]
		if len(rest[0]) > 0 && rest[0][0] != '-' {
			cmd, rest = rest[0], rest[1:]
		}
	}
	switch cmd {
	case "bench":
		return bench(ctx, rest, getenv, stdout, stderr)
	case "soak":
		return soak(ctx, rest, getenv, stdout, stderr)
	case "bare":
		return bare(ctx, rest, stderr)
	case "reverseproxy":
		return reverseProxy(ctx, rest, stderr)
	case "drive":
		return drive(ctx, rest, stdout, stderr)
	}
	return fmt.Errorf("benchreport: unknown command %q (want bench, soak, drive, bare or reverseproxy)", cmd)
}
