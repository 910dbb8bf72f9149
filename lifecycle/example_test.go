package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"signaling-auth/lifecycle"
)

// Every program's main splits its arguments the same way: a first argument that is not a
// flag names the subcommand; without one the program serves.
func ExampleSubcommand() {
	for _, args := range [][]string{
		{"tokenserver"},
		{"tokenserver", "--listen", ":8081"},
		{"tokenserver", "healthcheck", "--listen", ":8081"},
	} {
		cmd, rest := lifecycle.Subcommand(args)
		fmt.Printf("%s %q\n", cmd, rest)
	}
	// Output:
	// serve []
	// serve ["--listen" ":8081"]
	// healthcheck ["--listen" ":8081"]
}

// Serve runs a program's servers until its context ends, then shuts them down, letting
// in-flight requests finish, and logs each step. SignalContext gives a program that
// context (SIGTERM, SIGINT); here the example cancels it itself.
func ExampleServe() {
	// Log lines without their time, so the output is the same on every run.
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	timeouts := lifecycle.Timeouts{ReadHeader: time.Second, Read: 5 * time.Second, Write: 5 * time.Second,
		Idle: time.Minute, Shutdown: 5 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })

	ctx, cancel := context.WithCancel(context.Background())
	ln, err := lifecycle.Listen(ctx, "example", "listen", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- lifecycle.Serve(ctx, lifecycle.Options{Service: "example", Log: log, Timeouts: timeouts},
			lifecycle.Listener{Server: lifecycle.NewServer(mux, timeouts, 1<<14, log), Listener: ln})
	}()

	resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))

	cancel()
	fmt.Println("Serve returned", <-done)
	// Output:
	// hello
	// level=INFO msg="shutting down" service=example grace=5s
	// level=INFO msg=stopped service=example
	// Serve returned <nil>
}
