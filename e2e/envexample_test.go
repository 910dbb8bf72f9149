//go:build linux

package e2e

// configs/.env.example is the one list of variables: what make run and both compose files
// read is in it, nothing in it is unused, and copied as-is to .env it still starts
// everything in demo mode.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/dotenv"
)

// opsEnvExample reads configs/.env.example the way docker compose reads .env.
func opsEnvExample(t *testing.T) (path string, vars map[string]string) {
	t.Helper()
	path = filepath.Join(opsRepoRoot(t), "configs", ".env.example")
	vars, err := dotenv.Read(path)
	if err != nil {
		t.Fatalf("docker compose cannot read %s: %v", path, err)
	}
	return path, vars
}

func TestEnvExampleListsEveryVariableAndNothingElse(t *testing.T) {
	root := opsRepoRoot(t)
	_, vars := opsEnvExample(t)

	used := map[string]string{} // variable → first file that reads it
	read := func(file string, re *regexp.Regexp) {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := used[m[1]]; !ok {
				used[m[1]] = file
			}
		}
	}
	interpolated := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`)
	read("docker-compose.yml", interpolated)
	read("docker-compose.proxy-only.yml", interpolated)
	// run.sh's own knobs; the programs' TOKENSERVER_* etc. are documented per program.
	read("scripts/run.sh", regexp.MustCompile(`\b(AGORA_[A-Z_]+|PORT_[A-Z_]+|RUN_[A-Z_]+|VERSION)\b`))
	delete(used, "RUN_ENV_FILE") // names the file itself, so it cannot be set inside it

	var missing, unused []string
	for v, file := range used {
		if _, ok := vars[v]; !ok {
			missing = append(missing, v+" ("+file+")")
		}
	}
	for v := range vars {
		if _, ok := used[v]; !ok {
			unused = append(unused, v)
		}
	}
	sort.Strings(missing)
	sort.Strings(unused)
	if len(missing) > 0 {
		t.Errorf(".env.example lacks %s", strings.Join(missing, ", "))
	}
	if len(unused) > 0 {
		t.Errorf(".env.example lists %s, which nothing reads", strings.Join(unused, ", "))
	}

	// Every variable has a comment right above it (or above its group).
	b, _ := os.ReadFile(filepath.Join(root, "configs", ".env.example"))
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") && k != "" {
			if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
				t.Errorf(".env.example: %s has no comment above it", k)
			}
		}
	}
}

func TestEnvExampleCopiedAsIsStartsEverythingInDemoMode(t *testing.T) {
	path, vars := opsEnvExample(t)

	t.Run("docker compose loads it and mounts the placeholder secret", func(t *testing.T) {
		p := opsMustLoadCompose(t, "docker-compose.yml", vars)
		if got := p.Secrets["agora_app_certificate"].File; filepath.Base(got) != "no-certificate" {
			t.Errorf("secret file %s, want the placeholder", got)
		}
		var published []string
		for _, s := range p.Services {
			for _, port := range s.Ports {
				published = append(published, port.Published)
			}
		}
		sort.Strings(published)
		if want := []string{"8080", "8081", "9000", "9091"}; !slices.Equal(published, want) {
			t.Errorf("published ports %q, want %q", published, want)
		}
	})

	t.Run("the proxy-only file refuses it until UPSTREAM_URL is filled in", func(t *testing.T) {
		if _, err := opsLoadCompose(t, "docker-compose.proxy-only.yml", vars); err == nil || !strings.Contains(err.Error(), "UPSTREAM_URL") {
			t.Errorf("error %v, want one naming UPSTREAM_URL", err)
		}
	})

	t.Run("make run reads it and serves tokens in demo mode", func(t *testing.T) {
		opsRequirePrograms(t, opsPrograms...)
		r := opsStartMakeRun(t, path) // its PORT_* values lose to the test's free ports
		r.waitLine(t, regexp.MustCompile(`^Open http://`), opsMakeRunReady)
		demo := r.ports["PORT_WEBDEMO"]
		opsCheckTokenPath(t, fmt.Sprintf("http://localhost:%d", r.ports["PORT_CORSPROXY"]), fmt.Sprintf("http://localhost:%d", demo), "", "")
		if !strings.Contains(r.out.String(), "demo mode") {
			t.Errorf("make run did not say the token server runs in demo mode:\n%s", r.out.String())
		}
		resp, _ := opsGet(t, http.MethodGet, fmt.Sprintf("http://localhost:%d/authentication_guide/", demo), nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the page answers %d", resp.StatusCode)
		}
	})
}
