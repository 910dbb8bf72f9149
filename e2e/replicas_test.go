package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"signaling-auth/lifecycle/testlog"
)

// Replicas on one machine: one redis-server, two token servers and two proxies sharing
// it (rate_limit.store=redis), each proxy in front of its own token server, as two pods
// of each behind a load balancer. A client's requests alternate between the replicas.
// Clients are told apart by their loopback source address (127.0.0.2, .3, …): each
// proxy sees it as the TCP peer, and each token server, which trusts the proxies'
// address 127.0.0.1 (trusted_proxies), reads it from the X-Forwarded-For the proxy sets.
// 127.0.0.8 plays an ingress in front of the proxies, trusted by both programs: the
// clients behind it are named by the X-Forwarded-For it sends.
//
// The rates are 1/h, so no token comes back during the test and the number admitted
// is exactly the burst when the replicas share one bucket (twice it when they do not).
const (
	replicaIPBurst    = 10 // tokenserver rate_limit.burst: per_ip and per_uid alike
	replicaProxyBurst = 25 // corsproxy rate_limit.burst (per_ip)
)

// TestReplicasShareLimits: per-IP and per-uid limits of the token servers and the
// per-IP limit of the proxies hold across replicas; then Redis is killed and each
// program follows its rate_limit.on_store_error (the token servers deny, the proxies
// allow, and the reverse in the second subtest).
func TestReplicasShareLimits(t *testing.T) {
	t.Run("token servers deny, proxies allow", func(t *testing.T) {
		s := replicaStack(t, "deny", "allow")

		// Per IP at the token servers: 2×burst token requests for distinct user IDs.
		got := replicaCount(t, s.proxies, "127.0.0.2", 2*replicaIPBurst, func(i int) string { return fmt.Sprintf("/rtm/ip-%d/?expiry=600", i) })
		t.Logf("per IP, token servers (burst %d, 1/h): %v", replicaIPBurst, got)
		if got[200] != replicaIPBurst || got[429] != replicaIPBurst {
			t.Errorf("per-IP limit across two token servers: %v, want %d tokens and %d answers 429", got, replicaIPBurst, replicaIPBurst)
		}

		// Per user ID at the token servers: one uid asked for by two fresh IPs, each
		// through both replicas. Each IP's own bucket would pass all its requests
		// (replicaIPBurst each), so every 429 is the uid's.
		got = replicaCount(t, s.proxies, "127.0.0.3,127.0.0.7", 2*replicaIPBurst, func(int) string { return "/rtm/carol/?expiry=600" })
		t.Logf("per uid, token servers (burst %d, 1/h), from two IPs: %v", replicaIPBurst, got)
		if got[200] != replicaIPBurst || got[429] != replicaIPBurst {
			t.Errorf("per-uid limit across two token servers: %v, want %d tokens and %d answers 429", got, replicaIPBurst, replicaIPBurst)
		}

		// Per IP at the proxies: /healthz goes through to the token server, which does
		// not limit it, so every 429 is the proxies'.
		got = replicaCount(t, s.proxies, "127.0.0.4", 40, func(int) string { return "/healthz" })
		t.Logf("per IP, proxies (burst %d, 1/h): %v", replicaProxyBurst, got)
		if got[200] != replicaProxyBurst || got[429] != 40-replicaProxyBurst {
			t.Errorf("per-IP limit across two proxies: %v, want %d answers 200 and %d 429", got, replicaProxyBurst, 40-replicaProxyBurst)
		}

		// Behind an ingress (127.0.0.8, in both programs' trusted_proxies) the clients
		// are told apart by its X-Forwarded-For: two clients, a full burst each.
		for _, client := range []string{"203.0.113.7", "203.0.113.8"} {
			got = replicaCountVia(t, s.proxies, "127.0.0.8", client, 2*replicaIPBurst, func(i int) string { return fmt.Sprintf("/rtm/%s-%d/?expiry=600", client, i) })
			t.Logf("per IP, token servers, client %s behind an ingress: %v", client, got)
			if got[200] != replicaIPBurst || got[429] != replicaIPBurst {
				t.Errorf("client %s behind an ingress: %v, want %d tokens and %d answers 429 (its own bucket)", client, got, replicaIPBurst, replicaIPBurst)
			}
		}

		// Redis goes away. The proxies (allow) pass /healthz unlimited, even for the
		// client they have limited; the token servers (deny) answer 503.
		s.redis.kill(t)
		got = replicaCount(t, s.proxies, "127.0.0.4", 6, func(int) string { return "/healthz" })
		t.Logf("Redis down, proxies allow: %v", got)
		if got[200] != 6 {
			t.Errorf("Redis down, on_store_error=allow at the proxies: %v, want 6 answers 200", got)
		}
		got = replicaCount(t, s.proxies, "127.0.0.5", 6, func(i int) string { return fmt.Sprintf("/rtm/down-%d/?expiry=600", i) })
		t.Logf("Redis down, token servers deny: %v", got)
		if got[503] != 6 {
			t.Errorf("Redis down, on_store_error=deny at the token servers: %v, want 6 answers 503", got)
		}
	})

	t.Run("token servers allow, proxies deny", func(t *testing.T) {
		s := replicaStack(t, "allow", "deny")
		s.redis.kill(t)
		got := replicaCount(t, s.proxies, "127.0.0.6", 6, func(int) string { return "/healthz" })
		t.Logf("Redis down, proxies deny: %v", got)
		if got[503] != 6 {
			t.Errorf("Redis down, on_store_error=deny at the proxies: %v, want 6 answers 503", got)
		}
		// Straight to the token servers (allow): tokens, unlimited.
		got = replicaCount(t, s.tokens, "127.0.0.6", 6, func(i int) string { return fmt.Sprintf("/rtm/up-%d/?expiry=600", i) })
		t.Logf("Redis down, token servers allow: %v", got)
		if got[200] != 6 {
			t.Errorf("Redis down, on_store_error=allow at the token servers: %v, want 6 tokens", got)
		}
	})
}

// replicas is a running stack: Redis, two token servers, two proxies (proxies[i] in
// front of tokens[i]).
type replicas struct {
	redis   *replicaRedis
	tokens  []*process
	proxies []*process
}

// replicaStack starts the stack with the given rate_limit.on_store_error for the token
// servers and the proxies.
func replicaStack(t *testing.T, tokenOnError, proxyOnError string) replicas {
	t.Helper()
	r := replicas{redis: startReplicaRedis(t)}
	shared := []string{"--rate_limit.store", "redis", "--rate_limit.redis_url", r.redis.url()}
	for range 2 {
		token := start(t, "tokenserver", faultTokenEnv(), append([]string{"--listen", "127.0.0.1:0",
			"--trusted_proxies", "127.0.0.1,127.0.0.8", "--rate_limit.per_ip", "1/h", "--rate_limit.per_uid", "1/h",
			"--rate_limit.burst", strconv.Itoa(replicaIPBurst), "--rate_limit.on_store_error", tokenOnError}, shared...)...)
		r.tokens = append(r.tokens, token)
		r.proxies = append(r.proxies, start(t, "corsproxy", nil, append([]string{"--listen", "127.0.0.1:0",
			"--admin_listen", "127.0.0.1:0", "--upstream", token.url(), "--cors.allowed_origins", faultOrigin, "--trusted_proxies", "127.0.0.8",
			"--allowed_paths", "/rtm/,/healthz", // /healthz: an answer the token server never limits
			"--rate_limit.per_ip", "1/h", "--rate_limit.burst", strconv.Itoa(replicaProxyBurst),
			"--rate_limit.on_store_error", proxyOnError}, shared...)...))
	}
	return r
}

// replicaCount is replicaCountVia without X-Forwarded-For.
func replicaCount(t *testing.T, servers []*process, ips string, n int, path func(int) string) map[int]int {
	t.Helper()
	return replicaCountVia(t, servers, ips, "", n, path)
}

// replicaCountVia sends n GETs of path(i), one at a time, from the comma-separated loopback
// source addresses ips in turn, going through every address to the first server, then to
// the next, and so on round; it counts the answers by status. A non-empty xff is sent as
// X-Forwarded-For, as an ingress in front of the proxies would.
func replicaCountVia(t *testing.T, servers []*process, ips, xff string, n int, path func(int) string) map[int]int {
	t.Helper()
	var clients []*http.Client
	for ip := range strings.SplitSeq(ips, ",") {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext}}
		defer c.CloseIdleConnections()
		clients = append(clients, c)
	}
	got := map[int]int{}
	for i := range n {
		client, server := clients[i%len(clients)], servers[(i/len(clients))%len(servers)]
		req, _ := http.NewRequest("GET", server.url()+path(i), nil)
		req.Header.Set("Origin", faultOrigin)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d from %s: %v", i, ips, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		got[res.StatusCode]++
	}
	return got
}

// replicaRedis is a redis-server child on a free loopback port, without persistence.
type replicaRedis struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *replicaRedis) url() string { return "redis://" + r.addr + "/0" }

// startReplicaRedis starts redis-server (/usr/bin/redis-server or on PATH); without it
// the test is skipped, or fails in CI (.ci/run installs it).
func startReplicaRedis(t *testing.T) *replicaRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/redis-server"); statErr != nil {
			if inCI() {
				t.Fatal("redis-server is not installed; .ci/run installs it")
			}
			t.Skip("redis-server is not installed; skipping (in CI this fails)")
		}
		bin = "/usr/bin/redis-server"
	}
	port := freePort(t)
	r := &replicaRedis{addr: "127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
	out := &testlog.Buffer{}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
	r.cmd.Stdout, r.cmd.Stderr = out, out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a signal for the test binary is not for it
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() { r.kill(t) })
	err = opsEventually(10*time.Second, func() error {
		select {
		case <-r.done:
			return fmt.Errorf("redis-server exited: %s", out)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", r.addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, "PING\r\n"); err != nil {
			return err
		}
		b := make([]byte, 7)
		if _, err := io.ReadFull(c, b); err != nil || !strings.HasPrefix(string(b), "+PONG") {
			return fmt.Errorf("PING: %q %v", b, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("redis-server on %s: %v", r.addr, err)
	}
	return r
}

// kill ends Redis with SIGKILL (an outage, not a shutdown) and waits for it.
func (r *replicaRedis) kill(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}
