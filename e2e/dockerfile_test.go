package e2e

// The Dockerfiles, read as text: no Docker engine here, so what can be checked is what
// they say. Whether they build is checked by opsBuild, which runs their go build line.

import (
	"os"
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
			build := df.stages()[0]
			idx := func(f func(opsInstruction) bool) int { return slices.IndexFunc(build, f) }
			mods := idx(func(in opsInstruction) bool {
				w := strings.Fields(in.args)
				return in.cmd == "COPY" && slices.Contains(w, "go.mod") && slices.Contains(w, "go.sum")
			})
			download := idx(func(in opsInstruction) bool { return in.cmd == "RUN" && strings.Contains(in.args, "go mod download") })
			sources := idx(func(in opsInstruction) bool { return in.cmd == "COPY" && strings.HasPrefix(in.args, ". ") })
			if mods < 0 || download < 0 || sources < 0 || !(mods < download && download < sources) {
				t.Errorf("want COPY go.mod go.sum, then RUN go mod download, then COPY . (got positions %d, %d, %d)", mods, download, sources)
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
		{"the .dockerignore keeps tests out but everything the build needs in", func(t *testing.T, prog string, df opsDockerfile) {
			b, err := os.ReadFile(filepath.Join(root, prog, ".dockerignore"))
			if err != nil {
				t.Fatal(err)
			}
			var patterns []string
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
					patterns = append(patterns, l)
				}
			}
			for _, needed := range []string{"go.mod", "go.sum", "main.go", "internal/config/config.go"} {
				for _, p := range patterns {
					if ok, _ := filepath.Match(p, needed); ok || p == "*" || p == "**" || p == "." {
						t.Errorf("pattern %q would keep %s out of the build context", p, needed)
					}
				}
			}
			if !slices.Contains(patterns, "**/*_test.go") {
				t.Errorf("patterns %q do not exclude **/*_test.go", patterns)
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
