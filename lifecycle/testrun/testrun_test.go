package testrun_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"signaling-auth/lifecycle"
	"signaling-auth/lifecycle/testrun"
)

// tiny is the smallest program built the way the three are: run serves /readyz and
// /healthz through lifecycle.Serve, draining for -drain on SIGTERM.
func tiny(ctx context.Context, args []string, _ func(string) string, _, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("service", "tiny")
	drain, _ := time.ParseDuration(args[1])
	var draining atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
		}
	})
	t := lifecycle.Timeouts{ReadHeader: time.Second, Read: time.Second, Write: time.Second, Idle: time.Second,
		Shutdown: time.Second, Drain: drain}
	ln, err := lifecycle.Listen(ctx, "tiny", "listen", "127.0.0.1:0")
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	return lifecycle.Serve(ctx, lifecycle.Options{Service: "tiny", Log: log, Timeouts: t, Draining: &draining},
		lifecycle.Listener{Server: lifecycle.NewServer(lifecycle.CloseWhileDraining(mux, &draining), t, 0, log), Listener: ln})
}

func TestStartWaitsForTheListenerAndCheckDrainPassesAProgramThatDrains(t *testing.T) {
	r := testrun.Start(t, testrun.Program{Run: tiny, Args: []string{"tiny", "1s"}, Dir: t.TempDir(), Service: "tiny"})
	base := "http://" + r.Addr("listening")
	testrun.CheckDrain(t, r, testrun.Drain{Drain: "1s", Readyz: base + "/readyz", Healthz: base + "/healthz",
		Served: map[string]string{base + "/healthz": ""}, ConnectionClose: true})
	select {
	case <-r.Done():
	default:
		t.Error("Done is not closed after CheckDrain stopped the program")
	}
}
