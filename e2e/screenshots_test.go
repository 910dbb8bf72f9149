package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMakeTestNamesEveryScreenshotOfThisRunByItsRealPath(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		if inCI() {
			t.Fatalf("CI: make is missing: %v", err)
		}
		t.Skip("make is missing")
	}
	// go test -artifacts -outputdir A keeps each test's files in A/_artifacts/<n>/.
	art := t.TempDir()
	write := func(rel string, mod time.Time) string {
		p := filepath.Join(art, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("png"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := time.Now().Add(-time.Minute)
	old := write("_artifacts/111/demo-mode.png", start.Add(-time.Hour)) // an earlier run's
	write(".started", start)
	fresh := []string{write("_artifacts/222/demo-mode.png", start.Add(time.Second)), write("_artifacts/333/demo-mode-phone.png", start.Add(2*time.Second))}
	write("_artifacts/333/notes.txt", start.Add(time.Second))

	cmd := exec.Command("make", "--no-print-directory", "screenshots", "ARTIFACTS="+art)
	cmd.Dir = opsRepoRoot(t)
	cmd.Env = opsEnvWithout()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make screenshots: %v\n%s", err, out)
	}
	for _, p := range fresh {
		if !strings.Contains(string(out), "screenshot: "+p+"\n") {
			t.Errorf("%s is not listed:\n%s", p, out)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a listed path does not exist: %v", err)
		}
	}
	if strings.Contains(string(out), old) || strings.Contains(string(out), "notes.txt") {
		t.Errorf("an earlier run's screenshot or a file that is not one is listed:\n%s", out)
	}
	if !strings.Contains(string(out), "2 screenshots of the page from this run, under "+art+"/_artifacts/<n>/") {
		t.Errorf("no summary line:\n%s", out)
	}
}
