package deploy

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// oneHostExample is the values file that puts the page, the proxy and the token server
// behind one Ingress host.
const oneHostExample = "helm/examples/one-host.yaml"

// route answers which Service an Ingress sends a request for host and path to, as
// Kubernetes defines Ingress matching: an Exact path first, else the longest Prefix path
// matching whole path elements. "" when no rule matches.
func route(ing *networkingv1.Ingress, host, reqPath string) string {
	best, bestLen := "", -1
	for _, rule := range ing.Spec.Rules {
		if rule.Host != host || rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			svc := p.Backend.Service.Name
			switch *p.PathType {
			case networkingv1.PathTypeExact:
				if reqPath == p.Path {
					return svc
				}
			case networkingv1.PathTypePrefix:
				prefix := strings.TrimSuffix(p.Path, "/")
				if (prefix == "" || reqPath == prefix || strings.HasPrefix(reqPath, prefix+"/")) && len(prefix) > bestLen {
					best, bestLen = svc, len(prefix)
				}
			}
		}
	}
	return best
}

// TestOneHostExampleLetsABrowserElsewhereLogIn renders the one-host example and follows
// what a browser on another machine does: it opens the page at / on the host, the page
// fetches tokens from proxyUrl + rtm/<uid>/, and that request must reach corsproxy, over
// https (a page on https cannot call http), from an origin corsproxy allows; corsproxy goes
// to this release's token server, which nothing else reaches; each tier believes only the
// peers the example names; the images come from a registry, not the unpublished defaults.
func TestOneHostExampleLetsABrowserElsewhereLogIn(t *testing.T) {
	b, err := os.ReadFile(oneHostExample)
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.UnmarshalStrict(b, &vals); err != nil {
		t.Fatalf("%s: %v", oneHostExample, err)
	}
	linter := lint.RunAll(chartDir, vals, namespace, lint.WithKubeVersion(kubeVersion()))
	for _, m := range linter.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("lint: %s", m.Error())
		}
	}
	r := render(t, vals)
	ing, ok := r.ingresses[releaseName+"-signaling-auth"]
	if !ok || len(r.ingresses) != 1 {
		t.Fatalf("Ingresses %v, want the release's one", sortedKeys(r.ingresses))
	}
	if len(ing.Spec.Rules) != 1 {
		t.Fatalf("%d Ingress rules, want one host", len(ing.Spec.Rules))
	}
	host := ing.Spec.Rules[0].Host

	proxyURL := lookup(configFile(t, r, "webdemo"), "proxy_url").(string)
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != host {
		t.Errorf("webdemo.proxyUrl %s, want https://%s/ (the Ingress host, over TLS)", proxyURL, host)
	}
	tls := false
	for _, e := range ing.Spec.TLS {
		tls = tls || slices.Contains(e.Hosts, host)
	}
	if !tls {
		t.Errorf("no TLS entry covers %s", host)
	}

	for _, c := range []struct{ what, path, to string }{
		{"the page", "/", "webdemo"},
		{"the Authentication Guide page", "/authentication_guide/", "webdemo"},
		{"the page's token request", u.Path + "rtm/alice/", "corsproxy"},
		{"a /v1 token request", u.Path + "v1/tokens", "corsproxy"},
		{"a path corsproxy does not pass on", "/metrics", "webdemo"},
	} {
		if got := route(ing, host, c.path); got != name(c.to) {
			t.Errorf("%s (%s) goes to %q, want %s", c.what, c.path, got, name(c.to))
		}
	}
	// Every path corsproxy passes on (configs/corsproxy.yaml's allowed_paths) reaches it.
	cfg, err := os.ReadFile(filepath.Join("..", "configs", "corsproxy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var defaults struct {
		AllowedPaths []string `json:"allowed_paths"`
	}
	if err := yaml.Unmarshal(cfg, &defaults); err != nil || len(defaults.AllowedPaths) == 0 {
		t.Fatalf("configs/corsproxy.yaml allowed_paths: %v", err)
	}
	for _, p := range defaults.AllowedPaths {
		probe := p
		if strings.HasSuffix(p, "/") {
			probe = p + "x/"
		}
		if got := route(ing, host, probe); got != name("corsproxy") {
			t.Errorf("%s (allowed_paths %s) goes to %q, want corsproxy", probe, p, got)
		}
	}

	origin := "https://" + host
	origins, _ := lookup(configFile(t, r, "corsproxy"), "cors.allowed_origins").([]any)
	if !slices.Contains(origins, any(origin)) {
		t.Errorf("corsproxy allows origins %v; the page's origin %s is not among them", origins, origin)
	}
	if got := lookup(configFile(t, r, "corsproxy"), "upstream"); got != "http://"+name("tokenserver")+":8081" {
		t.Errorf("corsproxy upstream %v, want this release's token server", got)
	}
	if got := reach(t, r)["tokenserver:http"]; !reflect.DeepEqual(got, []string{"corsproxy"}) {
		t.Errorf("the token server is reached by %q, want corsproxy alone", got)
	}
	controllers := lookup(vals, "ingress.controllerAddresses")
	pods := lookup(vals, "networkPolicy.podCIDRs")
	if got := believed(t, r); !reflect.DeepEqual(any(toAny(got["corsproxy"])), controllers) || !reflect.DeepEqual(any(toAny(got["tokenserver"])), pods) {
		t.Errorf("believed %v; want corsproxy the controller (%v), tokenserver the pods behind its policy (%v)", got, controllers, pods)
	}
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if strings.HasPrefix(c.Image, "signaling-auth/") {
				t.Errorf("%s pulls %s: no image is published under that name; push yours (make push)", d.Name, c.Image)
			}
		}
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestOperationsDocCommandsMatchTheChart reads the Helm section of docs/operations.md: it
// sends readers to the one-host example and to make push, says that no image is published,
// builds no image from a context other than the repository root, and every value its
// `helm install` commands set exists in values.yaml (a renamed value would fail the
// reader's install).
func TestOperationsDocCommandsMatchTheChart(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "## Kubernetes (Helm)")
	if start < 0 {
		t.Fatal("docs/operations.md has no Kubernetes (Helm) section")
	}
	section := doc[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, want := range []string{"-f " + "deploy/" + oneHostExample, "make push", "No image is published"} {
		if !strings.Contains(section, want) {
			t.Errorf("the Helm section does not say %q", want)
		}
	}
	vb, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(vb, &values); err != nil {
		t.Fatal(err)
	}
	// Commands continue over lines ending in a backslash.
	commands := strings.Split(strings.ReplaceAll(section, "\\\n", " "), "\n")
	sets := 0
	for _, cmd := range commands {
		cmd = strings.TrimSpace(cmd)
		if i := strings.Index(cmd, "docker build"); i >= 0 && !strings.HasSuffix(cmd[i:], " .") {
			t.Errorf("%q: the build context must be the repository root (.)", cmd[i:])
		}
		if !strings.HasPrefix(cmd, "helm install") {
			continue
		}
		words := strings.Fields(cmd)
		for i := 0; i < len(words)-1; i++ {
			if words[i] != "--set" {
				continue
			}
			for _, kv := range splitSet(strings.ReplaceAll(words[i+1], "'", "")) {
				key, _, _ := strings.Cut(kv, "=")
				sets++
				if _, ok := lookupPresent(values, key); !ok {
					t.Errorf("%s: --set %s: values.yaml has no %s", words[2], kv, key)
				}
			}
		}
	}
	if sets == 0 {
		t.Fatal("no helm install --set found in the Helm section")
	}
}

// splitSet splits a --set argument at the commas outside {lists}.
func splitSet(arg string) []string {
	var out []string
	depth, from := 0, 0
	for i, r := range arg {
		switch r {
		case '{':
			depth++
		case '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, arg[from:i])
				from = i + 1
			}
		}
	}
	return append(out, arg[from:])
}

// lookupPresent follows a dotted key through values and reports whether it exists.
func lookupPresent(m map[string]any, key string) (any, bool) {
	var v any = m
	for _, part := range strings.Split(key, ".") {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = sub[part]; !ok {
			return nil, false
		}
	}
	return v, true
}
