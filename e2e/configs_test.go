package e2e

// configs/<program>.yaml against the programs themselves: every key the program knows is
// in its file with the program's default, the file has no key the program does not know,
// and the real config loader (the binary) accepts the file and refuses broken copies.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// opsListenFlags are the flags that move a program's listeners to free loopback ports.
var opsListenFlags = map[string][]string{
	"tokenserver": {"--listen", "127.0.0.1:0"},
	"corsproxy":   {"--listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0"},
	"webdemo":     {"--listen", "127.0.0.1:0"},
}

// opsHelpFlagRe reads one pflag usage line: "  --token.max_expiry string   help (default "24h")".
// Defaults are shown as (default "x") or (env NAME, default "x").
var opsHelpFlagRe = regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9_.-]+)(?: (\S+))?\s{2,}(.*)$`)
var opsHelpDefaultRe = regexp.MustCompile(`[(, ]default ("(?:[^"\\]|\\.)*"|[^)\s]*)\)$`)

// opsProgramKeys asks the program for its flags (`help`, `--help` or `serve --help`,
// whichever lists them) and returns every configuration flag with the default it shows;
// a flag shown without one defaults to "". The flags are named exactly as the keys
// (CONVENTIONS.md), so this is the program's key list.
func opsProgramKeys(t *testing.T, bin string) map[string]string {
	t.Helper()
	var tried []string
	for _, args := range [][]string{{"help"}, {"--help"}, {"serve", "--help"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if keys := opsParseHelp(string(out)); err == nil && len(keys) > 0 {
			return keys
		}
		tried = append(tried, fmt.Sprintf("$ %s %s (%v)\n%s", filepath.Base(bin), strings.Join(args, " "), err, out))
	}
	t.Fatalf("no way of asking %s lists its configuration flags:\n%s", bin, strings.Join(tried, "\n"))
	return nil
}

// opsParseHelp reads pflag usage lines into flag → default.
func opsParseHelp(out string) map[string]string {
	keys := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		m := opsHelpFlagRe.FindStringSubmatch(line)
		if m == nil || m[1] == "config" || m[1] == "help" {
			continue
		}
		def := ""
		if d := opsHelpDefaultRe.FindStringSubmatch(m[3]); d != nil {
			def = d[1]
			if u, err := strconv.Unquote(def); err == nil {
				def = u
			}
			def = strings.TrimSuffix(strings.TrimPrefix(def, "["), "]")
		}
		keys[m[1]] = def
	}
	return keys
}

// opsFileKeys flattens a YAML config file to dotted keys with scalar values as text
// (lists comma-joined, null as "").
func opsFileKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				name := k
				if prefix != "" {
					name = prefix + "." + k
				}
				walk(name, sub)
			}
		case []any:
			parts := make([]string, len(v))
			for i, e := range v {
				parts[i] = fmt.Sprint(e)
			}
			out[prefix] = strings.Join(parts, ",")
		case nil:
			out[prefix] = ""
		default:
			out[prefix] = fmt.Sprint(v)
		}
	}
	walk("", doc)
	return out
}

func TestConfigFilesHoldEveryKeyWithTheProgramsDefault(t *testing.T) {
	root := opsRepoRoot(t)
	for _, prog := range opsPrograms {
		t.Run(prog+": every key the program knows is in configs/"+prog+".yaml with its default, and no other", func(t *testing.T) {
			opsRequirePrograms(t, prog)
			bin := opsBuild(t, prog)[prog]
			want := opsProgramKeys(t, bin)
			got := opsFileKeys(t, filepath.Join(root, "configs", prog+".yaml"))

			var missing, unknown, differ []string
			for k, def := range want {
				v, ok := got[k]
				switch {
				case !ok:
					missing = append(missing, k)
				case v != def:
					differ = append(differ, fmt.Sprintf("%s: file %q, program %q", k, v, def))
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					unknown = append(unknown, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(unknown)
			sort.Strings(differ)
			if len(missing) > 0 {
				t.Errorf("keys missing from the file: %s", strings.Join(missing, ", "))
			}
			if len(unknown) > 0 {
				t.Errorf("keys in the file the program does not know: %s", strings.Join(unknown, ", "))
			}
			for _, d := range differ {
				t.Errorf("default differs: %s", d)
			}
		})
	}
}

// opsListeningRe finds the "listening" record in text or JSON logs.
var opsListeningRe = regexp.MustCompile(`(msg=listening|"msg":"listening")`)

func TestConfigFilesLoadThroughTheRealLoaderAndBrokenCopiesAreRefused(t *testing.T) {
	root := opsRepoRoot(t)
	for _, prog := range opsPrograms {
		t.Run(prog, func(t *testing.T) {
			opsRequirePrograms(t, prog)
			bin := opsBuild(t, prog)[prog]
			shipped := filepath.Join(root, "configs", prog+".yaml")
			orig, err := os.ReadFile(shipped)
			if err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=/usr/bin:/bin"}

			t.Run("the shipped file starts the program", func(t *testing.T) {
				argv := append([]string{bin, "--config", shipped}, opsListenFlags[prog]...)
				p := opsStart(t, prog, argv, env, t.TempDir())
				if err := opsEventually(20*time.Second, func() error {
					if opsListeningRe.MatchString(p.out.String()) {
						return nil
					}
					if p.exited() {
						return fmt.Errorf("exited: %v", p.err)
					}
					return fmt.Errorf("no listening line yet")
				}); err != nil {
					t.Fatalf("%s --config %s: %v\n%s", prog, shipped, err, p.out.String())
				}
				if err := p.stop(); err != nil {
					t.Errorf("on SIGTERM: %v, want exit 0\n%s", err, p.out.String())
				}
			})

			// The first nested key (e.g. "  level:"), misspelt.
			nested := regexp.MustCompile(`(?m)^(  +)([a-z_]+):`).FindStringSubmatch(string(orig))
			if nested == nil {
				t.Fatalf("%s has no nested key", shipped)
			}
			typo := nested[2] + "_typo"
			broken := []struct {
				name     string
				content  string
				wantLine []string // each must appear in the error output
			}{
				{
					name:     "a key the program does not know is refused and named",
					content:  string(orig) + "\nno_such_key: 1\n",
					wantLine: []string{"no_such_key"},
				},
				{
					name:     "a misspelt nested key is refused and named",
					content:  strings.Replace(string(orig), nested[0], nested[1]+typo+":", 1),
					wantLine: []string{typo},
				},
				{
					name:     "a listen address that is not host:port is refused, naming the key",
					content:  regexp.MustCompile(`(?m)^listen:.*$`).ReplaceAllString(string(orig), `listen: "not an address"`),
					wantLine: []string{"listen", "not an address"},
				},
				{
					name:     "a file that is not YAML is refused",
					content:  "listen: [unclosed\n",
					wantLine: []string{"config"},
				},
			}
			for _, tc := range broken {
				t.Run(tc.name, func(t *testing.T) {
					f := filepath.Join(t.TempDir(), prog+".yaml")
					if err := os.WriteFile(f, []byte(tc.content), 0o644); err != nil {
						t.Fatal(err)
					}
					// No listen flags: they would hide a broken listen key, and a refused
					// file never gets as far as binding.
					cmd := exec.Command(bin, "--config", f)
					cmd.Env = env
					cmd.Dir = t.TempDir()
					done := make(chan struct{})
					var out []byte
					var err error
					go func() { out, err = cmd.CombinedOutput(); close(done) }()
					select {
					case <-done:
					case <-time.After(20 * time.Second):
						_ = cmd.Process.Kill()
						<-done
						t.Fatalf("still running 20s after start with a broken config:\n%s", out)
					}
					if err == nil {
						t.Fatalf("exit 0 with a broken config:\n%s", out)
					}
					text := string(out)
					for _, w := range tc.wantLine {
						if !strings.Contains(text, w) {
							t.Errorf("error output does not name %q:\n%s", w, text)
						}
					}
					if strings.Contains(text, "goroutine ") || opsListeningRe.MatchString(text) {
						t.Errorf("want a clean refusal before listening:\n%s", text)
					}
				})
			}
		})
	}
}

// TestConfigKeysAreDocumented checks each program's doc, docs/<program>.md, links its key
// table docs/config-<program>.md, and that table names every key the program accepts (as
// asked from the binary), so a key the program knows is never left out of the docs.
func TestConfigKeysAreDocumented(t *testing.T) {
	root := opsRepoRoot(t)
	for _, prog := range opsPrograms {
		t.Run(prog+": docs/config-"+prog+".md names every key and docs/"+prog+".md links it", func(t *testing.T) {
			opsRequirePrograms(t, prog)
			doc, err := os.ReadFile(filepath.Join(root, "docs", prog+".md"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(doc), "](config-"+prog+".md)") {
				t.Errorf("docs/%s.md does not link config-%s.md", prog, prog)
			}
			table, err := os.ReadFile(filepath.Join(root, "docs", "config-"+prog+".md"))
			if err != nil {
				t.Fatal(err)
			}
			bin := opsBuild(t, prog)[prog]
			var missing []string
			for k := range opsProgramKeys(t, bin) {
				env := strings.ToUpper(prog) + "_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
				// A row of its own: "| `key` | `ENV` |".
				if !strings.Contains(string(table), "\n| `"+k+"` | `"+env+"` |") {
					missing = append(missing, k)
				}
			}
			slices.Sort(missing)
			if len(missing) > 0 {
				t.Errorf("docs/config-%s.md has no row for %s (go generate ./internal/config in %s/)", prog, strings.Join(missing, ", "), prog)
			}
		})
	}
}
