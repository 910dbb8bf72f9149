package e2e

// Helpers that read the Dockerfiles and their ignore files, and build the programs the
// way the images do, without Docker.

import (
	"bufio"
	"bytes" // "binary" is the browser tests' helper
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

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

// opsBuild returns the binaries of the named programs by name, as TestMain built them
// with the go build command line each one's Dockerfile runs.
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
func opsBuildOne(t testing.TB, dir, name string) string {
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
