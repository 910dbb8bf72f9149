package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/e2e/internal/childproc"
	"signaling-auth/lifecycle/testlog"
)

// process is one of our programs running as a child process.
type process struct {
	name      string
	cmd       *exec.Cmd
	out       *testlog.Buffer
	addr      string // from its "listening" log record
	adminAddr string // corsproxy's "admin listening" record
	done      chan struct{}
}

// start runs a built program with JSON logs in a fresh working directory (so no
// configs/*.yaml or .env is picked up), without a drain on SIGTERM unless env sets one, and waits until it has logged where it listens.
// The process is stopped when the test ends.
func start(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	bin := binary(t, name)
	p := &process{name: name, out: &testlog.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append(args, "--log.format", "json")...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Env = slices.Concat(childproc.CleanEnv(), childproc.NoDrain, env)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out)
		}
	})

	wantAdmin := name == "corsproxy"
	deadline := time.After(20 * time.Second)
	for p.addr == "" || (wantAdmin && p.adminAddr == "") {
		select {
		case <-p.done:
			t.Fatalf("%s %s exited before listening:\n%s", name, strings.Join(args, " "), p.out)
		case <-deadline:
			t.Fatalf("%s logged no listening record within 20 s:\n%s", name, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		p.addr, p.adminAddr = childproc.ListeningAddrs(strings.NewReader(p.out.String()))
	}
	return p
}

// stop ends the process with SIGTERM (graceful shutdown), then SIGKILL if it hangs.
func (p *process) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop within 10 s of SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// url is the process's base URL on loopback.
func (p *process) url() string {
	return "http://" + p.addr
}
