package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testUpstream is a real net/http server on loopback standing in for a
// token server. Several of its routes misbehave the way real upstreams do
// (their own CORS headers, redirects, slowness, 1xx answers).
type testUpstream struct {
	*httptest.Server
	hits atomic.Int64

	mu   sync.Mutex
	last *http.Request
}

// echo is what /echo answers: what the upstream saw.
type echo struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         string
}

func newTestUpstream(t testing.TB) *testUpstream {
	u := &testUpstream{}
	mux := http.NewServeMux()
	token := `{"rtmToken":"007eJxTYBBbPvPpQmmb1cfW_mVmYFjSo9Lwv8Kz5bOTk_2_n3N_7_KgKA1gqS-sLi7OzM9TMjI0tjAwNTEyMDYyNDE2MzI0NDA1BgDtuRv0"}`
	mux.HandleFunc("/rtm/{uid}/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, token)
	})
	// /cors/ is a token server that already sends CORS headers of its own,
	// as gin-contrib/cors with AllowAllOrigins would.
	mux.HandleFunc("/cors/", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "X-Internal")
		h.Set("Access-Control-Max-Age", "86400")
		h.Add("Vary", "Origin")
		h.Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, token)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header, Body: string(b)})
	})
	mux.HandleFunc("/redirect-self", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, u.URL+"/landed?from=upstream", http.StatusFound)
	})
	mux.HandleFunc("/redirect-away/{to...}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.PathValue("to")+"/stolen", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</app.css>; rel=preload; as=style")
		// CORS of its own on the 103, as an upstream behind another
		// CORS layer would send.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "X-Internal")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Access-Control-Allow-Headers")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, token)
	})
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.last = r.Clone(r.Context())
		u.mu.Unlock()
		if r.Method == http.MethodOptions {
			// A non-preflight OPTIONS is the upstream's business.
			w.Header().Set("Allow", "GET, HEAD, POST, OPTIONS")
			w.Header().Set("X-Upstream-Options", "yes")
			w.WriteHeader(http.StatusOK)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// addr is the upstream's host:port.
func (u *testUpstream) addr() string { return strings.TrimPrefix(u.URL, "http://") }

// countingServer is the "other host" of open-proxy attempts: it must never
// receive a request through the proxy.
func countingServer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.WriteString(w, "you reached the other host")
	}))
	t.Cleanup(s.Close)
	return s, &n
}
