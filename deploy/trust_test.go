package deploy

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/engine"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// peer is something that may open a connection to a pod: a pod in a namespace, or a
// client outside the cluster (no namespace).
type peer struct {
	name      string
	namespace map[string]string // labels of its namespace; nil: not a pod
	pod       map[string]string // labels of the pod
}

// peers are who the reachability tables speak of. The release's own pods carry the labels
// the chart gives them (selector labels of their component).
func peers() []peer {
	ns := func(n string) map[string]string { return map[string]string{"kubernetes.io/metadata.name": n} }
	own := func(c string) map[string]string {
		return map[string]string{"app.kubernetes.io/name": "signaling-auth", "app.kubernetes.io/instance": releaseName, "app.kubernetes.io/component": c}
	}
	return []peer{
		{name: "tokenserver", namespace: ns(namespace), pod: own("tokenserver")},
		{name: "corsproxy", namespace: ns(namespace), pod: own("corsproxy")},
		{name: "webdemo", namespace: ns(namespace), pod: own("webdemo")},
		{name: "another pod of the namespace", namespace: ns(namespace), pod: map[string]string{"app": "other"}},
		{name: "ingress controller", namespace: ns("ingress-nginx"), pod: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}},
		{name: "prometheus", namespace: ns("monitoring"), pod: map[string]string{"app.kubernetes.io/name": "prometheus"}},
		{name: "a pod of another namespace", namespace: ns("other"), pod: map[string]string{"app": "other"}},
		{name: "outside the cluster"},
	}
}

// mayConnect reports whether the rendered NetworkPolicies let p open a connection to the
// named port of a pod with the given labels, as Kubernetes decides it: no policy selecting
// the pod admits everyone; otherwise one rule of one selecting policy must admit p and the
// port (an empty from admits every source, empty ports every port).
func mayConnect(t *testing.T, r *rendered, podLabels map[string]string, port string, p peer) bool {
	t.Helper()
	selected := false
	for _, np := range r.networkPolicies {
		if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !selects(t, np.Spec.PodSelector, podLabels) {
			continue
		}
		selected = true
		for _, rule := range np.Spec.Ingress {
			if admitsPort(rule.Ports, port) && admitsPeer(t, rule.From, p) {
				return true
			}
		}
	}
	return !selected
}

func admitsPort(ports []networkingv1.NetworkPolicyPort, port string) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port != nil && p.Port.String() == port {
			return true
		}
	}
	return false
}

func admitsPeer(t *testing.T, from []networkingv1.NetworkPolicyPeer, p peer) bool {
	if len(from) == 0 {
		return true
	}
	for _, f := range from {
		if f.IPBlock != nil {
			t.Errorf("an ipBlock rule (%v): the tables speak of pods only", f.IPBlock)
			continue
		}
		if p.namespace == nil {
			continue // a selector admits pods, never a client outside the cluster
		}
		nsOK := f.NamespaceSelector == nil && p.namespace["kubernetes.io/metadata.name"] == namespace ||
			f.NamespaceSelector != nil && selects(t, *f.NamespaceSelector, p.namespace)
		podOK := f.PodSelector == nil || selects(t, *f.PodSelector, p.pod)
		if nsOK && podOK {
			return true
		}
	}
	return false
}

func selects(t *testing.T, sel metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		t.Fatal(err)
	}
	return s.Matches(labels.Set(set))
}

// reach lists, for each port of a rendered pod, who may connect to it.
func reach(t *testing.T, r *rendered) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, port := range c.Ports {
				key := strings.TrimPrefix(d.Name, releaseName+"-signaling-auth-") + ":" + port.Name
				out[key] = []string{}
				for _, p := range peers() {
					if mayConnect(t, r, d.Spec.Template.Labels, port.Name, p) {
						out[key] = append(out[key], p.name)
					}
				}
			}
		}
	}
	return out
}

// believed lists each program's trusted_proxies as rendered.
func believed(t *testing.T, r *rendered) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, c := range []string{"tokenserver", "corsproxy"} {
		if _, ok := r.configMaps[name(c)]; !ok {
			continue
		}
		out[c] = []string{}
		tp, ok := lookup(configFile(t, r, c), "trusted_proxies").([]any)
		if !ok {
			t.Fatalf("%s trusted_proxies is not a list", c)
		}
		for _, e := range tp {
			out[c] = append(out[c], e.(string))
		}
	}
	return out
}

var (
	anyone      = []string{"tokenserver", "corsproxy", "webdemo", "another pod of the namespace", "ingress controller", "prometheus", "a pod of another namespace", "outside the cluster"}
	ingressNS   = map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}
	monitorNS   = map[string]any{"kubernetes.io/metadata.name": "monitoring"}
	podCIDR     = "10.244.0.0/16"
	controllers = []any{"10.244.0.0/16"}
)

// TestWhoIsBelievedAndWhoMayConnect shows, for each set of values, which peers each
// program believes about a client's address (trusted_proxies) and which peers may connect
// to which port. A program believes a peer only where a value names it, and tokenserver
// believes the pod network only behind a NetworkPolicy that admits no pod but corsproxy and
// the named namespaces.
func TestWhoIsBelievedAndWhoMayConnect(t *testing.T) {
	cases := []struct {
		name     string
		values   map[string]any
		believed map[string][]string
		reach    map[string][]string
	}{
		{
			name:     "by default nobody is believed, and only corsproxy reaches tokenserver",
			believed: map[string][]string{"tokenserver": {}, "corsproxy": {}},
			reach: map[string][]string{
				"tokenserver:http": {"corsproxy"},
				"corsproxy:http":   anyone, "corsproxy:admin": {},
				"webdemo:http": anyone,
			},
		},
		{
			name: "an Ingress: corsproxy believes the controller addresses, tokenserver the pod network behind its policy",
			values: map[string]any{
				"ingress":       map[string]any{"enabled": true, "corsproxyHost": "tokens.example.com", "controllerAddresses": controllers},
				"networkPolicy": map[string]any{"podCIDRs": []any{podCIDR}},
			},
			believed: map[string][]string{"tokenserver": {podCIDR}, "corsproxy": {podCIDR}},
			reach: map[string][]string{
				"tokenserver:http": {"corsproxy"},
				"corsproxy:http":   anyone, "corsproxy:admin": {},
				"webdemo:http": anyone,
			},
		},
		{
			name: "controller addresses are not believed while the Ingress is off",
			values: map[string]any{
				"ingress": map[string]any{"enabled": false, "controllerAddresses": controllers},
			},
			believed: map[string][]string{"tokenserver": {}, "corsproxy": {}},
		},
		{
			name: "the ingress and monitoring namespaces, when named, reach tokenserver; monitoring alone corsproxy's admin port",
			values: map[string]any{
				"ingress":        map[string]any{"enabled": true, "corsproxyHost": "tokens.example.com", "controllerAddresses": controllers},
				"networkPolicy":  map[string]any{"ingressNamespace": ingressNS, "monitoringNamespace": monitorNS},
				"serviceMonitor": map[string]any{"enabled": true},
			},
			believed: map[string][]string{"tokenserver": {}, "corsproxy": {podCIDR}},
			reach: map[string][]string{
				"tokenserver:http": {"corsproxy", "ingress controller", "prometheus"},
				"corsproxy:http":   anyone, "corsproxy:admin": {"prometheus"},
				"webdemo:http": anyone,
			},
		},
		{
			name: "explicit proxies are believed as named, with or without a policy",
			values: map[string]any{
				"tokenserver":   map[string]any{"trustedProxies": []any{"192.0.2.10"}},
				"corsproxy":     map[string]any{"trustedProxies": []any{"198.51.100.0/28"}},
				"networkPolicy": map[string]any{"enabled": false},
			},
			believed: map[string][]string{"tokenserver": {"192.0.2.10"}, "corsproxy": {"198.51.100.0/28"}},
			reach: map[string][]string{
				"tokenserver:http": anyone,
				"corsproxy:http":   anyone, "corsproxy:admin": anyone,
				"webdemo:http": anyone,
			},
		},
		{
			name: "tokenserver alone behind its policy admits only the named namespaces",
			values: map[string]any{
				"corsproxy": map[string]any{"enabled": false}, "webdemo": map[string]any{"enabled": false},
				"networkPolicy": map[string]any{"ingressNamespace": ingressNS, "podCIDRs": []any{podCIDR}},
			},
			believed: map[string][]string{"tokenserver": {podCIDR}},
			reach:    map[string][]string{"tokenserver:http": {"ingress controller"}},
		},
		{
			name: "with the chart's Redis only tokenserver and corsproxy reach it",
			values: map[string]any{
				"redis":       map[string]any{"enabled": true},
				"tokenserver": map[string]any{"rateLimit": map[string]any{"store": "redis"}},
			},
			believed: map[string][]string{"tokenserver": {}, "corsproxy": {}},
			reach: map[string][]string{
				"tokenserver:http": {"corsproxy"},
				"corsproxy:http":   anyone, "corsproxy:admin": {},
				"webdemo:http": anyone,
				"redis:redis":  {"tokenserver", "corsproxy"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, tc.values)
			if got := believed(t, r); !reflect.DeepEqual(got, tc.believed) {
				t.Errorf("believed %v, want %v", got, tc.believed)
			}
			if tc.reach == nil {
				return
			}
			got := reach(t, r)
			for _, port := range sortedKeys(got) {
				if !reflect.DeepEqual(got[port], tc.reach[port]) {
					t.Errorf("%s reached by %q, want %q", port, got[port], tc.reach[port])
				}
			}
			for _, port := range sortedKeys(tc.reach) {
				if _, ok := got[port]; !ok {
					t.Errorf("no pod port %s", port)
				}
			}
		})
	}
}

// TestTrustIsRefusedWithoutItsGuarantee: values that would make a program believe peers
// nothing vouches for are refused with the value to set.
func TestTrustIsRefusedWithoutItsGuarantee(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"an Ingress without the controller's addresses", map[string]any{
			"ingress": map[string]any{"enabled": true, "corsproxyHost": "tokens.example.com"}}, "ingress.controllerAddresses is required"},
		{"pod CIDRs with the NetworkPolicies off", map[string]any{
			"networkPolicy": map[string]any{"enabled": false, "podCIDRs": []any{podCIDR}}}, "networkPolicy.podCIDRs is set but networkPolicy.enabled is false"},
		{"a ServiceMonitor the policies would keep out", map[string]any{
			"serviceMonitor": map[string]any{"enabled": true}}, "networkPolicy.monitoringNamespace"},
		{"the old top-level trustedProxies", map[string]any{"trustedProxies": []any{"10.0.0.0/8"}}, "trustedProxies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			manifest, err := renderChart(tc.values)
			if err == nil {
				t.Fatalf("rendered; want an error naming %q\n%s", tc.want, manifest)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestSecretChecksumPublishesNoHash: nobody who can read pods learns a secret or anything
// to test guesses of it against: no value, no base64 of it, no plain hash of it (nor of the
// rendered Secret, the old annotation) anywhere in a Deployment, while the pods that read a
// secret still carry a checksum/secret annotation.
func TestSecretChecksumPublishesNoHash(t *testing.T) {
	for _, vs := range valueSets {
		if !vs.makeSecret {
			continue
		}
		t.Run(vs.name, func(t *testing.T) {
			manifest, err := renderChart(vs.values)
			if err != nil {
				t.Fatal(err)
			}
			r, err := decodeManifest(manifest)
			if err != nil {
				t.Fatal(err)
			}
			var forbidden []string
			for _, v := range r.secrets[vs.secret].StringData {
				forbidden = append(append(forbidden, v, base64.StdEncoding.EncodeToString([]byte(v))), hashes(v)...)
			}
			for _, v := range secretValues {
				forbidden = append(forbidden, hashes(v)...)
			}
			for _, doc := range strings.Split(manifest, "\n---\n") {
				if strings.Contains(doc, "# Source: signaling-auth/templates/secret.yaml") {
					forbidden = append(forbidden, hashes(strings.TrimPrefix(doc, "# Source: signaling-auth/templates/secret.yaml\n"))...)
				}
			}
			for _, d := range r.deployments {
				b, err := json.Marshal(d)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range forbidden {
					if strings.Contains(strings.ToLower(string(b)), strings.ToLower(f)) {
						t.Errorf("Deployment %s holds a secret or a plain hash of one (%.12s…)", d.Name, f)
					}
				}
			}
			for env := range vs.secretEnv {
				pod := name(strings.ToLower(strings.SplitN(env, "_", 2)[0]))
				if r.deployments[pod].Spec.Template.Annotations["checksum/secret"] == "" {
					t.Errorf("%s reads %s but has no checksum/secret annotation, so a new secret would not roll it", pod, env)
				}
			}
		})
	}
}

// hashes are the unsalted digests an attacker would test guesses against.
func hashes(v string) []string {
	s256, s1, m5 := sha256.Sum256([]byte(v)), sha1.Sum([]byte(v)), md5.Sum([]byte(v))
	return []string{hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]), hex.EncodeToString(m5[:])}
}

// TestSecretChangeRollsThePodsThatReadIt: upgrades of an installed release keep the salt in
// its Secret, so the same secret keeps the annotation (no needless restart) and a changed one
// changes it on the pods that read it; a fresh rendering without a cluster draws a new salt,
// so the annotation is no function of the secret alone.
func TestSecretChangeRollsThePodsThatReadIt(t *testing.T) {
	vals := merge(withSecrets(), map[string]any{
		"redis":     map[string]any{"url": testRedisURL},
		"corsproxy": map[string]any{"rateLimit": map[string]any{"store": "redis"}},
	})
	first := render(t, vals)
	cluster := []runtime.Object{installed(first.secrets[name("secrets")])}
	annotation := func(r *rendered, c string) string {
		return r.deployments[name(c)].Spec.Template.Annotations["checksum/secret"]
	}
	same := renderIn(t, cluster, vals)
	for _, c := range []string{"tokenserver", "corsproxy"} {
		if annotation(first, c) == "" || annotation(same, c) != annotation(first, c) {
			t.Errorf("%s checksum/secret %q after an upgrade with the same secrets, was %q", c, annotation(same, c), annotation(first, c))
		}
	}
	newRedis := renderIn(t, cluster, merge(vals, map[string]any{"redis": map[string]any{"url": "redis://app:another-pass@redis.example.internal:6379/0"}}))
	newKey := renderIn(t, cluster, merge(vals, map[string]any{"secrets": map[string]any{"apiKeys": []any{"another-backend-key-0042"}}}))
	for _, ch := range []struct {
		what    string
		r       *rendered
		changed []string
	}{
		{"the Redis URL, which only corsproxy reads", newRedis, []string{"corsproxy"}},
		{"the API keys", newKey, []string{"tokenserver"}},
	} {
		for _, c := range []string{"tokenserver", "corsproxy"} {
			if changed := annotation(ch.r, c) != annotation(first, c); changed != slices.Contains(ch.changed, c) {
				t.Errorf("a new %s: %s checksum/secret changed %t, want %t", ch.what, c, changed, !changed)
			}
		}
	}
	if again := render(t, vals); annotation(again, "corsproxy") == annotation(first, "corsproxy") {
		t.Error("two installs of the same secret render the same checksum/secret: it is a function of the secret alone")
	}
}

// TestNotesSayWhenTheTokenServerBelievesNoProxy: after an install where the token server
// trusts nobody behind corsproxy, NOTES.txt says what that does to its per-IP limit.
func TestNotesSayWhenTheTokenServerBelievesNoProxy(t *testing.T) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	notes := func(vals map[string]any) string {
		caps := common.DefaultCapabilities.Copy()
		caps.KubeVersion = *kubeVersion()
		top, err := chartutil.ToRenderValuesWithSchemaValidation(chrt, vals, common.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}, caps, false)
		if err != nil {
			t.Fatal(err)
		}
		files, err := engine.Render(chrt, top)
		if err != nil {
			t.Fatal(err)
		}
		return files["signaling-auth/templates/NOTES.txt"]
	}
	const warning = "the token server believes no proxy"
	if got := notes(nil); !strings.Contains(got, warning) {
		t.Errorf("NOTES.txt with the defaults does not warn %q:\n%s", warning, got)
	}
	if got := notes(map[string]any{"networkPolicy": map[string]any{"podCIDRs": []any{podCIDR}}}); strings.Contains(got, warning) {
		t.Errorf("NOTES.txt warns %q although networkPolicy.podCIDRs is set:\n%s", warning, got)
	}
}
