package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"signaling-auth/e2e/internal/load"
	"signaling-auth/lifecycle/testlog"
)

const goTestOutput = `goos: linux
goarch: amd64
pkg: signaling-auth/tokenserver/internal/accesstoken
cpu: AMD EPYC
BenchmarkSignaling-2                   	  100000	      4233 ns/op	     160 B/op	       1 allocs/op
BenchmarkReferenceSignaling-2          	    3000	    123456.5 ns/op	  812345 B/op	      45 allocs/op
BenchmarkSignalingParallel-2           	  200000	      2100 ns/op	     160 B/op	       1 allocs/op
BenchmarkReferenceSignalingParallel-2  	    5000	     80000 ns/op	  812345 B/op	      45 allocs/op
BenchmarkParseVerify                   	   50000	      9000 ns/op	     900 B/op	      12 allocs/op
BenchmarkReferenceParse-2              	   40000	     12000 ns/op	    3000 B/op	      40 allocs/op
BenchmarkDeflate-2                     	  300000	      3000 ns/op	       0 B/op	       0 allocs/op
BenchmarkZlibWriterReset-2             	   30000	     30000 ns/op	       0 B/op	       0 allocs/op
BenchmarkNew-2                         	  300000	      1000 ns/op
PASS
ok  	signaling-auth/tokenserver/internal/accesstoken	12.345s
`

func TestEngineBenchmarksArePairedWithTheirBaselines(t *testing.T) {
	pairs := pairEngine(parseBench([]byte(goTestOutput)))
	type row struct {
		ours, base string
		speedup    float64
	}
	want := []row{
		{"Signaling", "ReferenceSignaling", 123456.5 / 4233},
		{"SignalingParallel", "ReferenceSignalingParallel", 80000.0 / 2100},
		{"ParseVerify", "ReferenceParse", 12000.0 / 9000},
		{"Deflate", "ZlibWriterReset", 10},
		{"New", "", 0},
	}
	if len(pairs) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(pairs), len(want), pairs)
	}
	for i, w := range want {
		p := pairs[i]
		base := ""
		if p.base != nil {
			base = p.base.name
		}
		if p.ours.name != w.ours || base != w.base {
			t.Errorf("row %d: %s vs %q, want %s vs %q", i, p.ours.name, base, w.ours, w.base)
			continue
		}
		if p.base != nil && ratio(p.base.nsOp, p.ours.nsOp) != w.speedup {
			t.Errorf("%s: speed-up %v, want %v", w.ours, ratio(p.base.nsOp, p.ours.nsOp), w.speedup)
		}
	}
	if pairs[0].base.bytesOp != 812345 || pairs[0].ours.allocsOp != 1 || pairs[4].ours.bytesOp != 0 {
		t.Errorf("memory columns misread: %+v %+v", *pairs[0].base, *pairs[4].ours)
	}
}

func TestOutputWithoutResultsYieldsNoRows(t *testing.T) {
	for _, out := range []string{"", "FAIL\tsomething", "BenchmarkBroken-2 --- FAIL: BenchmarkBroken"} {
		if got := parseBench([]byte(out)); len(got) != 0 {
			t.Errorf("%q parsed as %+v", out, got)
		}
	}
}

func TestNumbersAreFormattedForTheTable(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"thousands are grouped", thousands(1234567.4), "1,234,567"},
		{"small numbers are plain", thousands(999), "999"},
		{"zero is zero", thousands(0), "0"},
		{"CPU per fetch is in microseconds", perFetch(3*time.Second, 30000), "100 µs"},
		{"CPU per fetch without fetches is a dash", perFetch(time.Second, 0), "—"},
		{"megabytes have one decimal", mb(21 << 20), "21.0 MB"},
		{"milliseconds have two decimals", ms(1500 * time.Microsecond), "1.50 ms"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// fakeRun is a measured scenario with rate fetches/s and the given peak RSS.
func fakeRun(rate float64, errors uint64, rss ...namedBytes) measured {
	m := measured{peakRSS: rss, ran: true}
	m.res.Elapsed = 10 * time.Second
	m.res.Fetches = uint64(rate * 10)
	m.res.Errors = errors
	m.res.Latency.Record(time.Millisecond)
	return m
}

func TestTargetsAreJudgedFromTheRatios(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name   string
		runs   []measured
		missed []string
	}{
		{"every target is met", []measured{
			fakeRun(20000, 0, namedBytes{"bare", 90 * mib}), fakeRun(10000, 0, namedBytes{"tokenserver", 21 * mib}),
			fakeRun(12500, 0, namedBytes{"reverseproxy", 60 * mib}, namedBytes{"tokenserver", 21 * mib}),
			fakeRun(13000, 0, namedBytes{"corsproxy", 23 * mib}, namedBytes{"tokenserver", 21 * mib}), fakeRun(8000, 0),
		}, nil},
		{"a slow token server and proxy, a fat proxy and errors are all reported", []measured{
			fakeRun(20000, 0), fakeRun(9000, 0, namedBytes{"tokenserver", 21 * mib}),
			fakeRun(12500, 0), fakeRun(11000, 2, namedBytes{"corsproxy", 41 * mib}), fakeRun(2500, 1),
		}, []string{"tokenserver ≥ 0.5 × bare", "corsproxy ≥ 1.0 × bare ReverseProxy (4 vs 3)", sampleTarget, "peak RSS < 40 MB per service", "zero errors"}},
		{"a proxy slower than 8 × the original sample misses that target", []measured{
			fakeRun(20000, 0), fakeRun(10000, 0), fakeRun(11000, 0), fakeRun(11900, 0), fakeRun(8000, 0),
		}, []string{sampleTarget}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report{http: tt.runs}
			var missed []string
			for _, tg := range r.targets() {
				if !tg.met {
					missed = append(missed, tg.name)
				}
			}
			if strings.Join(missed, "|") != strings.Join(tt.missed, "|") {
				t.Errorf("missed %q, want %q", missed, tt.missed)
			}
			if got := len(r.failures(true)); got < len(tt.missed) {
				t.Errorf("%d failures with -strict for %d missed targets", got, len(tt.missed))
			}
			md := r.markdown()
			for _, s := range []string{"| 1 |", "| 5 |", "× direct", "× ReverseProxy", "| target | measured |"} {
				if !strings.Contains(md, s) {
					t.Errorf("report lacks %q:\n%s", s, md)
				}
			}
		})
	}
}

func TestErrorsFailTheRunEvenWithoutStrict(t *testing.T) {
	r := report{http: []measured{fakeRun(100, 0), fakeRun(50, 3), fakeRun(20, 0), fakeRun(10, 0)}}
	if f := r.failures(false); len(f) != 1 || !strings.Contains(f[0].Error(), "(2) 3 errors") {
		t.Fatalf("failures = %v", f)
	}
}

func TestSoakVerdicts(t *testing.T) {
	// snap is a reading: RSS of both, then goroutines and fds of the proxy and of the
	// token server.
	snap := func(label string, rss int64, pg, pfd, tg, tfd int) snapshot {
		return snapshot{label: label, rss: [2]int64{rss, rss}, goroutines: [2]int{pg, tg}, fds: [2]int{pfd, tfd}}
	}
	const quiet = "3s after the load"
	idle := snap("before load", 10<<20, 9, 10, 9, 10)
	tests := []struct {
		name   string
		snaps  []snapshot
		errors uint64
		missed int
	}{
		{"flat figures pass", []snapshot{idle, snap("start", 20<<20, 9+64+2*20, 10+64+20, 9+20, 10+20),
			snap("end", 21<<20, 9+64+2*20, 10+64+20, 9+20, 10+20), snap(quiet, 21<<20, 9+2*20, 10+20, 9+20, 10+20)}, 0, 0},
		{"an upstream pool that grows with bursts passes", []snapshot{idle, snap("start", 20<<20, 9+64+2*10, 10+64+10, 9+10, 10+10),
			snap("end", 21<<20, 9+64+2*60, 10+64+60, 9+60, 10+60), snap(quiet, 21<<20, 9+2*60, 10+60, 9+60, 10+60)}, 0, 0},
		{"growing memory, goroutines and fds fail for both programs", []snapshot{idle, snap("start", 20<<20, 100, 90, 30, 30),
			snap("", 30<<20, 400, 400, 200, 200), snap("end", 40<<20, 500, 500, 300, 300), snap(quiet, 40<<20, 9+2*20, 10+20, 9+20, 10+20)}, 0, 6},
		{"client connections the proxy never released fail", []snapshot{idle, snap("start", 20<<20, 9+64+2*20, 10+64+20, 9+20, 10+20),
			snap("end", 20<<20, 9+64+2*20, 10+64+20, 9+20, 10+20), snap(quiet, 20<<20, 9+64+2*20, 10+64+20, 9+20, 10+20)}, 0, 2},
		{"errors fail", []snapshot{idle, snap("start", 20<<20, 9, 10, 9, 10), snap("end", 20<<20, 9, 10, 9, 10), snap(quiet, 20<<20, 9, 10, 9, 10)}, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := load.Result{Fetches: 100, Errors: tt.errors, Elapsed: time.Second}
			md, failures := soakReport(soakConfig{clients: 64, duration: time.Minute, rate: 1000}, host{}, tt.snaps, res, nil)
			if len(failures) != tt.missed {
				t.Errorf("%d failures, want %d: %q", len(failures), tt.missed, failures)
			}
			if !strings.Contains(md, "| end |") {
				t.Errorf("report lacks the end reading:\n%s", md)
			}
		})
	}
}

func TestUnknownCommandAndBadFlagsAreRefused(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"benchreport", "bnech"}, func(string) string { return "" }, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown command "bnech"`) {
		t.Errorf("unknown command: err = %v", err)
	}
	for _, args := range [][]string{{"bench", "-clients", "0"}, {"bench", "-rounds", "0"}, {"soak", "-duration", "0s"}, {"drive"}} {
		if err := run(context.Background(), append([]string{"benchreport"}, args...), func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}

func TestTheBareServerAnswersLikeTheTokenServerAndStopsCleanly(t *testing.T) {
	logs := &testlog.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"benchreport", "bare", "-listen", "127.0.0.1:0"}, nil, io.Discard, logs)
	}()
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == ""; {
		if time.Now().After(deadline) {
			t.Fatalf("no listening record:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr = rec.Addr
			}
		}
	}
	res := load.Run(ctx, load.Options{Addr: addr, Clients: 2, Duration: 100 * time.Millisecond, Fetch: tokenFetch(2, false, false)})
	if res.Errors != 0 || res.Fetches == 0 {
		t.Errorf("%d fetches, %d errors (%s)", res.Fetches, res.Errors, res.ErrorSummary())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("bare returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bare did not stop within 10 s")
	}
}

func TestRatiosAreTheMedianOfRoundByRoundRatios(t *testing.T) {
	base := measured{rounds: []float64{100, 200, 100, 100}}
	// A busy second round halves both; the ratio of that round is the same as the others'.
	a := measured{rounds: []float64{50, 100, 60, 40}}
	got := roundRatios(a, base)
	if got.median != 0.5 || got.low != 0.4 || got.high != 0.6 {
		t.Errorf("roundRatios = %+v, want median 0.5 from 0.4 to 0.6", got)
	}
	if s := got.String(); s != "0.50 (rounds 0.40–0.60)" {
		t.Errorf("String() = %q", s)
	}
	odd := roundRatios(measured{rounds: []float64{10, 30, 20}}, measured{rounds: []float64{100, 100, 100}})
	if odd.median != 0.2 {
		t.Errorf("median of 0.1, 0.3, 0.2 = %v", odd.median)
	}
	// Without rounds (a report built by hand), the overall rates are compared.
	if r := roundRatios(fakeRun(50, 0), fakeRun(100, 0)); r.median != 0.5 {
		t.Errorf("overall ratio %v, want 0.5", r.median)
	}
}

func TestTheBareReverseProxyForwardsToItsUpstream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(args ...string) (string, chan error) {
		logs := &testlog.Buffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, append([]string{"benchreport"}, args...), nil, io.Discard, logs) }()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%v: no listening record:\n%s", args, logs)
			}
			for line := range strings.SplitSeq(logs.String(), "\n") {
				var rec struct{ Msg, Addr string }
				if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
					return rec.Addr, done
				}
			}
		}
	}
	up, upDone := start("bare", "-listen", "127.0.0.1:0")
	rp, rpDone := start("reverseproxy", "-listen", "127.0.0.1:0", "-upstream", "http://"+up, "-idle", "2")
	res := load.Run(ctx, load.Options{Addr: rp, Clients: 2, Duration: 100 * time.Millisecond, Fetch: tokenFetch(2, false, false)})
	if res.Errors != 0 || res.Fetches == 0 {
		t.Errorf("%d fetches, %d errors (%s)", res.Fetches, res.Errors, res.ErrorSummary())
	}
	cancel()
	for _, done := range []chan error{rpDone, upDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("stopping: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("did not stop within 10 s")
		}
	}
	if err := run(context.Background(), []string{"benchreport", "reverseproxy", "-upstream", "ftp://x"}, nil, io.Discard, io.Discard); err == nil {
		t.Error("reverseproxy accepted an ftp:// upstream")
	}
}

func TestScenariosLeftOutAreMarkedAndJudgeNoTarget(t *testing.T) {
	only, err := parseScenarios("3, 4")
	if err != nil || len(only) != 2 || !only[3] || !only[4] {
		t.Fatalf("parseScenarios(\"3, 4\") = %v, %v", only, err)
	}
	for _, bad := range []string{"0", "x", fmt.Sprint(len(scenarios) + 1), "3,"} {
		if _, err := parseScenarios(bad); err == nil {
			t.Errorf("parseScenarios(%q) accepted it", bad)
		}
	}
	skipped := measured{scenario: scenarios[0]}
	r := report{http: []measured{skipped, skipped, fakeRun(20, 0), fakeRun(18, 0)}}
	md := r.markdown()
	if !strings.Contains(md, "| 1 | "+scenarios[0].title+" | not run |") {
		t.Errorf("a scenario left out is not marked as such:\n%s", md)
	}
	if !strings.Contains(md, "(0.90 × ReverseProxy)") {
		t.Errorf("the ratio to the ReverseProxy that ran is missing:\n%s", md)
	}
	ts := r.targets()
	for _, tg := range ts {
		if strings.HasPrefix(tg.name, "tokenserver ≥") {
			t.Errorf("a target judged without its scenarios: %v", tg)
		}
	}
	if len(ts) == 0 || !strings.Contains(ts[0].name, "(4 vs 3)") || ts[0].measured != "0.90 (rounds 0.90–0.90)" {
		t.Errorf("targets %v, want the proxy against the ReverseProxy that ran first", ts)
	}
}
