package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is everything bench measured, rendered as Markdown.
type report struct {
	cfg     benchConfig
	host    host
	engine  []enginePair
	http    []measured
	loadEnd string
}

type host struct {
	when, goVersion, cpu, commit, loadStart string
	cpus                                    int
}

func describeHost(root string) host {
	h := host{when: time.Now().UTC().Format("2006-01-02 15:04 MST"), goVersion: runtime.Version(), cpus: runtime.NumCPU(), loadStart: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		h.commit = strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			h.commit += " (with uncommitted changes)"
		}
	}
	return h
}

// loadAvg is the 1-minute load average: on a shared machine it says how
// much of the CPU the run really had.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// The targets each report is judged against, the figures bench/results/README.md
// discusses.
const (
	targetTokenVsBare = 0.5
	// corsproxy against a bare httputil.ReverseProxy in front of the same
	// token server: CORS, limits, logs and metrics must cost nothing a user
	// can measure.
	targetProxyVsReverseProxy = 1.0
	// Another upstream mode than the default: isolation comes first, and
	// a mode may cost up to a tenth.
	targetModeVsReverseProxy = 0.9
	// The whole stack against the original sample (cors-anywhere in front
	// of agora-token-service), which cannot run here: measured separately
	// on this machine at ~800–2,200 fetches/s; judged against the midpoint.
	targetVsSample                   = 8.0
	sampleLow, sampleHigh, sampleMid = 800.0, 2200.0, 1500.0
	targetPeakRSS                    = 40 << 20
)

// Scenario indexes in r.http.
const (
	iBare = iota
	iToken
	iReverseProxy
	iProxy
	iPreflight
	iProxyH2C
)

// baselineServers are servers that are not ours: their RSS is not judged.
var baselineServers = map[string]bool{"bare": true, "reverseproxy": true}

// sampleTarget names the comparison with the original sample.
const sampleTarget = "corsproxy → tokenserver ≥ 8 × the original sample (cors-anywhere → agora-token-service; ~800–2,200 fetches/s here, measured separately: that stack cannot run in this build; judged on the midpoint)"

type target struct {
	name, measured string
	met            bool
}

func (r *report) targets() []target {
	if len(r.http) <= iProxy {
		return nil
	}
	ran := func(is ...int) bool {
		for _, i := range is {
			if i >= len(r.http) || !r.http[i].ran {
				return false
			}
		}
		return true
	}
	var ts []target
	if ran(iToken, iBare) {
		tb := roundRatios(r.http[iToken], r.http[iBare])
		ts = append(ts, target{"tokenserver ≥ 0.5 × bare", tb.String(), tb.median >= targetTokenVsBare})
	}
	if ran(iProxy, iReverseProxy) {
		pr := roundRatios(r.http[iProxy], r.http[iReverseProxy])
		ts = append(ts, target{"corsproxy ≥ 1.0 × bare ReverseProxy (4 vs 3)", pr.String(), pr.median >= targetProxyVsReverseProxy})
	}
	if ran(iProxyH2C, iReverseProxy) {
		pr := roundRatios(r.http[iProxyH2C], r.http[iReverseProxy])
		ts = append(ts, target{"corsproxy with transport.protocol h2c ≥ 0.9 × bare ReverseProxy (6 vs 3)", pr.String(), pr.median >= targetModeVsReverseProxy})
	}
	if ran(iProxy) {
		rate := r.http[iProxy].res.Rate()
		ts = append(ts, target{sampleTarget, fmt.Sprintf("%.1f × its midpoint 1,500 (%.1f–%.1f × its range)", rate/sampleMid, rate/sampleHigh, rate/sampleLow), rate/sampleMid >= targetVsSample})
	}
	var worst namedBytes
	worstIn := 0
	for i, m := range r.http {
		for _, p := range m.peakRSS {
			if !baselineServers[p.name] && p.bytes > worst.bytes {
				worst, worstIn = p, i+1
			}
		}
	}
	ts = append(ts, target{"peak RSS < 40 MB per service", fmt.Sprintf("max %s (%s in %d)", mb(worst.bytes), worst.name, worstIn), worst.bytes < targetPeakRSS})
	var errs uint64
	for _, m := range r.http {
		errs += m.res.Errors
	}
	ts = append(ts, target{"zero errors", strconv.FormatUint(errs, 10), errs == 0})
	return ts
}

// failures are the reasons to exit non-zero: errors and unclean stops
// always, missed targets when strict.
func (r *report) failures(strict bool) []error {
	var errs []error
	for i, m := range r.http {
		if m.res.Errors > 0 {
			errs = append(errs, fmt.Errorf("(%d) %d errors: %s", i+1, m.res.Errors, m.res.ErrorSummary()))
		}
		for _, e := range m.stopErrs {
			errs = append(errs, fmt.Errorf("(%d) %v", i+1, e))
		}
	}
	if strict {
		for _, t := range r.targets() {
			if !t.met {
				errs = append(errs, fmt.Errorf("target missed: %s (measured %s)", t.name, t.measured))
			}
		}
	}
	return errs
}

// spread is a median ratio with the lowest and highest of its rounds.
type spread struct{ median, low, high float64 }

func (s spread) String() string {
	return fmt.Sprintf("%.2f (rounds %.2f–%.2f)", s.median, s.low, s.high)
}

// roundRatios compares a with base round by round: rounds with the same
// index ran one right after the other, under the same background load.
func roundRatios(a, base measured) spread {
	n := min(len(a.rounds), len(base.rounds))
	if n == 0 {
		r := ratio(a.res.Rate(), base.res.Rate())
		return spread{r, r, r}
	}
	rs := make([]float64, n)
	for i := range n {
		rs[i] = ratio(a.rounds[i], base.rounds[i])
	}
	slices.Sort(rs)
	med := rs[n/2]
	if n%2 == 0 {
		med = (rs[n/2-1] + rs[n/2]) / 2
	}
	return spread{med, rs[0], rs[n-1]}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (r *report) markdown() string {
	var b strings.Builder
	h := r.host
	fmt.Fprintf(&b, "# Benchmark report\n\n")
	fmt.Fprintf(&b, "%s · %s · %d CPUs (%s) · commit %s · load average %s at start, %s at end\n\n",
		h.when, h.goVersion, h.cpus, orUnknown(h.cpu), orUnknown(h.commit), h.loadStart, r.loadEnd)

	if len(r.http) > 0 {
		c := r.cfg
		fmt.Fprintf(&b, "## HTTP on loopback\n\n")
		fmt.Fprintf(&b, "%d closed-loop clients (one keep-alive connection each); per scenario %v measured in %d rounds taken in turns "+
			"with the other scenarios, each after %v of warm-up; user IDs varied per request; every answer checked (status, token, CORS header). "+
			"Each scenario has processes of its own: peak RSS is each server's VmHWM, CPU/fetch its user+system time per fetch.\n\n",
			c.clients, c.duration, c.rounds, c.warmup)
		b.WriteString("| # | scenario | fetches/s | × bare | p50 | p99 | p99.9 | errors | server CPU/fetch | peak RSS |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for i, m := range r.http {
			if !m.ran {
				fmt.Fprintf(&b, "| %d | %s | not run | | | | | | | |\n", i+1, m.title)
				continue
			}
			rate := m.res.Rate()
			x := "—"
			if r.http[0].ran {
				x = fmt.Sprintf("%.2f", roundRatios(m, r.http[0]).median)
			}
			if i >= iReverseProxy && r.http[iToken].ran {
				x += fmt.Sprintf(" (%.2f × direct)", roundRatios(m, r.http[iToken]).median)
			}
			if i >= iProxy && r.http[iReverseProxy].ran {
				x += fmt.Sprintf(" (%.2f × ReverseProxy)", roundRatios(m, r.http[iReverseProxy]).median)
			}
			var rss []string
			for _, p := range m.peakRSS {
				rss = append(rss, p.name+" "+mb(p.bytes))
			}
			l := &m.res.Latency
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", i+1, m.title, thousands(rate), x,
				ms(l.Quantile(0.5)), ms(l.Quantile(0.99)), ms(l.Quantile(0.999)), m.res.Errors, perFetch(m.serverCPU, m.res.Fetches), strings.Join(rss, ", "))
		}
		var gen time.Duration
		var fetches uint64
		for _, m := range r.http {
			gen += m.genCPU
			fetches += m.res.Fetches
		}
		fmt.Fprintf(&b, "\nA fetch is what the page does for one token: one GET, or in (5) a preflight and a GET; "+
			"its latency covers both. Ratios are the median of the per-round ratios (each round compared with the same round of the other "+
			"scenario, so load from other processes weighs on both alike); the range is the lowest and highest round. "+
			"The load generator shares the %d CPUs with the servers and used %s of CPU per fetch on average.\n\n",
			h.cpus, perFetch(gen, fetches))

		if len(r.targets()) > 0 {
			b.WriteString("| target | measured | |\n|---|---|---|\n")
		}
		for _, t := range r.targets() {
			verdict := "met"
			if !t.met {
				verdict = "**missed**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.name, t.measured, verdict)
		}
		b.WriteString("\n")
		for i, m := range r.http {
			if m.res.Errors > 0 {
				fmt.Fprintf(&b, "Errors in (%d): %s\n\n", i+1, m.res.ErrorSummary())
			}
			for _, e := range m.stopErrs {
				fmt.Fprintf(&b, "Stopping (%d): %v\n\n", i+1, e)
			}
		}
	}

	if len(r.engine) > 0 {
		fmt.Fprintf(&b, "## Token engine (tokenserver/internal/accesstoken)\n\n")
		fmt.Fprintf(&b, "`go test -run '^$' -bench . -benchmem -benchtime %s ./internal/accesstoken/`; "+
			"baseline: Agora's reference builder unless noted. Parallel runs use all %d CPUs.\n\n", r.cfg.benchtime, h.cpus)
		b.WriteString("| operation | ours | baseline | speed-up | ours B/op | baseline B/op | ours allocs | baseline allocs | note |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, p := range r.engine {
			o := p.ours
			if p.base == nil {
				fmt.Fprintf(&b, "| %s | %s | — | — | %s | — | %s | — | %s |\n", o.name, ns(o.nsOp), thousands(o.bytesOp), thousands(o.allocsOp), p.note)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.1f× | %s | %s | %s | %s | %s |\n", o.name, ns(o.nsOp), ns(p.base.nsOp),
				ratio(p.base.nsOp, o.nsOp), thousands(o.bytesOp), thousands(p.base.bytesOp), thousands(o.allocsOp), thousands(p.base.allocsOp), p.note)
		}
		b.WriteString("\n")
	}
	b.WriteString("Reproduce: `make bench` (flags: `go run ./e2e/cmd/benchreport -h`).\n")
	return b.String()
}

// perFetch is CPU time per fetch in microseconds.
func perFetch(cpu time.Duration, fetches uint64) string {
	if fetches == 0 {
		return "—"
	}
	return strconv.FormatFloat(float64(cpu)/float64(fetches)/1e3, 'f', 0, 64) + " µs"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// thousands formats v rounded, with thin-space-free comma grouping.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func ns(v float64) string { return thousands(v) + " ns" }

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func mb(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}
