package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrainUnderLoad sends SIGTERM to one program of corsproxy → tokenserver while a
// steady load of token requests goes through the proxy. The program's /readyz (the
// proxy's on its admin listener) turns 503 while it still serves for timeouts.drain;
// then it closes its listener and exits 0. Every request of the load gets its token,
// except requests that reach the stopped program only after its listener closed: a
// refused connection (SIGTERM to the proxy), or the proxy's 502 for a refused upstream
// connection (SIGTERM to the token server). Those are counted apart; anything else
// fails the test.
func TestDrainUnderLoad(t *testing.T) {
	const drain = "2s"
	for _, target := range []string{"corsproxy", "tokenserver"} {
		t.Run(target, func(t *testing.T) {
			var token, proxy *process
			if target == "tokenserver" {
				token = faultStartToken(t, "--timeouts.drain", drain)
				proxy = faultStartProxy(t, token.url())
			} else {
				token = faultStartToken(t)
				proxy = faultStartProxy(t, token.url(), "--timeouts.drain", drain)
			}
			p, readyz := proxy, "http://"+proxy.adminAddr+"/readyz"
			if target == "tokenserver" {
				p, readyz = token, token.url()+"/readyz"
			}
			if code := drainStatus(t, readyz); code != http.StatusOK {
				t.Fatalf("%s /readyz before SIGTERM: %d", target, code)
			}

			stop := make(chan struct{})
			results := faultLoad(proxy.url(), 4, 20*time.Second, stop)
			time.Sleep(300 * time.Millisecond) // a steady load before the signal

			sigAt := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			// /readyz turns 503 right away, while the drain has not ended.
			var notReadyAfter time.Duration
			for {
				code := drainStatus(t, readyz)
				if code == http.StatusServiceUnavailable {
					notReadyAfter = time.Since(sigAt)
					break
				}
				if code != http.StatusOK || time.Since(sigAt) > 10*time.Second {
					t.Fatalf("/readyz after SIGTERM: %d (%s after the signal), want 200 then 503", code, time.Since(sigAt))
				}
				time.Sleep(5 * time.Millisecond)
			}
			if drainLogged(p, "shutting down") {
				t.Errorf("/readyz turned 503 only after the drain ended (%s after SIGTERM)", notReadyAfter)
			}
			faultWaitRecord(t, p, "draining: not ready, serving for "+drain)

			// The drain ends, the listener closes: new connections are refused.
			faultWaitRecord(t, p, "shutting down")
			var closedAt time.Time
			for deadline := time.Now().Add(10 * time.Second); closedAt.IsZero(); time.Sleep(5 * time.Millisecond) {
				c, err := net.DialTimeout("tcp", p.addr, time.Second)
				if err != nil {
					closedAt = time.Now()
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("the listener was still open 10 s after shutting down began")
				}
			}
			time.Sleep(200 * time.Millisecond) // the load meets the closed listener
			close(stop)
			select {
			case <-p.done:
			case <-time.After(20 * time.Second):
				t.Fatal("no exit within 20 s of SIGTERM")
			}
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, p.out)
			}
			if !drainLogged(p, "stopped") {
				t.Errorf("no stopped record:\n%s", p.out)
			}

			var inFlight, answered, duringDrain, afterClose, failed int
			refusedUpstream := drainRefusedUpstream(t, proxy)
			for _, o := range results() {
				if o.start.Before(sigAt) && o.end.After(sigAt) {
					inFlight++
				}
				switch {
				case o.err == nil && o.status == 200 && bytes.Contains(o.body, []byte(`"rtmToken":"007`)):
					answered++
					if o.start.After(sigAt) {
						duringDrain++
					}
				case target == "corsproxy" && errors.Is(o.err, syscall.ECONNREFUSED):
					afterClose++
				case target == "tokenserver" && o.err == nil && o.status == 502 && afterClose < refusedUpstream:
					afterClose++
				default:
					failed++
					t.Errorf("a request %s after SIGTERM: status %d, body %.80q, err %v", o.start.Sub(sigAt), o.status, o.body, o.err)
				}
			}
			t.Logf("SIGTERM to %s under load (4 clients, drain %s): /readyz 503 after %s; listener closed %s after SIGTERM; "+
				"%d requests in flight at SIGTERM, %d answered with a token (%d of them sent after SIGTERM), %d failed, %d refused after the close",
				target, drain, notReadyAfter.Round(time.Millisecond), closedAt.Sub(sigAt).Round(time.Millisecond),
				inFlight, answered, duringDrain, failed, afterClose)
			if duringDrain == 0 {
				t.Error("no request sent after SIGTERM was answered: the program did not serve during the drain")
			}
			if afterClose == 0 {
				t.Error("no request met the closed listener: the load stopped before the close, so the test proves less than it says")
			}
		})
	}
}

// drainStatus GETs url on a fresh connection and returns the status.
func drainStatus(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// drainLogged reports whether p has logged a JSON record with msg.
func drainLogged(p *process, msg string) bool {
	for line := range strings.SplitSeq(p.out.String(), "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			return true
		}
	}
	return false
}

// drainRefusedUpstream counts the proxy's "upstream unreachable" records whose error is
// a refused connection: requests that never reached the token server. It fails the test
// on an "upstream unreachable" for any other reason (a connection cut mid-answer).
func drainRefusedUpstream(t *testing.T, proxy *process) int {
	t.Helper()
	n := 0
	for line := range strings.SplitSeq(proxy.out.String(), "\n") {
		var rec struct{ Msg, Err string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "upstream unreachable" {
			continue
		}
		if !strings.Contains(rec.Err, "connection refused") {
			t.Errorf("the proxy lost a request to the token server: %s", rec.Err)
			continue
		}
		n++
	}
	return n
}
