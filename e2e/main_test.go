// Package e2e tests the three programs together as black boxes: TestMain builds the
// real tokenserver, corsproxy and webdemo binaries, the tests start them as processes
// on loopback ports and drive the Authentication Guide page in a real Chromium.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// binDir holds the programs' binaries for the whole run; TestMain removes it.
var binDir string

// built maps a program to its binary, or to why there is none. Each program is built
// once per run, by the first test that needs it, and every later test reuses that
// binary: a build costs minutes on a cold cache.
var (
	builtMu sync.Mutex
	built   = map[string]buildResult{}
)

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
	binDir = dir
	code := m.Run()
	closeBrowser()
	return code
}

// programBinary returns name's binary, building it the first time with the go build
// command line its Dockerfile runs (see opsBuild), so every test runs what the image
// would hold. A failed build fails this test and every later one that needs the program.
func programBinary(t *testing.T, name string) string {
	t.Helper()
	builtMu.Lock()
	defer builtMu.Unlock()
	if r, ok := built[name]; ok {
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.path
	}
	done := false
	defer func() {
		if !done {
			built[name] = buildResult{err: fmt.Errorf("building %s failed in an earlier test", name)}
		}
	}()
	path := opsBuildOne(t, binDir, name)
	built[name], done = buildResult{path: path}, true
	return path
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
