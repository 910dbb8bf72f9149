package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Upstreams that write more than one answer's worth of bytes. Upstream
// connections are pooled and shared by every client's requests, so bytes an
// upstream leaves behind on a connection must never be read as the answer to
// the next client's request: each client gets exactly its own answer, or a
// 502 with CORS headers, never another's.

// poolUpstream is a raw-TCP upstream: it reads requests with
// http.ReadRequest and writes its answers by hand. Every path answers
// {"for":"<path>"} correctly, except the misbehaving one, whose answer
// carries the extra bytes of the case under test.
type poolUpstream struct {
	addr string
	// late receives one value per late write: whether it was written.
	late chan bool
}

// answerFor is the one correct answer to a request for path.
func answerFor(path string) string {
	body := fmt.Sprintf(`{"for":%q}`, path)
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// stray is a complete answer nobody asked for: were it read as the answer
// to the next request, that client would get "mallory"'s token.
var stray = answerFor("/rtm/mallory/")

func newPoolUpstream(t *testing.T, misbehaving string, answer func(req *http.Request) string, lateWrite string) *poolUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &poolUpstream{addr: ln.Addr().String(), late: make(chan bool, 64)}
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
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if req.URL.Path != misbehaving {
						if _, err := io.WriteString(c, answerFor(req.URL.Path)); err != nil {
							return
						}
						continue
					}
					if _, err := io.WriteString(c, answer(req)); err != nil {
						return
					}
					if lateWrite != "" {
						// Written while the connection sits idle in the
						// proxy's pool, as a server timing out an idle
						// connection writes its 408.
						wg.Go(func() {
							time.Sleep(300 * time.Millisecond)
							_, err := io.WriteString(c, lateWrite)
							u.late <- err == nil // false: the proxy had closed the connection
						})
					}
				}
			})
		}
	})
	return u
}

// checkOwnAnswer fails unless the answer to path is its own, or a 502 with
// CORS headers.
func checkOwnAnswer(t *testing.T, client *http.Client, base, path string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Origin", "http://localhost:9000")
	res, err := client.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", path, err)
		return
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Errorf("GET %s: reading the body: %v", path, err)
		return
	}
	if acao := res.Header.Values("Access-Control-Allow-Origin"); len(acao) != 1 || acao[0] != "http://localhost:9000" {
		t.Errorf("GET %s: Access-Control-Allow-Origin %q, want exactly one, the page's origin", path, acao)
	}
	switch want := fmt.Sprintf(`{"for":%q}`, path); {
	case res.StatusCode == http.StatusOK && string(body) == want:
	case res.StatusCode == http.StatusBadGateway:
	default:
		t.Errorf("GET %s: got %d %s, want its own answer %s (or a 502)", path, res.StatusCode, body, want)
	}
}

func TestNoClientEverGetsAnotherClientsAnswer(t *testing.T) {
	cases := []struct {
		name   string
		method string // of the misbehaving request
		answer func(req *http.Request) string
		late   string
	}{
		{name: "stray answer right after an answer", method: "GET", answer: func(req *http.Request) string {
			return answerFor(req.URL.Path) + stray
		}},
		{name: "body bytes after a HEAD answer", method: "HEAD", answer: func(req *http.Request) string {
			// The headers describe the GET's body; a HEAD answer has
			// none, so what follows is extra.
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(stray), stray)
		}},
		{name: "body bytes after a 204", method: "GET", answer: func(req *http.Request) string {
			return "HTTP/1.1 204 No Content\r\n\r\n" + stray
		}},
		{name: "Content-Length too short", method: "GET", answer: func(req *http.Request) string {
			body := fmt.Sprintf(`{"for":%q}`, req.URL.Path)
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body+stray)
		}},
		{name: "late write on an idle connection", method: "GET", answer: func(req *http.Request) string {
			return answerFor(req.URL.Path)
		}, late: "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n" + stray},
	}
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newPoolUpstream(t, "/rtm/trigger/", tc.answer, tc.late)
			px := startProxy(t, "--upstream=http://"+up.addr, "--rate_limit.per_ip=off")
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			defer client.CloseIdleConnections()

			// Several connections to the upstream, each left with extra
			// bytes on it (or, for the late write, about to get them).
			const triggers = 4
			var wg sync.WaitGroup
			for range triggers {
				wg.Go(func() {
					req, _ := http.NewRequest(tc.method, px.url()+"/rtm/trigger/", nil)
					req.Header.Set("Origin", "http://localhost:9000")
					res, err := client.Do(req)
					if err != nil {
						t.Errorf("%s /rtm/trigger/: %v", tc.method, err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				})
			}
			wg.Wait()
			if tc.late != "" {
				// Wait until the late bytes were written, so they reach
				// connections idle in the pool, not in use.
				written := 0
				for range triggers {
					select {
					case ok := <-up.late:
						if ok {
							written++
						}
					case <-time.After(10 * time.Second):
						t.Fatal("the upstream's late writes did not happen within 10 s")
					}
				}
				if written == 0 {
					t.Fatal("every upstream connection was closed before its late write; nothing tested")
				}
			}
			// Let the extra bytes arrive at the proxy before the next
			// requests are sent (the outcome must not depend on it).
			time.Sleep(100 * time.Millisecond)

			for _, u := range users[:4] {
				checkOwnAnswer(t, client, px.url(), "/rtm/"+u+"/")
			}
			for round := range 3 {
				for _, u := range users {
					wg.Go(func() { checkOwnAnswer(t, client, px.url(), fmt.Sprintf("/rtm/%s-%d/", u, round)) })
				}
				wg.Wait()
			}
			if t.Failed() {
				logs := px.logs.String()
				if len(logs) > 4000 {
					logs = logs[len(logs)-4000:]
				}
				t.Logf("proxy log (tail):\n%s", strings.TrimSpace(logs))
			}
		})
	}
}
