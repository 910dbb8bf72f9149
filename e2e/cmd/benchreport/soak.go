package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"signaling-auth/e2e/internal/load"
)

// soakConfig is what the soak subcommand's flags set.
type soakConfig struct {
	duration, sample, warmup time.Duration
	clients                  int
	rate                     float64
	out, logLevel            string
}

// Flat enough: what growth under the same load still counts as no leak.
// Go's heap settles within seconds; a leak of one goroutine, buffer or
// descriptor per request would exceed these within the first second.
const (
	soakRSSGrowth         = 8 << 20
	soakSlack             = 8
	soakQuietSlack        = 4
	soakQuietSettle       = 3 * time.Second
	soakEndBeforeDeadline = time.Second
)

// snapshot is one reading of both servers.
type snapshot struct {
	label      string
	elapsed    time.Duration
	fetches    uint64
	errors     uint64
	rss        [2]int64
	goroutines [2]int
	fds        [2]int
	err        error
}

func soak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c soakConfig
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "measured time of steady load")
	fs.DurationVar(&c.sample, "sample", 30*time.Second, "time between readings")
	fs.DurationVar(&c.warmup, "warmup", 5*time.Second, "load before the first reading")
	fs.IntVar(&c.clients, "clients", 64, "concurrent clients")
	fs.Float64Var(&c.rate, "rate", 1000, "fetches per second over all clients (0: as fast as the proxy answers)")
	fs.StringVar(&c.out, "out", "bench/results/soak.md", "report file, relative to the repository root (\"\": none)")
	fs.StringVar(&c.logLevel, "log.level", "info", "log.level of tokenserver and corsproxy")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if c.clients < 1 || c.duration <= soakEndBeforeDeadline || c.sample <= 0 || c.rate < 0 {
		return fmt.Errorf("soak: -clients must be positive, -duration more than 1s, -sample positive, -rate not negative")
	}
	root, work, err := workspace("soak", "benchreport-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fmt.Fprintln(stderr, "building tokenserver and corsproxy...")
	bins, err := buildPrograms(root, work)
	if err != nil {
		return err
	}
	servers, err := proxied(launcher{work: work, bins: bins, logLevel: c.logLevel})
	if err != nil {
		return err
	}
	proxy, token := servers[0], servers[1]
	defer killRunning(servers)

	read := func(label string, elapsed time.Duration, live *load.Live) snapshot {
		sn := snapshot{label: label, elapsed: elapsed}
		if live != nil {
			sn.fetches, sn.errors = live.Fetches.Load(), live.Errors.Load()
		}
		var errs []error
		for i, s := range []*server{proxy, token} {
			var err1, err2, err3 error
			sn.rss[i], err1 = s.status("VmRSS")
			sn.goroutines[i], err2 = s.goroutines()
			sn.fds[i], err3 = s.openFDs()
			errs = append(errs, err1, err2, err3)
		}
		sn.err = errors.Join(errs...)
		return sn
	}

	host := describeHost(root)
	snaps := []snapshot{read("before load", 0, nil)}
	fmt.Fprintf(stderr, "soak: %d clients at %v fetches/s through corsproxy for %v, a reading every %v...\n", c.clients, c.rate, c.duration, c.sample)
	var live load.Live
	counting := make(chan time.Time, 1)
	resc := make(chan load.Result, 1)
	go func() {
		resc <- load.Run(ctx, load.Options{
			Addr: proxy.addr, Clients: c.clients, Warmup: c.warmup, Duration: c.duration, Rate: c.rate, Live: &live,
			Fetch:    tokenFetch(c.clients, true, false),
			Counting: func() { counting <- time.Now() },
		})
	}()
	var start time.Time
	select {
	case start = <-counting:
	case <-ctx.Done():
		return ctx.Err()
	}
	snaps = append(snaps, read("start", 0, &live))
	for next := c.sample; next < c.duration-soakEndBeforeDeadline; next += c.sample {
		if !sleepUntil(ctx, start.Add(next)) {
			return ctx.Err()
		}
		sn := read("", time.Since(start), &live)
		snaps = append(snaps, sn)
		fmt.Fprintf(stderr, "  %v: %d fetches, %d errors, corsproxy RSS %s, %d goroutines\n", sn.elapsed.Round(time.Second), sn.fetches, sn.errors, mb(sn.rss[0]), sn.goroutines[0])
	}
	if !sleepUntil(ctx, start.Add(c.duration-soakEndBeforeDeadline)) {
		return ctx.Err()
	}
	snaps = append(snaps, read("end", time.Since(start), &live))
	res := <-resc
	sleepUntil(ctx, time.Now().Add(soakQuietSettle))
	snaps = append(snaps, read(fmt.Sprintf("%v after the load", soakQuietSettle), time.Since(start), &live))

	var stopErrs []error
	for _, s := range servers {
		if err := s.stop(); err != nil {
			stopErrs = append(stopErrs, err)
		}
	}

	md, failures := soakReport(c, host, snaps, res, stopErrs)
	fmt.Fprint(stdout, md)
	if c.out != "" {
		path := filepath.Join(root, c.out)
		if err := writeReport(path, md); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", c.out)
	}
	if len(failures) > 0 {
		return fmt.Errorf("soak: %s", strings.Join(failures, "; "))
	}
	return nil
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// soakReport renders the readings and judges them.
func soakReport(c soakConfig, h host, snaps []snapshot, res load.Result, stopErrs []error) (string, []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Soak report\n\n")
	fmt.Fprintf(&b, "%s · %s · %d CPUs (%s) · commit %s · load average %s at start, %s at end\n\n",
		h.when, h.goVersion, h.cpus, orUnknown(h.cpu), orUnknown(h.commit), h.loadStart, loadAvg())
	rate := "as fast as answered"
	if c.rate > 0 {
		rate = fmt.Sprintf("capped at %v fetches/s", c.rate)
	}
	fmt.Fprintf(&b, "corsproxy → tokenserver, %d clients %s, GET /rtm/{uid}/ with an allowed Origin and user IDs cycling, "+
		"%v measured after %v of warm-up: %s fetches (%.0f/s), %d errors, p50 %s, p99 %s, p99.9 %s, max %s.\n\n",
		c.clients, rate, c.duration, c.warmup, thousands(float64(res.Fetches)), res.Rate(), res.Errors,
		ms(res.Latency.Quantile(.5)), ms(res.Latency.Quantile(.99)), ms(res.Latency.Quantile(.999)), ms(res.Latency.Max()))
	b.WriteString("| reading | at | fetches | errors | corsproxy RSS | goroutines | fds | tokenserver RSS | goroutines | fds |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range snaps {
		label := s.label
		if label == "" {
			label = "under load"
		}
		fmt.Fprintf(&b, "| %s | %v | %s | %d | %s | %d | %d | %s | %d | %d |\n", label, s.elapsed.Round(time.Second), thousands(float64(s.fetches)), s.errors,
			mb(s.rss[0]), s.goroutines[0], s.fds[0], mb(s.rss[1]), s.goroutines[1], s.fds[1])
	}
	b.WriteString("\nGoroutines are go_goroutines from each program's /metrics (the scrape itself adds one); fds count /proc/PID/fd.\n\n")

	var failures []string
	check := func(name string, ok bool, measured string) {
		verdict := "met"
		if !ok {
			verdict = "**missed**"
			failures = append(failures, name+" ("+measured+")")
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, measured, verdict)
	}
	b.WriteString("| check | measured | |\n|---|---|---|\n")
	check("zero errors", res.Errors == 0, fmt.Sprint(res.Errors))
	var start, end, quiet snapshot
	for _, s := range snaps {
		switch {
		case s.label == "start":
			start = s
		case s.label == "end":
			end = s
		case strings.HasSuffix(s.label, "after the load"):
			quiet = s
		}
		if s.err != nil {
			failures = append(failures, "reading "+s.label+": "+s.err.Error())
		}
	}
	// Connections come and go with the load: each client holds one to the
	// proxy, and the proxy keeps up to one upstream connection per request
	// in flight (a read and a write goroutine each). Anything per request
	// that is never released grows past these bounds within seconds.
	before := snaps[0]
	var peak snapshot
	for _, s := range snaps[1:] {
		for i := range 2 {
			peak.goroutines[i] = max(peak.goroutines[i], s.goroutines[i])
			peak.fds[i] = max(peak.fds[i], s.fds[i])
		}
	}
	names := [2]string{"corsproxy", "tokenserver"}
	perClientG, perClientFD := [2]int{3, 1}, [2]int{2, 1}
	for i, n := range names {
		check(n+" RSS flat (end − start < 8 MB)", end.rss[i]-start.rss[i] < soakRSSGrowth, mb(start.rss[i])+" → "+mb(end.rss[i]))
		check(fmt.Sprintf("%s goroutines bounded by the clients (≤ idle + %d per client + %d)", n, perClientG[i], soakSlack),
			peak.goroutines[i] <= before.goroutines[i]+perClientG[i]*c.clients+soakSlack,
			fmt.Sprintf("%d idle, %d at start, %d at end, %d at most", before.goroutines[i], start.goroutines[i], end.goroutines[i], peak.goroutines[i]))
		check(fmt.Sprintf("%s fds bounded by the clients (≤ idle + %d per client + %d)", n, perClientFD[i], soakSlack),
			peak.fds[i] <= before.fds[i]+perClientFD[i]*c.clients+soakSlack,
			fmt.Sprintf("%d idle, %d at start, %d at end, %d at most", before.fds[i], start.fds[i], end.fds[i], peak.fds[i]))
	}
	// Once the clients have left, what the proxy still holds is idle upstream
	// connections (kept for the next burst): one fd each, matched by one in
	// the token server, and a read and a write goroutine each.
	upstreamConns := quiet.fds[1] - before.fds[1]
	check("corsproxy released the clients' connections (fds left over ≤ idle upstream connections + 4)",
		quiet.fds[0]-before.fds[0] <= upstreamConns+soakQuietSlack,
		fmt.Sprintf("%d fds more than before the load, %d idle upstream connections", quiet.fds[0]-before.fds[0], upstreamConns))
	check("corsproxy released their goroutines (left over ≤ 2 per idle upstream connection + 4)",
		quiet.goroutines[0]-before.goroutines[0] <= 2*upstreamConns+soakQuietSlack,
		fmt.Sprintf("%d goroutines more than before the load", quiet.goroutines[0]-before.goroutines[0]))
	for _, e := range stopErrs {
		failures = append(failures, e.Error())
		fmt.Fprintf(&b, "\nStopping: %v\n", e)
	}
	if res.Errors > 0 {
		fmt.Fprintf(&b, "\nErrors: %s\n", res.ErrorSummary())
	}
	b.WriteString("\nReproduce: `make soak` (flags: `go run ./e2e/cmd/benchreport soak -h`).\n")
	return b.String(), failures
}
