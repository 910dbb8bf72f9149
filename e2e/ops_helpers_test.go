package e2e

// Helpers for the ops tests (compose, Dockerfiles, make run, config files). Every name
// starts with "ops" so it cannot clash with the browser tests in this package.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	le "encoding/binary" // "binary" is the browser tests' helper
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/e2e/internal/childproc"
	"signaling-auth/lifecycle/testlog"
)

// The published test vector from DESIGN.md §4: real-looking credentials that are safe to
// commit, so the tests can check that tokens are signed with the configured certificate.
const (
	opsTestAppID       = "970CA35de60c44645bbae8a215061b33"
	opsTestCertificate = "5CFd2fd1755d40ecb72977518be15d3b"
)

// opsPrograms are the three programs, each a module directory of the repository.
var opsPrograms = []string{"tokenserver", "corsproxy", "webdemo"}

// opsBuildContext is each program's Docker build context, relative to the repository root.
// Every program builds with its sibling modules (settings, and ratelimit for tokenserver and
// corsproxy: replace … => ../settings), so the context is the root and
// <prog>/Dockerfile.dockerignore narrows it.
var opsBuildContext = map[string]string{"tokenserver": ".", "corsproxy": ".", "webdemo": "."}

// opsDockerignore is the ignore file BuildKit applies to prog's build: <Dockerfile>.dockerignore
// when the context is the root, else the context's .dockerignore.
func opsDockerignore(root, prog string) string {
	if opsBuildContext[prog] == "." {
		return filepath.Join(root, prog, "Dockerfile.dockerignore")
	}
	return filepath.Join(root, opsBuildContext[prog], ".dockerignore")
}

// opsIgnorePatterns reads an ignore file: one pattern a line, # comments.
func opsIgnorePatterns(t testing.TB, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	return patterns
}

// opsIgnored reports whether Docker leaves rel (a slash path relative to the context) out of
// the build context: the last pattern matching rel or one of its parent directories decides,
// "!" re-includes, "**" spans directories.
func opsIgnored(patterns []string, rel string) bool {
	ignored := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = path.Clean(strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/"))
		expr := regexp.QuoteMeta(p)
		expr = strings.ReplaceAll(expr, `\*\*/`, `(.*/)?`)
		expr = strings.ReplaceAll(expr, `/\*\*`, `(/.*)?`)
		expr = strings.ReplaceAll(expr, `\*\*`, `.*`)
		expr = strings.ReplaceAll(expr, `\*`, `[^/]*`)
		expr = strings.ReplaceAll(expr, `\?`, `[^/]`)
		re := regexp.MustCompile("^" + expr + "$")
		for cur := rel; ; cur = path.Dir(cur) {
			if re.MatchString(cur) {
				ignored = !neg
				break
			}
			if !strings.Contains(cur, "/") {
				break
			}
		}
	}
	return ignored
}

// opsRepoRoot is the repository root: the parent of this module's directory.
func opsRepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root: no go.work next to %s: %v", wd, err)
	}
	return root
}

// opsRequirePrograms skips the test while a program's main package does not exist yet
// (the programs are written on other branches), except in CI, where that fails.
func opsRequirePrograms(t *testing.T, names ...string) {
	t.Helper()
	root := opsRepoRoot(t)
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(root, n, "main.go")); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s/main.go does not exist", n)
			}
			t.Skipf("%s/main.go does not exist yet", n)
		}
	}
}

// opsHTTP is a client that never goes through an HTTP proxy from the environment.
var opsHTTP = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// opsGet sends one request without a body and returns the answer with its body read.
func opsGet(t testing.TB, method, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	return opsSend(t, method, url, header, "")
}

// opsSend sends one request with body and returns the answer with its body read.
func opsSend(t testing.TB, method, url string, header http.Header, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := opsHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}

// opsEventually calls f until it returns nil or the timeout passes; then it returns f's
// last error.
func opsEventually(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// opsLastLine is the last non-empty line of s.
func opsLastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			return lines[i]
		}
	}
	return ""
}

// opsProc is a program started by a test.
type opsProc struct {
	name string
	cmd  *exec.Cmd
	out  *testlog.Buffer
	done chan struct{}
	err  error // cmd.Wait's result, valid once done is closed
}

// opsStart starts argv[0] with exactly env (nothing inherited, but childproc.NoDrain
// before it, so SIGTERM stops at once unless env sets a drain) in dir. The process is
// stopped with SIGTERM (SIGKILL after 15 s) when the test ends, if it still runs.
func opsStart(t *testing.T, name string, argv, env []string, dir string) *opsProc {
	t.Helper()
	p := &opsProc{name: name, out: &testlog.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = slices.Concat(childproc.NoDrain, env)
	p.cmd.Dir = dir
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop() })
	return p
}

// stop sends SIGTERM, waits for the exit (SIGKILL after 15 s) and returns Wait's error.
func (p *opsProc) stop() error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return p.err
}

// exited reports whether the process has ended.
func (p *opsProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// opsWaitHealthy runs the program's healthcheck command (argv, env, in the program's own
// working directory, as docker exec would) until it exits 0. It fails the test if the
// program dies first or the timeout passes, showing its output.
func opsWaitHealthy(t *testing.T, p *opsProc, argv, env []string, timeout time.Duration) {
	t.Helper()
	err := opsEventually(timeout, func() error {
		if p.exited() {
			return fmt.Errorf("exited: %v", p.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Dir = p.cmd.Dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s never became healthy: %v\n--- %s output ---\n%s", p.name, err, p.name, p.out.String())
	}
}

// opsBuild returns the binaries of the named programs by name, each built once per run
// (programBinary) with the go build command line its Dockerfile runs.
func opsBuild(t *testing.T, names ...string) map[string]string {
	t.Helper()
	bins := map[string]string{}
	for _, name := range names {
		bins[name] = programBinary(t, name)
	}
	return bins
}

// opsBuildOne builds program name into dir with the go build command line its
// Dockerfile runs (flags, build-stage ENV, VERSION=test), so the binaries under test are
// the ones the images would hold, and returns the binary's path.
func opsBuildOne(t *testing.T, dir, name string) string {
	t.Helper()
	root := opsRepoRoot(t)
	df := opsParseDockerfile(t, filepath.Join(root, name, "Dockerfile"))
	build := df.goBuild(t)
	out := filepath.Join(dir, name)
	args := opsBuildArgs(t, build.args, map[string]string{"VERSION": "test"}, out)
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = filepath.Join(root, name)
	cmd.Env = append(os.Environ(), build.env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s as its Dockerfile does (go %s): %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return out
}

// opsBuildArgs turns the Dockerfile's `go build …` words into arguments for this machine:
// build args substituted, the output path replaced by out.
func opsBuildArgs(t testing.TB, words []string, buildArgs map[string]string, out string) []string {
	t.Helper()
	var args []string
	for i := 1; i < len(words); i++ { // words[0] is "go"
		w := os.Expand(words[i], func(k string) string {
			v, ok := buildArgs[k]
			if !ok {
				t.Fatalf("go build line uses ${%s}, which the test does not know", k)
			}
			return v
		})
		if w == "-o" && i+1 < len(words) {
			args = append(args, "-o", out)
			i++
			continue
		}
		args = append(args, w)
	}
	return args
}

// --- Dockerfiles ---------------------------------------------------------------------

// opsInstruction is one Dockerfile instruction, continuation lines joined.
type opsInstruction struct {
	cmd  string // upper-cased: FROM, RUN, ...
	args string
	line int
}

// opsDockerfile is a parsed Dockerfile.
type opsDockerfile struct {
	path  string
	instr []opsInstruction
}

// opsParseDockerfile reads path: comments and blank lines dropped, "\" continuations
// joined. Enough of the format for what our Dockerfiles use.
func opsParseDockerfile(t testing.TB, path string) opsDockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	df := opsDockerfile{path: path}
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		full := cur.String()
		cur.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		df.instr = append(df.instr, opsInstruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: ends inside a continued line", path)
	}
	return df
}

// all returns the instructions named cmd, in order.
func (d opsDockerfile) all(cmd string) []opsInstruction {
	var out []opsInstruction
	for _, in := range d.instr {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// stages splits the file at each FROM.
func (d opsDockerfile) stages() [][]opsInstruction {
	var out [][]opsInstruction
	for _, in := range d.instr {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

// opsGoBuild is the go build command of a Dockerfile.
type opsGoBuild struct {
	env  []string // KEY=value from the stage's ENV and the RUN line's own assignments
	args []string // "go", "build", flags...
	line int
}

// goBuild finds the single RUN that calls go build and splits it into words.
func (d opsDockerfile) goBuild(t testing.TB) opsGoBuild {
	t.Helper()
	var found []opsGoBuild
	for _, stage := range d.stages() {
		var env []string
		for _, in := range stage {
			if in.cmd == "ENV" {
				for _, w := range opsShellWords(t, in.args) {
					if strings.Contains(w, "=") {
						env = append(env, w)
					}
				}
			}
			if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			words := opsShellWords(t, in.args)
			var b opsGoBuild
			b.env = append(b.env, env...)
			b.line = in.line
			for i, w := range words {
				if strings.HasPrefix(w, "--mount=") {
					continue
				}
				if w == "go" && i+1 < len(words) && words[i+1] == "build" {
					b.args = words[i:]
					break
				}
				if strings.Contains(w, "=") && !strings.HasPrefix(w, "-") {
					b.env = append(b.env, w)
				}
			}
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: want exactly one RUN … go build, found %d", d.path, len(found))
	}
	for _, a := range found[0].args {
		if a == "&&" || a == ";" || a == "|" {
			t.Fatalf("%s:%d: the go build RUN must be the go build command alone", d.path, found[0].line)
		}
	}
	return found[0]
}

// opsShellWords splits s like a POSIX shell would for the simple cases Dockerfiles
// use: whitespace-separated words, single and double quotes, backslash escapes.
func opsShellWords(t testing.TB, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote == '"' && i+1 < len(rs) {
				i++
				cur.WriteRune(rs[i])
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// opsExecForm parses a JSON exec-form argument (["/app/x", "healthcheck"]).
func opsExecForm(t testing.TB, s string) []string {
	t.Helper()
	var argv []string
	if err := json.Unmarshal([]byte(s), &argv); err != nil {
		t.Fatalf("want exec form [\"…\"], got %q: %v", s, err)
	}
	return argv
}

// --- tokens ----------------------------------------------------------------------------

// opsToken is what the tests read from an AccessToken2 ("007…"): enough to tell which
// app it is for, for how long, and whether a given certificate signed it.
type opsToken struct {
	AppID                  string
	IssueTs, Expire, Salt  uint32
	signature, signedBytes []byte
}

// opsParseToken decodes "007" + base64(zlib(packString(signature) + content)); content
// starts with packString(appId), issueTs, expire, salt (little endian).
func opsParseToken(tok string) (opsToken, error) {
	var t opsToken
	rest, ok := strings.CutPrefix(tok, "007")
	if !ok {
		return t, errors.New("not an AccessToken2: no 007 prefix")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return t, fmt.Errorf("base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return t, fmt.Errorf("zlib: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 1<<16))
	if err != nil {
		return t, fmt.Errorf("zlib: %w", err)
	}
	str := func(b []byte) ([]byte, []byte, error) {
		if len(b) < 2 {
			return nil, nil, errors.New("truncated")
		}
		n := int(le.LittleEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, nil, errors.New("truncated")
		}
		return b[2 : 2+n], b[2+n:], nil
	}
	sig, content, err := str(b)
	if err != nil {
		return t, fmt.Errorf("signature: %w", err)
	}
	app, after, err := str(content)
	if err != nil || len(after) < 12 {
		return t, errors.New("content: truncated")
	}
	t.AppID = string(app)
	t.IssueTs = le.LittleEndian.Uint32(after[0:])
	t.Expire = le.LittleEndian.Uint32(after[4:])
	t.Salt = le.LittleEndian.Uint32(after[8:])
	t.signature, t.signedBytes = sig, content
	return t, nil
}

// SignedWith reports whether certificate produced the token's signature:
// HMAC(HMAC(uint32le(salt), HMAC(uint32le(issueTs), certificate)), content).
func (t opsToken) SignedWith(certificate string) bool {
	u32 := func(v uint32) []byte { return le.LittleEndian.AppendUint32(nil, v) }
	h := hmac.New(sha256.New, u32(t.IssueTs))
	h.Write([]byte(certificate))
	k := hmac.New(sha256.New, u32(t.Salt))
	k.Write(h.Sum(nil))
	s := hmac.New(sha256.New, k.Sum(nil))
	s.Write(t.signedBytes)
	return hmac.Equal(s.Sum(nil), t.signature)
}

// --- the page → proxy → token server path ------------------------------------------------

// opsCheckTokenPath asks the proxy for a Signaling token as the page would (allowed
// Origin, X-Requested-With, so first a preflight) and checks the answer: 200, a 007 token
// for appID (and signed with certificate, when given), exactly one
// Access-Control-Allow-Origin naming the origin. It returns the token.
func opsCheckTokenPath(t *testing.T, proxyURL, origin, appID, certificate string) opsToken {
	t.Helper()
	url := strings.TrimSuffix(proxyURL, "/") + "/rtm/alice/?expiry=60"

	pre, _ := opsGet(t, http.MethodOptions, url, http.Header{
		"Origin":                         {origin},
		"Access-Control-Request-Method":  {"GET"},
		"Access-Control-Request-Headers": {"x-requested-with"},
	})
	if pre.StatusCode/100 != 2 {
		t.Errorf("preflight from %s: status %d, want 2xx", origin, pre.StatusCode)
	}
	if got := pre.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want exactly [%q]", origin, got, origin)
	}

	resp, body := opsGet(t, http.MethodGet, url, http.Header{
		"Origin":           {origin},
		"X-Requested-With": {"XMLHttpRequest"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s from %s: status %d, want 200; body: %.300s", url, origin, resp.StatusCode, body)
	}
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != origin {
		t.Errorf("GET %s: Access-Control-Allow-Origin %q, want exactly [%q]", url, got, origin)
	}
	var answer struct {
		RTMToken string `json:"rtmToken"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("GET %s: body is not {\"rtmToken\": …}: %v", url, err)
	}
	tok, err := opsParseToken(answer.RTMToken)
	if err != nil {
		t.Fatalf("GET %s: rtmToken: %v", url, err)
	}
	if appID != "" && tok.AppID != appID {
		t.Errorf("token is for app %q, want %q", tok.AppID, appID)
	}
	if certificate != "" && !tok.SignedWith(certificate) {
		t.Errorf("token for app %q is not signed with the configured certificate", tok.AppID)
	}
	if tok.Expire != 60 {
		t.Errorf("token expire = %d, want the 60 asked for", tok.Expire)
	}

	// A page from anywhere else gets no CORS grant.
	bad, _ := opsGet(t, http.MethodGet, url, http.Header{"Origin": {"https://evil.example"}})
	if got := bad.Header.Values("Access-Control-Allow-Origin"); len(got) != 0 {
		t.Errorf("GET from a disallowed origin: Access-Control-Allow-Origin %q, want none", got)
	}
	return tok
}

// --- processes ---------------------------------------------------------------------------

// opsGroupMembers lists the processes whose process group is pgid, as pid → command
// name, from /proc (Linux).
func opsGroupMembers(t testing.TB, pgid int) map[int]string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	members := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
		s := string(b)
		lp, rp := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if lp < 0 || rp < lp {
			continue
		}
		fields := strings.Fields(s[rp+1:])
		if len(fields) < 3 || fields[0] == "Z" {
			continue // zombies have exited; their parent just has not reaped them yet
		}
		if g, _ := strconv.Atoi(fields[2]); g == pgid {
			members[pid] = s[lp+1 : rp]
		}
	}
	return members
}

// opsAlive reports whether pid still exists and is not a zombie.
func opsAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

// opsEnvWithout is os.Environ() minus every variable that would change what the
// programs or scripts/run.sh do, so a developer's shell cannot leak into a test.
func opsEnvWithout() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TOKENSERVER_"), strings.HasPrefix(k, "CORSPROXY_"),
			strings.HasPrefix(k, "WEBDEMO_"), strings.HasPrefix(k, "AGORA_"),
			strings.HasPrefix(k, "PORT_"), strings.HasPrefix(k, "RUN_"),
			k == "APP_ID", k == "APP_CERTIFICATE", k == "PORT", k == "SERVER_PORT",
			k == "CORS_ALLOW_ORIGIN", k == "VERSION":
			continue
		}
		env = append(env, kv)
	}
	return env
}
