package e2e

// The first ten minutes of a newcomer: the page says when the token server runs
// in demo mode, loads the Signaling SDK from webdemo itself after `make sdk`, with a
// Content-Security-Policy that allows exactly that script, reports a missing SDK once, and
// works with the real agora-rtm-sdk 2.x, not only with the stand-in.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// scriptSrc fetches the page and returns its CSP's script-src sources.
func scriptSrc(t *testing.T, pageURL string) []string {
	t.Helper()
	res, err := plainHTTP.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, d := range strings.Split(res.Header.Get("Content-Security-Policy"), ";") {
		f := strings.Fields(d)
		if len(f) > 0 && f[0] == "script-src" {
			return f[1:]
		}
	}
	t.Fatalf("no script-src in %q", res.Header.Get("Content-Security-Policy"))
	return nil
}

func TestDemoModeIsShownBeforeTheFirstLoginAndExplainedAgainOnRejection(t *testing.T) {
	s := startStack(t, stackOptions{demo: true, demoMode: true})
	tb := newTab(t)
	tb.open(s.pageURL())
	if eval[bool](tb, `document.querySelector('#demo-banner').hidden`) {
		t.Fatal("the demo-mode banner is hidden although config.json says mode demo")
	}
	banner := tb.text("#demo-banner")
	for _, want := range []string{"Demo mode", "placeholder", "AGORA_APP_ID=", "AGORA_APP_CERTIFICATE=", ".env", "make run"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the banner does not say %q:\n%s", want, banner)
		}
	}
	if n := eval[int](tb, `document.querySelectorAll('#log li').length`); n == 0 || !strings.Contains(tb.pageLog(), "Demo mode") {
		t.Errorf("the log does not mention demo mode:\n%s", tb.pageLog())
	}

	t.Run("screenshots of the page in demo mode at desktop and phone width are kept", func(t *testing.T) {
		t.Logf("desktop: %s", tb.screenshot("demo-mode.png"))
		tb.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		if overflow := eval[int](tb, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
			t.Errorf("the page in demo mode is %d px wider than a 390 px phone screen", overflow)
		}
		t.Logf("phone: %s", tb.screenshot("demo-mode-phone.png"))
		tb.do("desktop viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
			return err
		}))
	})

	// Agora refuses a demo-mode token; the stand-in SDK answers as Agora would.
	tb.exec(`window.fakeRTM.control.rejectLogin = {errorCode: -10005, reason: 'Invalid token.'}`)
	tb.typeAndEnter("dave")
	p := tb.waitForProblem()
	if !strings.Contains(p.Title, "demo mode") || !strings.Contains(p.Detail, "code -10005") {
		t.Errorf("problem %+v, want Agora's rejection explained as demo mode", p)
	}
	for _, want := range []string{"AGORA_APP_ID=", "AGORA_APP_CERTIFICATE=", ".env"} {
		if !strings.Contains(p.Fix, want) {
			t.Errorf("the fix does not give %q: %q", want, p.Fix)
		}
	}
	tb.requireIdle()
	tb.requireCleanConsole()
}

func TestNoDemoBannerWithALiveTokenServer(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.open(s.pageURL())
	if !eval[bool](tb, `document.querySelector('#demo-banner').hidden`) {
		t.Error("the demo-mode banner is shown although the token server has a certificate")
	}
}

// localSDKDir is a directory holding the stand-in SDK as agora-rtm.js, as `make sdk`
// leaves the real one.
func localSDKDir(t *testing.T) string {
	t.Helper()
	js, err := os.ReadFile("testdata/fake-agora-rtm.js")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "agora-rtm.js"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTheSDKFromSDKDirIsServedByWebdemoAndNoCDNIsAllowed(t *testing.T) {
	s := startStack(t, stackOptions{sdkDir: localSDKDir(t)})
	if got := strings.Join(scriptSrc(t, s.pageURL()), " "); got != "'self' 'wasm-unsafe-eval'" {
		t.Errorf("script-src %q, want only 'self' (and WebAssembly): the SDK comes from this site", got)
	}
	tb := newTab(t)
	tb.open(s.pageURL())
	if got := tb.text("#setup-sdk"); !strings.HasPrefix(got, "/sdk/agora-rtm.js (loaded") {
		t.Errorf("Signaling SDK %q, want /sdk/agora-rtm.js (loaded…)", got)
	}
	if n := s.sdk.requests.Load(); n != 0 {
		t.Errorf("the page still asked sdk_url %d times", n)
	}
	tb.typeAndEnter("frank")
	tb.waitUntil("logged in", `document.querySelector('#state').dataset.state === 'in'`)
	tb.requireCleanConsole()
}

func TestTheCDNDefaultAllowsExactlyTheSDKsURL(t *testing.T) {
	s := startStack(t, stackOptions{})
	if got, want := strings.Join(scriptSrc(t, s.pageURL()), " "), "'self' "+s.sdk.url+" 'wasm-unsafe-eval'"; got != want {
		t.Errorf("script-src %q, want %q", got, want)
	}
	tb := newTab(t)
	tb.open(s.pageURL())
	// Another script of the same origin, as any other npm file on the CDN would be.
	tb.exec(`(() => { const s = document.createElement('script'); s.src = new URL('/npm/other/x.js', ` + jsString(s.sdk.url) + `).href; document.head.append(s); })()`)
	blocked := false
	for deadline := time.Now().Add(10 * time.Second); !blocked && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, l := range tb.consoleLines() {
			blocked = blocked || (strings.Contains(l, "Content Security Policy") && strings.Contains(l, "/npm/other/x.js"))
		}
	}
	if !blocked {
		t.Errorf("a script from the SDK's origin but another path was not blocked; console:\n%s", strings.Join(tb.consoleLines(), "\n"))
	}
}

func TestAMissingSDKIsLoadedOnceAndShownOnceWithTheMakeSDKRecipe(t *testing.T) {
	var requests atomic.Int64
	missing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(missing.Close)
	url := missing.URL + "/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"
	s := startStack(t, stackOptions{sdkURL: url})
	tb := newTab(t)
	start := time.Now()
	tb.open(s.pageURL())
	p := tb.waitForProblem()
	if p.Title != "Signaling SDK not loaded" || !strings.Contains(p.Fix, "make sdk") || !strings.Contains(p.Detail, url) {
		t.Errorf("on load: %+v", p)
	}
	t.Logf("the failure was shown %s after the page was opened", time.Since(start).Round(time.Millisecond))
	tb.exec(`document.querySelector('#problem').hidden = true`)
	tb.typeAndEnter("erin")
	p = tb.waitForProblem()
	if p.Title != "Signaling SDK not loaded" || !strings.Contains(p.Fix, "make sdk") {
		t.Errorf("on login: %+v", p)
	}
	tb.requireIdle()
	if n := strings.Count(tb.pageLog(), "Signaling SDK not loaded"); n != 1 {
		t.Errorf("the log reports the missing SDK %d times, want once:\n%s", n, tb.pageLog())
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("the page asked for the SDK %d times, want once", n)
	}
}

// realSDKDir is where `make sdk` puts agora-rtm-sdk: .sdk/ in the repository root.
// Without it the test skips on a developer machine and fails in CI, which runs make sdk.
func realSDKDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(opsRepoRoot(t), ".sdk")
	if _, err := os.Stat(filepath.Join(dir, "agora-rtm.js")); err != nil {
		if inCI() {
			t.Fatalf("CI: the real Signaling SDK is missing (.ci/run runs make sdk): %v", err)
		}
		t.Skipf("the real Signaling SDK is missing (run make sdk): %v", err)
	}
	return dir
}

func TestTheRealSDKHasWhatThePageCallsAndAnUnreachableAgoraEndsWithAMessage(t *testing.T) {
	dir := realSDKDir(t)

	// The typings name the events the page listens to.
	dts, err := os.ReadFile(filepath.Join(dir, "agora-rtm.d.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{"tokenPrivilegeWillExpire: (channelName: string) => void;", "linkState: (linkState: LinkStateEvent) => void;"} {
		if !strings.Contains(string(dts), ev) {
			t.Errorf("agora-rtm.d.ts has no %q in RTMClientEventMap: the page listens to an event the SDK does not send", ev)
		}
	}
	for _, sig := range []string{"constructor(appId: string, userId: string, rtmConfig?: RTMConfig);", "logout(): Promise<LogoutResponse>;", "renewToken(token: string, options?: RenewTokenOptions): Promise<RenewTokenResponse>;"} {
		if !strings.Contains(string(dts), sig) {
			t.Errorf("agora-rtm.d.ts lacks %q", sig)
		}
	}

	s := startStack(t, stackOptions{demo: true, demoMode: true, sdkDir: dir})
	tb := newTab(t)
	tb.open(s.pageURL())
	if got := tb.text("#setup-sdk"); !strings.HasPrefix(got, "/sdk/agora-rtm.js (loaded 2.") {
		t.Fatalf("Signaling SDK %q, want the real agora-rtm.js 2.x loaded from /sdk/", got)
	}
	// Everything the page calls, with the shape it uses it in. The instance is made
	// with the page's own arguments (App ID, user ID) plus an options object.
	shape := eval[map[string]any](tb, `(() => {
		const out = {};
		out.rtmIsClass = typeof AgoraRTM.RTM === 'function';
		const c = new AgoraRTM.RTM('970CA35de60c44645bbae8a215061b33', 'shape-check', {});
		for (const m of ['login', 'logout', 'renewToken', 'addEventListener', 'removeEventListener']) out[m] = typeof c[m];
		try {
			c.addEventListener('tokenPrivilegeWillExpire', () => {});
			c.addEventListener('linkState', () => {});
			out.listen = 'ok';
		} catch (e) { out.listen = String(e); }
		return out;
	})()`)
	want := map[string]any{"rtmIsClass": true, "login": "function", "logout": "function", "renewToken": "function",
		"addEventListener": "function", "removeEventListener": "function", "listen": "ok"}
	for k, v := range want {
		if shape[k] != v {
			t.Errorf("real SDK: %s = %v, want %v", k, shape[k], v)
		}
	}

	// login({token}) against an Agora that cannot be reached (no name resolves): the page
	// must end with a message and a usable button within its own 20 s login timeout.
	start := time.Now()
	tb.typeAndEnter("realsdk")
	tb.waitUntilWithin("the login ends with a problem shown", `!document.querySelector('#problem').hidden && !document.querySelector('#login').disabled`, 40*time.Second)
	took := time.Since(start)
	p := problemBox{tb.text("#problem-title"), tb.text("#problem-detail"), tb.text("#problem-fix")}
	t.Logf("login against unreachable Agora ended after %s: %+v", took.Round(time.Millisecond), p)
	if p.Title == "" || p.Fix == "" || p.Title == "Unexpected error" {
		t.Errorf("no clear message: %+v", p)
	}
	if took > 25*time.Second {
		t.Errorf("the login took %s, beyond the page's 20 s timeout", took)
	}
	tb.requireIdle()
	if !strings.Contains(tb.pageLog(), "Got a token") || !strings.Contains(tb.pageLog(), "Logging in to Agora Signaling") {
		t.Errorf("the page did not get as far as login():\n%s", tb.pageLog())
	}
}
