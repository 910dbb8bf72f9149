package e2e

// The Markdown documentation as a reader follows it: every relative link in README.md,
// docs/*.md and bench/results/*.md leads to a file that exists, and every #anchor to a
// heading of that file, spelled the way GitHub renders it.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// docsLinkRe finds inline Markdown links [text](target); code spans are removed first.
var docsLinkRe = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)\)`)

// docsCodeSpanRe matches an inline code span, whose brackets are not links.
var docsCodeSpanRe = regexp.MustCompile("`[^`]*`")

// docsHeadingRe matches an ATX heading line outside code blocks.
var docsHeadingRe = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)

// docsProse returns the lines of a Markdown file that are not inside a fenced code block.
func docsProse(text string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// docsSlug is GitHub's anchor for a heading: lower case, every character that is not a
// letter, digit, space, '-' or '_' dropped, spaces turned into '-'.
func docsSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// docsAnchors returns the anchors GitHub gives the headings of a Markdown file; a repeated
// heading gets -1, -2, … appended.
func docsAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	for _, line := range docsProse(text) {
		m := docsHeadingRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		slug := docsSlug(m[1])
		if n := seen[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

// docsBrokenLinks returns one line for each relative link of the Markdown file at path
// (inside root) whose file or anchor does not exist.
func docsBrokenLinks(root, path string) ([]string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rel, _ := filepath.Rel(root, path)
	var broken []string
	for n, line := range docsProse(string(text)) {
		line = docsCodeSpanRe.ReplaceAllString(line, "")
		for _, m := range docsLinkRe.FindAllStringSubmatch(line, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
			}
			if r, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(r, "..") {
				broken = append(broken, fmt.Sprintf("%s (prose line %d): %s leads outside the repository", rel, n+1, target))
				continue
			}
			info, err := os.Stat(dest)
			if err != nil {
				broken = append(broken, fmt.Sprintf("%s (prose line %d): %s: no such file", rel, n+1, target))
				continue
			}
			if anchor == "" {
				continue
			}
			if info.IsDir() || !strings.HasSuffix(dest, ".md") {
				broken = append(broken, fmt.Sprintf("%s (prose line %d): %s: an anchor into something that is not a Markdown file", rel, n+1, target))
				continue
			}
			destText, err := os.ReadFile(dest)
			if err != nil {
				return nil, err
			}
			if !docsAnchors(string(destText))[anchor] {
				broken = append(broken, fmt.Sprintf("%s (prose line %d): %s: no heading with anchor #%s", rel, n+1, target, anchor))
			}
		}
	}
	return broken, nil
}

func TestDocsLinksResolve(t *testing.T) {
	root := opsRepoRoot(t)
	files := []string{filepath.Join(root, "README.md")}
	for _, pattern := range []string{"docs/*.md", "bench/results/*.md"} {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	links := 0
	for _, f := range files {
		broken, err := docsBrokenLinks(root, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range broken {
			t.Error(b)
		}
		text, _ := os.ReadFile(f)
		links += len(docsLinkRe.FindAll(text, -1))
	}
	if links < 20 {
		t.Errorf("found only %d links in %d files: is the link pattern still right?", links, len(files))
	}
}

// The checker itself, on documents written for the purpose: it must catch each kind of
// broken link and accept the GitHub spellings of anchors.
func TestDocsLinkCheckerCatchesBrokenLinks(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docs/b.md", "# B\n\n## Stopping: SIGTERM drains, SIGINT does not\n\n### Who may ask (`auth.mode`)\n\n## Notes\n\n## Notes\n\n```sh\n# not a heading\n```\n")
	write("dir/keep", "")
	tests := []struct {
		name string
		doc  string
		want string // "" = no broken link
	}{
		{"a heading with punctuation is found by its GitHub anchor", "[s](docs/b.md#stopping-sigterm-drains-sigint-does-not)", ""},
		{"code and dots drop out of an anchor", "[w](docs/b.md#who-may-ask-authmode)", ""},
		{"a repeated heading's second anchor ends in -1", "[n](docs/b.md#notes-1)", ""},
		{"a link to a directory is fine", "[d](dir/)", ""},
		{"a web link is not followed", "[g](https://example.com/x#y)", ""},
		{"brackets in a code span are not a link", "`[x](nowhere.md)`", ""},
		{"a missing file is reported", "[m](docs/missing.md)", "no such file"},
		{"a missing anchor is reported", "[a](docs/b.md#stopping)", "no heading with anchor #stopping"},
		{"a comment in a code block is not a heading", "[c](docs/b.md#not-a-heading)", "no heading with anchor #not-a-heading"},
		{"a third anchor of a heading seen twice is reported", "[n](docs/b.md#notes-2)", "no heading with anchor #notes-2"},
		{"an anchor of this file must exist too", "# Top\n[t](#top) [u](#bottom)", "no heading with anchor #bottom"},
		{"an anchor into a directory is reported", "[d](dir/#x)", "not a Markdown file"},
		{"a link out of the repository is reported", "[o](../outside.md)", "leads outside the repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write("a.md", tt.doc+"\n")
			broken, err := docsBrokenLinks(root, filepath.Join(root, "a.md"))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(broken, "\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("broken links = %q, want %q", got, tt.want)
			}
		})
	}
}

// The README is the first screen: it opens with the two commands and stays short, the
// rest lives in docs/, so a newcomer is running the stack before reading the details.
func TestReadmeOpensWithTheTwoCommandsAndStaysShort(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(opsRepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	if len(lines) > 200 {
		t.Errorf("README.md has %d lines, want at most 200: move details into docs/", len(lines))
	}
	firstBlock := ""
	if _, rest, ok := strings.Cut(string(text), "```sh\n"); ok {
		firstBlock, _, _ = strings.Cut(rest, "```")
	}
	for _, cmd := range []string{"make run", "make test"} {
		if !strings.Contains(firstBlock, cmd) {
			t.Errorf("README.md's first code block does not show %q:\n%s", cmd, firstBlock)
		}
	}
	if strings.Count(string(text[:strings.Index(string(text), firstBlock)]), "\n## ") > 0 {
		t.Error("README.md has a section before the two commands")
	}
}

// docsRefRe finds a pointer from code, config or a page to a doc and, optionally, a section
// of it: `docs/security.md: Securing the token server` or `docs/security.md, "Securing …"`.
var docsRefRe = regexp.MustCompile(`docs/([a-z0-9-]+\.md)(?:(?:, |: )\\?"?([A-Z][^".)\\]*))?`)

// TestDocReferencesInCodeResolve checks that what the programs print, the page says and the
// config files' comments send a reader to (a docs/*.md file and a section of it) exists.
func TestDocReferencesInCodeResolve(t *testing.T) {
	root := opsRepoRoot(t)
	refs := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") && name != ".ci" || name == "node_modules" || name == "bin" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case strings.HasSuffix(name, "_test.go"), strings.HasSuffix(name, ".md"):
			return nil
		case strings.HasSuffix(name, ".go"), strings.HasSuffix(name, ".js"), strings.HasSuffix(name, ".html"),
			strings.HasSuffix(name, ".yaml"), strings.HasSuffix(name, ".yml"), strings.HasSuffix(name, ".sh"),
			name == "Makefile", name == "Dockerfile", name == ".env.example", name == "run":
		default:
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, m := range docsRefRe.FindAllStringSubmatch(string(text), -1) {
			refs++
			doc, err := os.ReadFile(filepath.Join(root, "docs", m[1]))
			if err != nil {
				t.Errorf("%s points at docs/%s, which does not exist", rel, m[1])
				continue
			}
			if m[2] != "" && !docsAnchors(string(doc))[docsSlug(strings.TrimSpace(m[2]))] {
				t.Errorf("%s points at docs/%s, section %q, which has no such heading", rel, m[1], m[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if refs == 0 {
		t.Error("no reference to docs/*.md found in code or configs: is the pattern still right?")
	}
}
