package deploy

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Known secret values: rendered into the chart's Secret, and searched for everywhere else.
const (
	testCertificate = "c0ffee00c0ffee00c0ffee00c0ffee01"
	testAPIKey      = "backend-key-7f3a9c41d2e8"
	testJWTSecret   = "jwt-secret-of-at-least-32-bytes-5d1c"
	testRedisPass   = "s3cr3t-redis-pass"
	testRedisURL    = "redis://app:" + testRedisPass + "@redis.example.internal:6379/0"
)

// secretValues lists what must never appear in a ConfigMap, an env value or an argument.
var secretValues = []string{testCertificate, testAPIKey, testJWTSecret, testRedisPass, testRedisURL}

// testAppID is an App ID; it is public (inside every token), so it may sit in a ConfigMap.
const testAppID = "0123456789abcdef0123456789abcdef"

// withSecrets returns values for a live token server in api_key mode whose App
// Certificate and API key are in the chart's Secret.
func withSecrets() map[string]any {
	return map[string]any{
		"secrets": map[string]any{
			"appCertificate": testCertificate,
			"apiKeys":        []any{testAPIKey},
		},
		"tokenserver": map[string]any{"agora": map[string]any{"appId": testAppID}, "auth": map[string]any{"mode": "api_key"}},
	}
}

// liveSecretEnv is the environment of a live api_key token server: variable -> Secret key.
var liveSecretEnv = map[string]string{
	"TOKENSERVER_AGORA_APP_CERTIFICATE": "app-certificate",
	"TOKENSERVER_AUTH_API_KEYS":         "api-keys",
}

// valueSet is one set of values the chart is rendered with, and what it must contain.
type valueSet struct {
	name   string
	values map[string]any
	// components that must have a Deployment, a Service and a ConfigMap; the others none.
	components []string
	hpa        []string          // components with a HorizontalPodAutoscaler
	pdb        []string          // components with a PodDisruptionBudget
	monitors   []string          // components with a ServiceMonitor
	policies   []string          // components with a NetworkPolicy
	secret     string            // name of the Secret the pods read ("" : none referenced)
	makeSecret bool              // the chart makes that Secret
	secretEnv  map[string]string // every secret variable of every pod -> its key in the Secret
	secretData map[string]string // what the chart's Secret holds, when it makes one
	upstream   string            // corsproxy's upstream, when corsproxy is deployed
	redisStore bool              // tokenserver and corsproxy use the redis store
	ingress    bool
}

var valueSets = []valueSet{
	{
		name:       "defaults",
		values:     nil,
		components: []string{"tokenserver", "corsproxy", "webdemo"},
		pdb:        []string{"tokenserver", "corsproxy"},
		policies:   []string{"tokenserver", "corsproxy"},
		upstream:   "http://" + name("tokenserver") + ":8081",
	},
	{
		name: "proxy only, in front of an existing token server",
		values: map[string]any{
			"tokenserver": map[string]any{"enabled": false},
			"webdemo":     map[string]any{"enabled": false},
			"corsproxy":   map[string]any{"upstream": "https://tokens.example.com"},
		},
		components: []string{"corsproxy"},
		pdb:        []string{"corsproxy"},
		policies:   []string{"corsproxy"},
		upstream:   "https://tokens.example.com",
	},
	{
		name: "three replicas with the chart's Redis, autoscaling, monitoring and an ingress",
		values: merge(withSecrets(), map[string]any{
			"tokenserver": map[string]any{"replicaCount": 3, "rateLimit": map[string]any{"store": "redis"}},
			"corsproxy": map[string]any{"replicaCount": 3, "rateLimit": map[string]any{"store": "redis"},
				"autoscaling": map[string]any{"enabled": true}},
			"redis":          map[string]any{"enabled": true},
			"serviceMonitor": map[string]any{"enabled": true},
			"monitoring":     map[string]any{"dashboard": map[string]any{"enabled": true}, "rules": map[string]any{"enabled": true}},
			"ingress": map[string]any{"enabled": true, "className": "nginx", "corsproxyHost": "tokens.example.com",
				"webdemoHost": "demo.example.com", "tls": []any{map[string]any{"secretName": "tls", "hosts": []any{"tokens.example.com"}}},
				"controllerAddresses": []any{"10.244.0.0/16"}},
			"networkPolicy": map[string]any{"podCIDRs": []any{"10.244.0.0/16"},
				"monitoringNamespace": map[string]any{"kubernetes.io/metadata.name": "monitoring"},
				"ingressNamespace":    map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}},
		}),
		components: []string{"tokenserver", "corsproxy", "webdemo", "redis"},
		hpa:        []string{"corsproxy"},
		pdb:        []string{"tokenserver", "corsproxy"},
		monitors:   []string{"tokenserver", "corsproxy"},
		policies:   []string{"tokenserver", "corsproxy", "redis"},
		secret:     name("secrets"),
		makeSecret: true,
		secretEnv:  liveSecretEnv,
		secretData: map[string]string{"app-certificate": testCertificate, "api-keys": testAPIKey},
		upstream:   "http://" + name("tokenserver") + ":8081",
		redisStore: true,
		ingress:    true,
	},
	{
		name: "existing Secret holding every secret, Redis outside the cluster, two replicas, no PDB",
		values: map[string]any{
			"existingSecret": "prod-signaling-auth",
			"tokenserver": map[string]any{"replicaCount": 2, "rateLimit": map[string]any{"store": "redis"},
				"autoscaling": map[string]any{"enabled": true}, "auth": map[string]any{"mode": "api_key"},
				"agora": map[string]any{"appId": testAppID}},
			"corsproxy": map[string]any{"replicaCount": 2, "rateLimit": map[string]any{"store": "redis"},
				"pdb": map[string]any{"enabled": false}},
		},
		components: []string{"tokenserver", "corsproxy", "webdemo"},
		hpa:        []string{"tokenserver"},
		pdb:        []string{"tokenserver"},
		policies:   []string{"tokenserver", "corsproxy"},
		secret:     "prod-signaling-auth",
		secretEnv: map[string]string{
			"TOKENSERVER_AGORA_APP_CERTIFICATE": "app-certificate",
			"TOKENSERVER_AUTH_API_KEYS":         "api-keys",
			"TOKENSERVER_RATE_LIMIT_REDIS_URL":  "redis-url",
			"CORSPROXY_RATE_LIMIT_REDIS_URL":    "redis-url",
		},
		upstream:   "http://" + name("tokenserver") + ":8081",
		redisStore: true,
	},
	{
		name: "JWT mode, the chart's Secret with the certificate, the JWT secret and an external Redis URL, no tokenserver PDB",
		values: map[string]any{
			"secrets": map[string]any{"appCertificate": testCertificate, "jwtSecret": testJWTSecret},
			"redis":   map[string]any{"url": testRedisURL},
			"tokenserver": map[string]any{"replicaCount": 2, "rateLimit": map[string]any{"store": "redis"},
				"agora": map[string]any{"appId": testAppID}, "auth": map[string]any{"mode": "jwt"},
				"pdb": map[string]any{"enabled": false}},
			"corsproxy":     map[string]any{"replicaCount": 2, "rateLimit": map[string]any{"store": "redis"}},
			"networkPolicy": map[string]any{"enabled": false},
		},
		components: []string{"tokenserver", "corsproxy", "webdemo"},
		pdb:        []string{"corsproxy"},
		secret:     name("secrets"),
		makeSecret: true,
		secretEnv: map[string]string{
			"TOKENSERVER_AGORA_APP_CERTIFICATE": "app-certificate",
			"TOKENSERVER_AUTH_JWT_SECRET":       "jwt-secret",
			"TOKENSERVER_RATE_LIMIT_REDIS_URL":  "redis-url",
			"CORSPROXY_RATE_LIMIT_REDIS_URL":    "redis-url",
		},
		secretData: map[string]string{"app-certificate": testCertificate, "jwt-secret": testJWTSecret, "redis-url": testRedisURL},
		upstream:   "http://" + name("tokenserver") + ":8081",
		redisStore: true,
	},
}

func TestValueSetsRenderWithEveryInvariant(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := render(t, vs.values)
			checkComponents(t, r, vs)
			checkPods(t, r)
			checkNoSecretOutsideSecrets(t, r)
			checkSecretReferences(t, r, vs)
			checkGracePeriods(t, r)
			checkConfigKeys(t, r)
			checkServicesSelectPods(t, r)
			if slices.Contains(vs.components, "corsproxy") {
				if got := lookup(configFile(t, r, "corsproxy"), "upstream"); got != vs.upstream {
					t.Errorf("corsproxy upstream = %v, want %s", got, vs.upstream)
				}
			}
			if vs.ingress != (len(r.ingresses) == 1) {
				t.Errorf("ingresses %v, want one: %t", sortedKeys(r.ingresses), vs.ingress)
			}
		})
	}
}

// checkComponents: each wanted component has its Deployment, Service and ConfigMap (Redis
// has no ConfigMap), HPA, PDB and ServiceMonitor exactly where enabled.
func checkComponents(t *testing.T, r *rendered, vs valueSet) {
	t.Helper()
	for _, c := range []string{"tokenserver", "corsproxy", "webdemo", "redis"} {
		want := slices.Contains(vs.components, c)
		if _, ok := r.deployments[name(c)]; ok != want {
			t.Errorf("Deployment %s present: %t, want %t", c, ok, want)
		}
		if _, ok := r.services[name(c)]; ok != want {
			t.Errorf("Service %s present: %t, want %t", c, ok, want)
		}
		if _, ok := r.configMaps[name(c)]; ok != (want && c != "redis") {
			t.Errorf("ConfigMap %s present: %t, want %t", c, ok, want && c != "redis")
		}
		if _, ok := r.networkPolicies[name(c)]; ok != slices.Contains(vs.policies, c) {
			t.Errorf("NetworkPolicy %s present: %t, want %t", c, ok, !ok)
		}
		hpa, hasHPA := r.hpas[name(c)]
		if hasHPA != slices.Contains(vs.hpa, c) {
			t.Errorf("HorizontalPodAutoscaler %s present: %t, want %t", c, hasHPA, !hasHPA)
		}
		if hasHPA {
			if hpa.Spec.ScaleTargetRef.Name != name(c) || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
				t.Errorf("HPA %s scales %+v", c, hpa.Spec.ScaleTargetRef)
			}
			if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
				t.Errorf("HPA %s metrics %+v, want CPU", c, hpa.Spec.Metrics)
			}
			if d := r.deployments[name(c)]; d != nil && d.Spec.Replicas != nil {
				t.Errorf("Deployment %s sets replicas %d although its HPA owns them", c, *d.Spec.Replicas)
			}
		}
		pdb, hasPDB := r.pdbs[name(c)]
		if hasPDB != slices.Contains(vs.pdb, c) {
			t.Errorf("PodDisruptionBudget %s present: %t, want %t", c, hasPDB, !hasPDB)
		}
		if hasPDB {
			d := r.deployments[name(c)]
			if !reflect.DeepEqual(pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels) {
				t.Errorf("PDB %s selects %v, Deployment's pods are %v", c, pdb.Spec.Selector.MatchLabels, d.Spec.Selector.MatchLabels)
			}
		}
		sm, hasSM := r.serviceMonitors[name(c)]
		if hasSM != slices.Contains(vs.monitors, c) {
			t.Errorf("ServiceMonitor %s present: %t, want %t", c, hasSM, !hasSM)
		}
		if hasSM {
			wantPort := map[string]string{"tokenserver": "http", "corsproxy": "admin"}[c]
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != wantPort || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor %s endpoints %+v, want /metrics on port %s", c, sm.Spec.Endpoints, wantPort)
			}
			if !hasServicePort(r.services[name(c)], wantPort) {
				t.Errorf("ServiceMonitor %s scrapes port %s, which its Service lacks", c, wantPort)
			}
		}
	}
	for _, c := range []string{"tokenserver", "corsproxy"} {
		if !slices.Contains(vs.components, c) {
			continue
		}
		store := lookup(configFile(t, r, c), "rate_limit.store")
		if want := map[bool]string{true: "redis", false: "memory"}[vs.redisStore]; store != want {
			t.Errorf("%s rate_limit.store = %v, want %s", c, store, want)
		}
	}
}

func hasServicePort(svc *corev1.Service, port string) bool {
	if svc == nil {
		return false
	}
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port })
}

// checkPods: every pod and container is locked down, probed three ways with readiness and
// liveness different, spread over nodes, and sized.
func checkPods(t *testing.T, r *rendered) {
	t.Helper()
	for _, d := range r.deployments {
		spec := d.Spec.Template.Spec
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 ||
			psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v: want runAsNonRoot, a non-zero runAsUser, seccomp RuntimeDefault", d.Name, psc)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: the pods mount a service account token they never use", d.Name)
		}
		if d.Name != name("redis") && len(spec.TopologySpreadConstraints) == 0 && spec.Affinity == nil {
			t.Errorf("%s: neither topology spread nor anti-affinity", d.Name)
		}
		if !reflect.DeepEqual(d.Spec.Selector.MatchLabels, subset(d.Spec.Template.Labels, d.Spec.Selector.MatchLabels)) {
			t.Errorf("%s: selector %v does not match the pod labels %v", d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		if len(spec.InitContainers)+len(spec.EphemeralContainers) > 0 {
			t.Errorf("%s: unexpected init or ephemeral containers", d.Name)
		}
		for _, c := range spec.Containers {
			where := d.Name + "/" + c.Name
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: allowPrivilegeEscalation is not false", where)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: readOnlyRootFilesystem is not true", where)
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot:
				t.Errorf("%s: runAsNonRoot is not true", where)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s: privileged", where)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s: capabilities %+v, want drop [ALL] and nothing added", where, sc.Capabilities)
			case sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("%s: seccompProfile is not RuntimeDefault", where)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil || c.StartupProbe == nil {
				t.Errorf("%s: wants readiness, liveness and startup probes", where)
				continue
			}
			if reflect.DeepEqual(c.ReadinessProbe.ProbeHandler, c.LivenessProbe.ProbeHandler) {
				t.Errorf("%s: readiness and liveness probe the same check %+v", where, c.ReadinessProbe.ProbeHandler)
			}
			if c.Name != "redis" {
				if g := c.ReadinessProbe.HTTPGet; g == nil || g.Path != "/readyz" {
					t.Errorf("%s: readiness probe %+v, want GET /readyz", where, c.ReadinessProbe.ProbeHandler)
				}
				if g := c.LivenessProbe.HTTPGet; g == nil || g.Path != "/healthz" {
					t.Errorf("%s: liveness probe %+v, want GET /healthz", where, c.LivenessProbe.ProbeHandler)
				}
				for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
					if p.HTTPGet != nil && !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.HTTPGet.Port.StrVal }) {
						t.Errorf("%s: probe on port %s, which the container does not name", where, p.HTTPGet.Port.String())
					}
				}
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
				if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
					t.Errorf("%s: %s request %s, limit %s: want both, request <= limit", where, res, req.String(), lim.String())
				}
			}
		}
	}
}

// subset returns the entries of labels whose keys are in keys.
func subset(labels, keys map[string]string) map[string]string {
	out := map[string]string{}
	for k := range keys {
		if v, ok := labels[k]; ok {
			out[k] = v
		}
	}
	return out
}

// checkNoSecretOutsideSecrets searches every ConfigMap, env value, argument and
// annotation for the known secret values.
func checkNoSecretOutsideSecrets(t *testing.T, r *rendered) {
	t.Helper()
	search := func(where, text string) {
		for _, s := range secretValues {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret value", where)
			}
		}
	}
	for _, cm := range r.configMaps {
		for k, v := range cm.Data {
			search("ConfigMap "+cm.Name+" "+k, v)
		}
	}
	for _, d := range r.deployments {
		for k, v := range d.Spec.Template.Annotations {
			search(d.Name+" annotation "+k, v)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				search(d.Name+" env "+e.Name, e.Value)
			}
			search(d.Name+" args", strings.Join(append(c.Command, c.Args...), " "))
		}
	}
}

// checkSecretReferences: the pods read exactly the secrets their configuration needs, by
// required secretKeyRef from the right Secret, and the chart's Secret (when it makes one)
// holds exactly what was given.
func checkSecretReferences(t *testing.T, r *rendered, vs valueSet) {
	t.Helper()
	got := map[string]string{}
	for _, d := range r.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s env %s is not from a Secret", d.Name, e.Name)
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if ref.Name != vs.secret {
					t.Errorf("%s env %s reads Secret %q, want %q", d.Name, e.Name, ref.Name, vs.secret)
				}
				if ref.Optional != nil && *ref.Optional {
					t.Errorf("%s env %s is optional: a missing key would start the program without it", d.Name, e.Name)
				}
				got[e.Name] = ref.Key
			}
		}
	}
	want := vs.secretEnv
	if want == nil {
		want = map[string]string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secret env %v, want %v", got, want)
	}
	secret, made := r.secrets[vs.secret]
	if made != vs.makeSecret || len(r.secrets) > 1 || (!made && len(r.secrets) > 0) {
		t.Fatalf("Secrets %v; want the chart to make %q: %t", sortedKeys(r.secrets), vs.secret, vs.makeSecret)
	}
	if made && len(secret.StringData["rollout-salt"]) < 43 {
		t.Errorf("Secret %s has no rollout-salt of 43+ characters for the checksum/secret annotations", secret.Name)
	}
	if made {
		delete(secret.StringData, "rollout-salt")
	}
	if made && !reflect.DeepEqual(secret.StringData, vs.secretData) {
		t.Errorf("Secret %s holds keys %v, want %v", secret.Name, sortedKeys(secret.StringData), sortedKeys(vs.secretData))
	}
}

// checkGracePeriods: each program's pod waits longer than the program's drain plus its
// shutdown, read from the rendered config file (webdemo's shutdown is a fixed 10s), and
// its readiness probe notices the drain before the drain ends.
func checkGracePeriods(t *testing.T, r *rendered) {
	t.Helper()
	for _, c := range []string{"tokenserver", "corsproxy", "webdemo"} {
		d, ok := r.deployments[name(c)]
		if !ok {
			continue
		}
		cfg := configFile(t, r, c)
		total := 0 * time.Second
		keys := []string{"timeouts.drain", "timeouts.shutdown"}
		if c == "webdemo" {
			keys = keys[:1]
			total = 10 * time.Second
		}
		for i, k := range keys {
			s, _ := lookup(cfg, k).(string)
			dur, err := time.ParseDuration(s)
			if err != nil || dur <= 0 {
				t.Fatalf("%s %s = %q: %v", c, k, s, err)
			}
			total += dur
			if i > 0 {
				continue
			}
			// The readiness probe must see the drain's 503 before the drain ends.
			p := d.Spec.Template.Spec.Containers[0].ReadinessProbe
			if notice := time.Duration(p.PeriodSeconds*p.FailureThreshold) * time.Second; notice >= dur {
				t.Errorf("%s: readiness notices the drain after %s, the drain lasts %s", c, notice, dur)
			}
		}
		grace := d.Spec.Template.Spec.TerminationGracePeriodSeconds
		if grace == nil {
			t.Errorf("%s: no terminationGracePeriodSeconds; want more than drain + shutdown = %s", c, total)
		} else if time.Duration(*grace)*time.Second <= total {
			t.Errorf("%s: terminationGracePeriodSeconds %d, want more than drain + shutdown = %s", c, *grace, total)
		}
	}
}

// checkConfigKeys: every key the chart writes into a program's config file is one the
// program knows (configs/<program>.yaml lists them all; unknown keys stop the programs).
func checkConfigKeys(t *testing.T, r *rendered) {
	t.Helper()
	for _, c := range []string{"tokenserver", "corsproxy", "webdemo"} {
		if _, ok := r.configMaps[name(c)]; !ok {
			continue
		}
		cfg := configFile(t, r, c)
		rendered := map[string]bool{}
		flatKeys("", cfg, rendered)
		known := repoConfigKeys(t, c)
		for _, k := range sortedKeys(rendered) {
			if !known[k] && k != pendingDrainKey {
				t.Errorf("%s config key %s is not in configs/%s.yaml", c, k, c)
			}
		}
	}
}

// pendingDrainKey is timeouts.drain, the graceful-shutdown key every program is gaining;
// accepted until configs/*.yaml list it (then it is checked like every other key).
const pendingDrainKey = "timeouts.drain"

// checkServicesSelectPods: every Service selects the pods of one Deployment, on ports the
// container names.
func checkServicesSelectPods(t *testing.T, r *rendered) {
	t.Helper()
	for _, svc := range r.services {
		d, ok := r.deployments[svc.Name]
		if !ok {
			t.Errorf("Service %s has no Deployment of the same name", svc.Name)
			continue
		}
		if !reflect.DeepEqual(svc.Spec.Selector, subset(d.Spec.Template.Labels, svc.Spec.Selector)) || len(svc.Spec.Selector) == 0 {
			t.Errorf("Service %s selects %v, pods have %v", svc.Name, svc.Spec.Selector, d.Spec.Template.Labels)
		}
		for _, p := range svc.Spec.Ports {
			c := d.Spec.Template.Spec.Containers[0]
			if !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.StrVal }) {
				t.Errorf("Service %s port %s targets %s, which the container does not name", svc.Name, p.Name, p.TargetPort.String())
			}
		}
	}
}

func TestChartRefusesBadValues(t *testing.T) {
	cases := []struct {
		name   string
		values map[string]any
		want   string // part of the error
	}{
		{"the memory store with three token servers", map[string]any{
			"tokenserver": map[string]any{"replicaCount": 3}}, "tokenserver.rateLimit.store is memory with tokenserver.replicaCount=3"},
		{"the memory store with two proxies", map[string]any{
			"corsproxy": map[string]any{"replicaCount": 2}}, "corsproxy.rateLimit.store is memory with corsproxy.replicaCount=2"},
		{"the memory store with one pod but autoscaling", map[string]any{
			"tokenserver": map[string]any{"autoscaling": map[string]any{"enabled": true}}}, "autoscaling.enabled=true"},
		{"the redis store with no Redis", map[string]any{
			"tokenserver": map[string]any{"rateLimit": map[string]any{"store": "redis"}}}, "no Redis is given"},
		{"the proxy alone without an upstream", map[string]any{
			"tokenserver": map[string]any{"enabled": false}}, "corsproxy.upstream is required"},
		{"secret values next to an existing Secret", merge(withSecrets(), map[string]any{
			"existingSecret": "prod"}), "existingSecret is set"},
		{"both the chart's Redis and an external one", map[string]any{
			"redis": map[string]any{"enabled": true, "url": testRedisURL}}, "pick the chart's Redis or an existing one"},
		{"API keys while anyone may mint", map[string]any{
			"secrets": map[string]any{"apiKeys": []any{testAPIKey}}}, "tokenserver.auth.mode=api_key"},
		{"api_key mode without a key", map[string]any{
			"tokenserver": map[string]any{"auth": map[string]any{"mode": "api_key"}}}, "no key is given"},
		{"jwt mode with neither a secret nor a JWKS URL", map[string]any{
			"tokenserver": map[string]any{"auth": map[string]any{"mode": "jwt"}}}, "neither tokenserver.auth.jwt.jwksUrl nor a JWT secret"},
		{"an App ID without its certificate", map[string]any{
			"tokenserver": map[string]any{"agora": map[string]any{"appId": testAppID}}}, "no App Certificate is given"},
		{"an ingress without a host", map[string]any{
			"ingress": map[string]any{"enabled": true}}, "ingress.corsproxyHost is required"},
		{"an unknown key (replicas for replicaCount)", map[string]any{
			"tokenserver": map[string]any{"replicas": 3}}, "replicas"},
		{"an unknown top-level key", map[string]any{"tokenServer": map[string]any{}}, "tokenServer"},
		{"an unknown key deep down", map[string]any{
			"corsproxy": map[string]any{"rateLimit": map[string]any{"perIP": "5/s"}}}, "perIP"},
		{"a string where a number goes", map[string]any{
			"tokenserver": map[string]any{"replicaCount": "three"}}, "replicaCount"},
		{"a number where a boolean goes", map[string]any{
			"redis": map[string]any{"enabled": 1}}, "enabled"},
		{"a store that does not exist", map[string]any{
			"tokenserver": map[string]any{"rateLimit": map[string]any{"store": "memcached"}}}, "store"},
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

// TestConfigChangeRollsOnlyItsPods renders each change as an upgrade of an installed
// release, whose Secret holds the salt of the checksum/secret annotations.
func TestConfigChangeRollsOnlyItsPods(t *testing.T) {
	cluster := []runtime.Object{installed(render(t, withSecrets()).secrets[name("secrets")])}
	checksums := func(vals map[string]any) map[string]string {
		r := renderIn(t, cluster, vals)
		out := map[string]string{}
		for _, d := range r.deployments {
			for _, k := range []string{"checksum/config", "checksum/secret"} {
				if v := d.Spec.Template.Annotations[k]; v != "" {
					out[d.Name+" "+k] = v
				}
			}
		}
		return out
	}
	base := checksums(withSecrets())
	for _, want := range []string{"tokenserver checksum/config", "tokenserver checksum/secret", "corsproxy checksum/config", "webdemo checksum/config"} {
		if _, ok := base[releaseName+"-signaling-auth-"+want]; !ok {
			t.Fatalf("no %s annotation; have %v", want, sortedKeys(base))
		}
	}
	changes := []struct {
		name    string
		values  map[string]any
		changed []string // annotations that must change; every other must not
	}{
		{"tokenserver's rate limit", map[string]any{"tokenserver": map[string]any{"rateLimit": map[string]any{"perIp": "5/s"}}},
			[]string{"tokenserver checksum/config"}},
		{"corsproxy's allowed origins", map[string]any{"corsproxy": map[string]any{"cors": map[string]any{"allowedOrigins": []any{"https://app.example.com"}}}},
			[]string{"corsproxy checksum/config"}},
		{"the pod CIDRs tokenserver trusts", map[string]any{"networkPolicy": map[string]any{"podCIDRs": []any{"10.244.0.0/16"}}},
			[]string{"tokenserver checksum/config"}},
		{"the proxies corsproxy trusts", map[string]any{"corsproxy": map[string]any{"trustedProxies": []any{"192.0.2.10"}}},
			[]string{"corsproxy checksum/config"}},
		{"the API keys", map[string]any{"secrets": map[string]any{"apiKeys": []any{"another-backend-key-0042"}}},
			[]string{"tokenserver checksum/secret"}},
		{"the external Redis URL", map[string]any{"redis": map[string]any{"url": testRedisURL}, "tokenserver": map[string]any{"rateLimit": map[string]any{"store": "redis"}}, "corsproxy": map[string]any{"rateLimit": map[string]any{"store": "redis"}}},
			[]string{"tokenserver checksum/config", "tokenserver checksum/secret", "corsproxy checksum/config", "corsproxy checksum/secret"}},
		{"webdemo's proxy URL", map[string]any{"webdemo": map[string]any{"proxyUrl": "https://tokens.example.com/"}},
			[]string{"webdemo checksum/config"}},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			got := checksums(merge(withSecrets(), ch.values))
			for k, v := range base {
				short := strings.TrimPrefix(k, releaseName+"-signaling-auth-")
				if changed := got[k] != v; changed != slices.Contains(ch.changed, short) {
					t.Errorf("%s changed: %t, want %t", short, changed, !changed)
				}
			}
		})
	}
}

// TestLint runs Helm's chart linter (what `helm lint --strict` and action.Lint run) with
// each value set; a warning fails like an error.
func TestLint(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			linter := lint.RunAll(chartDir, vs.values, namespace, lint.WithKubeVersion(kubeVersion()))
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m.Error())
				}
			}
		})
	}
}

// TestValuesAreDocumented: every value in values.yaml has a comment line right above it
// (a block such as image: is documented by its values' comments).
func TestValuesAreDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	valueLine := regexp.MustCompile(`^\s*[A-Za-z][A-Za-z0-9]*:\s*\S`)
	prev := ""
	for i, line := range strings.Split(string(b), "\n") {
		if valueLine.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(prev), "#") {
			t.Errorf("values.yaml:%d: %q has no comment above it", i+1, strings.TrimSpace(line))
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
}

// merge returns a deep copy of a with b laid over it, as Helm merges -f files.
func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = merge(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
