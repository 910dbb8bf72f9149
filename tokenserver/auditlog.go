package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// auditFile is an audit log file kept open for appending. Reopen, on SIGHUP,
// opens the path again: logrotate renames the file and signals, and the
// following lines go to the new file.
type auditFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

func openAuditFile(path string) (*auditFile, error) {
	a := &auditFile{path: path}
	if err := a.Reopen(); err != nil {
		return nil, err
	}
	return a, nil
}

// Write writes p to the file open now.
func (a *auditFile) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Write(p)
}

// Reopen switches to a fresh open of the path; on failure the old file
// stays in use.
func (a *auditFile) Reopen() error {
	// O_APPEND: every line lands at the end, even if something else writes
	// the file too; 0600: the log names users and callers.
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit.output: %v", err)
	}
	a.mu.Lock()
	old := a.f
	a.f = f
	a.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (a *auditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}

// openAudit opens audit.output: nil for off, stdout or stderr as given, or
// a file that is reopened on every SIGHUP until release is called.
func openAudit(ctx context.Context, output string, stdout, stderr io.Writer, log *slog.Logger) (w io.Writer, release func(), err error) {
	switch output {
	case "off":
		return nil, func() {}, nil
	case "stdout":
		return stdout, func() {}, nil
	case "stderr":
		return stderr, func() {}, nil
	}
	f, err := openAuditFile(output)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := f.Reopen(); err != nil {
					log.Error("audit log not reopened; still writing the old file", "err", err)
					continue
				}
				log.Info("audit log reopened", "path", output)
			}
		}
	}()
	return f, func() {
		cancel()
		signal.Stop(hup)
		<-done
		_ = f.Close()
	}, nil
}
