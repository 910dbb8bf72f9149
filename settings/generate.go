package settings

import (
	"fmt"
	"strconv"
	"strings"
)

// YAML is configs/<program>.yaml: the header, then every key with its
// default under its Doc as a comment, nested by the dots in its name.
func (p *Program) YAML() []byte {
	var b strings.Builder
	comment := func(indent, text string) {
		for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
			b.WriteString(strings.TrimRight(indent+"# "+strings.TrimSpace(line), " ") + "\n")
		}
	}
	comment("", p.Header)
	var open []string // the sections written so far, outermost first
	for _, k := range p.Keys {
		parts := strings.Split(k.Name, ".")
		parent := parts[:len(parts)-1]
		if k.Kind == Section {
			parent = parts
		}
		same := 0
		for same < len(open) && same < len(parent) && open[same] == parent[same] {
			same++
		}
		if same == 0 || k.Kind == Section && same < len(parent) {
			b.WriteString("\n")
		}
		if k.Kind == Section {
			comment(strings.Repeat("  ", len(parent)-1), k.Doc)
		}
		for i := same; i < len(parent); i++ {
			b.WriteString(strings.Repeat("  ", i) + parent[i] + ":\n")
		}
		open = parent
		if k.Kind == Section {
			continue
		}
		indent := strings.Repeat("  ", len(parent))
		comment(indent, k.Doc)
		fmt.Fprintf(&b, "%s%s: %s\n", indent, parts[len(parts)-1], yamlValue(k))
	}
	return []byte(b.String())
}

func yamlValue(k Key) string {
	switch k.Kind {
	case List:
		var q []string
		for s := range strings.SplitSeq(k.Default, ",") {
			if s != "" {
				q = append(q, strconv.Quote(s))
			}
		}
		return "[" + strings.Join(q, ", ") + "]"
	case String:
		return strconv.Quote(k.Default)
	default:
		return k.Default
	}
}

// Markdown is docs/config-<program>.md: one table row per key with its
// environment variable, default and doc.
func (p *Program) Markdown() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s configuration keys\n\n", p.Name)
	fmt.Fprintf(&b, "Generated from the key table in `%s/internal/config` by `go generate`; do not edit.\n", p.Name)
	fmt.Fprintf(&b, "Every key is also a flag (`--key`) and an environment variable; lists are comma-separated there.\n")
	fmt.Fprintf(&b, "Precedence: defaults < `%s` (or `--config FILE`) < environment < flags.\n\n", p.DefaultFile())
	b.WriteString("| key | environment | default | what it does |\n|---|---|---|---|\n")
	for _, k := range p.values() {
		def := "`" + k.Default + "`"
		if k.Default == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", k.Name, p.EnvName(k.Name), def, strings.ReplaceAll(oneLine(k.Doc), "|", `\|`))
	}
	return []byte(b.String())
}
