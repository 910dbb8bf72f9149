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
