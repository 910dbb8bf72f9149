package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A client that sends its request headers a byte at a time (slowloris) is cut off at
// timeouts.read_header, and the goroutine that served it is gone afterwards.
func TestFaultSlowHeadersAreCutOffAtTheReadHeaderTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	token := faultStartToken(t, "--timeouts.read_header", timeout.String())
	proxy := faultStartProxy(t, token.url(), "--timeouts.read_header", timeout.String())
	for _, p := range []*process{token, proxy} {
		t.Run(p.name, func(t *testing.T) {
			before := faultGoroutines(t, p)
			const clients = 20
			results := make([]faultTrickleResult, clients)
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() { results[i] = faultTrickle(p.addr, 50*time.Millisecond, 10*time.Second) })
			}
			wg.Wait()
			for i, r := range results {
				switch {
				case r.err != nil:
					t.Errorf("client %d: %v", i, r.err)
				case r.elapsed < timeout/2:
					// Not a timing check: a cut-off long before the timeout would mean
					// the trickle was refused for another reason.
					t.Errorf("client %d: cut off after %v, long before the %v timeout", i, r.elapsed, timeout)
				}
			}
			// Every connection goroutine has ended: back to the count before, give or
			// take the runtime's own.
			if after := faultWaitGoroutines(t, p, before+2); after > before+2 {
				t.Errorf("%d goroutines after the slow clients were cut off, %d before", after, before)
			}
			faultAlive(t, p)
			faultServesTokens(t, p.addr)
		})
	}
}

// faultTrickleResult is when the server cut a trickling client off, or what went wrong.
type faultTrickleResult struct {
	elapsed time.Duration
	err     error
}

// faultTrickle sends a request's headers one byte every interval, for at most limit, and
// reports when the server closed the connection. It is an error if the server answered
// or let the trickle go on for the whole limit.
func faultTrickle(addr string, interval, limit time.Duration) (r faultTrickleResult) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		r.err = err
		return r
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan error, 1)
	go func() {
		// The server closes the connection, at most saying 400 first (net/http does
		// when the deadline interrupts the header): the read ends with EOF or a reset.
		_ = c.SetReadDeadline(start.Add(limit + 5*time.Second))
		b, err := io.ReadAll(c)
		if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 400 ")) {
			err = errors.New("the server answered a request it never received whole: " + string(b))
		}
		closed <- err
	}()
	header := "GET /rtm/alice/ HTTP/1.1\r\nHost: x\r\nX-Slow: " // then letters, one at a time, forever
	for i := 0; ; i++ {
		b := byte('a' + i%26)
		if i < len(header) {
			b = header[i]
		}
		if _, err := c.Write([]byte{b}); err != nil {
			break // the server closed the connection
		}
		select {
		case err := <-closed:
			r.elapsed = time.Since(start)
			if err != nil && !isConnReset(err) {
				r.err = err
			}
			return r
		case <-time.After(interval):
		}
		if time.Since(start) > limit {
			r.err = errors.New("still connected after " + limit.String() + " of trickling")
			return r
		}
	}
	err = <-closed
	r.elapsed = time.Since(start)
	if err != nil && !isConnReset(err) {
		r.err = err
	}
	return r
}

func isConnReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// Idle keep-alive connections cost the programs a little memory each, do not stop them
// serving, and are released once the clients close them.
func TestFaultTenThousandIdleKeepAliveConnections(t *testing.T) {
	n := faultRaiseFDLimit(t, 10000)
	// max_conns (4096 by default) and max_conns_per_ip (32) would close or hold
	// the rest back: this measures what each idle connection costs, so the caps
	// are raised above n and off.
	caps := []string{"--max_conns", strconv.Itoa(n + 64), "--max_conns_per_ip", "0"}
	token := faultStartToken(t, caps...)
	proxy := faultStartProxy(t, token.url(), caps...)
	for _, tc := range []struct {
		p       *process
		request string // a request the program answers itself, cheaply
	}{
		{token, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{proxy, "OPTIONS /rtm/alice/ HTTP/1.1\r\nHost: x\r\nOrigin: " + faultOrigin + "\r\nAccess-Control-Request-Method: GET\r\n\r\n"},
	} {
		p := tc.p
		t.Run(p.name, func(t *testing.T) {
			goroutinesBefore, rssBefore := faultGoroutines(t, p), faultRSS(t, p)
			conns, err := faultIdleConns(p.addr, tc.request, n)
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			if err != nil {
				t.Fatalf("after %d idle connections: %v", len(conns), err)
			}
			rss := faultRSS(t, p)
			perConn := (rss - rssBefore) / int64(n)
			t.Logf("%s: %d idle keep-alive connections: RSS %d MB → %d MB (%d KB each), %d goroutines",
				p.name, n, rssBefore>>20, rss>>20, perConn>>10, faultGoroutines(t, p))
			// net/http keeps a goroutine and two 4 KB buffers per connection; 64 KB
			// each would mean something else is held per connection.
			if perConn > 64<<10 {
				t.Errorf("%d KB per idle connection", perConn>>10)
			}
			faultServesTokens(t, p.addr)

			for _, c := range conns {
				c.Close()
			}
			conns = nil
			if after := faultWaitGoroutines(t, p, goroutinesBefore+2); after > goroutinesBefore+2 {
				t.Errorf("%d goroutines after the clients closed their connections, %d before", after, goroutinesBefore)
			}
			faultAlive(t, p)
		})
	}
}

// faultIdleConns opens n connections to addr, sends request on each and reads the
// answer, leaving every connection open and idle.
func faultIdleConns(addr, request string, n int) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	const workers = 16
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c, err := net.DialTimeout("tcp", addr, 10*time.Second)
				if err != nil {
					errs[i] = err
					return
				}
				conns[i] = c
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, request); err != nil {
					errs[i] = err
					return
				}
				res, err := http.ReadResponse(bufio.NewReaderSize(c, 1024), nil)
				if err != nil {
					errs[i] = err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode >= 300 || res.Close {
					errs[i] = errors.New("answer " + res.Status + " did not leave the connection open")
					return
				}
				_ = c.SetDeadline(time.Time{})
			}
		})
	}
	wg.Wait()
	var open []net.Conn
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, errors.Join(errs...)
}
