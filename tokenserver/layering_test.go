package main

import (
	"go/parser"
	"go/token"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The token service is the one door to minting, inspecting and diagnosing;
// the HTTP layer and the command line both call it. If it, or the command
// line's code, ever imports the HTTP package or gin, a rule could drift into
// one door only and the command line would link a web framework again.
var transportPackages = []string{"github.com/gin-gonic/", "signaling-auth/tokenserver/internal/api"}

func TestTheTokenServiceImportsNoTransport(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not found: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", "signaling-auth/tokenserver/internal/tokens").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "signaling-auth/tokenserver/internal/accesstoken") {
		t.Fatalf("go list -deps printed too little to judge: %q", deps)
	}
	for _, d := range deps {
		for _, bad := range transportPackages {
			if strings.HasPrefix(d, bad) {
				t.Errorf("package tokens depends on %s", d)
			}
		}
	}
}

// The command line's own files (serve, in the same package main, is the
// HTTP door and may import api).
func TestTheCommandLineCallsTheTokenServiceNotTheHTTPLayer(t *testing.T) {
	for _, file := range []string{"cli.go", "doctor.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			paths = append(paths, p)
			for _, bad := range transportPackages {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s", file, p)
				}
			}
		}
		if !slices.Contains(paths, "signaling-auth/tokenserver/internal/tokens") {
			t.Errorf("%s does not import the token service (imports %q)", file, paths)
		}
	}
}
