package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDotEnvIsReadFromTheWorkingDirectoryAndTheRepositoryRoot(t *testing.T) {
	const otherID, otherCert = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
	tests := []struct {
		name     string
		files    map[string]string // relative to the repository root
		sub      string            // where the token server starts
		env      map[string]string
		wantID   string
		wantCert string
	}{
		{name: "AGORA_ names in the root .env, started from tokenserver/",
			files: map[string]string{".env": "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE=" + testCert + "\n"},
			sub:   "tokenserver", wantID: testAppID, wantCert: testCert},
		{name: "the .env of the working directory wins over the root's, name by name",
			files: map[string]string{".env": "AGORA_APP_ID=" + otherID + "\nAGORA_APP_CERTIFICATE=" + testCert + "\n",
				"tokenserver/.env": "AGORA_APP_ID=" + testAppID + "\n"},
			sub: "tokenserver", wantID: testAppID, wantCert: testCert},
		{name: "AGORA_ names win over APP_ names, as make run reads them",
			files: map[string]string{".env": "APP_ID=" + otherID + "\nAPP_CERTIFICATE=" + otherCert + "\nAGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE=" + testCert + "\n"},
			sub:   ".", wantID: testAppID, wantCert: testCert},
		{name: "TOKENSERVER_ names in the environment win over the .env",
			files: map[string]string{".env": "AGORA_APP_ID=" + otherID + "\nAGORA_APP_CERTIFICATE=" + otherCert + "\n"},
			env:   map[string]string{"TOKENSERVER_AGORA_APP_ID": testAppID, "TOKENSERVER_AGORA_APP_CERTIFICATE": testCert},
			sub:   "tokenserver", wantID: testAppID, wantCert: testCert},
		{name: "quotes, export, comments and CRLF line ends are read as make run reads them",
			files: map[string]string{".env": "# credentials\r\nexport AGORA_APP_ID=\"" + testAppID + "\"\r\nAGORA_APP_CERTIFICATE='" + testCert + "' # from the console\r\n"},
			sub:   "tokenserver", wantID: testAppID, wantCert: testCert},
		{name: "AGORA_APP_CERTIFICATE_FILE names the certificate's file",
			files: map[string]string{".env": "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE_FILE=ROOT/secrets/cert\n", "secrets/cert": testCert + "\n"},
			sub:   "tokenserver", wantID: testAppID, wantCert: testCert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			files := map[string]string{"go.work": "go 1.26\n"}
			for k, v := range tt.files {
				files[k] = v
			}
			if body, ok := files[".env"]; ok {
				files[".env"] = replaceRoot(body, root)
			}
			for name, body := range files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			dir := filepath.Join(root, tt.sub)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := mustLoadIn(t, dir, tt.env)
			if cfg.AppID != tt.wantID || cfg.AppCertificate.Reveal() != tt.wantCert || cfg.Demo {
				t.Errorf("got app_id=%q, certificate matches=%v, demo=%v", cfg.AppID, cfg.AppCertificate.Reveal() == tt.wantCert, cfg.Demo)
			}
		})
	}
}

func TestDotEnvFilesStopAtTheRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "repo", "tokenserver", "internal")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "repo", "go.work"), []byte("go 1.26\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := DotEnvFiles(deep)
	want := []string{filepath.Join(deep, ".env"), filepath.Join(root, "repo", ".env")}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("DotEnvFiles(%s) = %q, want %q", deep, got, want)
	}
	if got := DotEnvFiles(root); len(got) != 1 {
		t.Errorf("outside a repository: %q, want only the directory's own .env", got)
	}
}

func replaceRoot(s, root string) string { return strings.ReplaceAll(s, "ROOT", root) }

func mustLoadIn(t *testing.T, dir string, env map[string]string) Config {
	t.Helper()
	cfg, err := loadIn(t, dir, nil, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}
