package connmetrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTheMetricsSayWhatTheLimitsDidAndWhetherTheProgramDrains(t *testing.T) {
	draining := false
	m := New("prog", 64, func() bool { return draining })
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)

	m.ConnsOpen(3)
	m.ConnsOpen(2)
	m.ConnRefused()
	m.ConnRefused()
	m.ConnEvicted()
	m.ConnQueued()
	draining = true
	want := `
# HELP prog_connections_evicted_total Idle keep-alive connections closed to make room for a new one at max_conns.
# TYPE prog_connections_evicted_total counter
prog_connections_evicted_total 1
# HELP prog_connections_max max_conns: the cap on open connections of the main listener (0: no cap).
# TYPE prog_connections_max gauge
prog_connections_max 64
# HELP prog_connections_open Connections open on the main listener now.
# TYPE prog_connections_open gauge
prog_connections_open 2
# HELP prog_connections_queued_total New connections that waited for a slot: max_conns reached and none idle.
# TYPE prog_connections_queued_total counter
prog_connections_queued_total 1
# HELP prog_connections_refused_total Connections closed unread because their client already held max_conns_per_ip.
# TYPE prog_connections_refused_total counter
prog_connections_refused_total 2
# HELP prog_draining 1 while the program drains after SIGTERM (not ready, still serving), else 0.
# TYPE prog_draining gauge
prog_draining 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	draining = false
	if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP prog_draining 1 while the program drains after SIGTERM (not ready, still serving), else 0.\n# TYPE prog_draining gauge\nprog_draining 0\n"), "prog_draining"); err != nil {
		t.Error(err)
	}
}
