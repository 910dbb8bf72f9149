package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"signaling-auth/tokenserver/internal/tokens"
)

// metrics lives in a registry of its own: no global default registry, so two
// servers in one process (tests) never share or collide.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	minted   *prometheus.CounterVec

	authRefused *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	storeErrors prometheus.Counter
}

func newMetrics(version, mode string) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenserver_http_requests_total",
			Help: "HTTP requests by route pattern (unmatched: none), method (other: not one of RFC 9110's) and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tokenserver_http_request_duration_seconds",
			Help: "Time from request start to the last byte of the answer, by route pattern.",
			// Minting is tens of microseconds; the top buckets catch slow clients.
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 2},
		}, []string{"route"}),
		minted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenserver_tokens_minted_total",
			Help: "Tokens handed out, by type (signaling, rtc, rte, chat-user, chat-app).",
		}, []string{"type"}),
		authRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenserver_auth_refused_total",
			Help: "Requests refused by caller authentication, by status (401: no or bad credentials, 403: a user ID not the caller's).",
		}, []string{"status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenserver_rate_limited_total",
			Help: "Requests answered 429, by the limit that refused them (ip or uid).",
		}, []string{"limit"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokenserver_rate_limit_store_errors_total",
			Help: "Rate-limit decisions taken without the store (it failed or is backing off); rate_limit.on_store_error decided them.",
		}),
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tokenserver_build_info",
		Help: "Always 1; labels say which build runs and in which mode.",
	}, []string{"version", "mode"})
	info.WithLabelValues(version, mode).Set(1)
	m.reg.MustRegister(m.requests, m.latency, m.minted, info, m.authRefused, m.rateLimited, m.storeErrors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every type is visible at 0 from the start, so rate() works before the first token.
	for _, t := range tokens.Types {
		m.minted.WithLabelValues(t)
	}
	m.authRefused.WithLabelValues("401")
	m.authRefused.WithLabelValues("403")
	m.rateLimited.WithLabelValues("ip")
	m.rateLimited.WithLabelValues("uid")
	return m
}

// methodLabel is the request method as a label from a closed set: a client
// may send any token as the method, and each distinct label value is a
// series kept for the life of the process.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}
