package testlog

import (
	"log/slog"
	"sync"
	"testing"
)

// TestBufferConcurrent: many goroutines log at once (run with -race); every
// record arrives whole and WaitRecord finds one.
func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { log.Info("hello", "i", i); log.Info("other") })
	}
	wg.Go(func() { _ = b.String() })
	wg.Wait()
	if got := len(b.Records(t, "hel")); got != 20 {
		t.Errorf("%d records, want 20:\n%s", got, b.String())
	}
	if got := len(b.Records(t, "")); got != 40 {
		t.Errorf("%d records in all, want 40", got)
	}
	if r := b.WaitRecord(t, func(r map[string]any) bool { return r["i"] == float64(7) }); r["msg"] != "hello" {
		t.Errorf("WaitRecord returned %v", r)
	}
}
