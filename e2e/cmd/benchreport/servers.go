package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"signaling-auth/e2e/internal/childproc"
)

// The e2e tests have their own process harness (process_test.go; the
// environment they give a child is childproc.CleanEnv, shared with this
// command): test files cannot be imported by a program, and this one needs the PID
// for /proc and the log in a file rather than in memory (a pipe would make
// this process copy every access-log line while it is measuring).

// The published AccessToken2 test vector (DESIGN.md §4): safe to commit, and
// the token server mints real, signed tokens with it.
const (
	vectorAppID       = "970CA35de60c44645bbae8a215061b33"
	vectorCertificate = "5CFd2fd1755d40ecb72977518be15d3b"
)

// allowedOrigin is the page origin the proxy is configured to allow.
const allowedOrigin = "http://localhost:9000"

// repoRoot finds the directory holding go.work, from dir upwards.
func repoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work in %s or above; run from the repository", dir)
		}
	}
}

// workspace finds the repository root from the working directory and makes
// a fresh temporary directory (named after pattern) for the built programs
// and their logs; the caller removes it. A missing repository is reported
// under the name of the subcommand cmd.
func workspace(cmd, pattern string) (root, work string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	root, err = repoRoot(wd)
	if err != nil {
		return "", "", fmt.Errorf("%s: %v", cmd, err)
	}
	work, err = os.MkdirTemp("", pattern)
	if err != nil {
		return "", "", err
	}
	return root, work, nil
}

// writeReport writes a markdown report to path, making its directory.
func writeReport(path, md string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(md), 0o644)
}

// buildPrograms compiles tokenserver and corsproxy from root into dir, as
// `make build` would.
func buildPrograms(root, dir string) (map[string]string, error) {
	bins := map[string]string{}
	for _, name := range []string{"tokenserver", "corsproxy"} {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, ".")
		cmd.Dir = filepath.Join(root, name)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", name, err, b)
		}
		bins[name] = out
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	bins["bare"] = self
	return bins, nil
}

// server is one program running as a child process, logging JSON to a file.
type server struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	addr    string // from its "listening" record
	admin   string // corsproxy's "admin listening" record
	done    chan struct{}
}

// startServer runs bin in a fresh directory of its own under work (so no
// configs/*.yaml or .env is read) and waits for its listening record(s).
// When known is set the addresses are already chosen (log levels above info
// drop the listening record): it waits until they accept connections.
func startServer(work, name, bin string, known *server, env []string, args ...string) (*server, error) {
	dir, err := os.MkdirTemp(work, name+"-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "log.json")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s := &server{name: name, logPath: logPath, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Env = slices.Concat(childproc.CleanEnv(), childproc.NoDrain, env)
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %v", name, err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	wantAdmin := name == "corsproxy"
	deadline := time.Now().Add(20 * time.Second)
	for s.addr == "" || wantAdmin && s.admin == "" {
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited before listening:\n%s", name, s.logTail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("%s logged no listening record within 20 s:\n%s", name, s.logTail())
		}
		if known != nil {
			if accepts(known.addr) && (known.admin == "" || accepts(known.admin)) {
				s.addr, s.admin = known.addr, known.admin
			}
			continue
		}
		s.addr, s.admin = listeningAddrs(s.logPath)
	}
	return s, nil
}

func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freeAddr is a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// listeningAddrs reads the addresses the server logged (the first MiB of its log).
func listeningAddrs(path string) (addr, admin string) {
	f, err := os.Open(path)
	if err != nil {
		return "", ""
	}
	defer f.Close()
	return childproc.ListeningAddrs(io.LimitReader(f, 1<<20))
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// status reads one "kB" field of /proc/PID/status, in bytes: VmHWM is the
// peak resident set since the process started, VmRSS the current one.
func (s *server) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(field+":")); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(string(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", s.pid(), field)
}

// cpuTime is the user+system CPU time the process has used, from
// /proc/PID/stat (in clock ticks of 1/100 s, USER_HZ on Linux).
func (s *server) cpuTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid()))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", s.pid())
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", s.pid(), len(f))
	}
	// utime and stime are fields 14 and 15 of the line, 12 and 13 after ")".
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openFDs counts the process's open file descriptors.
func (s *server) openFDs() (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid()))
	return len(ents), err
}

// goroutines scrapes go_goroutines from the program's /metrics (the admin
// listener for corsproxy).
func (s *server) goroutines() (int, error) {
	addr := s.addr
	if s.admin != "" {
		addr = s.admin
	}
	res, err := metricsClient.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int(f), err
		}
	}
	return 0, errors.New(s.name + " /metrics has no go_goroutines")
}

var metricsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}

// stop sends SIGTERM and waits for a clean exit (status 0) — the graceful
// shutdown every program promises.
func (s *server) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("%s had already exited (%v):\n%s", s.name, s.cmd.ProcessState, s.logTail())
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.kill()
		return fmt.Errorf("%s did not stop within 20 s of SIGTERM", s.name)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("%s exited with status %d after SIGTERM:\n%s", s.name, code, s.logTail())
	}
	return nil
}

// killRunning kills those of servers that are still running: the deferred
// clean-up when a measurement stops early (the ones stopped on the way
// already exited cleanly).
func killRunning(servers []*server) {
	for _, s := range servers {
		select {
		case <-s.done:
		default:
			s.kill()
		}
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
