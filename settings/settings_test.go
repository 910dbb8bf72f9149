package settings

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

var testProgram = Program{
	Name:      "demo",
	EnvPrefix: "DEMO_",
	Header:    "demo configuration.\nSecond line.",
	Keys: []Key{
		{Name: "listen", Default: ":1", Doc: "Where to listen."},
		{Name: "names", Kind: List, Default: "a,b", Doc: "Some names."},
		{Name: "on", Kind: Bool, Default: "false", Doc: "A switch."},
		{Name: "srv", Kind: Section, Doc: "The server."},
		{Name: "srv.count", Kind: Int, Default: "3", Doc: "How many."},
		{Name: "srv.wait", Kind: Duration, Default: "5s", Doc: "How long,\nover two lines."},
		{Name: "srv.deep.secret", Doc: "A secret | with a pipe."},
		{Name: "size", Kind: Int, Default: "1024", Doc: "Bytes."},
	},
	Aliases: []Alias{{Env: "PORT", Key: "listen", Convert: func(s string) (string, error) {
		if s == "bad" {
			return "", fmt.Errorf("must be a port (got %q)", s)
		}
		return ":" + s, nil
	}}},
}

// load runs testProgram.Load in a fresh directory holding the default file
// (when file is not ""), with env as the whole environment and args as flags.
func load(t *testing.T, file string, env map[string]string, args ...string) (*Values, error) {
	t.Helper()
	dir := t.TempDir()
	if file != "" {
		p := filepath.Join(dir, testProgram.DefaultFile())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	testProgram.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return testProgram.Load(Source{Flags: fs, Getenv: func(k string) string { return env[k] }, Dir: dir})
}

func TestPrecedenceDefaultsFileEnvironmentFlags(t *testing.T) {
	file := "listen: \":2\"\nsrv:\n  count: 4\n  wait: 6s\n"
	tests := []struct {
		name  string
		file  string
		env   map[string]string
		args  []string
		count int
		wait  time.Duration
		lis   string
	}{
		{"the defaults hold with nothing set", "", nil, nil, 3, 5 * time.Second, ":1"},
		{"the file overrides a default", file, nil, nil, 4, 6 * time.Second, ":2"},
		{"the environment overrides the file", file, map[string]string{"DEMO_SRV_COUNT": "5"}, nil, 5, 6 * time.Second, ":2"},
		{"a flag overrides the environment", file, map[string]string{"DEMO_SRV_COUNT": "5"}, []string{"--srv.count=6"}, 6, 6 * time.Second, ":2"},
		{"an empty environment variable counts as unset", file, map[string]string{"DEMO_SRV_COUNT": ""}, nil, 4, 6 * time.Second, ":2"},
		{"an alias overrides the file", file, map[string]string{"PORT": "7"}, nil, 4, 6 * time.Second, ":7"},
		{"the prefixed name outranks its alias", file, map[string]string{"PORT": "7", "DEMO_LISTEN": ":8"}, nil, 4, 6 * time.Second, ":8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := load(t, tt.file, tt.env, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			count, wait, lis := vs.Int("srv.count", 0, 10), vs.Duration("srv.wait", 0, Forever), vs.HostPort("listen")
			if err := vs.Err(); err != nil || count != tt.count || wait != tt.wait || lis != tt.lis {
				t.Errorf("got count %d wait %v listen %q (%v); want %d %v %q", count, wait, lis, err, tt.count, tt.wait, tt.lis)
			}
		})
	}
}

func TestTheFileMayOnlyHoldKnownKeys(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string // every line of Err, DIR for the directory
	}{
		{"an unknown top-level key is named", "lisen: \":1\"\n", []string{`config: DIR/configs/demo.yaml: unknown key "lisen"`}},
		{"a misspelt nested key is named", "srv:\n  cuont: 1\n", []string{`config: DIR/configs/demo.yaml: unknown key "srv.cuont"`}},
		{"a key one level too deep is named", "srv:\n  count:\n    x: 1\n", []string{`config: DIR/configs/demo.yaml: unknown key "srv.count.x"`}},
		{"a section written as a value is refused", "srv: 1\n", []string{`config: DIR/configs/demo.yaml: srv: must be a mapping of keys`}},
		{"a section prefix is no key", "sr: 1\n", []string{`config: DIR/configs/demo.yaml: unknown key "sr"`}},
		{"every unknown key is listed, sorted", "b: 1\na: 2\n", []string{`config: DIR/configs/demo.yaml: unknown key "a"`, `config: DIR/configs/demo.yaml: unknown key "b"`}},
		{"the known keys of a file with unknown ones are still checked", "x: 1\nsrv:\n  count: nope\n", []string{`config: DIR/configs/demo.yaml: unknown key "x"`, `config: srv.count: must be a whole number (got "nope")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := load(t, tt.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			vs.Int("srv.count", 0, 10)
			err = vs.Err()
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.Split(err.Error(), "\n")
			for i := range got {
				if j := strings.Index(got[i], "/configs/demo.yaml"); j >= 0 {
					got[i] = "config: DIR" + got[i][j:]
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFilesThatCannotBeRead(t *testing.T) {
	if _, err := load(t, "a: [\n", nil); err == nil || !strings.Contains(err.Error(), "not valid YAML: yaml: line") {
		t.Errorf("broken YAML: %v", err)
	}
	if _, err := load(t, "on: \"unterminated secret-value\n", nil); err == nil || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("a YAML error quotes the file's text: %v", err)
	}
	if _, err := load(t, "", nil, "--config", "nope.yaml"); err == nil || !strings.Contains(err.Error(), "config: --config ") || !strings.Contains(err.Error(), "nope.yaml: cannot read: no such file or directory") {
		t.Errorf("a missing --config file: %v", err)
	}
	if _, err := load(t, "", map[string]string{"DEMO_CONFIG": "/"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory named by DEMO_CONFIG: %v", err)
	}
	if _, err := load(t, "#"+strings.Repeat("x", maxFileBytes), nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversized file: %v", err)
	}
	if vs, err := load(t, "", nil); err != nil || vs.File != "" {
		t.Errorf("no default file: %v, File %q", err, vs.File)
	}
}

func TestListsSplitOnCommasEverywhere(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  string
		args []string
		want []string
	}{
		{"the default", "", "", nil, []string{"a", "b"}},
		{"environment text is split on commas, not spaces", "", "x y, z", nil, []string{"x y", "z"}},
		{"empty entries and repeats are dropped", "", " x,,x , y,", nil, []string{"x", "y"}},
		{"a flag is split on commas", "", "", []string{"--names=p,q"}, []string{"p", "q"}},
		{"a YAML list", "names: [m, n]\n", "", nil, []string{"m", "n"}},
		{"a YAML list entry with a comma is split too", "names: [\"m,n\", o]\n", "", nil, []string{"m", "n", "o"}},
		{"an empty YAML list is empty, not the default", "names: []\n", "", nil, []string{}},
		{"numbers in a YAML list are text", "names: [1, 2]\n", "", nil, []string{"1", "2"}},
		{"a YAML string is split like the environment", "names: \"r, s\"\n", "", nil, []string{"r", "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := load(t, tt.file, map[string]string{"DEMO_NAMES": tt.env}, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := vs.List("names"); !slices.Equal(got, tt.want) || vs.Err() != nil {
				t.Errorf("got %q (%v), want %q", got, vs.Err(), tt.want)
			}
		})
	}
	for _, bad := range []string{"names: {a: 1}\n", "names: [[a]]\n", "names: [{a: 1}]\n"} {
		vs, err := load(t, bad, nil)
		if err == nil {
			vs.List("names")
			err = vs.Err()
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGettersReportEveryProblemOnItsOwnLine(t *testing.T) {
	vs, err := load(t, "", map[string]string{"DEMO_LISTEN": "nope", "DEMO_ON": "maybe", "DEMO_SRV_WAIT": "-1s", "PORT": "bad"},
		"--srv.count=11", "--size=1MB")
	if err != nil {
		t.Fatal(err)
	}
	vs.HostPort("listen")
	vs.Bool("on")
	vs.Int("srv.count", 0, 10)
	vs.Duration("srv.wait", 0, time.Minute)
	vs.Size("size", 1, 1<<20)
	vs.Duration("srv.wait", 0, time.Minute) // asked twice, reported once
	want := []string{
		`config: PORT: must be a port (got "bad")`,
		`config: listen: must be host:port, e.g. :8080 or 127.0.0.1:0 (got "nope")`,
		`config: on: must be true or false (got "maybe")`,
		`config: srv.count: must be 0-10 (got 11)`,
		`config: srv.wait: must be 0s-1m (got -1s)`,
		`config: size: must be a size in bytes like 16384 or 16KiB (got "1MB")`,
	}
	if got := strings.Split(vs.Err().Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestYAMLScalarsOfOtherTypes(t *testing.T) {
	vs, err := load(t, "listen: 12345678901234567890123456789012\non: yes\nsrv:\n  wait: 1.5\n  count: 2.5\nsize: 2\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if vs.String("listen"); !strings.Contains(fmt.Sprint(vs.Err()), "quote the value") {
		t.Errorf("a long number as text: %v", vs.Err())
	}
	if d := vs.Duration("srv.wait", 0, Forever); d != 1500*time.Millisecond {
		t.Errorf("1.5 seconds in YAML = %v", d)
	}
	if vs.Int("srv.count", 0, 10); !strings.Contains(fmt.Sprint(vs.Err()), `srv.count: must be a whole number (got "2.5")`) {
		t.Errorf("a fraction for an int: %v", vs.Err())
	}
	if n := vs.Size("size", 0, 10); n != 2 {
		t.Errorf("size = %d", n)
	}
}

func TestSecretOrFile(t *testing.T) {
	dir := t.TempDir()
	full, empty := filepath.Join(dir, "s"), filepath.Join(dir, "e")
	_ = os.WriteFile(full, []byte("  s3cret-value\n"), 0o600)
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	p := Program{Name: "x", EnvPrefix: "X_", Keys: []Key{{Name: "k"}, {Name: "k_file"}}}
	tests := []struct {
		env     map[string]string
		want    string
		wantKey string
		err     string
	}{
		{map[string]string{"X_K": "inline"}, "inline", "k", ""},
		{map[string]string{"X_K_FILE": full}, "s3cret-value", "k_file", ""},
		{map[string]string{"X_K": "inline", "X_K_FILE": full}, "", "k_file", "config: k_file: set either k or k_file, not both"},
		{map[string]string{"X_K_FILE": empty}, "", "k_file", "config: k_file: " + empty + " is empty"},
		{map[string]string{"X_K_FILE": dir + "/none"}, "", "k_file", "config: k_file: cannot read " + dir + "/none: no such file or directory"},
	}
	for _, tt := range tests {
		vs, err := p.Load(Source{Getenv: func(k string) string { return tt.env[k] }, Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		s, key := vs.SecretOrFile("k", "k_file")
		if s.Reveal() != tt.want || key != tt.wantKey || fmt.Sprint(vs.Err()) != fmt.Sprint(map[bool]any{true: nil, false: tt.err}[tt.err == ""]) {
			t.Errorf("%v: got %q from %s, %v; want %q from %s, %s", tt.env, s.Reveal(), key, vs.Err(), tt.want, tt.wantKey, tt.err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const v = "s3cret-value"
	s := NewSecret(v)
	cfg := struct{ S Secret }{s}
	b, _ := json.Marshal(cfg)
	var sb strings.Builder
	slog.New(slog.NewJSONHandler(&sb, nil)).Info("x", "s", s, "cfg", cfg)
	for _, o := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s), fmt.Sprintf("%+v %#v", cfg, cfg), string(b), sb.String()} {
		if strings.Contains(o, v) || strings.Contains(o, fmt.Sprintf("%x", v)) || !strings.Contains(o, "[redacted]") {
			t.Errorf("leaked or unmarked: %s", o)
		}
	}
	if s.Reveal() != v || NewSecret("").String() != "" || !NewSecret("").IsZero() {
		t.Error("Reveal/IsZero/String of the empty secret")
	}
	if strings.Contains(clip("redis://u:"+v+"@h:1"), v) {
		t.Error("a URL password quoted in an error")
	}
}

func TestGeneratedYAMLHoldsEveryKeyWithItsDefault(t *testing.T) {
	y := string(testProgram.YAML())
	want := `# demo configuration.
# Second line.

# Where to listen.
listen: ":1"

# Some names.
names: ["a", "b"]

# A switch.
on: false

# The server.
srv:
  # How many.
  count: 3
  # How long,
  # over two lines.
  wait: 5s
  deep:
    # A secret | with a pipe.
    secret: ""

# Bytes.
size: 1024
`
	if y != want {
		t.Errorf("got\n%s\nwant\n%s", y, want)
	}
	// Loading it changes nothing, and viper sees every key in it.
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(y)); err != nil {
		t.Fatal(err)
	}
	for _, k := range testProgram.values() {
		if !v.InConfig(k.Name) {
			t.Errorf("%s missing", k.Name)
		}
	}
	vs, err := load(t, y, nil)
	if err != nil || vs.Err() != nil {
		t.Fatal(err, vs.Err())
	}
	if vs.File == "" || !slices.Equal(vs.List("names"), []string{"a", "b"}) || vs.Int("srv.count", 0, 9) != 3 || vs.Bool("on") {
		t.Errorf("the generated file does not load as the defaults")
	}
}

func TestGeneratedMarkdownAndHelpComeFromTheTable(t *testing.T) {
	md := string(testProgram.Markdown())
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	testProgram.AddFlags(fs)
	help := fs.FlagUsages()
	for _, k := range testProgram.values() {
		row := "| `" + k.Name + "` | `" + testProgram.EnvName(k.Name) + "` |"
		if !strings.Contains(md, row) {
			t.Errorf("markdown has no row %s", row)
		}
		line := fmt.Sprintf("(env %s, default %q)", testProgram.EnvName(k.Name), k.Default)
		if !strings.Contains(help, "--"+k.Name) || !strings.Contains(help, line) {
			t.Errorf("--help lacks --%s %s", k.Name, line)
		}
	}
	if !strings.Contains(md, `A secret \| with a pipe.`) || !strings.Contains(help, "How long, over two lines.") {
		t.Errorf("docs are not one line each:\n%s\n%s", md, help)
	}
	if f := fs.Lookup("on"); f.NoOptDefVal != "true" {
		t.Error("--on alone does not mean true")
	}
}

func TestBoundsIncludeBothEnds(t *testing.T) {
	for _, tt := range []struct {
		count, wait, size string
		ok                bool
	}{
		{"2", "1s", "10", true},
		{"5", "1m", "20", true},
		{"1", "1s", "10", false},
		{"6", "1s", "10", false},
		{"2", "999ms", "10", false},
		{"2", "1m0.001s", "10", false},
		{"2", "1s", "9", false},
		{"2", "1s", "21", false},
	} {
		vs, err := load(t, "", map[string]string{"DEMO_SRV_COUNT": tt.count, "DEMO_SRV_WAIT": tt.wait, "DEMO_SIZE": tt.size})
		if err != nil {
			t.Fatal(err)
		}
		vs.Int("srv.count", 2, 5)
		vs.Duration("srv.wait", time.Second, time.Minute)
		vs.Size("size", 10, 20)
		if (vs.Err() == nil) != tt.ok {
			t.Errorf("count %s wait %s size %s: %v, want ok=%v", tt.count, tt.wait, tt.size, vs.Err(), tt.ok)
		}
	}
}

func TestSharedKeysReadTheirValues(t *testing.T) {
	p := Program{Name: "t", EnvPrefix: "T_", Keys: append(append([]Key{}, LogKeys...),
		ServerKeys(ServerDefaults{Listen: ":1", ReadHeader: "1s", Read: "1s", Write: "1s", Idle: "60s", Shutdown: "1s"})...)}
	env := map[string]string{"T_LOG_LEVEL": "warn", "T_LOG_FORMAT": "json", "T_TIMEOUTS_DRAIN": "0", "T_TIMEOUTS_IDLE": "2s"}
	vs, err := p.Load(Source{Getenv: func(k string) string { return env[k] }, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l := vs.Log()
	if l.Level != slog.LevelWarn || l.Format != "json" || vs.Timeouts().Drain != 0 || vs.Timeouts().Idle != 2*time.Second || vs.Err() != nil {
		t.Errorf("read %v %q drain %v idle %v, err %v", l.Level, l.Format, vs.Timeouts().Drain, vs.Timeouts().Idle, vs.Err())
	}
	env = map[string]string{"T_LOG_FORMAT": "xml", "T_TIMEOUTS_DRAIN": "-1s", "T_TIMEOUTS_IDLE": "0"}
	vs, err = p.Load(Source{Getenv: func(k string) string { return env[k] }, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	vs.Log()
	vs.Timeouts()
	msg := fmt.Sprint(vs.Err())
	for _, key := range []string{"log.format", "timeouts.drain", "timeouts.idle"} {
		if !strings.Contains(msg, key) {
			t.Errorf("the error %q does not name %s", msg, key)
		}
	}
}

func TestLogMakesTheLoggerItDescribes(t *testing.T) {
	var b strings.Builder
	Log{Level: slog.LevelWarn, Format: "json"}.Logger(&b).Info("dropped")
	Log{Level: slog.LevelWarn, Format: "json"}.Logger(&b).Warn("kept", "k", 1)
	if out := b.String(); strings.Contains(out, "dropped") || !strings.HasPrefix(out, `{"time":`) || !strings.Contains(out, `"msg":"kept","k":1`) {
		t.Errorf("json at warn wrote %q", out)
	}
	b.Reset()
	Log{Format: "text"}.Logger(&b).Info("hello")
	if out := b.String(); !strings.Contains(out, "level=INFO msg=hello") {
		t.Errorf("text at info wrote %q", out)
	}
}
