// Package childproc holds what the e2e tests and the benchreport command
// both need to run our programs as child processes: an environment the
// developer's shell cannot leak configuration into, a buffer that collects a
// child's output while another goroutine reads it, and the addresses the
// child says it listens on.
package childproc

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"strings"
)

// CleanEnv is this process's environment without anything our programs would
// read as configuration and without HTTP proxies, so the developer's shell
// cannot change a test or a measurement.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "TOKENSERVER_"), strings.HasPrefix(k, "CORSPROXY_"), strings.HasPrefix(k, "WEBDEMO_"), strings.HasPrefix(k, "OTEL_"):
		case k == "APP_ID", k == "APP_CERTIFICATE", k == "SERVER_PORT", k == "PORT", k == "CORS_ALLOW_ORIGIN":
		case strings.HasSuffix(strings.ToLower(k), "_proxy"):
		default:
			env = append(env, kv)
		}
	}
	return env
}

// NoDrain turns off each program's drain on SIGTERM (timeouts.drain=0): a test or a
// measurement stops its children often, and nothing routes to them but itself. Put
// it before the child's own settings, so that one test can still set a drain.
var NoDrain = []string{"TOKENSERVER_TIMEOUTS_DRAIN=0", "CORSPROXY_TIMEOUTS_DRAIN=0", "WEBDEMO_TIMEOUTS_DRAIN=0"}

// ListeningAddrs reads the addresses from a program's JSON log records
// msg="listening" and msg="admin listening"; empty where none was logged yet.
// Lines up to 1 MiB are read, so one long record cannot hide the ones after it.
func ListeningAddrs(log io.Reader) (addr, admin string) {
	sc := bufio.NewScanner(log)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		switch rec.Msg {
		case "listening":
			addr = rec.Addr
		case "admin listening":
			admin = rec.Addr
		}
	}
	return addr, admin
}
