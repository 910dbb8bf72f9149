package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// auditFileLines reads an audit log file: one JSON object per line.
func auditFileLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: not a JSON line: %q", path, line)
		}
		out = append(out, m)
	}
	return out
}

// TestAuditFileIsAppendedAndReopenedOnSIGHUP does what logrotate does to
// the running program: the file is renamed, SIGHUP sent (to this process,
// which is where run is serving), and the next line must land in a new file
// at the configured path while the renamed one keeps the earlier lines. The
// file is appended to, never truncated, and holds neither tokens nor the
// certificate; the access log (stderr) holds no audit line.
func TestAuditFileIsAppendedAndReopenedOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, []byte(`{"earlier":"line"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startRun(t, env("APP_ID", testAppID, "APP_CERTIFICATE", testCert, "TOKENSERVER_AUDIT_OUTPUT", path))

	_, first := get(t, s.url+"/rtm/alice/")
	lines := auditFileLines(t, path)
	if len(lines) != 2 || lines[0]["earlier"] != "line" || lines[1]["outcome"] != "minted" || lines[1]["users"].([]any)[0] != "alice" {
		t.Fatalf("after one mint the file holds %v; want the earlier line, then alice's", lines)
	}

	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "audit log reopened")
	_, second := get(t, s.url+"/chat/account/bob")

	if got := auditFileLines(t, rotated); len(got) != 2 {
		t.Errorf("the rotated file has %d lines, want the 2 written before SIGHUP", len(got))
	}
	lines = auditFileLines(t, path)
	if len(lines) != 1 || lines[0]["users"].([]any)[0] != "bob" || lines[0]["kind"] != "chat-user" {
		t.Fatalf("after SIGHUP the new file holds %v; want bob's line only", lines)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the new file's mode: %v %v", fi.Mode(), err)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	all, _ := os.ReadFile(rotated)
	now, _ := os.ReadFile(path)
	files := string(all) + string(now)
	for _, tok := range []string{string(first), string(second)} {
		if i := strings.Index(tok, `"007`); i < 0 || strings.Contains(files, tok[i+1:i+40]) {
			t.Errorf("no token in the answer, or the token is in the audit log: %s", tok)
		}
	}
	if strings.Contains(strings.ToLower(files), strings.ToLower(testCert)) {
		t.Error("the certificate is in the audit log")
	}
	if strings.Contains(s.stderr.String(), `"outcome"`) {
		t.Error("audit lines reached the access log")
	}
}

// TestAuditOutputs: stdout gets the lines; off writes nothing; a path that
// cannot be opened stops the program at start with the key's name.
func TestAuditOutputs(t *testing.T) {
	s := startRun(t, env("TOKENSERVER_AUDIT_OUTPUT", "stdout"))
	get(t, s.url+"/rtm/alice")
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if out := s.stdout.String(); !strings.Contains(out, `"outcome":"minted"`) || strings.Count(out, "\n") != 1 {
		t.Errorf("stdout: %q; want one minted line", out)
	}

	s = startRun(t, env())
	get(t, s.url+"/rtm/alice")
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.stdout.String()+s.stderr.String(), `"outcome"`) {
		t.Error("audit.output off still wrote audit lines")
	}

	err := run(t.Context(), []string{"tokenserver"}, env("TOKENSERVER_AUDIT_OUTPUT", filepath.Join(t.TempDir(), "no", "such", "dir", "audit.log")), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "audit.output:") {
		t.Errorf("an unopenable audit file: %v", err)
	}
}
