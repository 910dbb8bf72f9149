package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// open loads the guide and waits until the page has its config and has tried to load
// the SDK.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do("open "+url, chromedp.Navigate(url))
	tb.waitUntil("the SDK was loaded or failed", `/\((loaded|not loaded)/.test(document.querySelector('#setup-sdk').textContent)`)
}

// typeAndEnter types into the User ID field and presses Enter, as a user would.
func (tb *tab) typeAndEnter(uid string) {
	tb.t.Helper()
	tb.exec(`document.querySelector('#uid').value = ''`)
	tb.do("type the user ID", chromedp.SendKeys(chromedp.CSS("#uid"), uid+kb.Enter))
}

// setSessionToken opens Options, as a user would, and types into the Session token
// field ("" empties it).
func (tb *tab) setSessionToken(v string) {
	tb.t.Helper()
	if !eval[bool](tb, `document.querySelector('#login-form details.options').open`) {
		tb.do("open Options", chromedp.Click(chromedp.CSS("#login-form details.options summary")))
	}
	tb.exec(`document.querySelector('#session-token').value = ''`)
	if v != "" {
		tb.do("type the session token", chromedp.SendKeys(chromedp.CSS("#session-token"), v))
	}
}

// submitRaw puts any string into the field (control bytes cannot be typed) and submits.
func (tb *tab) submitRaw(uid string) {
	tb.t.Helper()
	tb.exec(fmt.Sprintf(`document.querySelector('#uid').value = %s, document.querySelector('#login-form').requestSubmit()`, jsString(uid)))
}

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	b.WriteByte('"')
	return b.String()
}

type problemBox struct{ Title, Detail, Fix string }

// waitForProblem waits for the page's error box and returns what it says.
func (tb *tab) waitForProblem() problemBox {
	tb.t.Helper()
	tb.waitUntil("the page shows a problem", `!document.querySelector('#problem').hidden`)
	return problemBox{tb.text("#problem-title"), tb.text("#problem-detail"), tb.text("#problem-fix")}
}

// requireIdle fails unless the page is logged out with a usable Login button: no
// failure may leave the button stuck.
func (tb *tab) requireIdle() {
	tb.t.Helper()
	tb.waitUntil("the Login button is usable again",
		`(() => { const b = document.querySelector('#login'); return !b.disabled && b.textContent === 'Login' && document.querySelector('#state').dataset.state === 'out' })()`)
}

// requireCleanConsole fails on uncaught exceptions and Content-Security-Policy
// violations: the policy must allow everything the page itself needs.
func (tb *tab) requireCleanConsole() {
	tb.t.Helper()
	for _, l := range tb.consoleLines() {
		if strings.HasPrefix(l, "uncaught") || strings.Contains(l, "Content Security Policy") {
			tb.t.Errorf("browser console: %s", l)
		}
	}
}

func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(tb.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return path
}

func TestGuideListOpensTheGuide(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.do("open the guide list", chromedp.Navigate(s.web.url()+"/"), chromedp.Click(chromedp.CSS(`#guide-form button[type=submit]`)))
	tb.waitUntil("the guide is open", `location.pathname === '/authentication_guide/' && document.querySelector('#uid') !== null`)
	tb.requireCleanConsole()
}

func TestLoginRenewAndLogoutThroughTheProxy(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.open(s.pageURL())
	if n := s.sdk.requests.Load(); n != 1 {
		t.Fatalf("the page loaded the SDK %d times from sdk_url, want 1", n)
	}
	const uid = "alice e2e"

	var loginToken string
	t.Run("login fetches a verified token through the proxy and logs in with it", func(t *testing.T) {
		tb.typeAndEnter(uid)
		tb.waitUntil("logged in", `document.querySelector('#state').dataset.state === 'in'`)
		calls := tb.sdkCalls()
		ctor, logins := callsTo(calls, "constructor"), callsTo(calls, "login")
		if len(ctor) != 1 || len(logins) != 1 {
			t.Fatalf("calls into the SDK: %+v", calls)
		}
		// No App ID is configured, so the page must have read it out of the token.
		if ctor[0].AppID != vectorAppID || ctor[0].UserID != uid {
			t.Errorf("new AgoraRTM.RTM(%q, %q), want (%q, %q)", ctor[0].AppID, ctor[0].UserID, vectorAppID, uid)
		}
		loginToken = logins[0].Token
		s.requireSignalingToken(t, loginToken, uid)
		if got := tb.text("#state"); got != "Logged in as "+uid {
			t.Errorf("state %q", got)
		}
		if got := tb.text("#login"); got != "Logout" {
			t.Errorf("button says %q, want Logout", got)
		}
		if got := tb.text("#expiry"); !regexp.MustCompile(`^Token expires in (9:[0-5]\d|10:00)$`).MatchString(got) {
			t.Errorf("countdown %q, want about 10 minutes", got)
		}
	})
	if loginToken == "" {
		t.FailNow()
	}

	t.Run("a screenshot of the logged-in page is saved", func(t *testing.T) {
		t.Logf("screenshot of the logged-in page: %s", tb.screenshot("logged-in.png"))
	})

	t.Run("the page fits a phone's width", func(t *testing.T) {
		tb.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		overflow := eval[int](tb, `document.documentElement.scrollWidth - window.innerWidth`)
		if overflow > 0 {
			t.Errorf("the page is %d px wider than a 390 px phone screen", overflow)
		}
		t.Logf("screenshot at phone width: %s", tb.screenshot("logged-in-phone.png"))
		tb.do("desktop viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
			return err
		}))
	})

	t.Run("tokenPrivilegeWillExpire fetches a new token and calls renewToken", func(t *testing.T) {
		tb.exec(`window.fakeRTM.emit('tokenPrivilegeWillExpire', '')`)
		tb.waitUntil("renewToken was called", `window.fakeRTM.calls.some(c => c.method === 'renewToken')`)
		renew := callsTo(tb.sdkCalls(), "renewToken")
		if len(renew) != 1 || renew[0].Instance != 0 {
			t.Fatalf("renewToken calls: %+v", renew)
		}
		if renew[0].Token == loginToken {
			t.Error("renewToken got the login token again, not a freshly fetched one")
		}
		s.requireSignalingToken(t, renew[0].Token, uid)
		tb.waitUntil("the page reports the renewal", `document.querySelector('#log').textContent.includes('Token renewed')`)
	})

	t.Run("a link failure because the token expired logs in again with a fresh token", func(t *testing.T) {
		tb.exec(`window.fakeRTM.expireToken()`)
		tb.waitUntil("logged in again", `window.fakeRTM.calls.filter(c => c.method === 'login').length === 2 && document.querySelector('#state').dataset.state === 'in'`)
		calls := tb.sdkCalls()
		logins := callsTo(calls, "login")
		again := logins[1]
		if again.Instance != 1 {
			t.Errorf("the second login used instance %d, want a new client (1)", again.Instance)
		}
		if again.Token == loginToken {
			t.Error("logged in again with the expired token")
		}
		s.requireSignalingToken(t, again.Token, uid)
		var oldLoggedOut bool
		for _, c := range callsTo(calls, "logout") {
			oldLoggedOut = oldLoggedOut || c.Instance == 0
		}
		if !oldLoggedOut {
			t.Errorf("the failed client was not logged out: %+v", calls)
		}
	})

	t.Run("Logout calls logout and the button turns back into Login", func(t *testing.T) {
		tb.do("click Logout", chromedp.Click(chromedp.CSS("#login")))
		tb.requireIdle()
		var last []fakeCall
		for _, c := range tb.sdkCalls() {
			if c.Instance == 1 {
				last = append(last, c)
			}
		}
		if len(last) == 0 || last[len(last)-1].Method != "logout" {
			t.Errorf("calls on the current client: %+v, want it to end with logout", last)
		}
		if eval[bool](tb, `!document.querySelector('#problem').hidden`) {
			t.Errorf("a problem is shown after a clean logout: %s", tb.text("#problem-title"))
		}
	})
	tb.requireCleanConsole()
}
