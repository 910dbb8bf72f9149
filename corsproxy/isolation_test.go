package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An upstream that answers every request, then writes the same answer
// again 100 ms later, while each request takes 20 ms. Over a pooled
// HTTP/1.1 connection the late copy is read as the answer to whatever
// request is written on that connection next: with connections shared
// between clients, someone else's. The proxy gives every client connection
// upstream connections of its own, so the worst a client can get is its
// own earlier answer again.

// echoUpstream is that upstream, on raw TCP. Its answers are
// {"path":"<request path>"}.
func echoUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				var wmu sync.Mutex // one answer's bytes at a time
				write := func(s string) error {
					wmu.Lock()
					defer wmu.Unlock()
					_, err := io.WriteString(c, s)
					return err
				}
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					body := fmt.Sprintf(`{"path":%q}`, req.URL.Path)
					answer := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
					time.Sleep(20 * time.Millisecond)
					if write(answer) != nil {
						return
					}
					wg.Go(func() {
						time.Sleep(100 * time.Millisecond)
						_ = write(answer)
					})
				}
			})
		}
	})
	return ln.Addr().String()
}

// isolation counts what 8 clients, each on one keep-alive connection of
// its own and asking for paths only it uses, got back.
type isolation struct {
	requests, own, stale, crossed, failed atomic.Int64
	example                               atomic.Value // a crossed answer, for the failure message
}

func (s *isolation) String() string {
	return fmt.Sprintf("%d requests: %d own answers, %d own earlier answers again, %d other clients' answers, %d failed (502 or error)",
		s.requests.Load(), s.own.Load(), s.stale.Load(), s.crossed.Load(), s.failed.Load())
}

func measureIsolation(t *testing.T, proxyURL string, d time.Duration) *isolation {
	t.Helper()
	var s isolation
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for i := range 8 {
		marker := fmt.Sprintf("client%d", i)
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for n := 0; time.Now().Before(deadline); n++ {
				path := fmt.Sprintf("/rtm/%s-%d/", marker, n)
				s.requests.Add(1)
				req, _ := http.NewRequest("GET", proxyURL+path, nil)
				req.Header.Set("Origin", "http://localhost:9000")
				res, err := client.Do(req)
				if err != nil {
					s.failed.Add(1)
					continue
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					s.failed.Add(1)
					continue
				}
				var got struct{ Path string }
				if err := json.Unmarshal(body, &got); err != nil {
					t.Errorf("%s: answer %q is not the upstream's", path, body)
					continue
				}
				switch {
				case got.Path == path:
					s.own.Add(1)
				case strings.HasPrefix(got.Path, "/rtm/"+marker+"-"):
					s.stale.Add(1)
				default:
					s.crossed.Add(1)
					s.example.Store(path + " got " + got.Path)
				}
			}
		})
	}
	wg.Wait()
	return &s
}

func TestAnUpstreamThatAnswersTwiceNeverReachesAnotherClient(t *testing.T) {
	cases := []struct {
		name     string
		protocol string
		// answered: whether the HTTP/1.1-only upstream can answer at all.
		answered bool
	}{
		{name: "the default, each client connection with its own upstream connections", protocol: "http1", answered: true},
		{name: "h2c, which this HTTP/1.1 upstream does not speak", protocol: "h2c", answered: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := echoUpstream(t)
			px := startProxy(t, "--upstream=http://"+up, "--rate_limit.per_ip=off", "--transport.protocol="+tc.protocol)
			s := measureIsolation(t, px.url(), 1500*time.Millisecond)
			t.Log(s)
			if n := s.crossed.Load(); n > 0 {
				t.Errorf("%d answers went to the wrong client (e.g. %v); %v", n, s.example.Load(), s)
			}
			if tc.answered && s.own.Load() == 0 {
				t.Errorf("no client got its own answer; nothing tested: %v", s)
			}
			if !tc.answered && s.own.Load()+s.stale.Load() > 0 {
				t.Errorf("an HTTP/1.1-only upstream answered over h2c: %v", s)
			}
		})
	}
}

// connTracker is an upstream that records, per request, the upstream
// connection it came on and its protocol, and counts open connections.
type connTracker struct {
	url    string
	mu     sync.Mutex
	remote map[string]string // request path → proxy's address on that connection
	proto  map[string]string // request path → protocol
	open   atomic.Int64
}

func newConnTracker(t *testing.T, protocols *http.Protocols) *connTracker {
	t.Helper()
	ct := &connTracker{remote: map[string]string{}, proto: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Protocols: protocols,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ct.mu.Lock()
			ct.remote[r.URL.Path], ct.proto[r.URL.Path] = r.RemoteAddr, r.Proto
			ct.mu.Unlock()
			_, _ = fmt.Fprintf(w, `{"path":%q}`, r.URL.Path)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				ct.open.Add(1)
			case http.StateClosed, http.StateHijacked:
				ct.open.Add(-1)
			}
		},
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	ct.url = "http://" + ln.Addr().String()
	return ct
}

func (ct *connTracker) seen(path string) (remote, proto string) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.remote[path], ct.proto[path]
}

// fetchOn GETs each path through client, which holds one connection.
func fetchOn(t *testing.T, client *http.Client, base string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		res, err := client.Get(base + p)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
	}
}

func TestEachClientConnectionHasUpstreamConnectionsOfItsOwn(t *testing.T) {
	up := newConnTracker(t, nil)
	px := startProxy(t, "--upstream="+up.url, "--rate_limit.per_ip=off")
	alice := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	bob := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer bob.CloseIdleConnections()

	fetchOn(t, alice, px.url(), "/rtm/alice-1/", "/rtm/alice-2/")
	fetchOn(t, bob, px.url(), "/rtm/bob-1/")
	fetchOn(t, alice, px.url(), "/rtm/alice-3/")
	a1, p := up.seen("/rtm/alice-1/")
	a2, _ := up.seen("/rtm/alice-2/")
	a3, _ := up.seen("/rtm/alice-3/")
	b1, _ := up.seen("/rtm/bob-1/")
	if p != "HTTP/1.1" {
		t.Errorf("upstream saw %s, want HTTP/1.1 by default", p)
	}
	if a1 != a2 || a2 != a3 {
		t.Errorf("alice's requests came on upstream connections %s, %s, %s: want one, reused while her connection lasts", a1, a2, a3)
	}
	if b1 == a1 {
		t.Errorf("bob's request came on alice's upstream connection %s (alice's idle connection was there to take)", b1)
	}

	// When alice's connection closes, so does the upstream connection
	// that served it; bob's stays.
	alice.CloseIdleConnections()
	deadline := time.Now().Add(time.Second)
	for up.open.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := up.open.Load(); n != 1 {
		t.Errorf("%d upstream connections open 1 s after alice left, want 1 (bob's)", n)
	}
}

func TestH2CModeSpeaksHTTP2WithPriorKnowledge(t *testing.T) {
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	up := newConnTracker(t, &h2c)
	px := startProxy(t, "--upstream="+up.url, "--rate_limit.per_ip=off", "--transport.protocol=h2c")
	alice := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer alice.CloseIdleConnections()
	bob := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer bob.CloseIdleConnections()

	fetchOn(t, alice, px.url(), "/rtm/alice-1/")
	fetchOn(t, bob, px.url(), "/rtm/bob-1/")
	a1, p := up.seen("/rtm/alice-1/")
	b1, _ := up.seen("/rtm/bob-1/")
	if p != "HTTP/2.0" {
		t.Errorf("upstream saw %s, want HTTP/2.0", p)
	}
	// Streams keep answers apart, so the one connection is shared.
	if a1 != b1 {
		t.Errorf("alice's and bob's requests came on %s and %s: want one multiplexed connection", a1, b1)
	}
}
