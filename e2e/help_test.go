package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

func TestEveryProgramsHelpListsItsSubcommandsThenItsFlags(t *testing.T) {
	for _, name := range []string{"tokenserver", "corsproxy", "webdemo"} {
		t.Run(name, func(t *testing.T) {
			bin := binary(t, name)
			help := func(args ...string) string {
				cmd := exec.Command(bin, args...)
				cmd.Dir = t.TempDir() // no configs/ here
				cmd.Env = opsEnvWithout()
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			out := help("--help")
			if !strings.HasPrefix(out, "Usage:\n") {
				t.Errorf("--help does not start with Usage:\n%s", out)
			}
			for _, sub := range []string{`\[serve\] \[flags\]`, `healthcheck \[flags\]`, `version`, `help`} {
				if !regexp.MustCompile(`(?m)^  ` + name + ` ` + sub + ` `).MatchString(out) {
					t.Errorf("--help does not list %q:\n%s", name+" "+strings.ReplaceAll(sub, `\`, ""), out)
				}
			}
			// The subcommands come first, then the flags.
			if i, j := strings.Index(out, name+" healthcheck"), strings.Index(out, "--listen"); i < 0 || j < i {
				t.Errorf("want the subcommands before the flags (healthcheck at %d, --listen at %d)", i, j)
			}
			if word := help("help"); word != out {
				t.Errorf("%s help and %s --help differ:\n%s\n---\n%s", name, name, word, out)
			}
		})
	}
}
