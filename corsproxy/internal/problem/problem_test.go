package problem

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWriteKeepsHeadersAlreadySetAndBoundsTheDetail(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "http://localhost:9000")
		w.Header().Set("Vary", "Origin")
		Error(w, http.StatusForbidden, "origin "+strings.Repeat("x", 10000)+" is not allowed")
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 403 || res.Header.Get("Content-Type") != ContentType || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status %d headers %v", res.StatusCode, res.Header)
	}
	if res.Header.Get("Access-Control-Allow-Origin") == "" || res.Header.Get("Vary") != "Origin" {
		t.Errorf("headers set before the problem were lost: %v", res.Header)
	}
	b, _ := io.ReadAll(res.Body)
	var p Details
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "about:blank" || p.Title != "Forbidden" || p.Status != 403 || len(p.Detail) > maxDetail+len("…") {
		t.Errorf("problem = %+v (detail %d bytes)", p, len(p.Detail))
	}
}
