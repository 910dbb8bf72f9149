// Package connmetrics turns what a program's connection limits do
// (lifecycle.ConnLimits, told through its ConnObserver) and whether the
// program drains into Prometheus metrics named after the program:
//
//	<program>_connections_open           gauge: connections open on the main listener
//	<program>_connections_max            gauge: max_conns (0: no cap)
//	<program>_connections_refused_total  counter: closed unread, their client at max_conns_per_ip
//	<program>_connections_evicted_total  counter: idle ones closed to make room at max_conns
//	<program>_connections_queued_total   counter: new ones that waited, max_conns reached and none idle
//	<program>_draining                   gauge: 1 while draining after SIGTERM, else 0
//
// open / max is the saturation the chart's dashboard shows and its
// "connection cap saturated" alert watches; queued growing means clients
// wait for a slot.
package connmetrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is a prometheus.Collector and a lifecycle.ConnObserver.
type Metrics struct {
	open                     prometheus.Gauge
	max                      prometheus.Gauge
	refused, evicted, queued prometheus.Counter
	draining                 prometheus.GaugeFunc
}

// New returns the metrics of program, whose cap is maxConns and which
// drains while draining reports true.
func New(program string, maxConns int, draining func() bool) *Metrics {
	m := &Metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: program + "_connections_open",
			Help: "Connections open on the main listener now.",
		}),
		max: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: program + "_connections_max",
			Help: "max_conns: the cap on open connections of the main listener (0: no cap).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: program + "_connections_refused_total",
			Help: "Connections closed unread because their client already held max_conns_per_ip.",
		}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: program + "_connections_evicted_total",
			Help: "Idle keep-alive connections closed to make room for a new one at max_conns.",
		}),
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: program + "_connections_queued_total",
			Help: "New connections that waited for a slot: max_conns reached and none idle.",
		}),
		draining: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: program + "_draining",
			Help: "1 while the program drains after SIGTERM (not ready, still serving), else 0.",
		}, func() float64 {
			if draining() {
				return 1
			}
			return 0
		}),
	}
	m.max.Set(float64(maxConns))
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.open, m.max, m.refused, m.evicted, m.queued, m.draining}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// ConnsOpen implements lifecycle.ConnObserver.
func (m *Metrics) ConnsOpen(n int) { m.open.Set(float64(n)) }

// ConnRefused implements lifecycle.ConnObserver.
func (m *Metrics) ConnRefused() { m.refused.Inc() }

// ConnEvicted implements lifecycle.ConnObserver.
func (m *Metrics) ConnEvicted() { m.evicted.Inc() }

// ConnQueued implements lifecycle.ConnObserver.
func (m *Metrics) ConnQueued() { m.queued.Inc() }
