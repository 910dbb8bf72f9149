package e2e

// docker-compose.yml and docker-compose.proxy-only.yml, loaded with compose-go the way
// `docker compose` loads them: first what they declare, then the three real binaries
// started with exactly the command, environment and files compose would give them.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// opsLoadCompose loads a compose file from the repository root with env as the only
// variables for interpolation: no .env, no process environment, so the test sees what a
// fresh clone sees.
func opsLoadCompose(t testing.TB, file string, env map[string]string) (*types.Project, error) {
	t.Helper()
	root := opsRepoRoot(t)
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, file)},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(list),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

func opsMustLoadCompose(t testing.TB, file string, env map[string]string) *types.Project {
	t.Helper()
	p, err := opsLoadCompose(t, file, env)
	if err != nil {
		t.Fatalf("loading %s: %v", file, err)
	}
	return p
}

// opsEnv returns a service's environment variable ("" when absent or valueless).
func opsEnv(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

// opsComposeDockerfile is the Dockerfile a service builds with, as an absolute path.
func opsComposeDockerfile(s types.ServiceConfig) string {
	if filepath.IsAbs(s.Build.Dockerfile) {
		return s.Build.Dockerfile
	}
	return filepath.Join(s.Build.Context, s.Build.Dockerfile)
}

// opsCheckHardened checks what every service of ours must have, whichever file it is in.
func opsCheckHardened(t *testing.T, s types.ServiceConfig) {
	t.Helper()
	root := opsRepoRoot(t)
	if !s.ReadOnly {
		t.Errorf("%s: read_only is not true", s.Name)
	}
	if !slices.Equal(s.CapDrop, []string{"ALL"}) {
		t.Errorf("%s: cap_drop = %q, want [ALL]", s.Name, s.CapDrop)
	}
	if !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("%s: security_opt = %q, want no-new-privileges:true", s.Name, s.SecurityOpt)
	}
	if !slices.Contains([]string{"unless-stopped", "always", "on-failure"}, s.Restart) {
		t.Errorf("%s: restart = %q, want a policy that restarts", s.Name, s.Restart)
	}

	// Built with its module's Dockerfile from the context that module needs (its own
	// directory, or the root when it builds with the sibling modules settings and ratelimit).
	if s.Build == nil {
		t.Fatalf("%s: no build section", s.Name)
	}
	if want := filepath.Join(root, opsBuildContext[s.Name]); s.Build.Context != want {
		t.Errorf("%s: build context %s, want %s", s.Name, s.Build.Context, want)
	}
	dockerfile := opsComposeDockerfile(s)
	if want := filepath.Join(root, s.Name, "Dockerfile"); dockerfile != want {
		t.Errorf("%s: dockerfile %s, want %s", s.Name, dockerfile, want)
	}
	for _, f := range []string{dockerfile, filepath.Join(root, s.Name, "go.mod"), filepath.Join(root, s.Name, "go.sum")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: build lacks %s: %v", s.Name, filepath.Base(f), err)
		}
	}
	if _, ok := s.Build.Args["VERSION"]; !ok {
		t.Errorf("%s: build args do not pass VERSION", s.Name)
	}

	// Healthcheck: the binary's own subcommand, at the path the image puts it.
	df := opsParseDockerfile(t, dockerfile)
	eps := df.all("ENTRYPOINT")
	if len(eps) != 1 {
		t.Fatalf("%s: Dockerfile has %d ENTRYPOINTs, want 1", s.Name, len(eps))
	}
	entry := opsExecForm(t, eps[0].args)
	if s.HealthCheck == nil || s.HealthCheck.Disable {
		t.Fatalf("%s: no healthcheck", s.Name)
	}
	if test := s.HealthCheck.Test; len(test) < 3 || test[0] != "CMD" || test[1] != entry[0] || test[2] != "healthcheck" {
		t.Errorf("%s: healthcheck test %q, want [CMD %s healthcheck …]", s.Name, test, entry[0])
	}
	if s.HealthCheck.Interval == nil || s.HealthCheck.Timeout == nil || s.HealthCheck.Retries == nil {
		t.Errorf("%s: healthcheck lacks interval, timeout or retries", s.Name)
	}

	// Its config file: mounted read-only from configs/, and named by --config.
	var cfgTarget string
	for i, a := range s.Command {
		if a == "--config" && i+1 < len(s.Command) {
			cfgTarget = s.Command[i+1]
		}
	}
	if cfgTarget == "" {
		t.Fatalf("%s: command %q has no --config", s.Name, s.Command)
	}
	var mounted bool
	for _, v := range s.Volumes {
		if v.Target != cfgTarget {
			continue
		}
		mounted = true
		if v.Type != types.VolumeTypeBind || !v.ReadOnly {
			t.Errorf("%s: %s is mounted as %s, read_only=%v; want a read-only bind mount", s.Name, v.Target, v.Type, v.ReadOnly)
		}
		if want := filepath.Join(root, "configs", s.Name+".yaml"); v.Source != want {
			t.Errorf("%s: %s comes from %s, want %s", s.Name, v.Target, v.Source, want)
		}
		if _, err := os.Stat(v.Source); err != nil {
			t.Errorf("%s: mounted config file: %v", s.Name, err)
		}
	}
	if !mounted {
		t.Errorf("%s: --config %s is not a mounted file", s.Name, cfgTarget)
	}

	// Published ports: exactly what the image exposes.
	var exposed, published []string
	for _, in := range df.all("EXPOSE") {
		exposed = append(exposed, strings.Fields(in.args)...)
	}
	for _, p := range s.Ports {
		published = append(published, strconv.Itoa(int(p.Target)))
	}
	sort.Strings(exposed)
	sort.Strings(published)
	if !slices.Equal(exposed, published) {
		t.Errorf("%s: publishes container ports %q, the image exposes %q", s.Name, published, exposed)
	}
}

func TestComposeFileDeclaresTheThreeServicesWiredLikeMakeRun(t *testing.T) {
	p := opsMustLoadCompose(t, "docker-compose.yml", nil)

	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"corsproxy", "tokenserver", "webdemo"}; !slices.Equal(names, want) {
		t.Fatalf("services %q, want %q", names, want)
	}

	tests := []struct {
		name      string
		service   string
		ports     map[uint32]string // container port → published host port, with no .env
		dependsOn string            // must wait until this one is healthy
		env       map[string]string // wiring that make run sets the same way
	}{
		{
			name:    "the token server listens on 8081 and depends on nothing",
			service: "tokenserver",
			ports:   map[uint32]string{8081: "8081"},
			env:     map[string]string{"TOKENSERVER_LISTEN": ":8081"},
		},
		{
			name:      "the proxy forwards to the token server by service name and allows the page's origin",
			service:   "corsproxy",
			ports:     map[uint32]string{8080: "8080", 9091: "9091"},
			dependsOn: "tokenserver",
			env: map[string]string{
				"CORSPROXY_LISTEN":               ":8080",
				"CORSPROXY_ADMIN_LISTEN":         ":9091",
				"CORSPROXY_UPSTREAM":             "http://tokenserver:8081",
				"CORSPROXY_CORS_ALLOWED_ORIGINS": "http://localhost:9000,http://127.0.0.1:9000",
			},
		},
		{
			name:      "the page tells the browser the proxy's published address",
			service:   "webdemo",
			ports:     map[uint32]string{9000: "9000"},
			dependsOn: "corsproxy",
			env: map[string]string{
				"WEBDEMO_LISTEN":    ":9000",
				"WEBDEMO_PROXY_URL": "http://localhost:8080/",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := p.Services[tc.service]
			opsCheckHardened(t, s)

			got := map[uint32]string{}
			for _, port := range s.Ports {
				got[port.Target] = port.Published
				if port.HostIP != "127.0.0.1" {
					t.Errorf("port %d is published on %q, want 127.0.0.1 only", port.Target, port.HostIP)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.ports) {
				t.Errorf("ports %v, want %v", got, tc.ports)
			}

			var deps []string
			for d, cfg := range s.DependsOn {
				deps = append(deps, d)
				if cfg.Condition != types.ServiceConditionHealthy {
					t.Errorf("depends_on %s: condition %q, want %s", d, cfg.Condition, types.ServiceConditionHealthy)
				}
			}
			var want []string
			if tc.dependsOn != "" {
				want = []string{tc.dependsOn}
			}
			if !slices.Equal(deps, want) {
				t.Errorf("depends_on %q, want %q", deps, want)
			}

			for k, v := range tc.env {
				if got := opsEnv(s, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestComposeCertificateIsASecretThatMayBeAbsent(t *testing.T) {
	root := opsRepoRoot(t)
	certFile := filepath.Join(t.TempDir(), "agora_app_certificate")
	tests := []struct {
		name       string
		env        map[string]string
		secretFile string // where the secret is read from
		certEnv    string // TOKENSERVER_AGORA_APP_CERTIFICATE_FILE
		appID      string
	}{
		{
			name:       "without .env the secret is an empty committed placeholder the token server is not told about",
			env:        nil,
			secretFile: filepath.Join(root, "secrets", "no-certificate"),
			certEnv:    "",
		},
		{
			name:       "with AGORA_APP_CERTIFICATE_FILE the token server reads the secret it names",
			env:        map[string]string{"AGORA_APP_ID": opsTestAppID, "AGORA_APP_CERTIFICATE_FILE": certFile},
			secretFile: certFile,
			certEnv:    "/run/secrets/agora_app_certificate",
			appID:      opsTestAppID,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := opsMustLoadCompose(t, "docker-compose.yml", tc.env)
			sec, ok := p.Secrets["agora_app_certificate"]
			if !ok {
				t.Fatal("no secret agora_app_certificate")
			}
			if sec.File != tc.secretFile {
				t.Errorf("secret file %s, want %s", sec.File, tc.secretFile)
			}
			if tc.env == nil {
				st, err := os.Stat(sec.File)
				if err != nil {
					t.Fatalf("placeholder secret file: %v (docker compose up would fail without it)", err)
				}
				if st.Size() != 0 {
					t.Errorf("placeholder secret file has %d bytes, want an empty file", st.Size())
				}
			}
			ts := p.Services["tokenserver"]
			if got := opsEnv(ts, "TOKENSERVER_AGORA_APP_CERTIFICATE_FILE"); got != tc.certEnv {
				t.Errorf("TOKENSERVER_AGORA_APP_CERTIFICATE_FILE = %q, want %q", got, tc.certEnv)
			}
			if !slices.ContainsFunc(ts.Secrets, func(s types.ServiceSecretConfig) bool { return s.Source == "agora_app_certificate" }) {
				t.Error("tokenserver does not mount the secret agora_app_certificate")
			}
			for _, svc := range []string{"tokenserver", "webdemo"} {
				if got := opsEnv(p.Services[svc], strings.ToUpper(svc)+"_AGORA_APP_ID"); got != tc.appID {
					t.Errorf("%s: AGORA_APP_ID reaches it as %q, want %q", svc, got, tc.appID)
				}
			}
			// The certificate reaches nobody else, and never as a plain variable.
			for name, s := range p.Services {
				for k := range s.Environment {
					if strings.Contains(k, "CERTIFICATE") && k != "TOKENSERVER_AGORA_APP_CERTIFICATE_FILE" {
						t.Errorf("%s: environment has %s; the certificate travels only as a secret", name, k)
					}
				}
				if name != "tokenserver" && len(s.Secrets) > 0 {
					t.Errorf("%s: mounts secrets %v; only the token server needs the certificate", name, s.Secrets)
				}
			}
		})
	}
}

func TestComposeProxyOnlyNeedsAnUpstreamAndOrigins(t *testing.T) {
	full := map[string]string{"UPSTREAM_URL": "https://tokens.example.com", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" means it loads
	}{
		{name: "without UPSTREAM_URL it refuses to load and names the variable", env: map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"}, wantErr: "UPSTREAM_URL"},
		{name: "with an empty UPSTREAM_URL it refuses to load", env: map[string]string{"UPSTREAM_URL": "", "CORS_ALLOWED_ORIGINS": "https://app.example.com"}, wantErr: "UPSTREAM_URL"},
		{name: "without CORS_ALLOWED_ORIGINS it refuses to load and names the variable", env: map[string]string{"UPSTREAM_URL": "https://tokens.example.com"}, wantErr: "CORS_ALLOWED_ORIGINS"},
		{name: "with both it runs corsproxy alone in front of that upstream", env: full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := opsLoadCompose(t, "docker-compose.proxy-only.yml", tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Services) != 1 {
				t.Fatalf("%d services, want corsproxy alone", len(p.Services))
			}
			s, ok := p.Services["corsproxy"]
			if !ok {
				t.Fatal("no corsproxy service")
			}
			opsCheckHardened(t, s)
			if got := opsEnv(s, "CORSPROXY_UPSTREAM"); got != tc.env["UPSTREAM_URL"] {
				t.Errorf("CORSPROXY_UPSTREAM = %q, want %q", got, tc.env["UPSTREAM_URL"])
			}
			if got := opsEnv(s, "CORSPROXY_CORS_ALLOWED_ORIGINS"); got != tc.env["CORS_ALLOWED_ORIGINS"] {
				t.Errorf("CORSPROXY_CORS_ALLOWED_ORIGINS = %q, want %q", got, tc.env["CORS_ALLOWED_ORIGINS"])
			}
			if _, ok := s.ExtraHosts["host.docker.internal"]; !ok {
				t.Error("no extra_hosts entry for host.docker.internal: a token server on the Docker host is unreachable on Linux")
			}
			for _, port := range s.Ports {
				if port.Target == 9091 && port.HostIP != "127.0.0.1" {
					t.Errorf("the admin port is published on %q; metrics stay on 127.0.0.1", port.HostIP)
				}
			}
		})
	}
}

// --- the stack, started natively as compose would start it ---------------------------------

// opsNative is how compose would start one service, translated to this machine.
type opsNative struct {
	argv, health, env []string
}

var opsListenRe = regexp.MustCompile(`^(0\.0\.0\.0)?:(\d+)$`)
var opsURLHostRe = regexp.MustCompile(`^(https?://)([A-Za-z0-9.-]+):(\d+)(.*)$`)

// opsNativeService translates service s of project p: the image's /app/<prog> becomes the
// binary built from its Dockerfile, mounted files and secrets become their host files,
// service names and extra_hosts become 127.0.0.1 (with a container port becoming its
// published port), and a listen address on a container port becomes 127.0.0.1:<published>.
// The environment is exactly the service's, plus the image's PATH: nothing is inherited.
func opsNativeService(t *testing.T, p *types.Project, s types.ServiceConfig, bins map[string]string) opsNative {
	t.Helper()
	published := func(svc string, target int) (string, bool) {
		for _, port := range p.Services[svc].Ports {
			if int(port.Target) == target {
				return port.Published, true
			}
		}
		return "", false
	}
	files := map[string]string{}
	for _, v := range s.Volumes {
		files[v.Target] = v.Source
	}
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = "/run/secrets/" + sec.Source
		} else if !filepath.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		files[target] = p.Secrets[sec.Source].File
	}
	mapValue := func(v string) string {
		if f, ok := files[v]; ok {
			return f
		}
		if strings.HasPrefix(v, "/app/") {
			if b, ok := bins[strings.TrimPrefix(v, "/app/")]; ok {
				return b
			}
		}
		if m := opsListenRe.FindStringSubmatch(v); m != nil {
			port, _ := strconv.Atoi(m[2])
			if pub, ok := published(s.Name, port); ok {
				return "127.0.0.1:" + pub
			}
			t.Fatalf("%s: listens on container port %d, which it does not publish", s.Name, port)
		}
		var parts []string
		for _, item := range strings.Split(v, ",") {
			if m := opsURLHostRe.FindStringSubmatch(item); m != nil {
				host, port := m[2], m[3]
				if _, ok := p.Services[host]; ok {
					n, _ := strconv.Atoi(port)
					pub, ok := published(host, n)
					if !ok {
						t.Fatalf("%s: calls %s on port %s, which that service does not publish", s.Name, host, port)
					}
					item = m[1] + "127.0.0.1:" + pub + m[4]
				} else if _, ok := s.ExtraHosts[host]; ok {
					item = m[1] + "127.0.0.1:" + port + m[4]
				}
			}
			parts = append(parts, item)
		}
		return strings.Join(parts, ",")
	}
	mapArgs := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = mapValue(a)
		}
		return out
	}

	df := opsParseDockerfile(t, opsComposeDockerfile(s))
	entry := s.Entrypoint
	if len(entry) == 0 {
		entry = opsExecForm(t, df.all("ENTRYPOINT")[0].args)
	}
	n := opsNative{
		argv:   mapArgs(append(append([]string{}, entry...), s.Command...)),
		health: mapArgs(s.HealthCheck.Test[1:]),
		env:    []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
	}
	var keys []string
	for k := range s.Environment {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := s.Environment[k]; v != nil {
			n.env = append(n.env, k+"="+mapValue(*v))
		}
	}
	return n
}

// opsStartInOrder starts every service of p once the services it depends on answer their
// healthcheck, as `docker compose up` does with condition: service_healthy. Each runs in
// its own empty working directory, like a container whose WORKDIR holds nothing.
func opsStartInOrder(t *testing.T, p *types.Project, bins map[string]string) (order []string, procs map[string]*opsProc, dirs map[string]string) {
	t.Helper()
	procs = map[string]*opsProc{}
	dirs = map[string]string{}
	for len(order) < len(p.Services) {
		progressed := false
		var names []string
		for name := range p.Services {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			s := p.Services[name]
			if procs[name] != nil {
				continue
			}
			ready := true
			for dep := range s.DependsOn {
				if procs[dep] == nil {
					ready = false
				}
			}
			if !ready {
				continue
			}
			n := opsNativeService(t, p, s, bins)
			dirs[name] = t.TempDir()
			procs[name] = opsStart(t, name, n.argv, n.env, dirs[name])
			opsWaitHealthy(t, procs[name], n.health, n.env, 30*time.Second)
			order = append(order, name)
			progressed = true
		}
		if !progressed {
			t.Fatalf("depends_on has a cycle or names a missing service: started %q", order)
		}
	}
	return order, procs, dirs
}

// opsStopAll stops the services in reverse start order with SIGTERM, as `docker compose
// down` does, and checks each exits 0 (a graceful shutdown) and wrote nothing to its
// working directory (the container's root filesystem is read-only).
func opsStopAll(t *testing.T, order []string, procs map[string]*opsProc, dirs map[string]string, secret string) {
	t.Helper()
	for i := len(order) - 1; i >= 0; i-- {
		name := order[i]
		p := procs[name]
		if err := p.stop(); err != nil {
			t.Errorf("%s: on SIGTERM exited with %v, want status 0\n%s", name, err, p.out.String())
		}
		if entries, _ := os.ReadDir(dirs[name]); len(entries) > 0 {
			t.Errorf("%s wrote %s into its working directory; its container's filesystem is read-only", name, entries[0].Name())
		}
		if secret != "" && strings.Contains(p.out.String(), secret) {
			t.Errorf("%s printed the App Certificate", name)
		}
	}
}

func TestComposeStackServesThePageAndTokensWhenStartedAsComposeWould(t *testing.T) {
	opsRequirePrograms(t, opsPrograms...)
	bins := opsBuild(t, opsPrograms...)

	certFile := filepath.Join(t.TempDir(), "agora_app_certificate")
	if err := os.WriteFile(certFile, []byte(opsTestCertificate), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		env         map[string]string
		appID, cert string // what the tokens must show; "" = demo mode, not checked
	}{
		{
			name:  "with an App ID in .env and the certificate as a secret, tokens are signed with it",
			env:   map[string]string{"AGORA_APP_ID": opsTestAppID, "AGORA_APP_CERTIFICATE_FILE": certFile},
			appID: opsTestAppID, cert: opsTestCertificate,
		},
		{
			name: "with no .env at all the stack starts in demo mode and still hands out tokens",
			env:  map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ports := map[string]int{}
			for _, k := range []string{"PORT_TOKENSERVER", "PORT_CORSPROXY", "PORT_CORSPROXY_ADMIN", "PORT_WEBDEMO"} {
				ports[k] = freePort(t)
				tc.env[k] = strconv.Itoa(ports[k])
			}
			p := opsMustLoadCompose(t, "docker-compose.yml", tc.env)
			order, procs, dirs := opsStartInOrder(t, p, bins)
			if want := []string{"tokenserver", "corsproxy", "webdemo"}; !slices.Equal(order, want) {
				t.Errorf("start order %q, want %q", order, want)
			}

			page := fmt.Sprintf("http://127.0.0.1:%d", ports["PORT_WEBDEMO"])
			resp, body := opsGet(t, http.MethodGet, page+"/authentication_guide/", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(strings.ToLower(string(body)), "<html") {
				t.Errorf("GET /authentication_guide/: %d %s, want 200 and an HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			resp, body = opsGet(t, http.MethodGet, page+"/config.json", nil)
			proxyURL := fmt.Sprintf("http://localhost:%d/", ports["PORT_CORSPROXY"])
			if resp.StatusCode != http.StatusOK || !json.Valid(body) {
				t.Errorf("GET /config.json: %d, valid JSON %v", resp.StatusCode, json.Valid(body))
			} else if !strings.Contains(string(body), `"`+proxyURL+`"`) {
				t.Errorf("/config.json does not tell the page the proxy's published URL %s: %s", proxyURL, body)
			}
			if tc.appID != "" && !strings.Contains(string(body), tc.appID) {
				t.Errorf("/config.json does not carry AGORA_APP_ID: %s", body)
			}

			origin := fmt.Sprintf("http://localhost:%d", ports["PORT_WEBDEMO"])
			opsCheckTokenPath(t, fmt.Sprintf("http://127.0.0.1:%d", ports["PORT_CORSPROXY"]), origin, tc.appID, tc.cert)

			opsStopAll(t, order, procs, dirs, opsTestCertificate)
		})
	}
}

func TestComposeProxyOnlyFrontsAnExistingTokenServer(t *testing.T) {
	opsRequirePrograms(t, "tokenserver", "corsproxy")
	bins := opsBuild(t, "tokenserver", "corsproxy")

	// "Someone's existing token server": ours, started by hand on a port of its own.
	tsPort := freePort(t)
	tsEnv := []string{
		"PATH=/usr/bin:/bin",
		"TOKENSERVER_LISTEN=127.0.0.1:" + strconv.Itoa(tsPort),
		"TOKENSERVER_AGORA_APP_ID=" + opsTestAppID,
		"TOKENSERVER_AGORA_APP_CERTIFICATE=" + opsTestCertificate,
	}
	ts := opsStart(t, "tokenserver", []string{bins["tokenserver"]}, tsEnv, t.TempDir())
	opsWaitHealthy(t, ts, []string{bins["tokenserver"], "healthcheck"}, tsEnv, 30*time.Second)

	origin := "https://app.example.com"
	proxyPort, adminPort := freePort(t), freePort(t)
	p := opsMustLoadCompose(t, "docker-compose.proxy-only.yml", map[string]string{
		"UPSTREAM_URL":         fmt.Sprintf("http://host.docker.internal:%d", tsPort),
		"CORS_ALLOWED_ORIGINS": origin,
		"PORT_CORSPROXY":       strconv.Itoa(proxyPort),
		"PORT_CORSPROXY_ADMIN": strconv.Itoa(adminPort),
	})
	order, procs, dirs := opsStartInOrder(t, p, bins)
	opsCheckTokenPath(t, fmt.Sprintf("http://127.0.0.1:%d", proxyPort), origin, opsTestAppID, opsTestCertificate)
	opsStopAll(t, order, procs, dirs, opsTestCertificate)
}
