// Package testlog gives tests a log destination a server's goroutines write
// to while the test reads it, with the JSON records slog wrote. Only tests
// (and test helper packages) import it.
package testlog

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent Write and String. The zero
// value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Records are the JSON log records written so far whose "msg" starts with
// msgPrefix ("" for all), one per non-empty line; a line that is not JSON
// fails the test.
func (l *Buffer) Records(t testing.TB, msgPrefix string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(l.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, msgPrefix) {
			out = append(out, m)
		}
	}
	return out
}

// WaitRecord waits up to 10 seconds for a record for which match is true and
// returns it, or fails the test with everything written.
func (l *Buffer) WaitRecord(t testing.TB, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range l.Records(t, "") {
			if match(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching log record in:\n%s", l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
