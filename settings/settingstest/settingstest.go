// Package settingstest checks, in a program's tests, that the files
// generated from its key table (configs/<program>.yaml,
// docs/config-<program>.md) are up to date; `go test -run X -update`
// (what each program's go:generate line runs) rewrites them.
package settingstest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"signaling-auth/settings"
)

var update = flag.Bool("update", false, "rewrite the files generated from the key table")

// Generated fails t when root/configs/<name>.yaml or root/docs/config-<name>.md
// differ from what p generates, or rewrites them with -update.
func Generated(t *testing.T, p *settings.Program, root string) {
	t.Helper()
	for path, want := range map[string][]byte{
		filepath.Join(root, p.DefaultFile()):                p.YAML(),
		filepath.Join(root, "docs", "config-"+p.Name+".md"): p.Markdown(),
	} {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the key table; run go generate ./internal/config in %s\n--- want\n%s", path, p.Name, want)
		}
	}
}
