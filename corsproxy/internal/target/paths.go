package target

import (
	"errors"
	"fmt"
	"strings"
)

// Paths is the allowlist of request paths (allowed_paths): which paths at
// the upstream the proxy passes on. An entry that ends in "/" is a prefix
// ("/rtm/" allows /rtm/alice/ and everything else below /rtm/); any other
// entry is one exact path ("/getToken" allows /getToken and nothing else, not
// even /getToken/). "/" alone allows every path.
//
// A path matches an entry only if both its form as sent (percent-encoding
// kept) and its decoded form do, so an encoded slash cannot make a path look
// like it lies below a prefix to one reader and not to another; /rtm%2Fx is
// not below /rtm/. Paths with . or .. segments, or starting with //, are
// refused by Resolve before this list is consulted, so nothing can step out
// of a prefix either.
//
// A nil *Paths allows every path.
type Paths struct {
	exact    map[string]bool
	prefixes []string
}

// maxPathEntry bounds one allowed_paths entry.
const maxPathEntry = 1024

// CheckPath reports what is wrong with one allowed_paths entry, or nil. An
// entry starts with "/", and has only letters, digits, "-", "_", ".", "~" and
// "/" (no percent-encoding, query, wildcard or space), no empty segment
// ("//") and no "." or ".." segment.
func CheckPath(entry string) error {
	switch {
	case entry == "":
		return errors.New("must not be empty")
	case len(entry) > maxPathEntry:
		return fmt.Errorf("must be at most %d bytes", maxPathEntry)
	case entry[0] != '/':
		return errors.New(`must start with "/"`)
	}
	for i := 0; i < len(entry); i++ {
		c := entry[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			return fmt.Errorf("must hold only letters, digits, -, _, ., ~ and / (found %q)", c)
		}
	}
	if strings.Contains(entry, "//") {
		return errors.New(`must not have an empty segment ("//")`)
	}
	if hasDotSegment(entry) {
		return errors.New("must not have . or .. segments")
	}
	return nil
}

// ParsePaths returns the allowlist of entries, each checked by CheckPath;
// the error names every bad entry, one per line. No entries means every
// path: ParsePaths then returns nil.
func ParsePaths(entries []string) (*Paths, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	p := &Paths{exact: map[string]bool{}}
	var errs []error
	for _, e := range entries {
		if err := CheckPath(e); err != nil {
			errs = append(errs, fmt.Errorf("%q %v", e, err))
			continue
		}
		if strings.HasSuffix(e, "/") {
			p.prefixes = append(p.prefixes, e)
		} else {
			p.exact[e] = true
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Allows reports whether a request path may be passed on: path is its
// decoded form, raw its form as sent.
func (p *Paths) Allows(path, raw string) bool {
	if p == nil {
		return true
	}
	if p.exact[path] && path == raw {
		return true
	}
	for _, pre := range p.prefixes {
		if strings.HasPrefix(path, pre) && strings.HasPrefix(raw, pre) {
			return true
		}
	}
	return false
}
