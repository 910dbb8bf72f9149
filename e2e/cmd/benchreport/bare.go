package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// bareBody is the size and shape of tokenserver's answer to GET /rtm/{uid}/
// (170 bytes with a Signaling token), so the ceiling moves the same bytes.
var bareBody = []byte(`{"rtmToken":"007` + strings.Repeat("A", 150) + `"}`)

// bare serves bareBody to every request: the fastest a Go HTTP server on
// this machine answers, the baseline every other figure is a ratio to. It
// runs as its own process so its RSS compares with the real programs', and
// logs its listening record like they do.
func bare(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("bare: %v", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Content-Type"] = []string{"application/json; charset=utf-8"}
			h["Cache-Control"] = []string{"no-store"}
			_, _ = w.Write(bareBody)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	log.Info("listening", "service", "bare", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("bare: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bare: shutdown: %v", err)
	}
	return nil
}
