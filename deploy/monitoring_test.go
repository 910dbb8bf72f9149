package deploy

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// prometheusRule is the part of monitoring.coreos.com/v1 PrometheusRule the
// chart renders; spec is kept raw for Prometheus's own rule parser.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              json.RawMessage `json:"spec"`
}

// synthetic are series Prometheus itself makes for every scrape target.
var synthetic = map[string]bool{"up": true}

// exported reads the metric families of the three programs from the golden
// files their TestMetricsGolden holds against their real /metrics.
func exported(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, prog := range []string{"tokenserver", "corsproxy", "webdemo"} {
		b, err := os.ReadFile(filepath.Join("..", prog, "testdata", "metrics.golden"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.SplitN(line, "\t", 3)
			out[f[0]] = f[1]
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d metric families in the golden files", len(out))
	}
	return out
}

// metricNames are the metric names an expression selects.
func metricNames(t *testing.T, expr string) []string {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatalf("%q does not parse: %v", expr, err)
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		t.Errorf("%q selects no metric", expr)
	}
	return names
}

// checkExported fails for a name that no program exports (a histogram's
// _bucket, _sum and _count count as its family).
func checkExported(t *testing.T, where string, names []string, families map[string]string) {
	t.Helper()
	for _, n := range names {
		if synthetic[n] {
			continue
		}
		fam := n
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suf); ok && families[base] == "histogram" {
				fam = base
			}
		}
		if _, ok := families[fam]; !ok {
			t.Errorf("%s names %s, which no program exports (see <program>/testdata/metrics.golden)", where, n)
		}
	}
}

func monitoringValues() map[string]any {
	return merge(withSecrets(), map[string]any{
		"monitoring": map[string]any{"dashboard": map[string]any{"enabled": true}, "rules": map[string]any{"enabled": true}},
	})
}

// TestAlertRulesParseAndNameRealMetrics: the PrometheusRule's groups pass
// Prometheus's own rule parser; every alert has a summary and a runbook link
// to a section of docs/operations.md that exists; every metric it names is
// one the programs export.
func TestAlertRulesParseAndNameRealMetrics(t *testing.T) {
	r := render(t, monitoringValues())
	if len(r.prometheusRules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(r.prometheusRules))
	}
	docs, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#+ (.+)$`).FindAllStringSubmatch(string(docs), -1) {
		anchors[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(m[1]), " ", "-"))] = true
	}
	families := exported(t)
	var alerts []string
	for _, pr := range r.prometheusRules {
		spec, err := yaml.JSONToYAML(pr.Spec)
		if err != nil {
			t.Fatal(err)
		}
		groups, errs := rulefmt.Parse(spec, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
		if len(errs) > 0 {
			t.Fatalf("Prometheus refuses the rules: %v\n%s", errs, spec)
		}
		for _, g := range groups.Groups {
			for _, rule := range g.Rules {
				alerts = append(alerts, rule.Alert)
				if rule.Annotations["summary"] == "" {
					t.Errorf("%s has no summary", rule.Alert)
				}
				_, anchor, ok := strings.Cut(rule.Annotations["runbook_url"], "operations.md#")
				if !ok || !anchors[anchor] || anchor != strings.ToLower(rule.Alert) {
					t.Errorf("%s: runbook_url %q does not lead to its section of docs/operations.md", rule.Alert, rule.Annotations["runbook_url"])
				}
				checkExported(t, "alert "+rule.Alert, metricNames(t, rule.Expr), families)
			}
		}
	}
	slices.Sort(alerts)
	want := []string{"SignalingAuthConnectionCapSaturated", "SignalingAuthErrorsHigh", "SignalingAuthLatencyHigh", "SignalingAuthNotReady", "SignalingAuthRateLimitStoreFailing", "SignalingAuthRefusalsHigh"}
	if !slices.Equal(alerts, want) {
		t.Errorf("alerts %v, want %v", alerts, want)
	}
}

// TestDashboardPanelsNameRealMetrics: the dashboard ConfigMap carries the
// sidecar label and valid dashboard JSON whose every query parses and names
// metrics the programs export.
func TestDashboardPanelsNameRealMetrics(t *testing.T) {
	r := render(t, monitoringValues())
	cm, ok := r.configMaps[name("dashboard")]
	if !ok {
		t.Fatalf("no dashboard ConfigMap %s", name("dashboard"))
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("labels %v lack the Grafana sidecar's grafana_dashboard: \"1\"", cm.Labels)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal([]byte(cm.Data["signaling-auth.json"]), &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	families := exported(t)
	var titles []string
	for _, p := range dash.Panels {
		titles = append(titles, p.Title)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			checkExported(t, "panel "+p.Title, metricNames(t, q.Expr), families)
		}
	}
	for _, want := range []string{"Tokens per second by kind", "Refusals by reason", "p50 / p99 latency per program", "429s per second", "Rate-limit store (Redis) errors",
		"Connection cap (max_conns) saturation", "Connections refused and waiting per second", "Pods draining"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %q", want)
		}
	}
}

// TestMonitoringIsOffByDefault: neither object renders unless enabled.
func TestMonitoringIsOffByDefault(t *testing.T) {
	r := render(t, withSecrets())
	if _, ok := r.configMaps[name("dashboard")]; ok || len(r.prometheusRules) > 0 {
		t.Error("monitoring objects rendered without being enabled")
	}
}
