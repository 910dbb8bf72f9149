package api

import (
	"slices"
	"strings"
	"testing"
	"time"

	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"

	"signaling-auth/tokenserver/internal/accesstoken"
)

const testSecondaryCert = "aaaabbbbccccddddeeeeffff00001111"

// POST /v1/tokens/diagnose over HTTP: the verdict, the findings, which
// certificate signed, and bad input named by field as on the rest of /v1.
func TestDiagnoseRoute(t *testing.T) {
	second, err := accesstoken.NewMinter(testAppID, testSecondaryCert)
	if err != nil {
		t.Fatal(err)
	}
	srv := newTestServer(t, newTestAPI(t, func(o *Options) { o.SecondaryMinter = second }))
	good, _ := refrtc.BuildTokenWithUid(testAppID, testCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	rotated, _ := refrtc.BuildTokenWithUid(testAppID, testSecondaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	twoFaults, _ := refrtc.BuildTokenWithUid(testAppID, testCert, "other", 42, refrtc.RoleSubscriber, 600, 600)
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tt := range []struct {
		name     string
		body     string
		status   int
		verdict  string
		signedBy string
		codes    []string
		bad      []string // invalidParams names
	}{
		{name: "a good token will be accepted", body: `{"token":"` + good + `","channel":"room","uid":"42"}`,
			status: 200, verdict: "will be accepted", signedBy: "primary", codes: []string{}},
		{name: "the secondary certificate's token says so", body: `{"token":"` + rotated + `","channel":"room","uid":"42","action":"publish-video"}`,
			status: 200, verdict: "will be accepted", signedBy: "secondary", codes: []string{}},
		{name: "two faults are both found", body: `{"token":"` + twoFaults + `","channel":"room","uid":"42","at":"` + later + `"}`,
			status: 200, verdict: "will be refused", signedBy: "primary", codes: []string{"token_expired", "channel_mismatch"}},
		{name: "a missing token is named", body: `{"channel":"room","uid":"42"}`, status: 400, bad: []string{"token"}},
		{name: "a bad time is named", body: `{"token":"` + good + `","channel":"room","uid":"42","at":"tomorrow"}`, status: 400, bad: []string{"at"}},
		{name: "an unknown member is named", body: `{"token":"` + good + `","channel":"room","uid":"42","role":"x"}`, status: 400, bad: []string{"role"}},
		{name: "a wrongly typed uid is named", body: `{"token":"` + good + `","channel":"room","uid":42}`, status: 400, bad: []string{"uid"}},
		{name: "every bad field is named at once", body: `{"token":"x","service":"video","uid":"a","userAccount":"b"}`, status: 400, bad: []string{"service", "uid", "token"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, call{method: "POST", path: "/v1/tokens/diagnose", contentType: "application/json", body: tt.body})
			if a.status != tt.status {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			m := a.json(t)
			if strings.Contains(string(a.body), testCert) || strings.Contains(string(a.body), testSecondaryCert) {
				t.Fatal("the answer shows a certificate")
			}
			if tt.status != 200 {
				if ct := a.header.Get("Content-Type"); ct != problemContentType {
					t.Errorf("Content-Type %q", ct)
				}
				var names []string
				for _, p := range m["invalidParams"].([]any) {
					names = append(names, p.(map[string]any)["name"].(string))
				}
				if !slices.Equal(names, tt.bad) {
					t.Errorf("invalidParams %v, want %v", names, tt.bad)
				}
				return
			}
			codes := []string{}
			for _, f := range m["findings"].([]any) {
				codes = append(codes, f.(map[string]any)["code"].(string))
			}
			if m["verdict"] != tt.verdict || m["signedBy"] != tt.signedBy || !slices.Equal(codes, tt.codes) || m["mode"] != "live" {
				t.Errorf("verdict %v signedBy %v codes %v mode %v", m["verdict"], m["signedBy"], codes, m["mode"])
			}
			if in, ok := m["inspection"].(map[string]any); !ok || in["appId"] != testAppID {
				t.Errorf("no full inspection: %v", m["inspection"])
			}
		})
	}
}
