// Package metrics holds the proxy's Prometheus collectors, on a registry of
// its own (never the global default one), and serves them. It implements the
// Observer interfaces of the accesslog, cors and proxy packages, so those
// packages do not depend on Prometheus.
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg               *prometheus.Registry
	requests          *prometheus.CounterVec
	upstreamDuration  *prometheus.HistogramVec
	preflights        *prometheus.CounterVec
	disallowedOrigins *prometheus.CounterVec
	rejectedTargets   prometheus.Counter
	refusedPaths      prometheus.Counter
	rateLimited       prometheus.Counter
	storeErrors       prometheus.Counter

	// Children of the vectors above, bound on first use: WithLabelValues
	// hashes the label and takes the vector's lock on every call, and these
	// are called on every request. Binding lazily keeps /metrics as it was
	// (a series appears once it has been counted, not before).
	byStatus [600]atomic.Pointer[prometheus.Counter]
	upstream twoWay[prometheus.Observer] // response, error
	preflt   twoWay[prometheus.Counter]  // refused, allowed
	disallow twoWay[prometheus.Counter]  // forwarded, rejected
}

// twoWay holds the two children of a vector whose one label says which of
// two outcomes happened, each bound on first use.
type twoWay[T any] struct {
	with     func(...string) T // the vector's WithLabelValues
	labels   [2]string         // for false, for true
	children [2]atomic.Pointer[T]
}

// child returns the child for outcome yes, binding it on first use.
func (w *twoWay[T]) child(yes bool) T {
	i := 0
	if yes {
		i = 1
	}
	return bound(&w.children[i], func() T { return w.with(w.labels[i]) })
}

// bound returns *slot, binding it with bind on first use.
func bound[T any](slot *atomic.Pointer[T], bind func() T) T {
	if p := slot.Load(); p != nil {
		return *p
	}
	v := bind()
	slot.Store(&v) // a race stores the same child twice: harmless
	return v
}

// New returns the collectors registered on a fresh registry, with the Go
// runtime and process collectors next to them.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsproxy_requests_total",
			Help: "Requests answered, by HTTP status (499: the client went away first).",
		}, []string{"code"}),
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "corsproxy_upstream_duration_seconds",
			Help:    "Time from sending a request upstream to its response headers, by outcome (response or error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
		preflights: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsproxy_preflights_total",
			Help: "CORS preflights answered by the proxy, by result (allowed or refused).",
		}, []string{"result"}),
		disallowedOrigins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "corsproxy_disallowed_origins_total",
			Help: "Non-preflight requests from origins that are not allowed, by action (rejected with 403, or forwarded without CORS headers).",
		}, []string{"action"}),
		rejectedTargets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsproxy_rejected_targets_total",
			Help: "Requests refused because their target is not allowed (open-proxy attempts, absolute-form, malformed paths).",
		}),
		refusedPaths: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsproxy_refused_paths_total",
			Help: "Requests answered 404 because their path is not in allowed_paths (the upstream never saw them).",
		}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsproxy_rate_limited_total",
			Help: "Requests answered 429 by the per-client-IP rate limit.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "corsproxy_rate_limit_store_errors_total",
			Help: "Rate-limit decisions taken without the store (it failed or is backing off); rate_limit.on_store_error decided them.",
		}),
	}
	m.upstream.with, m.upstream.labels = m.upstreamDuration.WithLabelValues, [2]string{"response", "error"}
	m.preflt.with, m.preflt.labels = m.preflights.WithLabelValues, [2]string{"refused", "allowed"}
	m.disallow.with, m.disallow.labels = m.disallowedOrigins.WithLabelValues, [2]string{"forwarded", "rejected"}
	m.reg.MustRegister(m.requests, m.upstreamDuration, m.preflights, m.disallowedOrigins, m.rejectedTargets,
		m.refusedPaths, m.rateLimited, m.storeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry, so tests and future collectors can use it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Request implements accesslog.Observer.
func (m *Metrics) Request(status int, _ time.Duration) {
	if status < 100 || status >= len(m.byStatus) {
		// An upstream may send any three digits; labels stay a closed set.
		m.requests.WithLabelValues("other").Inc()
		return
	}
	bound(&m.byStatus[status], func() prometheus.Counter {
		return m.requests.WithLabelValues(strconv.Itoa(status))
	}).Inc()
}

// Upstream implements proxy.Observer.
func (m *Metrics) Upstream(d time.Duration, err error) {
	m.upstream.child(err != nil).Observe(d.Seconds())
}

// RejectedTarget implements proxy.Observer.
func (m *Metrics) RejectedTarget() { m.rejectedTargets.Inc() }

// RefusedPath implements proxy.Observer.
func (m *Metrics) RefusedPath() { m.refusedPaths.Inc() }

// Preflight implements cors.Observer.
func (m *Metrics) Preflight(allowed bool) {
	m.preflt.child(allowed).Inc()
}

// DisallowedOrigin implements cors.Observer.
func (m *Metrics) DisallowedOrigin(rejected bool) {
	m.disallow.child(rejected).Inc()
}

// RateLimited implements iplimit.Observer.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// RateLimitStoreError implements iplimit.Observer.
func (m *Metrics) RateLimitStoreError() { m.storeErrors.Inc() }
