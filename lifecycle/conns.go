package lifecycle

import (
	"container/list"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// ConnLimits bound the connections a listener holds open, so that no one
// client can take the slots every other client needs.
//
// Max caps all clients together. When it is reached and a new connection
// arrives, the connection idle longest between two requests (an HTTP/1.1
// keep-alive connection, or an HTTP/2 one with no stream open) is closed to
// make room, so a new client never waits behind idle sockets; only when none
// is idle does the new one wait (and those behind it wait in the kernel's
// accept queue) until a connection closes or goes idle. Closing an idle
// keep-alive connection is what the server does after Timeouts.Idle anyway,
// and clients reconnect for their next request.
//
// PerIP caps one client: a connection from a client that already holds
// PerIP is closed at once, before it is read. Key says which addresses are
// one client (the programs pass clientip.Key, which takes an IPv6 address's
// /64, the rate limits' rule); Exempt names peers that speak for many
// clients (trusted proxies), which only Max bounds.
//
// The connections handed to the server keep every method of *net.TCPConn,
// CloseWrite included: without it an http.Server cannot half-close after an
// early error answer (431, 400) and a client still sending gets a reset
// instead of the answer. No request data is held: only counts.
type ConnLimits struct {
	Max      int                     // all clients together; 0: no cap
	PerIP    int                     // one client (one Key); 0: no cap
	Key      func(netip.Addr) string // required when PerIP > 0
	Exempt   func(netip.Addr) bool   // peers PerIP does not apply to; nil: none
	Observer ConnObserver            // told what the limits do, for metrics; nil: nobody
}

// ConnObserver is told what ConnLimits do, for metrics. Its methods are
// called with the connection table locked: they must be quick and must not
// block.
type ConnObserver interface {
	ConnsOpen(n int) // the connections open now, after each change
	ConnRefused()    // a connection from a client at PerIP, closed unread
	ConnEvicted()    // an idle connection closed to make room at Max
	ConnQueued()     // a connection that waits: Max reached and none idle
}

// nopObserver is the Observer of limits that have none.
type nopObserver struct{}

func (nopObserver) ConnsOpen(int) {}
func (nopObserver) ConnRefused()  {}
func (nopObserver) ConnEvicted()  {}
func (nopObserver) ConnQueued()   {}

// IsZero reports whether l caps nothing.
func (l ConnLimits) IsZero() bool { return l.Max <= 0 && l.PerIP <= 0 }

// limitConns wraps ln in l and hooks srv's ConnState (keeping any hook
// already there) to learn which connections are idle.
func limitConns(srv *http.Server, ln net.Listener, l ConnLimits) (net.Listener, error) {
	if l.PerIP > 0 && l.Key == nil {
		return nil, errors.New("connection limits: PerIP without Key")
	}
	cl := &connListener{Listener: ln, conns: newConnTable(l)}
	next := srv.ConnState
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		cl.conns.state(c, s)
		if next != nil {
			next(c, s)
		}
	}
	return cl, nil
}

// connTable counts open connections, in all and per client, and keeps the
// idle ones in the order they went idle.
type connTable struct {
	limits ConnLimits

	mu      sync.Mutex
	cond    sync.Cond // signalled when a slot frees, a connection goes idle, or the listener closes
	open    int
	perKey  map[string]int
	idle    list.List // of *tracked, longest idle first
	waiting bool      // Accept holds a connection until a slot frees
	closed  bool
}

func newConnTable(l ConnLimits) *connTable {
	if l.Observer == nil {
		l.Observer = nopObserver{}
	}
	t := &connTable{limits: l, perKey: map[string]int{}}
	t.cond.L = &t.mu
	return t
}

// tracked is one open connection's entry.
type tracked struct {
	key      string // "" when PerIP does not count it
	idleElem *list.Element
	close    func() error // the connection's Close (which calls release)
	once     sync.Once
	released bool
}

// admit takes a slot for a connection from addr: it fails at once when the
// client is at PerIP, and otherwise waits while Max is reached and no
// connection is idle, closing the one idle longest when there is. It fails
// when the listener closes meanwhile.
func (t *connTable) admit(addr netip.Addr, e *tracked) (ok bool) {
	l := t.limits
	if l.PerIP > 0 && (l.Exempt == nil || !l.Exempt(addr)) {
		e.key = l.Key(addr)
	}
	t.mu.Lock()
	if e.key != "" && t.perKey[e.key] >= l.PerIP {
		l.Observer.ConnRefused()
		t.mu.Unlock()
		return false
	}
	if e.key != "" {
		t.perKey[e.key]++
	}
	t.open++ // counted now, so a client cannot queue past its PerIP either
	l.Observer.ConnsOpen(t.open)
	queued := false
	for l.Max > 0 && t.open > l.Max && !t.closed {
		if f := t.idle.Front(); f != nil {
			victim := f.Value.(*tracked)
			t.idle.Remove(f)
			victim.idleElem = nil
			l.Observer.ConnEvicted()
			t.mu.Unlock()
			_ = victim.close() // releases its slot
			t.mu.Lock()
			continue
		}
		if !queued {
			l.Observer.ConnQueued()
		}
		queued = true
		t.waiting = true
		t.cond.Wait()
	}
	t.waiting = false
	closed := t.closed
	t.mu.Unlock()
	if closed {
		t.release(e)
		return false
	}
	return true
}

// release frees e's slot, once.
func (t *connTable) release(e *tracked) {
	e.once.Do(func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.open--
		t.limits.Observer.ConnsOpen(t.open)
		e.released = true
		if e.key != "" {
			if t.perKey[e.key]--; t.perKey[e.key] <= 0 {
				delete(t.perKey, e.key)
			}
		}
		if e.idleElem != nil {
			t.idle.Remove(e.idleElem)
			e.idleElem = nil
		}
		t.cond.Broadcast()
	})
}

// state follows http.Server's ConnState: idle connections join the
// eviction order, anything else leaves it.
func (t *connTable) state(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	h, ok := c.(interface{ entry() *tracked })
	if !ok {
		return
	}
	e := h.entry()
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.idleElem != nil {
		t.idle.Remove(e.idleElem)
		e.idleElem = nil
	}
	if s == http.StateIdle && !e.released {
		e.idleElem = t.idle.PushBack(e)
		if t.waiting {
			t.cond.Broadcast()
		}
	}
}

func (t *connTable) close() {
	t.mu.Lock()
	t.closed = true
	t.cond.Broadcast()
	t.mu.Unlock()
}

// connListener applies a connTable to the connections it accepts.
type connListener struct {
	net.Listener
	conns *connTable
}

// Accept returns the next connection a slot is free for; connections from
// clients at their cap are closed without being returned.
func (l *connListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		e := &tracked{}
		release := func() { l.conns.release(e) }
		var w net.Conn
		if tc, ok := c.(*net.TCPConn); ok {
			w = &tcpConn{TCPConn: tc, e: e, release: release}
		} else {
			w = &conn{Conn: c, e: e, release: release}
		}
		e.close = w.Close
		if !l.conns.admit(peerAddr(c), e) {
			_ = c.Close()
			if l.conns.isClosed() {
				return nil, net.ErrClosed
			}
			continue
		}
		return w, nil
	}
}

func (t *connTable) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Close stops the listener; an Accept waiting for a slot returns.
func (l *connListener) Close() error {
	l.conns.close()
	return l.Listener.Close()
}

// peerAddr is c's remote address, IPv4-mapped IPv6 unmapped; invalid for a
// connection that is not TCP.
func peerAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// tcpConn frees its slot on the first Close and keeps every method of
// *net.TCPConn.
type tcpConn struct {
	*net.TCPConn
	e       *tracked
	release func()
}

func (c *tcpConn) entry() *tracked { return c.e }

func (c *tcpConn) Close() error {
	err := c.TCPConn.Close()
	c.release()
	return err
}

// conn is tcpConn for other kinds of connection.
type conn struct {
	net.Conn
	e       *tracked
	release func()
}

func (c *conn) entry() *tracked { return c.e }

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
