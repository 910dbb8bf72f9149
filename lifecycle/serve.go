package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
)

// Listen binds addr on TCP. Its error is one line that starts with service,
// names the setting key when it is not empty, and says what to do when the
// port is taken.
func Listen(ctx context.Context, service, key, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err == nil {
		return ln, nil
	}
	where := addr
	if key != "" {
		where += " (" + key + ")"
	}
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s: cannot listen on %s: address already in use (is another %s running?)", service, where, service)
	}
	// net.OpError's "listen tcp :9000:" prefix would repeat the address.
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return nil, fmt.Errorf("%s: cannot listen on %s: %w", service, where, err)
}

// Listener is one server and the listener it serves; with TLSConfig set on
// the server it serves TLS with TLSConfig's certificates. Conns bounds the
// connections it holds open (the zero value: no bound).
type Listener struct {
	Server   *http.Server
	Listener net.Listener
	Conns    ConnLimits
}

// Timeouts are a server's HTTP limits (NewServer) and how it stops (Serve).
type Timeouts struct {
	ReadHeader time.Duration // http.Server.ReadHeaderTimeout
	Read       time.Duration // http.Server.ReadTimeout
	Write      time.Duration // http.Server.WriteTimeout
	Idle       time.Duration // http.Server.IdleTimeout
	Shutdown   time.Duration // how long in-flight requests get to finish
	Drain      time.Duration // how long to keep serving, not ready, after SIGTERM; 0: no drain
}

// NewServer is an http.Server for h with t's timeouts and maxHeaderBytes (0:
// net/http's default), logging the errors net/http reports (a TLS handshake
// that failed, a panic in h) as warnings on log.
func NewServer(h http.Handler, t Timeouts, maxHeaderBytes int, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Options say how Serve drains and shuts down, and where it logs.
type Options struct {
	Service  string       // the "service" attribute of every log line, and the errors' prefix
	Log      *slog.Logger // where draining, shutting down and stopped are logged
	Timeouts Timeouts     // Serve reads Drain and Shutdown
	Draining *atomic.Bool // set when the drain starts; readiness and CloseWhileDraining read it
}

// Serve serves every listener until ctx is done or one of them fails. When
// ctx's cause is ErrTerminated and Timeouts.Drain > 0 it first drains: it
// sets o.Draining and keeps serving for the drain. Then it shuts every server
// down, letting in-flight requests finish within Timeouts.Shutdown (past that it closes
// them and returns an error), and logs "stopped" on a clean stop.
func Serve(ctx context.Context, o Options, ls ...Listener) error {
	ls = slices.Clone(ls)
	for i, l := range ls {
		if l.Conns.IsZero() {
			continue
		}
		ln, err := limitConns(l.Server, l.Listener, l.Conns)
		if err != nil {
			for _, l := range ls {
				l.Listener.Close()
			}
			return fmt.Errorf("%s: %w", o.Service, err)
		}
		ls[i].Listener = ln
	}
	errc := make(chan error, len(ls))
	for _, l := range ls {
		go func() {
			if l.Server.TLSConfig != nil {
				errc <- l.Server.ServeTLS(l.Listener, "", "")
			} else {
				errc <- l.Server.Serve(l.Listener)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	drain, grace := o.Timeouts.Drain, o.Timeouts.Shutdown
	if serveErr == nil && errors.Is(context.Cause(ctx), ErrTerminated) && drain > 0 {
		o.Draining.Store(true)
		o.Log.Info("draining: not ready, serving for "+drain.String(), "service", o.Service)
		select {
		case <-time.After(drain):
		case serveErr = <-errc:
		}
	}
	o.Log.Info("shutting down", "service", o.Service, "grace", grace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	var late bool
	for _, l := range ls {
		if err := l.Server.Shutdown(shutdownCtx); err != nil {
			late = true
			_ = l.Server.Close()
		}
	}
	switch {
	case serveErr != nil:
		return fmt.Errorf("%s: server stopped: %w", o.Service, serveErr)
	case late:
		return fmt.Errorf("%s: shutdown: in-flight requests did not finish within %s", o.Service, grace)
	}
	o.Log.Info("stopped", "service", o.Service)
	return nil
}

// CloseWhileDraining asks every client to close its connection after the
// answer once draining is set: a kept-alive client reconnects, through the
// load balancer to another replica, during the drain, instead of sending on a
// connection the shutdown closes as idle (a POST lost in that race is not
// retried).
func CloseWhileDraining(h http.Handler, draining *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}
