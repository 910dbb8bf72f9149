package e2e

// Helpers that start the programs as processes, wait for their healthchecks and stop
// them, and look at process groups in /proc.

import (
	"context" // "binary" is the browser tests' helper
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/e2e/internal/childproc"
	"signaling-auth/lifecycle/testlog"
)

// opsProc is a program started by a test.
type opsProc struct {
	name string
	cmd  *exec.Cmd
	out  *testlog.Buffer
	done chan struct{}
	err  error // cmd.Wait's result, valid once done is closed
}

// opsStart starts argv[0] with exactly env (nothing inherited, but childproc.NoDrain
// before it, so SIGTERM stops at once unless env sets a drain) in dir. The process is
// stopped with SIGTERM (SIGKILL after 15 s) when the test ends, if it still runs.
func opsStart(t *testing.T, name string, argv, env []string, dir string) *opsProc {
	t.Helper()
	p := &opsProc{name: name, out: &testlog.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = slices.Concat(childproc.NoDrain, env)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop sends SIGTERM, waits for the exit (SIGKILL after 15 s) and returns Wait's error.
func (p *opsProc) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return p.err
}

// exited reports whether the process has ended.
func (p *opsProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// opsWaitHealthy runs the program's healthcheck command (argv, env, in the program's own
// working directory, as docker exec would) until it exits 0. It fails the test if the
// program dies first or the timeout passes, showing its output.
func opsWaitHealthy(t *testing.T, p *opsProc, argv, env []string, timeout time.Duration) {
	t.Helper()
	err := opsEventually(timeout, func() error {
		if p.exited() {
			return fmt.Errorf("exited: %v", p.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Dir = p.cmd.Dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s never became healthy: %v\n--- %s output ---\n%s", p.name, err, p.name, p.out.String())
	}
}

// --- processes ---------------------------------------------------------------------------

// opsGroupMembers lists the processes whose process group is pgid, as pid → command
// name, from /proc (Linux).
func opsGroupMembers(t testing.TB, pgid int) map[int]string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	members := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		fields := strings.Fields(s[rp+1:])
		if len(fields) < 3 || fields[0] == "Z" {
			continue // zombies have exited; their parent just has not reaped them yet
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			members[pid] = s[lp+1 : rp]
		}
	}
	return members
}

// opsAlive reports whether pid still exists and is not a zombie.
func opsAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// opsEnvWithout is os.Environ() minus every variable that would change what the
// programs or scripts/run.sh do, so a developer's shell cannot leak into a test.
func opsEnvWithout() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TOKENSERVER_"), strings.HasPrefix(k, "CORSPROXY_"),
			strings.HasPrefix(k, "WEBDEMO_"), strings.HasPrefix(k, "AGORA_"),
			strings.HasPrefix(k, "PORT_"), strings.HasPrefix(k, "RUN_"),
			k == "APP_ID", k == "APP_CERTIFICATE", k == "PORT", k == "SERVER_PORT",
			k == "CORS_ALLOW_ORIGIN", k == "VERSION",
			// CI runs this suite from make test: a nested make run would inherit its
			// flags and level, which a user typing make run does not have.
			k == "MAKEFLAGS", k == "MFLAGS", k == "MAKELEVEL", k == "MAKEOVERRIDES":
			continue
		}
		env = append(env, kv)
	}
	return env
}
