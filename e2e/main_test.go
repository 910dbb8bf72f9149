// Package e2e tests the three programs together as black boxes: TestMain builds the
// real tokenserver, corsproxy and webdemo binaries, the tests start them as processes
// on loopback ports and drive the Authentication Guide page in a real Chromium.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// programs are the binaries TestMain builds, each from the module directory of the
// same name next to this one.
var programs = []string{"tokenserver", "corsproxy", "webdemo"}

// built maps a program to its binary, or to why there is none.
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
	for _, name := range programs {
		built[name] = build(dir, name)
	}
	code := m.Run()
	closeBrowser()
	return code
}

// build compiles ../name into dir. A program whose main package does not exist yet is
// recorded, not fatal: tests that need it say so (and fail in CI).
func build(dir, name string) buildResult {
	src := filepath.Join("..", name)
	if _, err := os.Stat(filepath.Join(src, "main.go")); err != nil {
		return buildResult{err: errMissing{name}}
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(goTool(), "build", "-o", out, ".")
	cmd.Dir = src
	if b, err := cmd.CombinedOutput(); err != nil {
		return buildResult{err: fmt.Errorf("go build %s: %v\n%s", name, err, b)}
	}
	return buildResult{path: out}
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
	r, ok := built[name]
	switch {
	case !ok:
		t.Fatalf("no build result for %s", name)
	case r.err == nil:
		return r.path
	}
	if _, missing := r.err.(errMissing); missing && !inCI() {
		t.Skip(r.err)
	}
	t.Fatal(r.err)
	return ""
}
