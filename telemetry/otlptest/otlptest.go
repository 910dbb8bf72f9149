// Package otlptest is an OTLP/HTTP trace receiver for tests: it decodes
// what exporters send (protobuf, as go.opentelemetry.io/proto/otlp defines
// it) and keeps every span with its service name.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, flattened for assertions.
type Span struct {
	Service, Name, Kind string
	TraceID, SpanID     string // hex
	ParentID            string // hex; "" for a root span
	Attributes          map[string]string
	ResourceAttributes  map[string]string
}

// Receiver collects spans POSTed to URL + "/v1/traces".
type Receiver struct {
	URL string
	mu  sync.Mutex
	got []Span
}

// Start runs a receiver on loopback until the test ends.
func Start(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Method != http.MethodPost {
			http.NotFound(w, req)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var msg coltrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &msg)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.add(&msg)
		out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *Receiver) add(msg *coltrace.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range msg.GetResourceSpans() {
		res := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			res[kv.GetKey()] = kv.GetValue().String()
		}
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				attrs := map[string]string{}
				for _, kv := range s.GetAttributes() {
					attrs[kv.GetKey()] = kv.GetValue().String()
				}
				r.got = append(r.got, Span{
					Service: service, Name: s.GetName(), Kind: s.GetKind().String(),
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentID: hex.EncodeToString(s.GetParentSpanId()), Attributes: attrs, ResourceAttributes: res,
				})
			}
		}
	}
}

// Spans returns what has arrived so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.got...)
}

// WaitSpans waits (up to 10 s) until at least n spans have arrived.
func (r *Receiver) WaitSpans(t testing.TB, n int) []Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := r.Spans()
		if len(s) >= n || time.Now().After(deadline) {
			if len(s) < n {
				t.Fatalf("otlptest: %d spans arrived within 10 s, want %d: %+v", len(s), n, s)
			}
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}
