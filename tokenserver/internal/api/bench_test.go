package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// The handler benchmarks run the whole gin path in-process (routing,
// middleware, access log to a discarding handler, metrics, JSON) with
// httptest, no network. The Baseline benchmarks call the engine for the same
// token directly, so the ratio handler/baseline is the cost of the HTTP layer.

func benchGET(b *testing.B, path string) {
	a := newTestAPI(b, nil)
	req := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func benchPOST(b *testing.B, path, body string) {
	a := newTestAPI(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkHandlerRTM(b *testing.B) { benchGET(b, "/rtm/alice/?expiry=3600") }

func BenchmarkHandlerRTC(b *testing.B) { benchGET(b, "/rtc/room1/publisher/uid/42/?expiry=3600") }

func BenchmarkHandlerRTE(b *testing.B) { benchGET(b, "/rte/room1/publisher/uid/42/?expiry=3600") }

func BenchmarkHandlerGetToken(b *testing.B) {
	benchPOST(b, "/getToken", `{"tokenType":"rtm","uid":"alice","expire":3600}`)
}

func BenchmarkHandlerV1Tokens(b *testing.B) {
	benchPOST(b, "/v1/tokens", `{"type":"signaling","uid":"alice","expiresIn":3600}`)
}

func BenchmarkHandlerBadRequest(b *testing.B) {
	a := newTestAPI(b, nil)
	req := httptest.NewRequest(http.MethodGet, "/rtm/alice/?expiry=99999", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != http.StatusBadRequest {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func benchMinter(b *testing.B) *accesstoken.Minter {
	m, err := accesstoken.NewMinter(testAppID, testCert)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return m
}

// BenchmarkBaselineSignaling is the engine alone for BenchmarkHandlerRTM's token.
func BenchmarkBaselineSignaling(b *testing.B) {
	m := benchMinter(b)
	for b.Loop() {
		if _, err := m.Signaling("alice", 3600); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineRTC is the engine alone for BenchmarkHandlerRTC's token.
func BenchmarkBaselineRTC(b *testing.B) {
	m := benchMinter(b)
	for b.Loop() {
		if _, err := m.RTCWithUID("room1", 42, accesstoken.RolePublisher, 3600, 3600); err != nil {
			b.Fatal(err)
		}
	}
}
