package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// keepAliveConn is one client connection that stays open between requests.
type keepAliveConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAliveConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAliveConn{c: c, br: bufio.NewReader(c)}
}

// send writes one keep-alive GET.
func (k *keepAliveConn) send(t *testing.T, path string) {
	t.Helper()
	if _, err := fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: proxy\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
}

// read reads one answer within d; timedOut reports that none came.
func (k *keepAliveConn) read(t *testing.T, d time.Duration) (status int, timedOut bool) {
	t.Helper()
	_ = k.c.SetReadDeadline(time.Now().Add(d))
	res, err := http.ReadResponse(k.br, nil)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0, true
	}
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, false
}

// At max_conns, a new client takes the place of an idle keep-alive
// connection at once; it does not wait for timeouts.idle.
func TestMaxConnsClosesIdleConnectionsForNewClients(t *testing.T) {
	up := newTestUpstream(t)
	const max = 3
	px := startProxy(t, "--upstream="+up.URL, "--max_conns=3", "--rate_limit.per_ip=off")

	var idle []*keepAliveConn
	for i := range max {
		k := dialKeepAlive(t, px.addr)
		k.send(t, fmt.Sprintf("/rtm/user-%d/", i))
		if status, timedOut := k.read(t, 10*time.Second); timedOut || status != 200 {
			t.Fatalf("connection %d of %d: status %d, timed out %v; want 200", i+1, max, status, timedOut)
		}
		idle = append(idle, k) // kept open: an idle keep-alive connection
	}
	for i := range 2 {
		k := dialKeepAlive(t, px.addr)
		k.send(t, fmt.Sprintf("/rtm/late-%d/", i))
		if status, timedOut := k.read(t, 10*time.Second); timedOut || status != 200 {
			t.Fatalf("new connection %d past the cap of %d idle ones: status %d, timed out %v; want 200", i+1, max, status, timedOut)
		}
	}
	closed := 0
	for _, k := range idle {
		_ = k.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := k.br.ReadByte(); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed++
		}
	}
	if closed != 2 {
		t.Errorf("%d of the %d idle connections were closed for 2 new ones; want 2", closed, max)
	}
	// The admin listener has no cap of its own to share.
	if code, _ := adminGet(t, px, "/healthz"); code != http.StatusOK {
		t.Fatal("admin /healthz answered nothing")
	}
}
