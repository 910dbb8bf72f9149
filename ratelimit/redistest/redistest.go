// Package redistest starts a real redis-server for a test, on a free
// loopback port, without persistence, and stops it when the test ends. It is
// for tests only (like net/http/httptest), in its own package so that the
// programs' tests can use it too.
//
// Without a redis-server binary the test is skipped, except when the
// environment says CI=true: there a missing dependency fails the test, so a
// green CI run means the Redis tests really ran.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

// Binary is where the Debian package installs redis-server.
const Binary = "/usr/bin/redis-server"

// Server is a running redis-server.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
	out  *testlog.Buffer
	once sync.Once
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start runs redis-server for t. It skips t when the binary is missing,
// unless CI=true, where it fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, found := find()
	if !found {
		if mustRun(os.Getenv("CI")) {
			t.Fatalf("redis-server is not installed (%s, PATH): the Redis tests cannot run; .ci/run installs the redis-server package", Binary)
		}
		t.Skipf("redis-server is not installed (%s); skipping (in CI this fails)", Binary)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err := start(bin, t.TempDir(), port)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err // another process may have taken the port in between
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// find locates redis-server: the Debian path, else PATH.
func find() (string, bool) {
	if _, err := os.Stat(Binary); err == nil {
		return Binary, true
	}
	p, err := exec.LookPath("redis-server")
	return p, err == nil
}

// mustRun reports whether a missing redis-server fails the test rather than
// skipping it: in CI (CI=true, which .ci/run exports), a skipped Redis test
// would let a green run hide that shared limits were never tested.
func mustRun(ci string) bool { return ci == "true" }

// Restart starts a new redis-server on the address of s, which must have
// been stopped: Redis coming back after an outage, empty.
func (s *Server) Restart(t testing.TB) *Server {
	t.Helper()
	_, p, _ := net.SplitHostPort(s.Addr)
	port, _ := strconv.Atoi(p)
	var lastErr error
	for attempt := 0; attempt < 50; attempt++ {
		n, err := start(s.cmd.Path, t.TempDir(), port)
		if err == nil {
			t.Cleanup(n.Stop)
			return n
		}
		lastErr = err // the old socket may linger for a moment
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restarting redis-server on %s: %v", s.Addr, lastErr)
	return nil
}

func start(bin, dir string, port int) (*Server, error) {
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{}), out: &testlog.Buffer{}}
	s.cmd = exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "yes",
		"--loglevel", "warning")
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	// Its own process group: a signal for the test binary does not reach it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server exited at start: %s", strings.TrimSpace(s.out.String()))
		default:
		}
		if ping(s.Addr) == nil {
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("redis-server did not answer PING within 10s: %s", strings.TrimSpace(s.out.String()))
}

// Stop kills the server (SIGKILL: an outage, not a shutdown) and waits for
// it to exit. Later calls do nothing.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tarpit is a TCP server that accepts connections and never answers: a
// Redis that hangs. Close it with t's cleanup.
func Tarpit(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
