// Package e2e tests the three programs together as black boxes: TestMain builds the
// real tokenserver, corsproxy and webdemo binaries, the tests start them as processes
// on loopback ports and drive the Authentication Guide page in a real Chromium.
package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// built maps each program to its binary, or to why there is none. TestMain builds each
// once, before any test runs (outside go test's -timeout), with the go build command line
// its Dockerfile runs (opsBuildOne), and every test reuses that binary: processes,
// config files and the compose stack alike.
var built = map[string]buildResult{}

type buildResult struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "signaling-auth-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, name := range opsPrograms {
		built[name] = build(dir, name)
	}
	code := m.Run()
	closeBrowser()
	return code
}

// build builds ../name into dir as its Dockerfile does. A program whose main package
// does not exist yet is recorded, not fatal: tests that need it say so (and fail in CI).
func build(dir, name string) (res buildResult) {
	if _, err := os.Stat(filepath.Join("..", name, "main.go")); err != nil {
		return buildResult{err: errMissing{name}}
	}
	tb := &mainTB{}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(mainTBFatal); !ok {
				panic(r)
			}
			res = buildResult{err: tb.err}
		}
	}()
	return buildResult{path: opsBuildOne(tb, dir, name)}
}

// mainTB lets TestMain call the helpers the tests share, which report through Fatal and
// Fatalf: it records the failure and unwinds to build, as Fatal ends a test. The helpers
// use no other method of testing.TB (the nil one embedded would panic).
type mainTB struct {
	testing.TB
	err error
}

type mainTBFatal struct{}

func (*mainTB) Helper() {}

func (tb *mainTB) Fatal(a ...any) {
	tb.err = errors.New(fmt.Sprint(a...))
	panic(mainTBFatal{})
}

func (tb *mainTB) Fatalf(format string, a ...any) {
	tb.err = fmt.Errorf(format, a...)
	panic(mainTBFatal{})
}

// programBinary returns name's binary as TestMain built it, or fails the test with why
// there is none.
func programBinary(t *testing.T, name string) string {
	t.Helper()
	r, ok := built[name]
	switch {
	case !ok:
		t.Fatalf("no build result for %s", name)
	case r.err != nil:
		t.Fatal(r.err)
	}
	return r.path
}

type errMissing struct{ name string }

func (e errMissing) Error() string { return "../" + e.name + "/main.go does not exist yet" }

// goTool is the go command that runs this test: go test puts its GOROOT/bin first on
// PATH, so "go" is the same toolchain.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// inCI reports whether missing tools must fail the tests instead of skipping them.
func inCI() bool {
	return os.Getenv("CI") != ""
}

// binary returns the built program, skipping the test (failing it in CI) while the
// program does not exist yet.
func binary(t *testing.T, name string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", name, "main.go")); err != nil {
		if !inCI() {
			t.Skip(errMissing{name})
		}
		t.Fatal(errMissing{name})
	}
	return programBinary(t, name)
}
