//go:build linux

package e2e

// Every shell command in README.md and docs/*.md, as a reader pastes it: the ones that
// build, print or start a program are run from where the block says (a `cd X &&` holds
// for the rest of its block); the others are listed with the reason they cannot run here.
// A command no rule covers fails the test, so a new one is classified when it is written.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

// docCommand is one command of a ```sh block, continuation lines joined, comment dropped.
type docCommand struct {
	file string // relative to the repository root
	line int
	dir  string // where the block has cd'd to, relative to the root
	text string // the command without the leading `cd X && `
}

var docShellFence = regexp.MustCompile("^```(sh|bash|shell|console)\\s*$")

// docCommands reads every shell block of a Markdown file.
func docCommands(t *testing.T, root, rel string) []docCommand {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	var out []docCommand
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if !docShellFence.MatchString(strings.TrimSpace(lines[i])) {
			continue
		}
		dir := "."
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
			start := i
			text := lines[i]
			for strings.HasSuffix(strings.TrimRight(text, " "), `\`) && i+1 < len(lines) {
				i++
				text = strings.TrimSuffix(strings.TrimRight(text, " "), `\`) + " " + strings.TrimSpace(lines[i])
			}
			text = strings.TrimSpace(docStripComment(text))
			if text == "" {
				continue
			}
			if m := regexp.MustCompile(`^cd (\S+) && (.*)$`).FindStringSubmatch(text); m != nil {
				dir, text = filepath.Join(dir, m[1]), m[2]
			}
			out = append(out, docCommand{file: rel, line: start + 1, dir: dir, text: text})
		}
	}
	return out
}

// docStripComment drops a trailing # comment outside quotes.
func docStripComment(s string) string {
	var quote rune
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || s[i-1] == ' '):
			return s[:i]
		}
	}
	return s
}

// docRule says what the test does with the commands it matches: run them (exit 0), serve
// (start, wait for the listening line, stop; listen flags moved to free loopback ports by
// extra), or skip for the reason given.
type docRule struct {
	match  *regexp.Regexp
	action string // "run", "serve" or "skip"
	extra  string // appended to a served command
	reason string // why a skipped command cannot run here
}

var docRules = []docRule{
	{match: regexp.MustCompile(`^go build -o bin/corsproxy \./corsproxy$`), action: "run"},
	{match: regexp.MustCompile(`^go run \. (version|mint .*|inspect .*|doctor .*)$`), action: "run"},
	{match: regexp.MustCompile(`^(\S*bin/corsproxy|go run \.) .*--upstream`), action: "serve", extra: " --listen=127.0.0.1:0 --admin_listen=127.0.0.1:0"},
	{match: regexp.MustCompile(`^go run \. --listen 127\.0\.0\.1:8081$`), action: "serve", extra: " --listen 127.0.0.1:0"},
	{match: regexp.MustCompile(`^go run \.$`), action: "serve", extra: " --listen=127.0.0.1:0"},

	{match: regexp.MustCompile(`<your App ID>`), action: "skip", reason: "needs your own App ID in place of the placeholder"},
	{match: regexp.MustCompile(`^go run \. healthcheck$`), action: "skip", reason: "asks a running webdemo; the make run tests run every healthcheck"},
	{match: regexp.MustCompile(`^curl `), action: "skip", reason: "asks programs the reader started before (make run); the make run tests make the same requests"},
	{match: regexp.MustCompile(`^make (run|test)\b`), action: "skip", reason: "make run is run by the make run tests, make test is this suite"},
	{match: regexp.MustCompile(`^make (up|down|images|push)\b|^REGISTRY=.* make push|^export REGISTRY=|^docker |^(UPSTREAM_URL|CORS_ALLOWED_ORIGINS)=`), action: "skip", reason: "needs a Docker engine; the compose and Dockerfile tests check these files and commands"},
	{match: regexp.MustCompile(`^OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318 .* tokenserver$`), action: "skip", reason: "needs an OpenTelemetry collector; TestOneTokenFetchIsOneTrace sets the same variables against a receiver it starts"},
	{match: regexp.MustCompile(`^(helm|kubectl) `), action: "skip", reason: "needs a Kubernetes cluster; deploy's render tests check the chart"},
	{match: regexp.MustCompile(`^go test -run '\^\$' -bench `), action: "skip", reason: "benchmarks take minutes; make bench runs them"},
	{match: regexp.MustCompile(`^mkdir -p /tmp/e2e && go test -run TestLoginRenewAndLogout `), action: "skip", reason: "one browser test of this suite, which runs it itself"},
	{match: regexp.MustCompile(`^(cp configs/\.env\.example \.env|printf %s .* > secrets/|chmod 644 secrets/|echo 'AGORA_APP_CERTIFICATE_FILE=.*' >> \.env)`), action: "skip", reason: "writes the reader's .env and secrets/; TestEnvExample* check the example file"},
}

func TestEveryDocCommandRunsAsWrittenOrSaysWhyNot(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	root := opsRepoRoot(t)
	files := []string{"README.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		files = append(files, strings.TrimPrefix(d, root+"/"))
	}
	var cmds []docCommand
	for _, f := range files {
		cmds = append(cmds, docCommands(t, root, f)...)
	}
	if len(cmds) < 20 {
		t.Fatalf("found only %d commands: is the block parser broken?", len(cmds))
	}
	ran := 0
	for _, c := range cmds {
		var rule *docRule
		for i := range docRules {
			if docRules[i].match.MatchString(c.text) {
				rule = &docRules[i]
				break
			}
		}
		where := c.file + ":" + strconv.Itoa(c.line)
		if rule == nil {
			t.Errorf("%s: %q (in %s): no rule says how to run it or why it cannot run; add one to docRules", where, c.text, c.dir)
			continue
		}
		if rule.action == "skip" {
			t.Logf("%s: not run: %s: %s", where, c.text, rule.reason)
			continue
		}
		ran++
		t.Run(where, func(t *testing.T) {
			docRun(t, root, c, rule)
		})
	}
	if ran < 8 {
		t.Errorf("ran only %d commands", ran)
	}
}

// docRun runs one command with bash in its directory, as the reader would.
func docRun(t *testing.T, root string, c docCommand, rule *docRule) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", c.text+rule.extra)
	cmd.Dir = filepath.Join(root, c.dir)
	cmd.Env = opsEnvWithout()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out := &testlog.Buffer{}
	if rule.action == "run" {
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			t.Errorf("`%s` in %s: %v\n%s", c.text, c.dir, err, out)
		}
		return
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		seen := false
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if !seen && strings.Contains(sc.Text(), "listening") {
				seen = true
				listening <- true
			}
		}
		if !seen {
			listening <- false
		}
	}()
	ok := <-listening
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	err = cmd.Wait()
	if !ok {
		t.Errorf("`%s` in %s did not start (%v):\n%s", c.text, c.dir, err, out)
	}
}
