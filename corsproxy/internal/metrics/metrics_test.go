package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	m := New()
	m.Request(200, time.Millisecond)
	m.Request(499, time.Millisecond)
	for code := 600; code < 1000; code++ { // an upstream may send any three digits
		m.Request(code, time.Millisecond)
	}
	m.Request(42, time.Millisecond)
	m.Upstream(3*time.Millisecond, nil)
	m.Upstream(time.Second, errors.New("refused"))
	m.Preflight(true)
	m.Preflight(false)
	m.DisallowedOrigin(true)
	m.DisallowedOrigin(false)
	m.RejectedTarget()

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`corsproxy_requests_total{code="200"} 1`,
		`corsproxy_requests_total{code="499"} 1`,
		`corsproxy_requests_total{code="other"} 401`,
		`corsproxy_upstream_duration_seconds_count{outcome="response"} 1`,
		`corsproxy_upstream_duration_seconds_count{outcome="error"} 1`,
		`corsproxy_preflights_total{result="allowed"} 1`,
		`corsproxy_preflights_total{result="refused"} 1`,
		`corsproxy_disallowed_origins_total{action="rejected"} 1`,
		`corsproxy_disallowed_origins_total{action="forwarded"} 1`,
		`corsproxy_rejected_targets_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if n := strings.Count(string(body), "corsproxy_requests_total{"); n != 3 {
		t.Errorf("%d corsproxy_requests_total series, want 3 (200, 499, other)", n)
	}
}

func TestEachInstanceHasItsOwnRegistry(t *testing.T) {
	a, b := New(), New() // would panic with duplicate registration on a shared registry
	a.RejectedTarget()
	fams, err := b.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == "corsproxy_rejected_targets_total" && f.GetMetric()[0].GetCounter().GetValue() != 0 {
			t.Fatal("a count on one instance shows up on another")
		}
	}
}
