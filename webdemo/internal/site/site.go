// Package site serves the demo pages: the embedded HTML, CSS and ES modules, the
// /config.json that tells the page where tokens and the Signaling SDK come from, and
// the health and metrics endpoints. Every answer carries the security headers, whose
// Content-Security-Policy is built from the configured URLs.
package site

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"signaling-auth/webdemo/internal/config"
)

// New returns the whole site as one handler: routes, security headers, access log and
// metrics. It does not listen; the caller owns the server. /readyz answers 503 while
// draining reports true (nil: never). /metrics also serves more (the connection
// limits' metrics, which the program around the site owns).
func New(cfg config.Config, version string, logger *slog.Logger, draining func() bool, more ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(more...)
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "webdemo_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code.",
	}, []string{"route", "code"})
	reg.MustRegister(requests)

	// One line says where the page gets the SDK: this site's copy or sdk_url,
	// never both.
	sdk, err := loadLocalSDK(cfg.SDKDir)
	sdkURL := cfg.SDKURL
	switch {
	case sdk != nil:
		sdkURL = localSDKPath
		logger.Info("the page loads the Signaling SDK from this site (sdk_dir)", "file", filepath.Join(cfg.SDKDir, config.SDKFile), "path", localSDKPath)
	case err != nil:
		logger.Info("the page loads the Signaling SDK from sdk_url: no local copy (make sdk fetches one)", "sdk_url", cfg.SDKURL, "sdk_dir", cfg.SDKDir, "reason", err.Error())
	default:
		logger.Info("the page loads the Signaling SDK from sdk_url", "sdk_url", cfg.SDKURL)
	}

	mux := http.NewServeMux()
	addRoutes(mux, cfg, version, reg, sdk, sdkURL, draining)

	var h http.Handler = mux
	h = getOnly(h)
	h = securityHeaders(h, contentSecurityPolicy(cfg, sdkURL))
	h = accessLog(h, logger, requests)
	return h
}

// statusWriter remembers the status code for the access log and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one record per request. The route is the matched pattern, not the
// raw path, so a user ID typed into a URL never lands in the log or in a metric label.
func accessLog(next http.Handler, logger *slog.Logger, requests *prometheus.CounterVec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("latency", time.Since(start)),
		)
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// getOnly refuses every method but GET and HEAD: the site is read-only.
func getOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeProblem(w, http.StatusMethodNotAllowed, "This site only answers GET and HEAD.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
