package accesslog

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

type statusCounter struct {
	mu    sync.Mutex
	codes []int
}

func (s *statusCounter) Request(code int, _ time.Duration) {
	s.mu.Lock()
	s.codes = append(s.codes, code)
	s.mu.Unlock()
}

func TestRecordHasTheRequestButNoSecrets(t *testing.T) {
	var logs testlog.Buffer
	var seenID atomic.Value
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenID.Store(r.Header.Get("X-Request-Id"))
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("007eJxSecretToken"))
	}), slog.New(slog.NewJSONHandler(&logs, nil)), nil)
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/rtm/alice/?token=secret-in-query", nil)
	req.Header.Set("Authorization", "Bearer secret-bearer")
	req.Header.Set("Origin", "http://localhost:9000")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	recs := logs.Records(t, "")
	if len(recs) != 1 {
		t.Fatalf("got %d records, want exactly one per request", len(recs))
	}
	r := recs[0]
	for k, want := range map[string]any{"msg": "request", "method": "GET", "path": "/rtm/alice/", "status": float64(418), "route": "upstream", "origin": "http://localhost:9000", "request_id": seenID.Load()} {
		if r[k] != want {
			t.Errorf("record[%q] = %v, want %v", k, r[k], want)
		}
	}
	if _, ok := r["latency"]; !ok {
		t.Error("record has no latency")
	}
	line, _ := json.Marshal(r)
	for _, secret := range []string{"secret-bearer", "secret-in-query", "007eJx"} {
		if strings.Contains(string(line), secret) {
			t.Errorf("record %s contains %q", line, secret)
		}
	}
}

func TestRequestIDs(t *testing.T) {
	tests := []struct {
		name   string
		sent   string
		keepIt bool
	}{
		{"a plain client request ID is kept", "abc-123_x.y:z", true},
		{"a missing request ID is generated", "", false},
		{"a request ID with spaces is replaced", "a b", false},
		{"a request ID with a non-ASCII line separator is replaced", "a\u2028b", false},
		{"an overlong request ID is replaced", strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids := make(chan string, 1)
			h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got := r.Header.Get("X-Request-Id")
				if ID(r.Context()) != got {
					t.Errorf("ID(ctx) = %q, header %q", ID(r.Context()), got)
				}
				ids <- got
			}), slog.New(slog.DiscardHandler), nil)
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL, nil)
			if tt.sent != "" {
				req.Header.Set("X-Request-Id", tt.sent)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := <-ids
			if tt.keepIt && got != tt.sent {
				t.Errorf("request ID = %q, want the client's %q", got, tt.sent)
			}
			if !tt.keepIt && (got == tt.sent || len(got) != 16) {
				t.Errorf("request ID = %q, want a fresh 16-hex-digit ID", got)
			}
		})
	}
}

func TestClientThatLeftIsRecordedAs499(t *testing.T) {
	var logs testlog.Buffer
	obs := &statusCounter{}
	entered := make(chan struct{})
	done := make(chan struct{})
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // like ReverseProxy waiting on a slow upstream
	}), slog.New(slog.NewJSONHandler(&logs, nil)), obs)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	go func() { <-entered; cancel() }()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request succeeded, want it cancelled")
	}
	<-done
	recs := logs.Records(t, "")
	if len(recs) != 1 || recs[0]["status"] != float64(499) {
		t.Fatalf("records = %v, want one with status 499", recs)
	}
	if len(obs.codes) != 1 || obs.codes[0] != 499 {
		t.Errorf("observer saw %v, want [499]", obs.codes)
	}
}

func TestRoute(t *testing.T) {
	tests := []struct {
		name, method, uri, acrm, want string
	}{
		{"a preflight is named preflight", "OPTIONS", "/rtm/a/", "GET", "preflight"},
		{"an OPTIONS without Access-Control-Request-Method is not a preflight", "OPTIONS", "/rtm/a/", "", "upstream"},
		{"an embedded target is named target", "GET", "/http://tokenserver:8081/rtm/a/", "", "target"},
		{"a plain path is named upstream", "GET", "/rtm/a/", "", "upstream"},
		{"a protocol-relative path is named upstream", "GET", "//evil/x", "", "upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.uri, nil)
			if tt.acrm != "" {
				r.Header.Set("Access-Control-Request-Method", tt.acrm)
			}
			if got := route(r); got != tt.want {
				t.Errorf("route = %q, want %q", got, tt.want)
			}
		})
	}
}
