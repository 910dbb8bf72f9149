package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"signaling-auth/lifecycle/testlog"

	"github.com/gin-gonic/gin"
)

func TestClientIPInAccessLog(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		want    string
	}{
		{name: "X-Forwarded-For from an untrusted peer is ignored", want: "127.0.0.1"},
		{name: "X-Forwarded-For from a trusted proxy gives the client IP", trusted: []string{"127.0.0.0/8"}, want: "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testlog.Buffer
			srv := newTestServer(t, newTestAPI(t, func(o *Options) {
				o.Clients = mustClients(t, tt.trusted)
				o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			}))
			do(t, srv, call{path: "/ping", header: map[string]string{"X-Forwarded-For": "203.0.113.9"}})
			srv.Close() // the access record is written after the answer; Close waits for the handler to return
			var rec map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &rec); err != nil {
				t.Fatalf("one JSON access record expected: %v\n%s", err, logs.String())
			}
			if rec["client_ip"] != tt.want || rec["route"] != "/ping" || rec["msg"] != "request" {
				t.Errorf("access record %v, want client_ip %s", rec, tt.want)
			}
		})
	}
}

func TestRecoveryAnswersAProblem(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var logs testlog.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	r := gin.New()
	r.Use(requestID(), recovery(log))
	r.GET("/boom", func(*gin.Context) { panic("bug") })
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/boom", nil))
	p := problemOf(t, answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, http.StatusInternalServerError)
	if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), p.RequestID) {
		t.Errorf("the panic is not logged with the request ID:\n%s", logs.String())
	}
}

func TestNewRefusesUnusableOptions(t *testing.T) {
	base := newTestAPI(t, nil)
	tests := []struct {
		name string
		mod  func(*Options)
	}{
		{"no minter", func(o *Options) { o.Minter = nil }},
		{"a default expiry above the maximum", func(o *Options) { o.DefaultExpiry = 2 * o.MaxExpiry }},
		{"no body limit", func(o *Options) { o.MaxBodyBytes = 0 }},
	}
	for _, tt := range tests {
		t.Run("New refuses "+tt.name, func(t *testing.T) {
			o := Options{Minter: base.minter, DefaultExpiry: base.expiry.DefaultExpiry, MaxExpiry: base.expiry.MaxExpiry, MaxBodyBytes: 1024}
			tt.mod(&o)
			if _, err := New(o); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}
