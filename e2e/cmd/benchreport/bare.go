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
	"net/http/httputil"
	"net/url"
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
	return serveUntilDone(ctx, "bare", *listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json; charset=utf-8"}
		h["Cache-Control"] = []string{"no-store"}
		_, _ = w.Write(bareBody)
	}), stderr)
}

// reverseProxy is a bare httputil.ReverseProxy in front of -upstream: no
// CORS, no limits, no logs, no metrics, and net/http's default transport
// with only its idle pool sized to the clients — the baseline corsproxy is
// compared with (corsproxy must reach ≥ 1.0 × its throughput: the proxy's features
// must not cost a user throughput). Its own process, like bare.
func reverseProxy(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("reverseproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	upstream := fs.String("upstream", "", "upstream URL, http://host:port")
	idle := fs.Int("idle", 64, "MaxIdleConnsPerHost of the transport: the number of clients")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("reverseproxy: -upstream must be http://host:port (got %q)", *upstream)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = *idle
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: tr,
	}
	return serveUntilDone(ctx, "reverseproxy", *listen, rp, stderr)
}

// serveUntilDone serves h on listen, logs the listening record the real
// programs log, and shuts down when ctx is done.
func serveUntilDone(ctx context.Context, name, listen string, h http.Handler, stderr io.Writer) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	log.Info("listening", "service", name, "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("%s: %v", name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("%s: shutdown: %v", name, err)
	}
	return nil
}
