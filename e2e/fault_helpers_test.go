package e2e

// Helpers for the fault tests (fault_*_test.go): hostile and failing conditions against
// the real binaries, started with the harness in process_test.go. Every name starts with
// "fault" so it cannot clash with the browser or ops tests in this package.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// faultOrigin is the page origin the proxy allows in the fault tests.
const faultOrigin = "http://localhost:9000"

// faultTokenEnv configures a real app and turns the rate limits off: the fault tests drive
// thousands of requests from one loopback address, which the default limits would answer 429.
func faultTokenEnv() []string {
	return []string{"TOKENSERVER_AGORA_APP_ID=" + vectorAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE=" + vectorCertificate,
		"TOKENSERVER_RATE_LIMIT_PER_IP=off", "TOKENSERVER_RATE_LIMIT_PER_UID=off"}
}

// faultStartToken starts a token server on a free loopback port with extra flags.
func faultStartToken(t *testing.T, args ...string) *process {
	t.Helper()
	return start(t, "tokenserver", faultTokenEnv(), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
}

// faultStartProxy starts a proxy in front of upstream, allowing faultOrigin, with extra flags.
func faultStartProxy(t *testing.T, upstream string, args ...string) *process {
	t.Helper()
	return start(t, "corsproxy", nil, append([]string{"--listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
		"--upstream", upstream, "--cors.allowed_origins", faultOrigin, "--rate_limit.per_ip", "off"}, args...)...)
}

// faultAnswer is an answer read off the wire.
type faultAnswer struct {
	status int
	header http.Header
	body   []byte
}

// faultRaw sends raw bytes on a fresh connection and reads one answer. It fails the test
// if there is no complete answer within 10 s.
func faultRaw(t *testing.T, addr, raw string) faultAnswer {
	t.Helper()
	a, err := faultTryRaw(addr, raw, false)
	if err != nil {
		t.Fatalf("%.60q: %v", raw, err)
	}
	return a
}

// faultTryRaw is faultRaw returning the error; closeWrite shuts the sending side once
// raw is sent, as a client that gives up in the middle of its body does.
func faultTryRaw(addr, raw string, closeWrite bool) (faultAnswer, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return faultAnswer{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		return faultAnswer{}, fmt.Errorf("writing the request: %v", err)
	}
	if closeWrite {
		_ = c.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return faultAnswer{}, fmt.Errorf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return faultAnswer{}, fmt.Errorf("reading the body: %v", err)
	}
	return faultAnswer{status: res.StatusCode, header: res.Header, body: body}, nil
}

// faultMetricsAddr is where a program serves /metrics: the admin listener for corsproxy.
func faultMetricsAddr(p *process) string {
	if p.adminAddr != "" {
		return p.adminAddr
	}
	return p.addr
}

var faultHTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// faultGoroutines reads go_goroutines from the program's /metrics. The scrape's own
// connection is served by one goroutine, in every reading alike.
func faultGoroutines(t *testing.T, p *process) int {
	t.Helper()
	return int(metricValue(t, p, "go_goroutines"))
}

// metricValue reads one unlabelled sample from the program's /metrics.
func metricValue(t *testing.T, p *process, name string) float64 {
	t.Helper()
	res, err := faultHTTP.Get("http://" + faultMetricsAddr(p) + "/metrics")
	if err != nil {
		t.Fatalf("%s /metrics: %v", p.name, err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s %s %q", p.name, name, v)
			}
			return f
		}
	}
	t.Fatalf("%s /metrics has no %s", p.name, name)
	return 0
}

// faultWaitGoroutines waits (up to 15 s) until the program runs at most want goroutines,
// and returns the last reading.
func faultWaitGoroutines(t *testing.T, p *process, want int) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := faultGoroutines(t, p)
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// faultRSS is the program's resident set (VmRSS) in bytes.
func faultRSS(t *testing.T, p *process) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(string(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s VmRSS %q", p.name, v)
			}
			return kb << 10
		}
	}
	t.Fatalf("%s: no VmRSS", p.name)
	return 0
}

// faultWaitRecord waits (up to 15 s) for a JSON log record with msg.
func faultWaitRecord(t *testing.T, p *process, msg string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.SplitSeq(p.out.String(), "\n") {
			var rec struct{ Msg string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s logged no %q within 15 s:\n%s", p.name, msg, p.out)
}

// faultAlive fails the test if the program has exited or has written a panic.
func faultAlive(t *testing.T, p *process) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s exited (%v):\n%s", p.name, p.cmd.ProcessState, p.out)
	default:
	}
	if out := p.out.String(); strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Fatalf("%s wrote a panic:\n%s", p.name, out)
	}
}

// faultServesTokens fails unless a normal token request through addr gets a token.
func faultServesTokens(t *testing.T, addr string) {
	t.Helper()
	a := faultRaw(t, addr, "GET /rtm/still-serving/?expiry=600 HTTP/1.1\r\nHost: x\r\nOrigin: "+faultOrigin+"\r\nConnection: close\r\n\r\n")
	if a.status != 200 || !bytes.Contains(a.body, []byte(`"rtmToken":"007`)) {
		t.Fatalf("a normal request after the hostile ones got %d %s", a.status, a.body)
	}
}

// faultRaiseFDLimit makes room for n more connections in this process (and the children
// it starts, which inherit the limit), raising the hard limit too when allowed. It
// returns how many connections fit.
func faultRaiseFDLimit(t *testing.T, n int) int {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	const spare = 512
	want := uint64(n + spare)
	if lim.Cur < want {
		raised := lim
		raised.Cur = max(want, lim.Cur)
		raised.Max = max(want, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			// Not allowed to raise the hard limit: use what there is.
			raised.Cur, raised.Max = lim.Max, lim.Max
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised)
		}
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < want {
		n = int(lim.Cur) - spare
		t.Logf("RLIMIT_NOFILE is %d: testing with %d connections", lim.Cur, n)
	}
	return n
}
