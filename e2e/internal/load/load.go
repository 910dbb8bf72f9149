// Package load drives an HTTP/1.1 server the way a fixed number of browser
// tabs would: each client owns one keep-alive connection and sends its next
// request as soon as the previous answer is in (a closed loop), so the rate
// measured is what the server sustains, not what the generator offered.
//
// Requests are written as raw bytes and answers read with net/http's own
// parser, which costs the generator far less CPU than an http.Client: on a
// small machine the generator shares the cores with the servers it measures.
package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one client's keep-alive connection. It redials after any error or
// an answer that closes the connection. Not safe for concurrent use.
type Conn struct {
	addr    string
	timeout time.Duration
	c       net.Conn
	br      *bufio.Reader
	body    bytes.Buffer
}

// NewConn returns a connection to addr (host:port) that is dialled on first
// use; timeout bounds each round trip, dial included.
func NewConn(addr string, timeout time.Duration) *Conn {
	return &Conn{addr: addr, timeout: timeout}
}

// Response is an answer with its whole body. Body is only valid until the
// next RoundTrip on the same Conn.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// RoundTrip writes req, one complete HTTP/1.1 request, and reads the answer
// to it. method is req's method (a HEAD answer has no body).
func (c *Conn) RoundTrip(method string, req []byte) (Response, error) {
	deadline := time.Now().Add(c.timeout)
	if c.c == nil {
		conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return Response{}, err
		}
		c.c = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 8<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	_ = c.c.SetDeadline(deadline)
	if _, err := c.c.Write(req); err != nil {
		c.Close()
		return Response{}, err
	}
	res, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.Close()
		return Response{}, err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(res.Body)
	res.Body.Close()
	if err != nil {
		c.Close()
		return Response{}, err
	}
	if res.Close {
		c.Close()
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: c.body.Bytes()}, nil
}

// Close drops the connection; the next RoundTrip dials a new one.
func (c *Conn) Close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c = nil
	}
}

// Fetch is one unit of work for client number client, in its iteration i:
// one or more round trips on conn. A non-nil error counts the unit as failed.
type Fetch func(conn *Conn, client, i int) error

// Options configure a run.
type Options struct {
	Addr     string        // host:port of the server
	Clients  int           // concurrent clients, each with its own connection
	Warmup   time.Duration // run but do not count, so connections and caches are warm
	Duration time.Duration // then count for this long
	Timeout  time.Duration // per round trip; 0 means 5 s
	// Rate caps the units started per second over all clients (0: as fast
	// as the server answers). A capped run is a steady load, for soaks.
	Rate  float64
	Fetch Fetch
	// Live, if set, is updated as units finish, for progress while it runs.
	Live *Live
	// Counting, if set, is called when the warm-up ends and counting
	// starts, so the caller can take its own readings (CPU time) from the
	// same moment.
	Counting func()
}

// Live counts the finished units of a run that is still going.
type Live struct {
	Fetches, Errors atomic.Uint64
}

// Result is what a run measured.
type Result struct {
	Fetches uint64        // units of work that succeeded
	Errors  uint64        // units of work that failed
	Elapsed time.Duration // wall time of the counted part
	Latency Histogram     // of successful units, whole unit (all its round trips)
	// ErrorKinds counts failures by message (at most 20 kinds, then "other").
	ErrorKinds map[string]uint64
}

// Add folds o, a later run against the same server, into r.
func (r *Result) Add(o Result) {
	r.Fetches += o.Fetches
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.Latency.Merge(&o.Latency)
	if r.ErrorKinds == nil {
		r.ErrorKinds = map[string]uint64{}
	}
	for k, n := range o.ErrorKinds {
		r.ErrorKinds[k] += n
	}
}

// Rate is successful units per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Fetches) / r.Elapsed.Seconds()
}

// ErrorSummary lists the error kinds, most frequent first.
func (r *Result) ErrorSummary() string {
	type kv struct {
		k string
		n uint64
	}
	var kinds []kv
	for k, n := range r.ErrorKinds {
		kinds = append(kinds, kv{k, n})
	}
	sort.Slice(kinds, func(i, j int) bool {
		return kinds[i].n > kinds[j].n || kinds[i].n == kinds[j].n && kinds[i].k < kinds[j].k
	})
	var b bytes.Buffer
	for i, e := range kinds {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d× %s", e.n, e.k)
	}
	return b.String()
}

// Run drives the server until Warmup+Duration have passed or ctx is done.
func Run(ctx context.Context, o Options) Result {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	var counting, stop atomic.Bool
	type clientResult struct {
		ok, failed uint64
		lat        Histogram
		kinds      map[string]uint64
	}
	results := make([]*clientResult, o.Clients)
	var wg sync.WaitGroup
	for n := range o.Clients {
		cr := &clientResult{kinds: map[string]uint64{}}
		results[n] = cr
		wg.Go(func() {
			conn := NewConn(o.Addr, o.Timeout)
			defer conn.Close()
			var interval time.Duration
			next := time.Now()
			if o.Rate > 0 {
				interval = time.Duration(float64(o.Clients) / o.Rate * float64(time.Second))
				// Spread the clients over one interval instead of a burst.
				next = next.Add(interval * time.Duration(n) / time.Duration(o.Clients))
			}
			for i := 0; !stop.Load(); i++ {
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						time.Sleep(wait)
					}
					next = next.Add(interval)
				}
				counted := counting.Load()
				start := time.Now()
				err := o.Fetch(conn, n, i)
				d := time.Since(start)
				if !counted {
					continue
				}
				if err != nil {
					cr.failed++
					cr.kinds[errorKind(err)]++
					if o.Live != nil {
						o.Live.Errors.Add(1)
					}
					continue
				}
				cr.ok++
				cr.lat.Record(d)
				if o.Live != nil {
					o.Live.Fetches.Add(1)
				}
			}
		})
	}

	sleep(ctx, o.Warmup)
	if o.Counting != nil {
		o.Counting()
	}
	counting.Store(true)
	start := time.Now()
	sleep(ctx, o.Duration)
	stop.Store(true)
	wg.Wait()

	res := Result{Elapsed: time.Since(start), ErrorKinds: map[string]uint64{}}
	for _, cr := range results {
		res.Fetches += cr.ok
		res.Errors += cr.failed
		res.Latency.Merge(&cr.lat)
		for k, n := range cr.kinds {
			if _, ok := res.ErrorKinds[k]; !ok && len(res.ErrorKinds) >= 20 {
				k = "other"
			}
			res.ErrorKinds[k] += n
		}
	}
	return res
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errorKind groups errors that differ only in addresses or ports.
func errorKind(err error) string {
	var op *net.OpError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	case errors.As(err, &op):
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}
