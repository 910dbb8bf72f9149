// Package admin serves the proxy's operational endpoints — /healthz,
// /readyz and /metrics — on their own listener, so they never collide with
// (or get forwarded as) upstream paths.
package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"signaling-auth/corsproxy/internal/problem"
)

// ReadyFunc reports why the proxy cannot serve yet: one reason per failed
// check, none when ready. It must return before ctx is done.
type ReadyFunc func(ctx context.Context) []string

// Options are what New needs.
type Options struct {
	Version string
	// Ready is the readiness check; nil means always ready.
	Ready ReadyFunc
	// ReadyTimeout bounds one readiness check.
	ReadyTimeout time.Duration
	// Metrics serves /metrics.
	Metrics http.Handler
}

// New returns the admin handler. The routes, all GET (and HEAD):
//
//	/healthz  200 {"status":"ok","version":…} while the process serves
//	/readyz   200 {"status":"ready"} or 503 problem+json with the reasons
//	/metrics  Prometheus exposition
//
// Anything else is a problem+json 404, and another method on a route a 405
// with Allow, like every other error corsproxy sends (ServeMux's own are
// text/plain).
func New(o Options) http.Handler {
	routes := map[string]http.Handler{
		"/healthz": healthz(o.Version),
		"/readyz":  readyz(o.Ready, o.ReadyTimeout),
	}
	if o.Metrics != nil {
		routes["/metrics"] = o.Metrics
	}
	mux := http.NewServeMux()
	for path, h := range routes {
		mux.Handle("GET "+path, h)
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", "GET, HEAD")
			problem.Error(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+path+"; use GET")
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Error(w, http.StatusNotFound, "no such admin endpoint; the admin listener serves /healthz, /readyz and /metrics")
	})
	return mux
}

func healthz(version string) http.HandlerFunc {
	body, _ := json.Marshal(map[string]string{"status": "ok", "version": version})
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(body, '\n'))
	}
}

func readyz(ready ReadyFunc, timeout time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var reasons []string
		if ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			reasons = ready(ctx)
			cancel()
		}
		if len(reasons) > 0 {
			p := problem.New(http.StatusServiceUnavailable, "not ready")
			p.Reasons = reasons
			problem.Write(w, p)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	}
}
