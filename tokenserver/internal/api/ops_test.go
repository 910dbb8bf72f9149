package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	do(t, srv, call{path: "/rtm/alice/"})
	do(t, srv, call{path: "/rtm/bob"})
	do(t, srv, call{path: "/rtm/a%0A/"})
	do(t, srv, call{path: "/rte/c/publisher/uid/1/"})
	do(t, srv, call{method: "POST", path: "/v1/tokens", contentType: "application/json", body: `{"type":"chat-app"}`})
	do(t, srv, call{path: "/secret/path/with/007token"})

	a := do(t, srv, call{path: "/metrics"})
	if a.status != http.StatusOK {
		t.Fatalf("status %d", a.status)
	}
	body := string(a.body)
	for _, want := range []string{
		// Both slash forms count under one route label.
		`tokenserver_http_requests_total{method="GET",route="/rtm/:uid",status="200"} 2`,
		`tokenserver_http_requests_total{method="GET",route="/rtm/:uid",status="400"} 1`,
		`tokenserver_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`tokenserver_tokens_minted_total{type="signaling"} 3`,
		`tokenserver_tokens_minted_total{type="rtc"} 1`,
		`tokenserver_tokens_minted_total{type="chat-app"} 1`,
		`tokenserver_tokens_minted_total{type="chat-user"} 0`,
		`tokenserver_http_request_duration_seconds_count{route="/rtm/:uid"} 3`,
		`tokenserver_build_info{mode="live",version="test"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "007token") || strings.Contains(body, "alice") {
		t.Error("metrics contain raw paths")
	}
}

// TestOpenAPIMatchesRoutes walks gin's routes and the document's paths and
// fails on any difference in either direction.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	a := newTestAPI(t, nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	srv := newTestServer(t, a)
	ans := do(t, srv, call{path: "/openapi.json"})
	if err := json.Unmarshal(ans.body, &doc); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want an OpenAPI 3 document", doc.OpenAPI)
	}
	var fromGin, fromDoc []string
	for _, r := range a.engine.Routes() {
		fromGin = append(fromGin, r.Method+" "+openAPIPath(r.Path))
	}
	for p, item := range doc.Paths {
		for method := range item {
			fromDoc = append(fromDoc, strings.ToUpper(method)+" "+p)
		}
	}
	slices.Sort(fromGin)
	slices.Sort(fromDoc)
	for _, r := range fromGin {
		if !slices.Contains(fromDoc, r) {
			t.Errorf("route %s is served but not in the OpenAPI document", r)
		}
	}
	for _, r := range fromDoc {
		if !slices.Contains(fromGin, r) {
			t.Errorf("route %s is in the OpenAPI document but not served", r)
		}
	}
	if len(fromGin) < 20 {
		t.Errorf("only %d routes: %v", len(fromGin), fromGin)
	}
}

// TestOpenAPIReferencesResolve checks every $ref in the document points at a
// schema that exists and every path parameter is declared.
func TestOpenAPIReferencesResolve(t *testing.T) {
	raw, err := openAPIDocument("x", "jwt", true)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if _, ok := schemas[name]; !ok {
					t.Errorf("$ref %s does not resolve", r)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(doc)
	ids := map[string]bool{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			o := op.(map[string]any)
			id := o["operationId"].(string)
			if ids[id] {
				t.Errorf("operationId %s is used twice", id)
			}
			ids[id] = true
			declared := map[string]bool{}
			if ps, ok := o["parameters"].([]any); ok {
				for _, p := range ps {
					pm := p.(map[string]any)
					if pm["in"] == "path" {
						declared[pm["name"].(string)] = true
					}
				}
			}
			for _, m := range ginParamInDoc.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s %s: path parameter %s is not declared", method, path, m[1])
				}
				if pathParamDoc[m[1]] == "" {
					t.Errorf("%s %s: path parameter %s has no description", method, path, m[1])
				}
			}
			if _, ok := o["responses"].(map[string]any)["200"]; !ok {
				t.Errorf("%s %s has no 200 answer", method, path)
			}
		}
	}
}

var ginParamInDoc = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)

// Every label value comes from a closed set: a thousand made-up methods,
// half on a path no route has and half on one whose route has other
// methods, add two series (method "other", 404 and 405), not a thousand.
func TestMadeUpMethodsDoNotGrowTheMetrics(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	// The latency series of the unmatched route and of /metrics itself
	// appear once, with the first request of each.
	do(t, srv, call{path: "/no/such/route"})
	do(t, srv, call{path: "/metrics"})
	before := len(do(t, srv, call{path: "/metrics"}).body)
	for i := range 1000 {
		path := "/no/such/route"
		if i%2 == 1 {
			path = "/v1/tokens"
		}
		method := fmt.Sprintf("M%04d%s", i, strings.Repeat("X", 200))
		if a := do(t, srv, call{method: method, path: path}); a.status != http.StatusNotFound && a.status != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: %d", method[:5], path, a.status)
		}
	}
	body := do(t, srv, call{path: "/metrics"}).body
	grown := len(body) - before
	t.Logf("/metrics: %d bytes before, %d after 1000 distinct methods (+%d)", before, len(body), grown)
	if grown >= 1024 {
		t.Errorf("/metrics grew by %d bytes (from %d) after 1000 distinct methods; want under 1 KB", grown, before)
	}
	for _, want := range []string{
		`tokenserver_http_requests_total{method="other",route="unmatched",status="404"} 500`,
		`tokenserver_http_requests_total{method="other",route="unmatched",status="405"} 500`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Requests no route takes (404) or whose method the route lacks (405) use
// up the per-IP limit like the token routes, so they cannot be sent for free.
func TestNotFoundAndMethodNotAllowedFloodsGetTooManyRequests(t *testing.T) {
	for _, tt := range []struct {
		name   string
		req    call
		status int
	}{
		{"a path no route has", call{path: "/wp-login.php"}, http.StatusNotFound},
		{"a method the route lacks", call{method: "DELETE", path: "/v1/tokens"}, http.StatusMethodNotAllowed},
		{"a made-up method", call{method: "BREW", path: "/rtm/alice"}, http.StatusMethodNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.Limiter, o.PerIP = limiter(), hourly(3) }))
			for i := range 3 {
				if a := do(t, srv, tt.req); a.status != tt.status {
					t.Fatalf("request %d: %d, want %d", i+1, a.status, tt.status)
				}
			}
			a := do(t, srv, tt.req)
			if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") == "" {
				t.Fatalf("request 4 over a burst of 3: %d, Retry-After %q; want 429 with Retry-After", a.status, a.header.Get("Retry-After"))
			}
			if a := do(t, srv, call{path: "/healthz"}); a.status != http.StatusOK {
				t.Errorf("/healthz after the flood: %d; probes are never limited", a.status)
			}
		})
	}
}
