// Package settings is the configuration machinery every program of
// signaling-auth shares. A program describes its keys once, in a table
// (name, kind, default, doc); from that table come the flags and --help, the
// environment names, the commented configs/<program>.yaml and the key table
// in docs/config-<program>.md. Load merges defaults < YAML file <
// environment < flags through viper, refuses keys the table does not know,
// and hands out typed getters that collect every problem, one
// "config: key: what is wrong (got X)" line each. Checks that span keys stay
// in each program.
package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Kind says how a key is written; it picks the YAML form and flag behaviour.
type Kind int

// The kinds of key. Section is no value: its Doc heads a group of keys in the YAML file.
const (
	String Kind = iota
	List
	Bool
	Int
	Duration
	Section
)

// Key is one configuration key. Default is written as it would be in the
// environment (lists comma-separated). Doc is the YAML comment, wrapped
// as wanted; --help and the docs show it on one line.
type Key struct {
	Name    string
	Kind    Kind
	Default string
	Doc     string
}

// Alias is an extra environment variable for a key, read by programs that
// replace others (APP_ID for agora.app_id). Aliases rank below the prefixed
// names; Convert, when set, turns the value into the key's form.
type Alias struct {
	Env, Key string
	Convert  func(string) (string, error)
}

// Program is one program's configuration surface.
type Program struct {
	Name      string // "tokenserver": the file is configs/<Name>.yaml
	EnvPrefix string // "TOKENSERVER_"
	Header    string // comment at the top of the YAML file
	Keys      []Key
	Aliases   []Alias
}

// DefaultFile is the file read when no --config is given and it exists,
// relative to the working directory.
func (p *Program) DefaultFile() string { return "configs/" + p.Name + ".yaml" }

// EnvName is a key's environment variable: log.level → PREFIX_LOG_LEVEL.
func (p *Program) EnvName(key string) string {
	return p.EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// values are the keys that hold a value (not Section).
func (p *Program) values() []Key {
	return slices.DeleteFunc(slices.Clone(p.Keys), func(k Key) bool { return k.Kind == Section })
}

// AddFlags registers --config and one flag per key, named as the key. Flags
// are strings so that a flag goes through the same parser as the file and
// the environment.
func (p *Program) AddFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (default: "+p.DefaultFile()+" if it exists; env "+p.EnvPrefix+"CONFIG)")
	for _, k := range p.values() {
		fs.String(k.Name, "", fmt.Sprintf("%s (env %s, default %q)", oneLine(k.Doc), p.EnvName(k.Name), k.Default))
		if k.Kind == Bool {
			fs.Lookup(k.Name).NoOptDefVal = "true" // --flag alone means true
		}
	}
}

// Usage is the flags' help, one line per key.
func (p *Program) Usage() string {
	fs := pflag.NewFlagSet(p.Name, pflag.ContinueOnError)
	fs.SortFlags = false
	p.AddFlags(fs)
	return fs.FlagUsages()
}

// Parse is Load for a program whose command line holds only these flags:
// args without the program name. --help writes the usage to usage and
// returns pflag.ErrHelp.
func (p *Program) Parse(args []string, getenv func(string) string, usage io.Writer) (*Values, error) {
	fs := pflag.NewFlagSet(p.Name, pflag.ContinueOnError)
	fs.SetOutput(usage)
	fs.SortFlags = false
	p.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("config: %v (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected argument %q (flags are --key=value; see --help)", fs.Arg(0))
	}
	return p.Load(Source{Flags: fs, Getenv: getenv})
}

// Source is where Load reads from.
type Source struct {
	Flags  *pflag.FlagSet      // parsed, with AddFlags registered; nil: no flags
	Getenv func(string) string // the process environment; nil: none
	Dir    string              // working directory, for the default file and relative --config
}

// maxFileBytes bounds the config file; a larger one is a mistake.
const maxFileBytes = 1 << 20

// Load merges defaults < file < environment < flags. A file that cannot be
// read or is not YAML is an error at once; unknown keys in it and value
// problems are collected and reported by Values.Err.
func (p *Program) Load(src Source) (*Values, error) {
	getenv := src.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	v := viper.New()
	for _, k := range p.values() {
		v.SetDefault(k.Name, k.Default)
	}
	vals := &Values{v: v}
	var err error
	if vals.File, vals.problems, err = p.readFile(v, src, getenv); err != nil {
		return nil, err
	}
	// v.Set outranks the file; later Sets win, so aliases < ours < flags.
	for _, a := range p.Aliases {
		s := getenv(a.Env)
		if s == "" {
			continue
		}
		if a.Convert != nil {
			if s, err = a.Convert(s); err != nil {
				vals.Fail(a.Env, "%v", err)
				continue
			}
		}
		v.Set(a.Key, s)
	}
	for _, k := range p.values() {
		if s := getenv(p.EnvName(k.Name)); s != "" {
			v.Set(k.Name, s)
		}
	}
	if src.Flags != nil {
		for _, k := range p.values() {
			if f := src.Flags.Lookup(k.Name); f != nil && f.Changed {
				v.Set(k.Name, f.Value.String())
			}
		}
	}
	return vals, nil
}

// readFile merges the config file into v and returns one problem per key
// the table lacks.
func (p *Program) readFile(v *viper.Viper, src Source, getenv func(string) string) (string, []string, error) {
	path, explicit := "", true
	if src.Flags != nil {
		if f := src.Flags.Lookup("config"); f != nil && f.Changed {
			path = f.Value.String()
		}
	}
	if path == "" {
		path = getenv(p.EnvPrefix + "CONFIG")
	}
	if path == "" {
		path, explicit = p.DefaultFile(), false
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(src.Dir, path)
	}
	data, err := readLimited(path)
	if !explicit && errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("config: --config %s: cannot read: %w", path, err)
	}
	fv := viper.New()
	fv.SetConfigType("yaml")
	if err := fv.ReadConfig(bytes.NewReader(data)); err != nil {
		return "", nil, fmt.Errorf("config: %s: not valid YAML: %s", path, yamlReason(err))
	}
	known, sections := map[string]bool{}, map[string]bool{}
	for _, k := range p.Keys {
		known[k.Name] = k.Kind != Section
		for i := range k.Name {
			if k.Name[i] == '.' {
				sections[k.Name[:i]] = true
			}
		}
	}
	var problems []string
	all := fv.AllKeys()
	slices.Sort(all)
	for _, k := range all {
		switch {
		case known[k]:
			v.Set(k, fv.Get(k)) // as Set, but below the environment and flags Set later
		case sections[k]:
			problems = append(problems, fmt.Sprintf("config: %s: %s: must be a mapping of keys", path, k))
		default:
			problems = append(problems, fmt.Sprintf("config: %s: unknown key %q", path, k))
		}
	}
	return path, problems, nil
}

// readLimited reads a regular file of at most maxFileBytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxFileBytes)
	}
	return data, nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// yamlReason keeps the parser's position but not the quoted text around it,
// which could be a secret.
func yamlReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "yaml: "); i >= 0 {
		msg = msg[i:]
	}
	if i := strings.IndexAny(msg, "\"`'"); i >= 0 {
		msg = msg[:i]
	}
	return oneLine(msg)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
