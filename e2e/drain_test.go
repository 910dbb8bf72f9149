package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

// TestDrainUnderLoad sends SIGTERM to one program of corsproxy → tokenserver while a
// steady load of token requests goes through the proxy. The program's /readyz (the
// proxy's on its admin listener) turns 503 while it still serves for timeouts.drain;
// then it closes its listener and exits 0. Every request of the load gets its token,
// except requests that reach the stopped program only after its listener closed: a
// refused connection (SIGTERM to the proxy), or the proxy's 502 for a refused upstream
// connection (SIGTERM to the token server). Those are counted apart; anything else
// fails the test. The load is POST /v1/tokens, which net/http's client never retries
// on its own, so a request cut short shows as an error instead of a silent retry; and
// one POST sends half its body before SIGTERM and the rest only after the listener
// closed, so a request is surely in flight through the whole stop.
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

			held := drainHoldPost(t, proxy.addr)
			stop := make(chan struct{})
			results := drainLoad(proxy.url(), 4, 20*time.Second, stop)
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
			if err := held(); err != nil {
				t.Errorf("the request in flight through the stop: %v", err)
			}
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
				case o.err == nil && o.status == 200 && bytes.Contains(o.body, []byte(`"token":"007`)):
					answered++
					if o.start.After(sigAt) {
						duringDrain++
					}
				case target == "corsproxy" && drainNotAccepted(o):
					afterClose++
				case target == "tokenserver" && o.err == nil && o.status == 502 && afterClose < refusedUpstream:
					afterClose++
				default:
					failed++
					t.Errorf("a request %s after SIGTERM: status %d, body %.80q, err %v", o.start.Sub(sigAt), o.status, o.body, o.err)
				}
			}
			t.Logf("SIGTERM to %s under load (4 clients, drain %s): /readyz 503 after %s; listener closed %s after SIGTERM; "+
				"%d load requests in flight at SIGTERM plus the held POST, %d answered with a token (%d of them sent after SIGTERM), %d failed, %d met the closed listener (refused, or dropped unhandled at the close)",
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

// drainBody is the token request of the drain tests.
const drainBody = `{"type":"signaling","uid":"drain"}`

// drainLoad is faultLoad with POST /v1/tokens.
func drainLoad(base string, clients int, timeout time.Duration, stop <-chan struct{}) func() []faultOutcome {
	return load(clients, timeout, stop, func(ctx context.Context, _, _ int) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/tokens", strings.NewReader(drainBody))
		req.Header.Set("Origin", faultOrigin)
		req.Header.Set("Content-Type", "application/json")
		return req
	})
}

// drainHoldPost sends a token POST to addr with half its body; the returned func sends
// the rest and says what is wrong with the answer (nil: a token).
func drainHoldPost(t *testing.T, addr string) func() error {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	half := len(drainBody) / 2
	fmt.Fprintf(c, "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nOrigin: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		faultOrigin, len(drainBody), drainBody[:half])
	return func() error {
		if _, err := io.WriteString(c, drainBody[half:]); err != nil {
			return fmt.Errorf("its connection was closed: %v", err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return fmt.Errorf("no answer: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"token":"007`)) {
			return fmt.Errorf("%d %s, want a token", res.StatusCode, b)
		}
		return nil
	}
}

// drainNotAccepted reports whether a request failed because the proxy never handled it:
// its connection was refused once the listener had closed; or a fresh connection was
// reset, the listener closing with it still in the accept queue; or a fresh connection
// was closed without a byte of answer, because net/http's server drops a request it
// finishes reading after Shutdown began (its handler never runs). Shutdown waits for
// every request a handler has started, and with answers saying Connection: close
// during the drain, no connection is kept alive into the close.
func drainNotAccepted(o faultOutcome) bool {
	return errors.Is(o.err, syscall.ECONNREFUSED) ||
		!o.reused && (errors.Is(o.err, syscall.ECONNRESET) || errors.Is(o.err, io.EOF))
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
// a refused connection, a reset one or one closed before any answer (see
// drainNotAccepted; during the drain the token server's answers said Connection: close,
// so the proxy keeps no connection alive into the close): requests the token server
// never handled. It fails the test on an "upstream unreachable" for any other reason.
func drainRefusedUpstream(t *testing.T, proxy *process) int {
	t.Helper()
	n := 0
	for line := range strings.SplitSeq(proxy.out.String(), "\n") {
		var rec struct{ Msg, Err string }
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "upstream unreachable" {
			continue
		}
		// "use of closed network connection" on a write: the kernel reset a
		// connection the closing listener never accepted while the proxy was
		// still sending the body, and the transport closed its end under the
		// write; no answer was ever read from it.
		notHandled := strings.Contains(rec.Err, "connection refused") || strings.Contains(rec.Err, "connection reset by peer") ||
			rec.Err == "EOF" || strings.HasSuffix(rec.Err, ": EOF") ||
			(strings.Contains(rec.Err, "write tcp") && strings.HasSuffix(rec.Err, "use of closed network connection"))
		if !notHandled {
			t.Errorf("the proxy lost a request to the token server: %s", rec.Err)
			continue
		}
		n++
	}
	return n
}
