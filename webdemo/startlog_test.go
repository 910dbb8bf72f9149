package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTheStartLogSaysWhereThePageGetsTheSDKAndNothingElse(t *testing.T) {
	const cdn = "https://cdn.example/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"
	local := t.TempDir()
	if err := os.WriteFile(filepath.Join(local, "agora-rtm.js"), []byte("window.AgoraRTM = {};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		want, not  string
		wantSDKURL bool
	}{
		{name: "with agora-rtm.js in sdk_dir the log names the local copy and never the CDN",
			args: []string{"--sdk_dir", local, "--sdk_url", cdn}, want: "from this site (sdk_dir)", not: cdn},
		{name: "with an empty sdk_dir the log names sdk_url and why",
			args: []string{"--sdk_dir", t.TempDir(), "--sdk_url", cdn}, want: "from sdk_url: no local copy", not: "from this site", wantSDKURL: true},
		{name: "without sdk_dir the log names sdk_url",
			args: []string{"--sdk_dir=", "--sdk_url", cdn}, want: "from sdk_url", not: "from this site", wantSDKURL: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startRun(t, tt.args...)
			_ = s.stop()
			logs := s.stderr.String()
			if !strings.Contains(logs, tt.want) {
				t.Errorf("the log does not say %q:\n%s", tt.want, logs)
			}
			if strings.Contains(logs, tt.not) {
				t.Errorf("the log says %q:\n%s", tt.not, logs)
			}
			if got := strings.Count(logs, "Signaling SDK"); got != 1 {
				t.Errorf("%d lines about the SDK, want one:\n%s", got, logs)
			}
			if strings.Contains(logs, cdn) != tt.wantSDKURL {
				t.Errorf("sdk_url in the log: %v, want %v:\n%s", !tt.wantSDKURL, tt.wantSDKURL, logs)
			}
		})
	}
}
