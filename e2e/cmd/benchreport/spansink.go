package main

import (
	"io"
	"net"
	"net/http"
)

// spanSink accepts OTLP/HTTP exports and drops them, so the tracing
// scenarios measure what exporting costs the programs, not a collector.
// An empty 200 answer is a full success to the exporter.
func spanSink() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-protobuf")
		}))
	}()
	return ln, nil
}
