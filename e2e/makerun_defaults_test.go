//go:build linux

package e2e

// make run's defaults as a newcomer meets them: loopback only, as compose publishes, with
// RUN_HOST to open it; and a failure under make ends with the program's own line.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// listeners returns the local address of every listening TCP socket on port, from
// /proc/net/tcp and tcp6 (the kernel's own table, whoever opened the socket).
func listeners(t *testing.T, port int) []string {
	t.Helper()
	var out []string
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			hexIP, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(hexPort, 16, 16); err != nil || int(p) != port {
				continue
			}
			out = append(out, procIP(hexIP).String())
		}
		f.Close()
	}
	return out
}

// procIP decodes /proc/net/tcp's address: 32-bit words in host (little-endian) order.
func procIP(h string) net.IP {
	ip := make(net.IP, len(h)/2)
	for w := 0; w < len(h)/8; w++ {
		for i := 0; i < 4; i++ {
			b, _ := strconv.ParseUint(h[w*8+i*2:w*8+i*2+2], 16, 8)
			ip[w*4+3-i] = byte(b)
		}
	}
	return ip
}

func TestMakeRunListensOnLoopbackUnlessRunHostOpensIt(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	bin := t.TempDir() // one build for both runs
	tests := []struct {
		name       string
		extra      []string
		wantIP     []string // Go listens on 0.0.0.0 as the dual-stack [::]
		wantWarned bool
	}{
		{name: "by default all four listeners are on 127.0.0.1 and the token server does not warn", wantIP: []string{"127.0.0.1"}},
		{name: "RUN_HOST=0.0.0.0 opens all four, and the token server warns that anyone may take a token",
			extra: []string{"RUN_HOST=0.0.0.0"}, wantIP: []string{"0.0.0.0", "::"}, wantWarned: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := opsStartMakeRun(t, os.DevNull, append([]string{"RUN_BIN_DIR=" + bin}, tc.extra...)...)
			r.waitLine(t, regexp.MustCompile(`^Open http://localhost:`), opsMakeRunReady)
			for _, k := range []string{"PORT_TOKENSERVER", "PORT_CORSPROXY", "PORT_CORSPROXY_ADMIN", "PORT_WEBDEMO"} {
				if got := listeners(t, r.ports[k]); len(got) != 1 || !slices.Contains(tc.wantIP, got[0]) {
					t.Errorf("%s (%d) listens on %v, want only %s", k, r.ports[k], got, tc.wantIP)
				}
			}
			// The page still works through localhost, as the Open line says.
			opsCheckTokenPath(t, fmt.Sprintf("http://localhost:%d", r.ports["PORT_CORSPROXY"]),
				fmt.Sprintf("http://localhost:%d", r.ports["PORT_WEBDEMO"]), "", "")
			_ = syscall.Kill(r.cmd.Process.Pid, syscall.SIGTERM)
			if code := r.wait(t, 60*time.Second); code != 0 {
				t.Errorf("exit %d:\n%s", code, r.out.String())
			}
			if warned := strings.Contains(r.out.String(), "listens beyond loopback"); warned != tc.wantWarned {
				t.Errorf("the \"listens beyond loopback\" warning shown: %v, want %v:\n%s", warned, tc.wantWarned, r.out.String())
			}
		})
	}
	t.Run("a RUN_HOST that is not an IP address is refused in one line naming it", func(t *testing.T) {
		r := opsStartMakeRun(t, os.DevNull, "RUN_HOST=localhost; rm -rf /")
		if code := r.wait(t, 30*time.Second); code == 0 {
			t.Fatalf("make run accepted it:\n%s", r.out.String())
		}
		if last := opsLastLine(r.out.String()); !strings.HasPrefix(last, "run: RUN_HOST: must be an IP address") {
			t.Errorf("last line %q", last)
		}
	})
}

func TestMakeRunUnderMakeEndsWithTheProgramsOwnLineWhenAPortIsTaken(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	if _, err := exec.LookPath("make"); err != nil {
		if inCI() {
			t.Fatalf("CI: make is missing: %v", err)
		}
		t.Skip("make is missing")
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	r := opsStartRunCommand(t, []string{"make", "--no-print-directory", "run"}, os.DevNull, fmt.Sprintf("PORT_WEBDEMO=%d", taken))
	code := r.wait(t, opsMakeRunReady)
	out := r.out.String()
	if code == 0 {
		t.Fatalf("make run exited 0 with port %d taken:\n%s", taken, out)
	}
	if strings.Contains(out, "make: ***") {
		t.Errorf("make added its own error line:\n%s", out)
	}
	if last := opsLastLine(out); !strings.HasPrefix(last, "webdemo:") || !strings.Contains(last, strconv.Itoa(taken)) || !strings.Contains(last, "in use") {
		t.Errorf("last line %q, want webdemo's own line naming port %d as in use:\n%s", last, taken, out)
	}
	if left := opsGroupMembers(t, r.cmd.Process.Pid); len(left) > 0 {
		t.Errorf("processes left behind: %v", left)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
