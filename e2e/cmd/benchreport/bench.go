package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"signaling-auth/e2e/internal/load"
)

// benchConfig is what the bench subcommand's flags set.
type benchConfig struct {
	duration  time.Duration
	warmup    time.Duration
	rounds    int
	clients   int
	benchtime string
	engine    bool
	out       string
	strict    bool
	logLevel  string
	prebuilt  map[string]*string // program → binary to use instead of building it
	// only holds the scenario numbers (1-based) to run; empty: all.
	only map[int]bool
}

// scenario is one HTTP measurement: the servers it starts and what the
// clients do against the first of them.
type scenario struct {
	title string
	// start returns the servers, the one the clients talk to first.
	start func(launcher) ([]*server, error)
	cors  bool
	pre   bool
	// sampling turns tracing on in both programs, exporting to a sink in
	// this process at this ratio (OTEL_TRACES_SAMPLER_ARG); "": off.
	sampling string
}

// measured is a scenario's servers and what was measured against them.
type measured struct {
	scenario
	servers   []*server
	res       load.Result
	rounds    []float64     // fetches/s of each round
	serverCPU time.Duration // CPU time of its servers while counting
	genCPU    time.Duration // CPU time of this process (the clients) while counting
	peakRSS   []namedBytes  // per server, VmHWM at the end of the run
	stopErrs  []error
	ran       bool // false: left out by -scenarios
}

type namedBytes struct {
	name  string
	bytes int64
}

// tokenEnv configures a real app and turns the rate limits and the per-address connection cap
// off: the load comes from one loopback address (its 64 clients over max_conns_per_ip) and
// measures the minting path, which the default limits would cap at 10/s.
// The limiter itself costs ~165 ns per request (ratelimit/memory benchmarks).
func tokenEnv() []string {
	return []string{"TOKENSERVER_AGORA_APP_ID=" + vectorAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE=" + vectorCertificate,
		"TOKENSERVER_RATE_LIMIT_PER_IP=off", "TOKENSERVER_RATE_LIMIT_PER_UID=off", "TOKENSERVER_MAX_CONNS_PER_IP=0"}
}

// launcher starts the programs the way every scenario needs them.
type launcher struct {
	work     string            // where each process gets its directory
	bins     map[string]string // program name → binary
	logLevel string
	clients  int
	otlp     string // the span sink's URL
	sampling string // scenario.sampling
}

// otelEnv is the tracing environment of a scenario with sampling.
func (l launcher) otelEnv() []string {
	if l.sampling == "" {
		return nil
	}
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + l.otlp, "OTEL_TRACES_SAMPLER=parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG=" + l.sampling}
}

// addrs picks the listen addresses: port 0 and the listening record at
// info and debug, fixed free ports otherwise (the record is not logged).
func (l launcher) addrs(admin bool) (*server, []string, error) {
	if l.logLevel == "info" || l.logLevel == "debug" {
		args := []string{"--listen", "127.0.0.1:0"}
		if admin {
			args = append(args, "--admin_listen", "127.0.0.1:0")
		}
		return nil, args, nil
	}
	known := &server{}
	var err error
	if known.addr, err = freeAddr(); err != nil {
		return nil, nil, err
	}
	args := []string{"--listen", known.addr}
	if admin {
		if known.admin, err = freeAddr(); err != nil {
			return nil, nil, err
		}
		args = append(args, "--admin_listen", known.admin)
	}
	return known, args, nil
}

func (l launcher) bare() (*server, error) {
	return startServer(l.work, "bare", l.bins["bare"], nil, nil, "bare", "--listen", "127.0.0.1:0")
}

// reverseProxy starts the bare httputil.ReverseProxy in front of upstream.
func (l launcher) reverseProxy(upstream *server) (*server, error) {
	return startServer(l.work, "reverseproxy", l.bins["bare"], nil, nil, "reverseproxy", "-listen", "127.0.0.1:0",
		"-upstream", "http://"+upstream.addr, "-idle", strconv.Itoa(l.clients))
}

func (l launcher) token() (*server, error) {
	known, listen, err := l.addrs(false)
	if err != nil {
		return nil, err
	}
	return startServer(l.work, "tokenserver", l.bins["tokenserver"], known, append(tokenEnv(), l.otelEnv()...),
		append([]string{"serve", "--log.format", "json", "--log.level", l.logLevel}, listen...)...)
}

func (l launcher) proxy(upstream *server, extra ...string) (*server, error) {
	known, listen, err := l.addrs(true)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--upstream", "http://" + upstream.addr, "--cors.allowed_origins", allowedOrigin,
		"--rate_limit.per_ip", "off", "--max_conns_per_ip", "0", "--log.format", "json", "--log.level", l.logLevel}, listen...)
	return startServer(l.work, "corsproxy", l.bins["corsproxy"], known, l.otelEnv(), append(args, extra...)...)
}

// proxied starts a token server and a proxy in front of it.
func proxied(l launcher) ([]*server, error) { return proxiedWith()(l) }

// proxiedWith is proxied with extra corsproxy flags.
func proxiedWith(extra ...string) func(launcher) ([]*server, error) {
	return func(l launcher) ([]*server, error) {
		token, err := l.token()
		if err != nil {
			return nil, err
		}
		proxy, err := l.proxy(token, extra...)
		if err != nil {
			token.kill()
			return nil, err
		}
		return []*server{proxy, token}, nil
	}
}

// behindReverseProxy starts a token server and the bare ReverseProxy in
// front of it.
func behindReverseProxy(l launcher) ([]*server, error) {
	token, err := l.token()
	if err != nil {
		return nil, err
	}
	rp, err := l.reverseProxy(token)
	if err != nil {
		token.kill()
		return nil, err
	}
	return []*server{rp, token}, nil
}

// scenarios, in the order of the report; report.targets reads them by index.
var scenarios = []scenario{
	{title: "bare net/http handler, fixed 170-byte JSON (the ceiling)", start: func(l launcher) ([]*server, error) {
		s, err := l.bare()
		return []*server{s}, err
	}},
	{title: "tokenserver GET /rtm/{uid}/", start: func(l launcher) ([]*server, error) {
		s, err := l.token()
		return []*server{s}, err
	}},
	{title: "bare httputil.ReverseProxy (default http.Transport, idle pool = clients) → tokenserver", start: behindReverseProxy},
	{title: "corsproxy → tokenserver, allowed Origin (default transport.protocol http1: upstream connections per client connection)", start: proxied, cors: true},
	{title: "corsproxy → tokenserver, preflight before each GET", start: proxied, cors: true, pre: true},
	{title: "corsproxy → tokenserver, allowed Origin, transport.protocol h2c (one HTTP/2 connection shared by all clients)", start: proxiedWith("--transport.protocol", "h2c"), cors: true},
	// Tracing's cost: (4) is the same stack with tracing off.
	{title: "corsproxy → tokenserver, allowed Origin, tracing on, sampling 1.0", start: proxied, cors: true, sampling: "1.0"},
	{title: "corsproxy → tokenserver, allowed Origin, tracing on, sampling 0.01", start: proxied, cors: true, sampling: "0.01"},
}

func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c benchConfig
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time of each HTTP scenario")
	fs.DurationVar(&c.warmup, "warmup", 300*time.Millisecond, "unmeasured load before each round of a scenario")
	fs.IntVar(&c.rounds, "rounds", 10, "split each scenario's time into this many rounds, taken in turns with the other scenarios")
	fs.IntVar(&c.clients, "clients", 64, "concurrent closed-loop clients")
	fs.StringVar(&c.benchtime, "benchtime", "2s", "go test -benchtime of each engine benchmark")
	fs.BoolVar(&c.engine, "engine", true, "run the engine benchmarks")
	fs.StringVar(&c.out, "out", "bench/results/latest.md", "report file, absolute or relative to the repository root (\"\": none)")
	fs.StringVar(&c.logLevel, "log.level", "info", "log.level of tokenserver and corsproxy (info: one access record per request, as deployed)")
	c.prebuilt = map[string]*string{
		"tokenserver": fs.String("tokenserver", "", "use this tokenserver binary instead of building one (to compare builds)"),
		"corsproxy":   fs.String("corsproxy", "", "use this corsproxy binary instead of building one"),
	}
	fs.BoolVar(&c.strict, "strict", false, "exit 1 when a target is missed (errors always fail)")
	only := fs.String("scenarios", "", "comma-separated numbers of the HTTP scenarios to run, e.g. 3,4,6 (default: all; the targets need 1-4)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	only2, err := parseScenarios(*only)
	if err != nil {
		return err
	}
	c.only = only2
	if c.clients < 1 || c.rounds < 1 || c.duration <= 0 || c.warmup < 0 {
		return fmt.Errorf("bench: -clients and -rounds must be positive and -duration more than 0")
	}
	root, work, err := workspace("bench", "benchreport-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	rep := report{cfg: c, host: describeHost(root)}
	fmt.Fprintln(stderr, "building tokenserver and corsproxy...")
	bins, err := buildPrograms(root, work)
	if err != nil {
		return err
	}
	for name, bin := range c.prebuilt {
		if *bin != "" {
			bins[name] = *bin
		}
	}
	if c.engine {
		fmt.Fprintln(stderr, "engine benchmarks (tokenserver/internal/accesstoken)...")
		if rep.engine, err = runEngine(root, c.benchtime); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "HTTP: %d scenarios × %d rounds of %v, %d clients...\n", len(scenarios), c.rounds, c.duration/time.Duration(c.rounds), c.clients)
	if rep.http, err = measureHTTP(ctx, work, bins, c); err != nil {
		return err
	}
	rep.loadEnd = loadAvg()

	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if c.out != "" {
		path := c.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeReport(path, md); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", path)
	}
	if failed := rep.failures(c.strict); len(failed) > 0 {
		return fmt.Errorf("bench: %v", errors.Join(failed...))
	}
	return nil
}

// measureHTTP starts the servers of every scenario, then drives the
// scenarios in turns — round 1 of each, round 2 of each... — so that load
// from other processes on a shared machine, which comes and goes, weighs on
// every scenario alike instead of on whichever ran at the wrong moment.
// Each scenario has processes of its own, so its peak RSS is its own.
func measureHTTP(ctx context.Context, work string, bins map[string]string, c benchConfig) ([]measured, error) {
	sink, err := spanSink()
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	ms := make([]measured, len(scenarios))
	defer func() {
		for _, m := range ms {
			killRunning(m.servers)
		}
	}()
	for i, sc := range scenarios {
		ms[i] = measured{scenario: sc}
		if len(c.only) > 0 && !c.only[i+1] {
			continue
		}
		servers, err := sc.start(launcher{work: work, bins: bins, logLevel: c.logLevel, clients: c.clients,
			otlp: "http://" + sink.Addr().String(), sampling: sc.sampling})
		if err != nil {
			return nil, fmt.Errorf("(%d) %s: %v", i+1, sc.title, err)
		}
		ms[i] = measured{scenario: sc, servers: servers, ran: true}
	}
	per := c.duration / time.Duration(c.rounds)
	for range c.rounds {
		for i := range ms {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			m := &ms[i]
			if !m.ran {
				continue
			}
			var srv0, gen0 time.Duration
			res := load.Run(ctx, load.Options{
				Addr: m.servers[0].addr, Clients: c.clients, Warmup: c.warmup, Duration: per,
				Fetch: tokenFetch(c.clients, m.cors, m.pre),
				Counting: func() {
					srv0, gen0 = serversCPU(m.servers), selfCPU()
				},
			})
			m.serverCPU += serversCPU(m.servers) - srv0
			m.genCPU += selfCPU() - gen0
			m.res.Add(res)
			m.rounds = append(m.rounds, res.Rate())
		}
	}
	for i := range ms {
		m := &ms[i]
		if !m.ran {
			continue
		}
		for _, s := range m.servers {
			peak, err := s.status("VmHWM")
			if err != nil {
				m.stopErrs = append(m.stopErrs, err)
			}
			m.peakRSS = append(m.peakRSS, namedBytes{s.name, peak})
		}
		for _, s := range m.servers {
			if err := s.stop(); err != nil {
				m.stopErrs = append(m.stopErrs, err)
			}
		}
	}
	return ms, nil
}

// parseScenarios reads -scenarios.
func parseScenarios(s string) (map[int]bool, error) {
	only := map[int]bool{}
	if s == "" {
		return only, nil
	}
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > len(scenarios) {
			return nil, fmt.Errorf("bench: -scenarios: %q is not a scenario number 1-%d", f, len(scenarios))
		}
		only[n] = true
	}
	return only, nil
}

func serversCPU(servers []*server) time.Duration {
	var sum time.Duration
	for _, s := range servers {
		d, _ := s.cpuTime()
		sum += d
	}
	return sum
}
