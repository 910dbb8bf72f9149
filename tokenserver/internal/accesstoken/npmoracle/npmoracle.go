// Package npmoracle runs npm agora-token 2.0.6, Agora's own Node builders and
// parsers, as an oracle for the token tests: for what the pinned Go reference
// module lacks (ConvoAI and STT, Agora's AccessToken2 parser) and as a second
// oracle for 006 tokens. The package is installed with npm into a temporary
// directory once per test binary, never committed; oracle.js, beside this
// file, answers a JSON array of requests. Tests only.
package npmoracle

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"
)

// Package is the npm package the oracle runs.
const Package = "agora-token@2.0.6"

var installed struct {
	once sync.Once
	dir  string
	err  string // why it cannot run
}

// Cleanup removes the installed package; TestMain calls it after the tests.
func Cleanup() {
	if installed.dir != "" {
		os.RemoveAll(installed.dir)
	}
}

// install installs Package once. Under CI=true a missing node or npm fails
// the test; elsewhere it skips it.
func install(t testing.TB) string {
	t.Helper()
	installed.once.Do(func() {
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				installed.err = tool + " is not on PATH: install Node.js"
				return
			}
		}
		dir, err := os.MkdirTemp("", "agora-token-oracle-")
		if err != nil {
			installed.err = err.Error()
			return
		}
		installed.dir = dir
		cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", Package)
		if out, err := cmd.CombinedOutput(); err != nil {
			installed.err = "npm install " + Package + ": " + err.Error() + "\n" + string(out)
		}
	})
	if installed.err != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the npm oracle is required under CI=true: %s", installed.err)
		}
		t.Skipf("no npm oracle (it is required under CI=true): %s", installed.err)
	}
	return installed.dir
}

// Call sends requests (a slice) to oracle.js and decodes its answers, one
// per request, into answers, a pointer to a slice.
func Call(t testing.TB, requests, answers any) {
	t.Helper()
	dir := install(t)
	in, err := json.Marshal(requests)
	if err != nil {
		t.Fatal(err)
	}
	_, self, _, _ := runtime.Caller(0)
	cmd := exec.Command("node", filepath.Join(filepath.Dir(self), "oracle.js"), dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node oracle.js: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(out, answers); err != nil {
		t.Fatalf("oracle.js answer: %v\n%s", err, out)
	}
	if got, want := reflect.ValueOf(answers).Elem().Len(), reflect.ValueOf(requests).Len(); got != want {
		t.Fatalf("oracle.js gave %d answers to %d requests:\n%s", got, want, out)
	}
}
