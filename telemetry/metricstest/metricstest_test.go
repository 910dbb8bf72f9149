package metricstest

import (
	"strings"
	"testing"
)

const sample = `# HELP app_requests_total Requests answered.
# TYPE app_requests_total counter
app_requests_total{route="/a",code="200"} 3
app_requests_total{route="/b",code="404",method="GET"} 1
# HELP app_latency_seconds Time to answer.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{route="/a",le="0.1"} 1
app_latency_seconds_bucket{route="/a",le="+Inf"} 1
app_latency_seconds_sum{route="/a"} 0.01
app_latency_seconds_count{route="/a"} 1
# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 7
`

func TestFamiliesKeepNamesTypesLabelsAndHelpNotValues(t *testing.T) {
	got, err := Families(sample)
	if err != nil {
		t.Fatal(err)
	}
	want := "app_latency_seconds\thistogram\troute\tTime to answer.\n" +
		"app_requests_total\tcounter\tcode,method,route\tRequests answered.\n" +
		"go_goroutines\tgauge\t\tNumber of goroutines.\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	other, _ := Families(strings.ReplaceAll(sample, "} 3", "} 99"))
	if other != got {
		t.Error("a changed value changed the families")
	}
}

// recorder is a testing.T stand-in that keeps the failure.
type recorder struct{ failed string }

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(f string, a ...any)      { r.failed = f }
func (r *recorder) Errorf(format string, a ...any) { r.failed = format }

func TestCheckFailsOnARenamedDroppedOrRelabelledMetric(t *testing.T) {
	path := t.TempDir() + "/metrics.golden"
	Check(t, sample, path, true)
	Check(t, sample, path, false) // the file just written matches
	for _, tt := range []struct{ name, exposition string }{
		{"a renamed metric", strings.ReplaceAll(sample, "app_requests_total", "app_requests")},
		{"a dropped metric", sample[strings.Index(sample, "# HELP app_latency"):]},
		{"a new label", strings.Replace(sample, `code="200"`, `code="200",user="x"`, 1) + ""},
		{"a changed help text", strings.Replace(sample, "Requests answered.", "Requests.", 1)},
		{"a changed type", strings.Replace(sample, "# TYPE app_requests_total counter", "# TYPE app_requests_total gauge", 1)},
	} {
		r := &recorder{}
		Check(r, tt.exposition, path, false)
		if r.failed == "" {
			t.Errorf("%s passed the golden check", tt.name)
		}
	}
	if r := (&recorder{}); func() bool { Check(r, sample+"go_threads 3\n", path, false); return r.failed != "" }() {
		t.Error("a Go runtime metric, which is left out, failed the check")
	}
}

func TestNamesReadsAGoldenFile(t *testing.T) {
	got := Names(Header + "app_x_total\tcounter\troute\tX.\n")
	if len(got) != 1 || got["app_x_total"] != "counter" {
		t.Errorf("%v", got)
	}
}
