package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browser is the one Chromium of this test package; every test opens its own tab.
var browser struct {
	once     sync.Once
	ctx      context.Context // the browser: tabs are made from it
	cancel   func()
	dataDir  string
	startErr error
}

// startBrowser launches Chromium with the flags CONVENTIONS.md lists and a fresh
// profile. No network but loopback is used, and nothing is downloaded.
func startBrowser() {
	dir, err := os.MkdirTemp("", "signaling-auth-e2e-chromium-")
	if err != nil {
		browser.startErr = err
		return
	}
	browser.dataDir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Every host name fails to resolve, so nothing but loopback addresses is reached
		// even when the real SDK tries Agora's servers.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		// /dev/shm is tiny in containers and Chromium crashes when it fills up.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1100, 900),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	browser.ctx = ctx
	browser.cancel = func() {
		cancel()
		allocCancel()
	}
	// The first call starts the browser and must not carry a timeout: that would stop
	// the whole browser when it expires.
	if err := chromedp.Do(ctx); err != nil {
		browser.startErr = fmt.Errorf("start %s: %w", chromiumPath, err)
	}
}

func closeBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dataDir != "" {
		_ = os.RemoveAll(browser.dataDir)
	}
}

// requireChromium skips without Chromium on a developer machine and fails in CI, where
// .ci/run installs it: the browser tests must run there, never skip.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if inCI() {
			t.Fatalf("CI: %s is missing (.ci/run installs the chromium package): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing: %v", chromiumPath, err)
	}
}

// tab is one browser tab, with what the page printed to the console.
type tab struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	console []string
}

// newTab opens a tab; it is closed when the test ends.
func newTab(t *testing.T) *tab {
	t.Helper()
	requireChromium(t)
	browser.once.Do(startBrowser)
	if browser.startErr != nil {
		t.Fatal(browser.startErr)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	tb := &tab{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(tb.consoleLines(), "\n"))
		}
		cancel()
	})
	err := chromedp.Listen(ctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			line = "uncaught: " + d.Text
			if d.Exception != nil {
				line += " " + d.Exception.Description
			}
		case *cdplog.EventEntryAdded:
			// CSP violations and failed loads are reported here, not on the console.
			line = fmt.Sprintf("log.%s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		default:
			return
		}
		tb.mu.Lock()
		tb.console = append(tb.console, line)
		tb.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the Log domain: %v", err)
	}
	return tb
}

func (tb *tab) consoleLines() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.console...)
}

// do performs chromedp actions, with a time limit, and fails the test on error.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v\npage log:\n%s", what, err, tb.pageLog())
	}
}

// waitUntil evaluates a JavaScript condition until it is true. It polls from Go rather
// than with chromedp.Poll so that a navigation in between (which destroys the page's
// JavaScript context) is just one more try.
func (tb *tab) waitUntil(what, condition string) {
	tb.t.Helper()
	tb.waitUntilWithin(what, condition, 20*time.Second)
}

// waitUntilWithin is waitUntil with its own limit, for a page timeout of 20 s itself.
func (tb *tab) waitUntilWithin(what, condition string, limit time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+condition+")"))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(25 * time.Millisecond)
	}
	tb.t.Fatalf("waiting until %s (%s): not within %s (last error: %v)\npage log:\n%s", what, condition, limit, lastErr, tb.pageLog())
}

// eval evaluates JavaScript and returns its value.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// exec runs JavaScript for its effect.
func (tb *tab) exec(js string) {
	tb.t.Helper()
	eval[bool](tb, "("+js+"), true")
}

func (tb *tab) text(selector string) string {
	tb.t.Helper()
	return strings.TrimSpace(eval[string](tb, fmt.Sprintf(`document.querySelector(%q).textContent`, selector)))
}

// pageLog is the text of the page's own log panel, for failure messages.
func (tb *tab) pageLog() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('#log li')).map(li => li.textContent).join('\n')`))
	return s
}

// fakeCall is one call the page made into the fake Signaling SDK.
type fakeCall struct {
	Instance    int    `json:"instance"`
	Method      string `json:"method"`
	AppID       string `json:"appId"`
	UserID      string `json:"userId"`
	Token       string `json:"token"`
	ChannelName string `json:"channelName"`
}

// sdkCalls returns the calls recorded by testdata/fake-agora-rtm.js.
func (tb *tab) sdkCalls() []fakeCall {
	tb.t.Helper()
	raw := eval[string](tb, `JSON.stringify(window.fakeRTM ? window.fakeRTM.calls : [])`)
	var calls []fakeCall
	if err := json.Unmarshal([]byte(raw), &calls); err != nil {
		tb.t.Fatalf("fake SDK calls %q: %v", raw, err)
	}
	return calls
}

func callsTo(calls []fakeCall, method string) []fakeCall {
	var out []fakeCall
	for _, c := range calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}
