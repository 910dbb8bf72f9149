package accesstoken

import (
	"errors"
	"testing"
)

// FuzzParse checks that no input makes Parse panic and that whatever it accepts is
// well-formed. The seed corpus in testdata/fuzz/FuzzParse (valid tokens of every kind,
// other languages' tokens, truncated, trailing-data, wrong-version and zlib-bomb inputs)
// runs with every plain `go test`.
func FuzzParse(f *testing.F) {
	f.Add(refRTCToken)
	f.Add(refRTCTokenZ)
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if tok != nil {
				t.Fatal("Parse returned a token and an error")
			}
			if !errors.Is(err, ErrVersion) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrVersion nor ErrMalformed", err)
			}
			return
		}
		if tok.Version != version {
			t.Errorf("Version %q", tok.Version)
		}
		for _, s := range tok.Services {
			for i := 1; i < len(s.Privileges); i++ {
				if s.Privileges[i-1].Privilege >= s.Privileges[i].Privilege {
					t.Errorf("privileges of %v not strictly ascending: %v", s.Type, s.Privileges)
				}
			}
		}
		_ = tok.Verify(vecCert)
		if !tok.ExpiresAt().After(tok.IssuedAt()) && tok.Expire != 0 {
			t.Errorf("ExpiresAt %v not after IssuedAt %v", tok.ExpiresAt(), tok.IssuedAt())
		}
	})
}
