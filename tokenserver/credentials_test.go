package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// repoWith lays out a repository as a fresh clone has it: go.work at the root,
// tokenserver/ below it, and files (relative to the root) as given.
func repoWith(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.work"] = "go 1.26\n"
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "tokenserver"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestTheTokenServerAloneReadsTheDotEnvMakeRunReads(t *testing.T) {
	dotEnv := "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE=" + testCert + "\n"
	for _, sub := range []string{".", "tokenserver"} {
		t.Run("started from "+sub, func(t *testing.T) {
			root := repoWith(t, map[string]string{".env": dotEnv})
			s := startRunIn(t, filepath.Join(root, sub), env())
			_, body := get(t, s.url+"/readyz")
			if !strings.Contains(string(body), `"mode":"live"`) || !strings.Contains(string(body), testAppID) {
				t.Fatalf("/readyz: %s\n%s", body, s.stderr)
			}
			if strings.Contains(s.stderr.String(), "DEMO MODE") {
				t.Errorf("demo mode although the root .env has AGORA_APP_ID and AGORA_APP_CERTIFICATE:\n%s", s.stderr)
			}
		})
	}
}

func TestTheDemoWarningNamesTheFilesAndNamesItLookedFor(t *testing.T) {
	// A .env without credentials, as configs/.env.example is before it is filled in.
	root := repoWith(t, map[string]string{".env": "# AGORA_APP_ID=\nPORT_WEBDEMO=9000\n"})
	dir := filepath.Join(root, "tokenserver")
	s := startRunIn(t, dir, env())
	var msg string
	for _, r := range s.stderr.Records(t, "") {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, "DEMO MODE") {
			msg = m
		}
	}
	if msg == "" {
		t.Fatalf("no DEMO MODE warning:\n%s", s.stderr)
	}
	for _, want := range []string{
		filepath.Join(dir, ".env"), filepath.Join(root, ".env"),
		"AGORA_APP_ID", "AGORA_APP_CERTIFICATE", "AGORA_APP_CERTIFICATE_FILE",
		"TOKENSERVER_AGORA_APP_ID", "APP_ID", "APP_CERTIFICATE", "no config file",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the warning does not name %q:\n%s", want, msg)
		}
	}
}

func TestHostileDotEnvFilesAreRefusedWithoutQuotingThem(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // in the error
	}{
		{name: "a line that is not NAME=value", body: "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE " + testCert + "\n",
			want: "not a valid .env file"},
		{name: "a command substitution is not run and the value is refused as a certificate",
			body: "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE=$(touch PWNED)" + testCert + "\n",
			want: "config: agora.app_certificate: must be 32 hex characters"},
		{name: "a certificate with a character too many is refused by length",
			body: "AGORA_APP_ID=" + testAppID + "\nAGORA_APP_CERTIFICATE=" + testCert + "0\n",
			want: "config: agora.app_certificate: must be 32 hex characters (got 33)"},
		{name: "an App ID without a certificate is not demo mode but an error",
			body: "AGORA_APP_ID=" + testAppID + "\n",
			want: "config: agora.app_certificate: required when agora.app_id is set"},
		{name: "a .env of 100 KiB is refused before it is parsed",
			body: "AGORA_APP_CERTIFICATE=" + testCert + "\n#" + strings.Repeat("x", 100<<10) + "\n",
			want: "larger than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := repoWith(t, map[string]string{".env": tt.body})
			dir := filepath.Join(root, "tokenserver")
			t.Chdir(dir)
			var out, errOut bytes.Buffer
			// A start that wrongly succeeds serves until the deadline, then returns nil.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, []string{"tokenserver", "serve", "--listen", "127.0.0.1:0"}, env(), &out, &errOut)
			if err == nil {
				t.Fatal("the token server started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error()+out.String()+errOut.String(), testCert) {
				t.Error("the certificate from .env appears in the error or the output")
			}
			if _, err := os.Stat("PWNED"); err == nil {
				t.Error("a command in .env was run")
			}
		})
	}
	t.Run("a FIFO named .env is refused instead of blocking the start", func(t *testing.T) {
		root := repoWith(t, map[string]string{})
		if err := mkfifo(filepath.Join(root, ".env")); err != nil {
			t.Skipf("no FIFO here: %v", err)
		}
		t.Chdir(filepath.Join(root, "tokenserver"))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := run(ctx, []string{"tokenserver", "serve", "--listen", "127.0.0.1:0"}, env(), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(root, ".env")+": not a regular file") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("a .env above a directory outside any repository is not read", func(t *testing.T) {
		parent := t.TempDir()
		if err := os.WriteFile(filepath.Join(parent, ".env"), []byte("AGORA_APP_ID=x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(parent, "service")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := startRunIn(t, dir, env())
		if !strings.Contains(s.stderr.String(), "DEMO MODE") {
			t.Errorf("want demo mode: the .env of the parent directory is not this program's:\n%s", s.stderr)
		}
	})
}

func TestMintTakesTheHTTPRouteWordsForATokenType(t *testing.T) {
	t.Chdir(t.TempDir())
	tests := []struct{ name, word, same string }{
		{name: "rtm, as in /rtm/{uid}, is a Signaling token", word: "rtm", same: "signaling"},
		{name: "chat-account, as in /chat/account/{uid}, is a chat user token", word: "chat-account", same: "chat-user"},
	}
	services := func(t *testing.T, typ string) []accesstoken.Service {
		out, err := runCLI(t, "mint", "--type", typ, "--uid", "alice", "--expire", "600")
		if err != nil {
			t.Fatalf("--type %s: %v", typ, err)
		}
		tok, err := accesstoken.Parse(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		return tok.Services
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := services(t, tt.word), services(t, tt.same); !reflect.DeepEqual(got, want) {
				t.Errorf("--type %s: %+v, want the services of --type %s: %+v", tt.word, got, tt.same, want)
			}
		})
	}
	t.Run("a word that is neither is still refused, naming the flag", func(t *testing.T) {
		_, err := runCLI(t, "mint", "--type", "RTM", "--uid", "alice")
		if err == nil || !strings.Contains(err.Error(), "--type") {
			t.Errorf("error %v", err)
		}
	})
}
