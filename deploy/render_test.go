package deploy

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this module.
const chartDir = "helm/signaling-auth"

// release and namespace the tests render the chart as.
const (
	releaseName = "sa"
	namespace   = "signaling"
)

// kubeVersion is the cluster version rendered for (the SDK alone defaults to v1.20, older
// than the chart's kubeVersion); k8s.io/api v0.37 is Kubernetes 1.37's API.
func kubeVersion() *common.KubeVersion {
	v, err := common.ParseKubeVersion("v1.33.0")
	if err != nil {
		panic(err)
	}
	return v
}

// serviceMonitor is the part of monitoring.coreos.com/v1 ServiceMonitor the chart writes.
// The Prometheus Operator's Go module is not a dependency; decoding strictly into this
// struct still rejects any field the chart would add by mistake.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// rendered holds every object of one rendering, decoded strictly, by kind and name.
type rendered struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	hpas            map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs            map[string]*policyv1.PodDisruptionBudget
	ingresses       map[string]*networkingv1.Ingress
	networkPolicies map[string]*networkingv1.NetworkPolicy
	serviceMonitors map[string]*serviceMonitor
	prometheusRules map[string]*prometheusRule
}

// renderChart renders the chart as `helm template` does: values coalesced with the chart's
// and checked against values.schema.json, then every template executed by the engine. It
// uses the chart packages rather than action.Install, which would compile Helm's cluster
// client, registry and storage drivers for nothing (half of the module's build time).
func renderChart(vals map[string]any) (string, error) {
	return renderChartIn(nil, vals)
}

// renderChartIn renders like renderChart, as an upgrade in a cluster holding the given
// objects: the chart's lookup calls find them (nil: no cluster, as `helm template`).
func renderChartIn(cluster []runtime.Object, vals map[string]any) (string, error) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		return "", fmt.Errorf("load %s: %w", chartDir, err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kubeVersion()
	opts := common.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(chrt, vals, opts, caps, false)
	if err != nil {
		return "", err
	}
	var files map[string]string
	if cluster == nil {
		files, err = engine.Render(chrt, top)
	} else {
		files, err = engine.RenderWithClientProvider(chrt, top, clusterObjects(cluster))
	}
	if err != nil {
		return "", err
	}
	var manifest strings.Builder
	for _, name := range sortedKeys(files) {
		if path.Ext(name) != ".yaml" || strings.HasPrefix(path.Base(name), "_") {
			continue // NOTES.txt and partials render no object
		}
		fmt.Fprintf(&manifest, "---\n# Source: %s\n%s\n", name, files[name])
	}
	return manifest.String(), nil
}

// clusterObjects answers the chart's lookup calls from a fixed set of objects (client-go's
// fake dynamic client, which serves them as the API server would).
type clusterObjects []runtime.Object

func (c clusterObjects) GetClientFor(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, false, err
	}
	resource := strings.ToLower(kind) + "s"
	client := dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), c...)
	return client.Resource(gv.WithResource(resource)), kind != "Namespace", nil
}

// installed is a rendered Secret as the API server keeps it after an install: stringData
// moved to base64 data, which is what lookup returns.
func installed(s *corev1.Secret) runtime.Object {
	data := map[string]any{}
	for k, v := range s.StringData {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": s.Name, "namespace": namespace},
		"data":     data,
	}}
}

// render renders vals and decodes every object strictly; any error fails the test.
func render(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	return renderIn(t, nil, vals)
}

// renderIn is render as an upgrade in a cluster holding the given objects.
func renderIn(t *testing.T, cluster []runtime.Object, vals map[string]any) *rendered {
	t.Helper()
	manifest, err := renderChartIn(cluster, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r, err := decodeManifest(manifest)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, manifest)
	}
	return r
}

// decodeManifest splits a manifest into YAML documents and decodes each into its
// Kubernetes API type, refusing unknown fields, duplicate fields, unknown kinds and
// objects of the same kind and name twice.
func decodeManifest(manifest string) (*rendered, error) {
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		ingresses: map[string]*networkingv1.Ingress{}, networkPolicies: map[string]*networkingv1.NetworkPolicy{},
		serviceMonitors: map[string]*serviceMonitor{}, prometheusRules: map[string]*prometheusRule{},
	}
	reader := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%w in\n%s", err, doc)
		}
		var tm metav1.TypeMeta
		if err := json.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
			return nil, err
		}
		key := tm.APIVersion + "/" + tm.Kind
		var obj metav1.Object
		switch key {
		case "apps/v1/Deployment":
			obj, err = decodeInto(js, r.deployments)
		case "v1/Service":
			obj, err = decodeInto(js, r.services)
		case "v1/ConfigMap":
			obj, err = decodeInto(js, r.configMaps)
		case "v1/Secret":
			obj, err = decodeInto(js, r.secrets)
		case "autoscaling/v2/HorizontalPodAutoscaler":
			obj, err = decodeInto(js, r.hpas)
		case "policy/v1/PodDisruptionBudget":
			obj, err = decodeInto(js, r.pdbs)
		case "networking.k8s.io/v1/Ingress":
			obj, err = decodeInto(js, r.ingresses)
		case "networking.k8s.io/v1/NetworkPolicy":
			obj, err = decodeInto(js, r.networkPolicies)
		case "monitoring.coreos.com/v1/ServiceMonitor":
			obj, err = decodeInto(js, r.serviceMonitors)
		case "monitoring.coreos.com/v1/PrometheusRule":
			obj, err = decodeInto(js, r.prometheusRules)
		default:
			return nil, fmt.Errorf("unexpected kind %s", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", key, err, doc)
		}
		if obj.GetName() == "" {
			return nil, fmt.Errorf("%s without a name", key)
		}
	}
	return r, nil
}

// decodeInto decodes js strictly into a new T and files it under its name.
func decodeInto[T any, PT interface {
	*T
	metav1.Object
}](js []byte, into map[string]PT) (metav1.Object, error) {
	obj := PT(new(T))
	strict, err := json.UnmarshalStrict(js, obj, json.DisallowDuplicateFields, json.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, errors.Join(strict...)
	}
	if _, dup := into[obj.GetName()]; dup {
		return nil, fmt.Errorf("%s rendered twice", obj.GetName())
	}
	into[obj.GetName()] = obj
	return obj, nil
}

// stripComments drops the lines that are only a YAML comment (Helm's "# Source:" lines)
// and the document separator the reader leaves on the first document.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if trimmed := bytes.TrimSpace(line); !bytes.HasPrefix(trimmed, []byte("#")) && !bytes.Equal(trimmed, []byte("---")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// configFile parses the program config file held by a rendered ConfigMap.
func configFile(t *testing.T, r *rendered, program string) map[string]any {
	t.Helper()
	cm, ok := r.configMaps[name(program)]
	if !ok {
		t.Fatalf("no ConfigMap %s", name(program))
	}
	text, ok := cm.Data[program+".yaml"]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s.yaml", cm.Name, program)
	}
	var cfg map[string]any
	if err := yaml.UnmarshalStrict([]byte(text), &cfg); err != nil {
		t.Fatalf("ConfigMap %s: %s.yaml: %v", cm.Name, program, err)
	}
	return cfg
}

// name is the object name of a component in the tests' release.
func name(component string) string { return releaseName + "-signaling-auth-" + component }

// flatKeys lists the dotted keys of a nested config map ("rate_limit.store").
func flatKeys(prefix string, m map[string]any, into map[string]bool) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatKeys(prefix+k+".", sub, into)
			continue
		}
		into[prefix+k] = true
	}
}

// lookup follows a dotted key through a nested config map.
func lookup(m map[string]any, key string) any {
	var v any = m
	for _, part := range strings.Split(key, ".") {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = sub[part]
	}
	return v
}

// repoConfigKeys lists the keys of the repository's configs/<program>.yaml, the
// reference of every key each program knows.
func repoConfigKeys(t *testing.T, program string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "configs", program+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("configs/%s.yaml: %v", program, err)
	}
	keys := map[string]bool{}
	flatKeys("", m, keys)
	return keys
}

// sortedKeys returns the keys of a set in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
