package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestQuantilesAreWithinTheBucketPrecision(t *testing.T) {
	tests := []struct {
		name  string
		gen   func(r *rand.Rand) time.Duration
		count int
	}{
		{"microsecond latencies", func(r *rand.Rand) time.Duration { return time.Duration(50_000 + r.IntN(400_000)) }, 20000},
		{"latencies spread over six orders of magnitude", func(r *rand.Rand) time.Duration {
			return time.Duration(r.ExpFloat64() * float64(time.Millisecond) * float64(1+r.IntN(1000)))
		}, 50000},
		{"a single value", func(*rand.Rand) time.Duration { return 1234567 }, 1},
		{"values below 64 ns are exact", func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(64)) }, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			all := make([]time.Duration, tt.count)
			for i := range all {
				all[i] = tt.gen(r)
				h.Record(all[i])
			}
			slices.Sort(all)
			if h.Count() != uint64(tt.count) || h.Max() != all[len(all)-1] {
				t.Fatalf("count %d max %v, want %d %v", h.Count(), h.Max(), tt.count, all[len(all)-1])
			}
			for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(q*float64(len(all)) + 0.5)
				rank = max(1, min(rank, len(all)))
				want := all[rank-1]
				got := h.Quantile(q)
				if diff := float64(got-want) / float64(max(want, 1)); diff > 0.02 || diff < -0.02 {
					t.Errorf("q%v = %v, exact %v (%.1f%% off)", q, got, want, diff*100)
				}
			}
		})
	}
}

func TestMergedHistogramsEqualOneHistogramOfEverything(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i*i*37 + 1)
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Fatalf("merged: count %d max %v p50 %v; one histogram: %d %v %v", a.Count(), a.Max(), a.Quantile(.5), all.Count(), all.Max(), all.Quantile(.5))
	}
}

func TestAnEmptyHistogramReportsZero(t *testing.T) {
	var h Histogram
	if h.Quantile(0.99) != 0 || h.Count() != 0 {
		t.Fatalf("empty histogram: q99 %v count %d", h.Quantile(0.99), h.Count())
	}
}

func get(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\n\r\n")
}

func TestRunCountsEveryAnswerOnKeptAliveConnections(t *testing.T) {
	var conns, hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, r.URL.Path)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	res := Run(context.Background(), Options{
		Addr: srv.Listener.Addr().String(), Clients: 4, Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond,
		Fetch: func(c *Conn, client, i int) error {
			path := fmt.Sprintf("/u-%d-%d", client, i)
			r, err := c.RoundTrip("GET", get(path))
			if err != nil {
				return err
			}
			if r.Status != 200 || string(r.Body) != path {
				return fmt.Errorf("status %d body %q, want 200 %q", r.Status, r.Body, path)
			}
			return nil
		},
	})
	if res.Errors != 0 || res.Fetches == 0 {
		t.Fatalf("fetches %d errors %d (%s)", res.Fetches, res.Errors, res.ErrorSummary())
	}
	if res.Fetches > uint64(hits.Load()) || res.Latency.Count() != res.Fetches {
		t.Errorf("counted %d fetches, %d latencies, but the server saw %d requests", res.Fetches, res.Latency.Count(), hits.Load())
	}
	if conns.Load() != 4 {
		t.Errorf("%d connections for 4 clients: keep-alive was not used", conns.Load())
	}
	if res.Rate() <= 0 || res.Latency.Quantile(0.5) <= 0 {
		t.Errorf("rate %v p50 %v", res.Rate(), res.Latency.Quantile(0.5))
	}
}

func TestRunCountsFailuresByKindAndRedials(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			// Drop the connection without an answer: the client must redial.
			c, _, _ := http.NewResponseController(w).Hijack()
			c.Close()
			return
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	res := Run(context.Background(), Options{
		Addr: srv.Listener.Addr().String(), Clients: 2, Duration: 100 * time.Millisecond,
		Fetch: func(c *Conn, _, _ int) error {
			r, err := c.RoundTrip("GET", get("/"))
			if err != nil {
				return err
			}
			if r.Status != 200 {
				return errors.New("not 200")
			}
			return nil
		},
	})
	if res.Fetches != 0 || res.Errors < 4 {
		t.Fatalf("fetches %d errors %d, want only errors", res.Fetches, res.Errors)
	}
	if res.ErrorKinds["not 200"] == 0 || res.ErrorKinds["connection closed by the server"] == 0 {
		t.Errorf("error kinds %v, want both the status and the dropped connection", res.ErrorKinds)
	}
	if s := res.ErrorSummary(); !strings.Contains(s, "× not 200") {
		t.Errorf("summary %q", s)
	}
}

func TestRoundTripGivesUpAtTheTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never answer
		}
	}()
	c := NewConn(ln.Addr().String(), 100*time.Millisecond)
	defer c.Close()
	done := make(chan error, 1)
	go func() { _, err := c.RoundTrip("GET", get("/")); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(errorKind(err), "timeout") {
			t.Fatalf("err = %v (kind %q), want a timeout", err, errorKind(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RoundTrip did not return within 10 s of a 100 ms timeout")
	}
}

func TestARateCapKeepsTheLoadSteady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var live Live
	res := Run(context.Background(), Options{
		Addr: srv.Listener.Addr().String(), Clients: 4, Duration: 500 * time.Millisecond, Rate: 40, Live: &live,
		Fetch: func(c *Conn, _, _ int) error { _, err := c.RoundTrip("GET", get("/")); return err },
	})
	// 40/s for half a second is 20; an uncapped loop on loopback does thousands.
	if res.Fetches < 5 || res.Fetches > 40 {
		t.Fatalf("%d fetches in 0.5 s at 40/s", res.Fetches)
	}
	if live.Fetches.Load() != res.Fetches || live.Errors.Load() != res.Errors {
		t.Errorf("live counters %d/%d, result %d/%d", live.Fetches.Load(), live.Errors.Load(), res.Fetches, res.Errors)
	}
}

func TestResultsOfSeveralRoundsAddUp(t *testing.T) {
	var a, b Result
	a.Fetches, a.Errors, a.Elapsed, a.ErrorKinds = 10, 1, time.Second, map[string]uint64{"x": 1}
	a.Latency.Record(time.Millisecond)
	b.Fetches, b.Errors, b.Elapsed, b.ErrorKinds = 30, 2, time.Second, map[string]uint64{"x": 1, "y": 1}
	b.Latency.Record(3 * time.Millisecond)
	var sum Result
	sum.Add(a)
	sum.Add(b)
	if sum.Fetches != 40 || sum.Errors != 3 || sum.Rate() != 20 || sum.Latency.Count() != 2 || sum.Latency.Max() != 3*time.Millisecond {
		t.Fatalf("sum = %d fetches, %d errors, %v/s, %d latencies, max %v", sum.Fetches, sum.Errors, sum.Rate(), sum.Latency.Count(), sum.Latency.Max())
	}
	if sum.ErrorKinds["x"] != 2 || sum.ErrorKinds["y"] != 1 {
		t.Errorf("error kinds %v", sum.ErrorKinds)
	}
}
