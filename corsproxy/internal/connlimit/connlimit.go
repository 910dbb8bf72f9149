// Package connlimit caps the connections a listener has open at once: past
// the cap, Accept waits until one of them closes, and the connections in
// between wait in the kernel's accept queue.
//
// It does what golang.org/x/net/netutil.LimitListener does, with one
// difference that matters to net/http: the connections it returns are still
// *net.TCPConn underneath, CloseWrite included. netutil wraps each in a type
// that hides CloseWrite, so an http.Server can no longer half-close after an
// early error answer (431 for headers over the limit, 400 for a malformed
// request) and closes outright instead; a client still sending then gets a
// TCP reset and loses the answer. TestCORSAndOpenProxyCases (the 431 rows)
// fails with netutil.LimitListener in its place; TestMaxConnsCapsOpenClientConnections
// and this package's tests hold the cap itself. It holds no request data: only
// a count of open connections.
package connlimit

import (
	"net"
	"sync"
)

// Listen returns l capped at n open connections; n must be positive.
func Listen(l net.Listener, n int) net.Listener {
	return &listener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type listener struct {
	net.Listener
	sem       chan struct{} // one value per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

// Accept waits for a free slot, then for a connection.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	release := func() { <-l.sem }
	if tc, ok := c.(*net.TCPConn); ok {
		return &tcpConn{TCPConn: tc, release: release}, nil
	}
	return &conn{Conn: c, release: release}, nil
}

// Close stops the listener; an Accept waiting for a slot returns.
func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// tcpConn frees its slot on the first Close and keeps every method of
// *net.TCPConn.
type tcpConn struct {
	*net.TCPConn
	once    sync.Once
	release func()
}

func (c *tcpConn) Close() error {
	err := c.TCPConn.Close()
	c.once.Do(c.release)
	return err
}

// conn is tcpConn for other kinds of connection.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
