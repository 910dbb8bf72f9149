package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"signaling-auth/corsproxy/internal/config"
	"signaling-auth/corsproxy/internal/metrics"
)

// The proxy's overhead per request: BenchmarkDirect calls a plain net/http
// upstream, BenchmarkProxied calls the same upstream through the proxy
// (CORS, access log to a JSON handler, metrics, ReverseProxy), and
// BenchmarkPreflight is a preflight the proxy answers itself. Compare them
// within one run:
//
//	go test -run '^$' -bench . -benchmem .
//
// Allocations are counted for the whole process: client, proxy and
// upstream; Proxied minus Direct is what the proxy adds.

const benchToken = `{"rtmToken":"007eJxTYBBbPvPpQmmb1cfW_mVmYFjSo9Lwv8Kz5bOTk_2_n3N_7_KgKA1gqS-sLi7OzM9TMjI0tjAwNTEyMDYyNDE2MzI0NDA1BgDtuRv0"}`

// serveLoopback serves h on a fresh loopback port until the benchmark ends,
// with the server hooks of install, if any.
func serveLoopback(b *testing.B, h http.Handler, install ...func(*http.Server)) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	for _, f := range install {
		f(srv)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func benchUpstream(b *testing.B) string {
	body := []byte(benchToken)
	return serveLoopback(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}))
}

func benchProxy(b *testing.B, upstream string) string {
	cfg, err := config.Load([]string{"--upstream=" + upstream}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	// A real handler formatting every record, so logging is in the cost.
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h, install, err := newHandler(cfg, log, metrics.New(), nil, limits{})
	if err != nil {
		b.Fatal(err)
	}
	return serveLoopback(b, h, install)
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
}

// do runs b.N requests one after another (a closed loop of one client)
// with varied user IDs.
func do(b *testing.B, client *http.Client, method, base string, hdr http.Header, want int) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req, err := http.NewRequest(method, base+"/rtm/user-"+strconv.Itoa(i%1000)+"/?expiry=600", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header = hdr
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			b.Fatalf("status %d, want %d", res.StatusCode, want)
		}
	}
}

func BenchmarkDirect(b *testing.B) {
	up := benchUpstream(b)
	do(b, benchClient(), "GET", up, http.Header{"Origin": {"http://localhost:9000"}}, 200)
}

func BenchmarkProxied(b *testing.B) {
	px := benchProxy(b, benchUpstream(b))
	do(b, benchClient(), "GET", px, http.Header{"Origin": {"http://localhost:9000"}}, 200)
}

func BenchmarkPreflight(b *testing.B) {
	px := benchProxy(b, benchUpstream(b))
	do(b, benchClient(), "OPTIONS", px, http.Header{
		"Origin":                         {"http://localhost:9000"},
		"Access-Control-Request-Method":  {"GET"},
		"Access-Control-Request-Headers": {"x-requested-with"},
	}, 204)
}

// BenchmarkBareReverseProxy is an httputil.ReverseProxy with no policy at
// all in front of the same upstream: Proxied minus this is what our CORS,
// target checks, access log and metrics cost; this minus Direct is the
// price of any second HTTP hop.
func BenchmarkBareReverseProxy(b *testing.B) {
	up, err := url.Parse(benchUpstream(b))
	if err != nil {
		b.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(up) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 256},
	}
	px := serveLoopback(b, rp)
	do(b, benchClient(), "GET", px, http.Header{"Origin": {"http://localhost:9000"}}, 200)
}

// The Parallel variants run 64 clients at once, as `make bench` does, and
// report the process's CPU time (user+system, from getrusage) per request:
// under concurrency that, not the latency of one client, is what limits
// throughput on a small machine. ProxiedParallel minus DirectParallel is
// the proxy's CPU per request. The clients send through rt.
func doParallel(b *testing.B, rt http.RoundTripper, base string, hdr http.Header) {
	b.Helper()
	client := &http.Client{Transport: rt}
	b.ReportAllocs()
	b.SetParallelism(32) // 64 clients on 2 CPUs
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			req, err := http.NewRequest("GET", base+"/rtm/user-"+strconv.FormatInt(i%1000, 10)+"/?expiry=600", nil)
			if err != nil {
				b.Error(err)
				return
			}
			req.Header = hdr
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d, want 200", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}

// parallelClients is the load's own transport: http.Transport, one
// keep-alive connection per client.
func parallelClients() http.RoundTripper {
	return &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
}

func BenchmarkDirectParallel(b *testing.B) {
	doParallel(b, parallelClients(), benchUpstream(b), http.Header{"Origin": {"http://localhost:9000"}})
}

func BenchmarkProxiedParallel(b *testing.B) {
	doParallel(b, parallelClients(), benchProxy(b, benchUpstream(b)), http.Header{"Origin": {"http://localhost:9000"}})
}
