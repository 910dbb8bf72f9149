package accesstoken

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// npm agora-token 2.0.6 is the oracle for what the pinned Go module lacks (ConvoAI and
// STT, Agora's own AccessToken2 parser) and a second one for 006 tokens. It is
// installed with npm into a temporary directory once per test binary, never committed;
// testdata/npm/oracle.js runs it.

const agoraTokenPackage = "agora-token@2.0.6"

var npmOracle struct {
	once sync.Once
	dir  string
	err  string // why it cannot run
}

func TestMain(m *testing.M) {
	code := m.Run()
	if npmOracle.dir != "" {
		os.RemoveAll(npmOracle.dir)
	}
	os.Exit(code)
}

// requireNode fails the test under CI=true and skips it elsewhere when node, npm or
// the package cannot be had.
func requireNode(t testing.TB) string {
	t.Helper()
	npmOracle.once.Do(func() {
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				npmOracle.err = tool + " is not on PATH: install Node.js"
				return
			}
		}
		dir, err := os.MkdirTemp("", "agora-token-oracle-")
		if err != nil {
			npmOracle.err = err.Error()
			return
		}
		npmOracle.dir = dir
		cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", agoraTokenPackage)
		if out, err := cmd.CombinedOutput(); err != nil {
			npmOracle.err = "npm install " + agoraTokenPackage + ": " + err.Error() + "\n" + string(out)
		}
	})
	if npmOracle.err != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the npm oracle is required under CI=true: %s", npmOracle.err)
		}
		t.Skipf("no npm oracle (it is required under CI=true): %s", npmOracle.err)
	}
	return npmOracle.dir
}

// npmCall sends requests to oracle.js and decodes its answers into answers, a pointer
// to a slice.
func npmCall(t testing.TB, requests any, answers any) {
	t.Helper()
	dir := requireNode(t)
	in, err := json.Marshal(requests)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "npm", "oracle.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, dir)
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
}
