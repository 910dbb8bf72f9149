package e2e

// Helpers for the ops tests (compose, Dockerfiles, make run, config files). Every name
// starts with "ops" so it cannot clash with the browser tests in this package.

import (

	// "binary" is the browser tests' helper

	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The published test vector from DESIGN.md §4: real-looking credentials that are safe to
// commit, so the tests can check that tokens are signed with the configured certificate.
const (
	opsTestAppID       = "970CA35de60c44645bbae8a215061b33"
	opsTestCertificate = "5CFd2fd1755d40ecb72977518be15d3b"
)

// opsPrograms are the three programs, each a module directory of the repository.
var opsPrograms = []string{"tokenserver", "corsproxy", "webdemo"}

// opsBuildContext is each program's Docker build context, relative to the repository root.
// Every program builds with its sibling modules (settings, and ratelimit for tokenserver and
// corsproxy: replace … => ../settings), so the context is the root and
// <prog>/Dockerfile.dockerignore narrows it.
var opsBuildContext = map[string]string{"tokenserver": ".", "corsproxy": ".", "webdemo": "."}

// opsRepoRoot is the repository root: the parent of this module's directory.
func opsRepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root: no go.work next to %s: %v", wd, err)
	}
	return root
}

// opsRequirePrograms skips the test while a program's main package does not exist yet
// (the programs are written on other branches), except in CI, where that fails.
func opsRequirePrograms(t *testing.T, names ...string) {
	t.Helper()
	root := opsRepoRoot(t)
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(root, n, "main.go")); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s/main.go does not exist", n)
			}
			t.Skipf("%s/main.go does not exist yet", n)
		}
	}
}

// opsHTTP is a client that never goes through an HTTP proxy from the environment.
var opsHTTP = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// opsGet sends one request without a body and returns the answer with its body read.
func opsGet(t testing.TB, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return opsSend(t, method, url, header, "")
}

// opsSend sends one request with body and returns the answer with its body read.
func opsSend(t testing.TB, method, url string, header http.Header, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := opsHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}

// opsEventually calls f until it returns nil or the timeout passes; then it returns f's
// last error.
func opsEventually(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// opsLastLine is the last non-empty line of s.
func opsLastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			return lines[i]
		}
	}
	return ""
}
