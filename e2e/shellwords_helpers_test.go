package e2e

// Shell words: the part of POSIX shell quoting that Dockerfiles and make run's scripts use.

import (

	// "binary" is the browser tests' helper
	"encoding/json"
	"strings"
	"testing"
)

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
