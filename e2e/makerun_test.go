//go:build linux

package e2e

// `make run` is scripts/run.sh: these tests run the real script, on free ports, in its own
// process group as a terminal would, and check what a developer sees and what is left
// running afterwards.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

// opsMakeRun is one run of scripts/run.sh.
type opsMakeRun struct {
	cmd   *exec.Cmd
	out   *testlog.Buffer
	lines chan string // every output line, for waiting on one
	done  chan struct{}
	err   error
	ports map[string]int
}

// opsStartMakeRun starts scripts/run.sh with free ports, the binaries in a temporary
// directory and envFile as its .env; extra adds variables. The script leads its own process
// group, as a shell's foreground job does, so a signal can go to it alone or to the group.
func opsStartMakeRun(t *testing.T, envFile string, extra ...string) *opsMakeRun {
	t.Helper()
	return opsStartRunCommand(t, []string{"bash", filepath.Join(opsRepoRoot(t), "scripts", "run.sh")}, envFile, extra...)
}

// opsStartRunCommand is opsStartMakeRun with the command line given: the script itself,
// or make run as a developer types it.
func opsStartRunCommand(t *testing.T, argv []string, envFile string, extra ...string) *opsMakeRun {
	t.Helper()
	root := opsRepoRoot(t)
	r := &opsMakeRun{out: &testlog.Buffer{}, lines: make(chan string, 1000), done: make(chan struct{}), ports: map[string]int{}}
	env := opsEnvWithout()
	for _, k := range []string{"PORT_TOKENSERVER", "PORT_CORSPROXY", "PORT_CORSPROXY_ADMIN", "PORT_WEBDEMO"} {
		r.ports[k] = freePort(t)
		env = append(env, fmt.Sprintf("%s=%d", k, r.ports[k]))
	}
	env = append(env, "RUN_ENV_FILE="+envFile, "RUN_BIN_DIR="+t.TempDir())
	env = append(env, extra...)

	r.cmd = exec.Command(argv[0], argv[1:]...)
	r.cmd.Dir = root
	r.cmd.Env = env
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	r.cmd.Stdout = pw
	r.cmd.Stderr = pw

	// bash cannot trap a signal that was ignored when it started, and a test binary run
	// from a background job starts with SIGINT ignored. While Go handles SIGINT, a child
	// starts with the default action instead.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	err := r.cmd.Start()
	signal.Stop(sig)
	if err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(r.out, line)
			select {
			case r.lines <- line:
			default:
			}
		}
		close(r.lines)
		_, _ = io.Copy(r.out, pr) // after an over-long line: keep the pipe drained
	}()
	go func() {
		r.err = r.cmd.Wait()
		pw.Close()
		<-scanned // every line is in r.out before done says so
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
	})
	return r
}

// waitLine waits for a line matching re; it fails the test if the script exits first.
func (r *opsMakeRun) waitLine(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				<-r.done
				t.Fatalf("make run ended (%v) before printing %q:\n%s", r.err, re, r.out.String())
			}
			if re.MatchString(line) {
				return line
			}
		case <-deadline:
			t.Fatalf("make run printed no line matching %q within %s:\n%s", re, timeout, r.out.String())
		}
	}
}

// wait waits for the script to exit and returns its exit code.
func (r *opsMakeRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("make run still running after %s:\n%s", timeout, r.out.String())
	}
	if r.err == nil {
		return 0
	}
	if ee, ok := r.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatal(r.err)
	return -1
}

// opsEnvFile writes a .env with the test vector's credentials, as a developer would.
func opsEnvFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	content := "# written by the test\nAGORA_APP_ID=" + opsTestAppID + "\nexport AGORA_APP_CERTIFICATE=\"" + opsTestCertificate + "\"\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The first run may compile everything: CI's build cache starts cold.
const opsMakeRunReady = 5 * time.Minute

func TestMakeRunServesThePageAndStopsEverythingOnASignal(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	tests := []struct {
		name   string
		signal syscall.Signal
		group  bool // to the whole process group, as Ctrl-C in a terminal does
	}{
		{name: "Ctrl-C (SIGINT to the process group) stops all three and exits 0", signal: syscall.SIGINT, group: true},
		{name: "SIGTERM to the script alone stops all three and exits 0", signal: syscall.SIGTERM},
		{name: "SIGINT to the script alone stops all three and exits 0", signal: syscall.SIGINT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := opsStartMakeRun(t, opsEnvFile(t))
			demo := r.ports["PORT_WEBDEMO"]
			r.waitLine(t, regexp.MustCompile(`^Open http://localhost:`+strconv.Itoa(demo)+`/authentication_guide/$`), opsMakeRunReady)

			resp, _ := opsGet(t, http.MethodGet, fmt.Sprintf("http://localhost:%d/authentication_guide/", demo), nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the page answers %d, want 200", resp.StatusCode)
			}
			// The .env credentials reached the token server: the token is for that app
			// and signed with that certificate.
			opsCheckTokenPath(t, fmt.Sprintf("http://localhost:%d", r.ports["PORT_CORSPROXY"]),
				fmt.Sprintf("http://localhost:%d", demo), opsTestAppID, opsTestCertificate)
			// The Token doctor page's route passes the proxy under make run (the shipped
			// corsproxy.yaml keeps it private): the token server itself names the bad field.
			resp, body := opsSend(t, http.MethodPost, fmt.Sprintf("http://localhost:%d/v1/tokens/diagnose", r.ports["PORT_CORSPROXY"]),
				http.Header{"Origin": {fmt.Sprintf("http://localhost:%d", demo)}, "Content-Type": {"application/json"}},
				`{"token":"nope","channel":"room","uid":"1"}`)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"name":"token"`) {
				t.Errorf("POST /v1/tokens/diagnose through make run's proxy: %d %s, want the token server's 400 naming token", resp.StatusCode, body)
			}

			pgid := r.cmd.Process.Pid
			children := map[string]int{}
			for pid, comm := range opsGroupMembers(t, pgid) {
				for _, p := range opsPrograms {
					if comm == p {
						if _, dup := children[p]; dup {
							t.Errorf("two %s processes in the group", p)
						}
						children[p] = pid
					}
				}
			}
			if len(children) != len(opsPrograms) {
				t.Fatalf("programs running under make run: %v, want one each of %v", children, opsPrograms)
			}
			// The certificate is in the token server's environment and nobody else's.
			for name, pid := range children {
				environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
				if err != nil {
					t.Fatal(err)
				}
				has := strings.Contains(string(environ), opsTestCertificate)
				if has != (name == "tokenserver") {
					t.Errorf("%s: App Certificate in its environment = %v, want %v", name, has, name == "tokenserver")
				}
			}

			target := pgid
			if tc.group {
				target = -pgid
			}
			if err := syscall.Kill(target, tc.signal); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t, 60*time.Second); code != 0 {
				t.Errorf("make run exited %d after %v, want 0:\n%s", code, tc.signal, r.out.String())
			}
			for name, pid := range children {
				if opsAlive(pid) {
					t.Errorf("%s (pid %d) still runs after make run exited", name, pid)
				}
			}
			if left := opsGroupMembers(t, pgid); len(left) > 0 {
				t.Errorf("processes left in make run's process group: %v", left)
			}
			out := r.out.String()
			if strings.Contains(out, opsTestCertificate) {
				t.Error("make run's output contains the App Certificate")
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
				t.Errorf("a program crashed while stopping:\n%s", out)
			}
			// However the signal arrived, a stop is one "run: stopped" at the end, never
			// a program "exiting" and taking the others down.
			if n := strings.Count(out, "\nrun: stopped\n"); n != 1 || opsLastLine(out) != "run: stopped" {
				t.Errorf("want exactly one final \"run: stopped\" line (got %d):\n%s", n, out)
			}
			if strings.Contains(out, "exited with status") {
				t.Errorf("a clean stop reported as a program exiting:\n%s", out)
			}
			// Each program ends with its own final line.
			for _, p := range opsPrograms {
				if !regexp.MustCompile(`(?m)^` + p + ` +\| .*msg=stopped`).MatchString(out) {
					t.Errorf("%s printed no final stopped line:\n%s", p, out)
				}
			}
		})
	}
}

func TestMakeRunItselfStopsCleanlyOnCtrlC(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	if _, err := exec.LookPath("make"); err != nil {
		if inCI() {
			t.Fatalf("CI: make is missing: %v", err)
		}
		t.Skip("make is missing")
	}
	// make, not the script: Ctrl-C reaches make, the script and the three programs at once.
	r := opsStartRunCommand(t, []string{"make", "--no-print-directory", "run"}, os.DevNull)
	r.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
	if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	// make itself may die of the SIGINT it got, as GNU make does after its recipe ends.
	t.Logf("make run exited %d", r.wait(t, 60*time.Second))
	out := r.out.String()
	if n := strings.Count(out, "\nrun: stopped\n"); n != 1 || opsLastLine(out) != "run: stopped" {
		t.Errorf("want exactly one final \"run: stopped\" line (got %d):\n%s", n, out)
	}
	for _, bad := range []string{"make: ***", "exited with status"} {
		if strings.Contains(out, bad) {
			t.Errorf("output has %q:\n%s", bad, out)
		}
	}
	if left := opsGroupMembers(t, r.cmd.Process.Pid); len(left) > 0 {
		t.Errorf("processes left in the process group: %v", left)
	}
}

func TestMakeRunSaysTheFirstBuildIsSlowBeforeBuilding(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	// RUN_BIN_DIR is empty, as bin/ is in a fresh clone. The build itself may be fast
	// (the test binary's build warmed the cache); the notice is about the binaries.
	bin := t.TempDir()
	r := opsStartMakeRun(t, os.DevNull, "RUN_BIN_DIR="+bin)
	notice := regexp.MustCompile(`^run: the first build compiles about ([0-9]+) packages .*: measured .* minutes on a 2-core machine`)
	m := notice.FindStringSubmatch(r.waitLine(t, notice, opsMakeRunReady))
	// The count in the notice is what a cold build compiles: go list -deps of the three.
	list := exec.Command(goTool(), "list", "-deps", "./tokenserver", "./corsproxy", "./webdemo")
	list.Dir = opsRepoRoot(t)
	deps, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	if n, want := mustAtoi(t, m[1]), strings.Count(string(deps), "\n"); n < want*9/10 || n > want*11/10 {
		t.Errorf("the notice says about %d packages; go list -deps counts %d: update scripts/run.sh", n, want)
	}
	// Any progress line counts against that total once go list has answered.
	progress := regexp.MustCompile(`^run: still building\.\.\. \([0-9]+ s, ([0-9]+ of about [0-9]+ packages|[0-9]+ packages compiled|loading the packages)`)
	r.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
	out := r.out.String()
	if strings.Index(out, "run: building") > strings.Index(out, "run: the first build") {
		t.Errorf("the notice comes after the build started:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "run: still building") && !progress.MatchString(line) {
			t.Errorf("progress line %q, want \"N of about M packages\"", line)
		}
	}
	// Without a certificate make run tells the page, which shows the demo-mode banner.
	_, body := opsGet(t, http.MethodGet, fmt.Sprintf("http://localhost:%d/config.json", r.ports["PORT_WEBDEMO"]), nil)
	if !strings.Contains(string(body), `"mode":"demo"`) {
		t.Errorf("config.json under make run without a certificate: %s", body)
	}
	_ = syscall.Kill(r.cmd.Process.Pid, syscall.SIGTERM)
	if code := r.wait(t, 60*time.Second); code != 0 {
		t.Errorf("exit %d:\n%s", code, r.out.String())
	}

	// The second run finds the binaries: no notice, and nothing to compile means no
	// progress lines either.
	r2 := opsStartMakeRun(t, os.DevNull, "RUN_BIN_DIR="+bin)
	r2.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
	_ = syscall.Kill(r2.cmd.Process.Pid, syscall.SIGTERM)
	r2.wait(t, 60*time.Second)
	if strings.Contains(r2.out.String(), "first build") {
		t.Errorf("the first-build notice again although bin has the binaries:\n%s", r2.out.String())
	}
}

func TestMakeRunStopsWithTheProgramsOwnLineWhenAPortIsTaken(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	tests := []struct {
		name    string
		port    string // the variable whose port is taken
		program string // who must say so
	}{
		{name: "the token server's port in use is reported by the token server", port: "PORT_TOKENSERVER", program: "tokenserver"},
		{name: "the proxy's port in use is reported by the proxy", port: "PORT_CORSPROXY", program: "corsproxy"},
		{name: "the proxy's admin port in use is reported by the proxy", port: "PORT_CORSPROXY_ADMIN", program: "corsproxy"},
		{name: "the page's port in use is reported by webdemo", port: "PORT_WEBDEMO", program: "webdemo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Something else holds the port on every address, as another copy would.
			l, err := net.Listen("tcp", ":0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			taken := l.Addr().(*net.TCPAddr).Port

			r := opsStartMakeRun(t, os.DevNull, fmt.Sprintf("%s=%d", tc.port, taken))
			code := r.wait(t, opsMakeRunReady)
			out := r.out.String()
			if code == 0 {
				t.Fatalf("make run exited 0 with port %d taken:\n%s", taken, out)
			}
			last := opsLastLine(out)
			if !strings.HasPrefix(last, tc.program+":") || !strings.Contains(last, ":"+strconv.Itoa(taken)) || !strings.Contains(last, "in use") {
				t.Errorf("last line %q, want %s's own one-line error naming port %d as in use\n%s", last, tc.program, taken, out)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic:") {
				t.Errorf("a stack trace instead of one line:\n%s", out)
			}
			if left := opsGroupMembers(t, r.cmd.Process.Pid); len(left) > 0 {
				t.Errorf("processes left behind: %v", left)
			}
		})
	}
}

func TestMakeRunRejectsABadEnvFileOrPortWithOneLine(t *testing.T) {
	bad := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(bad, []byte("AGORA_APP_ID=x\nthis is not an assignment\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		envFile  string
		extra    []string
		wantLine string
	}{
		{name: "a .env line that is not KEY=VALUE is named by file and line", envFile: bad, wantLine: bad + ":2: expected KEY=VALUE"},
		{name: "a port that is not a number is named by its variable", envFile: os.DevNull, extra: []string{"PORT_WEBDEMO=90o0"}, wantLine: `PORT_WEBDEMO: must be a port number 1-65535 (got "90o0")`},
		{name: "a port out of range is named by its variable", envFile: os.DevNull, extra: []string{"PORT_CORSPROXY=70000"}, wantLine: `PORT_CORSPROXY: must be a port number 1-65535 (got "70000")`},
		{name: "an env file that does not exist is named", envFile: "/nonexistent/.env", wantLine: "RUN_ENV_FILE=/nonexistent/.env: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := opsStartMakeRun(t, tc.envFile, tc.extra...)
			if code := r.wait(t, 30*time.Second); code == 0 {
				t.Fatalf("make run exited 0:\n%s", r.out.String())
			}
			if last := opsLastLine(r.out.String()); !strings.Contains(last, tc.wantLine) {
				t.Errorf("last line %q, want it to contain %q", last, tc.wantLine)
			}
		})
	}
}

func TestMakeRunStopsTheOthersWhenOneDiesLater(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	tests := []struct {
		name   string
		victim string
	}{
		{name: "the proxy killed while serving takes the other two down and make run fails naming it", victim: "corsproxy"},
		{name: "the token server killed while serving takes the other two down and make run fails naming it", victim: "tokenserver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := opsStartMakeRun(t, os.DevNull)
			r.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
			pgid := r.cmd.Process.Pid
			var victim int
			others := map[int]string{}
			for pid, comm := range opsGroupMembers(t, pgid) {
				switch {
				case comm == tc.victim:
					victim = pid
				case comm == "tokenserver" || comm == "corsproxy" || comm == "webdemo":
					others[pid] = comm
				}
			}
			if victim == 0 || len(others) != 2 {
				t.Fatalf("want %s and two others under make run, got victim %d, others %v", tc.victim, victim, others)
			}
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t, 60*time.Second); code == 0 {
				t.Errorf("make run exited 0 after %s died:\n%s", tc.victim, r.out.String())
			}
			if last, want := opsLastLine(r.out.String()), tc.victim+": killed by signal 9"; !strings.HasPrefix(last, want) {
				t.Errorf("last line %q, want it to start with %q", last, want)
			}
			for pid, name := range others {
				if opsAlive(pid) {
					t.Errorf("%s (pid %d) still runs after %s died", name, pid, tc.victim)
				}
			}
			if left := opsGroupMembers(t, pgid); len(left) > 0 {
				t.Errorf("processes left in make run's process group: %v", left)
			}
		})
	}
}

func TestMakeRunTakesTheCredentialNamesOtherAgoraTokenServersUse(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	// A .env carried over from agora-token-service or the Node sample: APP_ID and
	// APP_CERTIFICATE instead of AGORA_APP_*.
	env := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(env, []byte("APP_ID="+opsTestAppID+"\nAPP_CERTIFICATE="+opsTestCertificate+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := opsStartMakeRun(t, env)
	demo := r.ports["PORT_WEBDEMO"]
	r.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
	opsCheckTokenPath(t, fmt.Sprintf("http://localhost:%d", r.ports["PORT_CORSPROXY"]),
		fmt.Sprintf("http://localhost:%d", demo), opsTestAppID, opsTestCertificate)
	if out := r.out.String(); strings.Contains(out, "demo mode") || strings.Contains(out, "DEMO MODE") {
		t.Errorf("make run says demo mode although .env has APP_ID and APP_CERTIFICATE:\n%s", out)
	}
}

// Under make run the proxy opens one upstream connection per client connection, all from
// one address. 40 browsers, each on its own address and keeping its connection open, all
// get tokens: the token server believes the proxy (trusted_proxies), so its per-address
// connection cap (32) counts browsers, not the proxy.
func TestMakeRunServesMoreProxiedClientsThanOneAddressMayHold(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	r := opsStartMakeRun(t, opsEnvFile(t))
	demo, proxy := r.ports["PORT_WEBDEMO"], r.ports["PORT_CORSPROXY"]
	r.waitLine(t, regexp.MustCompile(`^Open http://localhost:`+strconv.Itoa(demo)+`/authentication_guide/$`), opsMakeRunReady)
	origin := fmt.Sprintf("http://localhost:%d", demo)
	const browsers = 40
	var clients []*http.Client
	for i := range browsers {
		tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i+1))}}).DialContext}
		t.Cleanup(tr.CloseIdleConnections)
		clients = append(clients, &http.Client{Timeout: 10 * time.Second, Transport: tr})
	}
	// Each browser asks twice on its kept-alive connection, so by the second round the proxy
	// holds 40 upstream connections to the token server at once.
	for round := range 2 {
		for i, c := range clients {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/rtm/browser-%d-%d/", proxy, i, round), nil)
			req.Header.Set("Origin", origin)
			res, err := c.Do(req)
			if err != nil {
				t.Fatalf("browser %d, round %d: %v", i+1, round+1, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"rtmToken":"007`) {
				t.Fatalf("browser %d of %d, round %d: %s %s", i+1, browsers, round+1, res.Status, body)
			}
		}
	}
}
