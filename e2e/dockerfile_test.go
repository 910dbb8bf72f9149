package e2e

// The Dockerfiles, read as text: no Docker engine here, so what can be checked is what
// they say. Whether they build is checked by opsBuild, which runs their go build line.

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDockerfilesBuildSmallStampedNonRootImages(t *testing.T) {
	root := opsRepoRoot(t)
	exposes := map[string][]string{"tokenserver": {"8081"}, "corsproxy": {"8080", "9091"}, "webdemo": {"9000"}}
	checks := []struct {
		name  string
		check func(t *testing.T, prog string, df opsDockerfile)
	}{
		{"the builder is golang:1.26 and the runtime distroless static nonroot", func(t *testing.T, prog string, df opsDockerfile) {
			stages := df.stages()
			if len(stages) < 2 {
				t.Fatalf("%d stages, want a builder and a runtime", len(stages))
			}
			if from := stages[0][0].args; !regexp.MustCompile(`^golang:1\.26(\.\d+)?(-\S+)?\s+(?i:AS)\s+\S+$`).MatchString(from) {
				t.Errorf("first FROM %q, want golang:1.26 AS <name>", from)
			}
			if from := stages[len(stages)-1][0].args; from != "gcr.io/distroless/static-debian12:nonroot" {
				t.Errorf("last FROM %q, want gcr.io/distroless/static-debian12:nonroot (CA roots, no shell)", from)
			}
		}},
		{"go.mod and go.sum are copied and downloaded before the sources", func(t *testing.T, prog string, df opsDockerfile) {
			// Every COPY of module files (go.mod, go.sum, or the ratelimit module's) comes
			// before go mod download, which comes before every COPY of sources.
			build := df.stages()[0]
			modsOnly := func(in opsInstruction) bool {
				w := strings.Fields(in.args)
				if len(w) < 2 {
					return false
				}
				for _, src := range w[:len(w)-1] {
					if path.Base(src) != "go.mod" && path.Base(src) != "go.sum" {
						return false
					}
				}
				return true
			}
			var mods, sources []int
			download := -1
			for i, in := range build {
				switch {
				case in.cmd == "COPY" && strings.HasPrefix(in.args, "--from="):
				case in.cmd == "COPY" && modsOnly(in):
					mods = append(mods, i)
				case in.cmd == "COPY":
					sources = append(sources, i)
				case in.cmd == "RUN" && strings.Contains(in.args, "go mod download") && download < 0:
					download = i
				}
			}
			ok := len(mods) > 0 && len(sources) > 0 && download >= 0
			for _, m := range mods {
				ok = ok && m < download
			}
			for _, src := range sources {
				ok = ok && download < src
			}
			if !ok {
				t.Errorf("want COPY of go.mod/go.sum, then RUN go mod download, then COPY of the sources (got module copies at %v, download at %d, sources at %v)", mods, download, sources)
			}
			ownMod := "go.mod"
			if opsBuildContext[prog] == "." {
				ownMod = prog + "/go.mod"
			}
			if !slices.ContainsFunc(build[:max(download, 0)], func(in opsInstruction) bool {
				return in.cmd == "COPY" && slices.Contains(strings.Fields(in.args), ownMod)
			}) {
				t.Errorf("the module's own go.mod is not copied before go mod download")
			}
		}},
		{"the binary is static, trimmed, stripped, version-stamped and built without go.work", func(t *testing.T, prog string, df opsDockerfile) {
			b := df.goBuild(t)
			if !slices.Contains(b.env, "CGO_ENABLED=0") {
				t.Errorf("go build runs with %q, want CGO_ENABLED=0", b.env)
			}
			if !slices.Contains(b.env, "GOWORK=off") {
				t.Errorf("go build runs with %q, want GOWORK=off (the module stands alone)", b.env)
			}
			if !slices.Contains(b.args, "-trimpath") {
				t.Errorf("go build %q lacks -trimpath", b.args)
			}
			i := slices.Index(b.args, "-ldflags")
			if i < 0 || i+1 >= len(b.args) {
				t.Fatalf("go build %q has no -ldflags", b.args)
			}
			ld := strings.Fields(b.args[i+1])
			for _, f := range []string{"-s", "-w", "-X", "main.version=${VERSION}"} {
				if !slices.Contains(ld, f) {
					t.Errorf("-ldflags %q lacks %s", b.args[i+1], f)
				}
			}
			if !slices.ContainsFunc(df.stages()[0], func(in opsInstruction) bool {
				return in.cmd == "ARG" && strings.HasPrefix(in.args, "VERSION")
			}) {
				t.Error("the build stage has no ARG VERSION")
			}
		}},
		{"the image runs as a non-root user and exposes its ports", func(t *testing.T, prog string, df opsDockerfile) {
			users := df.all("USER")
			if len(users) == 0 {
				t.Fatal("no USER")
			}
			u, _, _ := strings.Cut(users[len(users)-1].args, ":")
			if u == "root" || u == "0" || u == "" {
				t.Errorf("USER %q, want a non-root user", users[len(users)-1].args)
			}
			var ports []string
			for _, in := range df.all("EXPOSE") {
				ports = append(ports, strings.Fields(in.args)...)
			}
			if !slices.Equal(ports, exposes[prog]) {
				t.Errorf("EXPOSE %q, want %q", ports, exposes[prog])
			}
		}},
		{"the healthcheck and entrypoint are the binary itself, as there is no shell", func(t *testing.T, prog string, df opsDockerfile) {
			bin := "/app/" + prog
			hcs := df.all("HEALTHCHECK")
			if len(hcs) != 1 {
				t.Fatalf("%d HEALTHCHECKs, want 1", len(hcs))
			}
			_, cmd, ok := strings.Cut(hcs[0].args, "CMD ")
			if !ok || !slices.Equal(opsExecForm(t, strings.TrimSpace(cmd)), []string{bin, "healthcheck"}) {
				t.Errorf("HEALTHCHECK %q, want CMD [%q, \"healthcheck\"]", hcs[0].args, bin)
			}
			eps := df.all("ENTRYPOINT")
			if len(eps) != 1 || !slices.Equal(opsExecForm(t, eps[0].args), []string{bin}) {
				t.Errorf("ENTRYPOINT %v, want [%q]", eps, bin)
			}
			copied := false
			for _, in := range df.all("COPY") {
				if strings.HasPrefix(in.args, "--from=") && strings.HasSuffix(in.args, " "+bin) {
					copied = true
				}
			}
			if !copied {
				t.Errorf("no COPY --from=… puts the binary at %s", bin)
			}
		}},
		{"the image carries OCI labels with its version", func(t *testing.T, prog string, df opsDockerfile) {
			var labels string
			for _, in := range df.all("LABEL") {
				labels += " " + in.args
			}
			for _, want := range []string{`org.opencontainers.image.title="` + prog + `"`, "org.opencontainers.image.description=", `org.opencontainers.image.version="${VERSION}"`} {
				if !strings.Contains(labels, want) {
					t.Errorf("LABELs lack %s", want)
				}
			}
		}},
		{"the ignore file keeps tests and secrets out but everything the build needs in", func(t *testing.T, prog string, df opsDockerfile) {
			patterns := opsIgnorePatterns(t, opsDockerignore(root, prog))
			// Paths relative to the build context.
			prefix := ""
			if opsBuildContext[prog] == "." {
				prefix = prog + "/"
			}
			needed := []string{prefix + "go.mod", prefix + "go.sum", prefix + "main.go", prefix + "internal/config/config.go"}
			left := []string{prefix + "main_test.go", prefix + "internal/config/config_test.go"}
			if opsBuildContext[prog] == "." {
				needed = append(needed, "settings/go.mod", "settings/go.sum", "settings/settings.go",
					"lifecycle/go.mod", "lifecycle/lifecycle.go", "lifecycle/serve.go", "lifecycle/conns.go",
					"ratelimit/go.mod", "ratelimit/go.sum", "ratelimit/connsettings/connsettings.go", "ratelimit/clientip/clientip.go")
				left = append(left, "settings/values_test.go", "lifecycle/lifecycle_test.go", "ratelimit/connsettings/connsettings_test.go")
				if prog != "webdemo" {
					needed = append(needed, "ratelimit/limiter.go", "ratelimit/memory/memory.go",
						"origin/go.mod", "origin/go.sum", "origin/origin.go")
					left = append(left, "ratelimit/memory/memory_test.go", "origin/origin_test.go")
				}
				// A root context can reach everything: credentials and the other programs stay out.
				left = append(left, ".env", "secrets/agora_app_certificate", ".git/config", "e2e/go.mod", "bin/tokenserver",
					"configs/tokenserver.yaml")
				for _, other := range opsPrograms {
					if other != prog {
						left = append(left, other+"/main.go")
					}
				}
			}
			for _, f := range needed {
				if opsIgnored(patterns, f) {
					t.Errorf("%s leaves %s out of the build context", opsDockerignore(root, prog), f)
				}
			}
			for _, f := range left {
				if !opsIgnored(patterns, f) {
					t.Errorf("%s lets %s into the build context", opsDockerignore(root, prog), f)
				}
			}
		}},
	}
	for _, prog := range opsPrograms {
		df := opsParseDockerfile(t, filepath.Join(root, prog, "Dockerfile"))
		for _, c := range checks {
			t.Run(prog+": "+c.name, func(t *testing.T) { c.check(t, prog, df) })
		}
	}
}

func TestDockerfileParserReadsWhatDockerReads(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "CMD|args" per instruction
	}{
		{
			name: "comments and blank lines are dropped and continuations joined",
			in:   "# c\nFROM a AS b\n\nRUN x \\\n    y\n",
			want: []string{"FROM|a AS b", "RUN|x  y"},
		},
		{
			name: "instruction keywords are case-insensitive",
			in:   "from a\nrun b\n",
			want: []string{"FROM|a", "RUN|b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "Dockerfile")
			if err := os.WriteFile(p, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, in := range opsParseDockerfile(t, p).instr {
				got = append(got, in.cmd+"|"+in.args)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestShellWordsSplitLikeTheShellForDockerfileRunLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"double quotes keep spaces and ${VAR} intact", `go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/x .`,
			[]string{"go", "build", "-ldflags", "-s -w -X main.version=${VERSION}", "-o", "/out/x", "."}},
		{"single quotes keep everything literal", `a 'b "c" d'`, []string{"a", `b "c" d`}},
		{"a backslash escapes the next character", `a\ b c`, []string{"a b", "c"}},
		{"runs of blanks separate once", "a \t  b", []string{"a", "b"}},
		{"an empty quoted word is still a word", `a "" b`, []string{"a", "", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := opsShellWords(t, tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("opsShellWords(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDockerBuildStageBuildsFromItsContextAlone replays each Dockerfile's build stage without
// Docker: the build context filtered by its ignore file, WORKDIR and COPY into an empty
// directory tree, then the stage's own go build there. A module the image needs but does not
// copy (ratelimit), or an ignore file that drops a source, fails here as `docker build` would.
func TestDockerBuildStageBuildsFromItsContextAlone(t *testing.T) {
	root := opsRepoRoot(t)
	for _, prog := range opsPrograms {
		t.Run(prog+": the build stage compiles from what it copies", func(t *testing.T) {
			opsRequirePrograms(t, prog)
			opsReplayBuildStage(t, root, prog, filepath.Join(t.TempDir(), prog))
		})
	}
}

// opsReplayBuildStage replays prog's build stage (see TestDockerBuildStageBuildsFromItsContextAlone)
// with VERSION=test and writes the binary its go build line makes to out.
func opsReplayBuildStage(t *testing.T, root, prog, out string) {
	t.Helper()
	ctxDir := filepath.Join(root, opsBuildContext[prog])
	patterns := opsIgnorePatterns(t, opsDockerignore(root, prog))
	df := opsParseDockerfile(t, filepath.Join(root, prog, "Dockerfile"))
	image := t.TempDir() // the build stage's filesystem
	workdir := "/"
	var copied []string
	for _, in := range df.stages()[0] {
		switch in.cmd {
		case "WORKDIR":
			workdir = path.Join(workdir, in.args)
		case "COPY":
			if strings.HasPrefix(in.args, "--") {
				t.Fatalf("%s:%d: COPY flags are not replayed: %s", df.path, in.line, in.args)
			}
			w := strings.Fields(in.args)
			dest := w[len(w)-1]
			if !path.IsAbs(dest) {
				dest = path.Join(workdir, dest)
			}
			for _, src := range w[:len(w)-1] {
				src = path.Clean(src)
				n := 0
				err := filepath.WalkDir(filepath.Join(ctxDir, src), func(p string, d os.DirEntry, err error) error {
					if err != nil {
						return err
					}
					rel, _ := filepath.Rel(ctxDir, p)
					rel = filepath.ToSlash(rel)
					if d.IsDir() || opsIgnored(patterns, rel) {
						return nil
					}
					// A directory source copies its contents; a file source goes into dest/.
					inner, _ := filepath.Rel(filepath.Join(ctxDir, src), p)
					target := filepath.Join(image, dest, filepath.ToSlash(inner))
					if inner == "." {
						target = filepath.Join(image, dest, path.Base(rel))
					}
					b, err := os.ReadFile(p)
					if err != nil {
						return err
					}
					if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
						return err
					}
					copied = append(copied, rel)
					n++
					return os.WriteFile(target, b, 0o644)
				})
				if err != nil || n == 0 {
					t.Fatalf("%s:%d: COPY %s: nothing in the build context (%v)", df.path, in.line, src, err)
				}
			}
		}
	}
	for _, f := range copied {
		if strings.HasSuffix(f, "_test.go") || f == ".env" || strings.HasPrefix(f, "secrets/") {
			t.Errorf("the image's build stage receives %s", f)
		}
	}
	b := df.goBuild(t)
	cmd := exec.Command("go", opsBuildArgs(t, b.args, map[string]string{"VERSION": "test"}, out)...)
	cmd.Dir = filepath.Join(image, workdir)
	cmd.Env = append(os.Environ(), append(b.env, "GOFLAGS=-mod=readonly")...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build in the replayed build stage (%s): %v\n%s", cmd.Dir, err, msg)
	}
}
