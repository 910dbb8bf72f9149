package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM while requests are in flight, for each program: a request whose body is still
// arriving completes with its token, requests that got an answer got a whole one, new
// connections are refused once shutdown has begun, and the program exits 0.
func TestFaultGracefulShutdownUnderLoad(t *testing.T) {
	for _, target := range []string{"tokenserver", "corsproxy"} {
		t.Run(target, func(t *testing.T) {
			token := faultStartToken(t)
			p := token
			if target == "corsproxy" {
				p = faultStartProxy(t, token.url())
			}

			// A request in flight for the whole shutdown: its body arrives in two parts,
			// the second only after new connections are already refused.
			body := `{"type":"signaling","uid":"in-flight"}`
			half := len(body) / 2
			c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(c, "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				faultOrigin, len(body), body[:half])

			stop := make(chan struct{})
			results := faultLoad(p.url(), 8, 20*time.Second, stop)
			time.Sleep(300 * time.Millisecond) // under load, with the POST half sent

			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			faultWaitRecord(t, p, "shutting down")
			refused := false
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				nc, err := net.DialTimeout("tcp", p.addr, time.Second)
				if err != nil {
					refused = true
					break
				}
				nc.Close()
			}
			if !refused {
				t.Error("new connections were still accepted 5 s into the shutdown")
			}
			close(stop)

			// The rest of the body: the in-flight request completes.
			if _, err := io.WriteString(c, body[half:]); err != nil {
				t.Fatalf("the in-flight request's connection was closed: %v", err)
			}
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("the in-flight request got no answer: %v", err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(b), `"token":"007`) {
				t.Errorf("the in-flight request got %d %s, want its token", res.StatusCode, b)
			}

			select {
			case <-p.done:
			case <-time.After(15 * time.Second):
				t.Fatal("the program did not exit within 15 s of SIGTERM")
			}
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, p.out)
			}

			// Every request of the load either got a whole token or never reached the
			// program (a refused connection, or a kept-alive one it closed while idle).
			var tokens, unsent int
			for _, o := range results() {
				switch {
				case o.err == nil && o.status == 200 && strings.Contains(string(o.body), `"rtmToken":"007`):
					tokens++
				case o.err != nil && faultNeverSent(o.err):
					unsent++
				default:
					t.Errorf("a request during shutdown: status %d, body %.80q, err %v", o.status, o.body, o.err)
				}
			}
			t.Logf("load during shutdown: %d tokens, %d requests refused or not sent", tokens, unsent)
			if tokens == 0 {
				t.Error("no request of the load was answered: the shutdown did not happen under load")
			}
		})
	}
}

// faultNeverSent reports whether a client error means the request got no answer because
// the connection was refused or closed, not because an answer was cut short.
func faultNeverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) {
		return true
	}
	msg := err.Error()
	// net/http's transport reports a kept-alive connection closed by the server before it
	// answered with these words.
	return strings.Contains(msg, "server closed idle connection") || strings.Contains(msg, "EOF") && !strings.Contains(msg, "unexpected EOF")
}
