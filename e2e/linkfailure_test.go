package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// maxRelogins is MAX_RELOGINS in guide.js: how often the page logs in again by itself
// within a minute before it stops and asks the user.
const maxRelogins = 3

// When Agora gives up on the link (linkState FAILED), the page logs in again with a
// fresh token, except where that would be wrong, and never more than maxRelogins times
// in a row.
func TestAFailedLinkIsLoggedInAgainUnlessThatWouldBeWrong(t *testing.T) {
	s := startStack(t, stackOptions{})
	const uid = "lena"
	// Every token the page fetches goes through the proxy and says so in the log.
	fetch := "Fetching a token: GET " + s.proxy.url() + "/rtm/" + uid + "/"

	t.Run("a link that failed for a network reason is logged in again with a fresh token through the proxy", func(t *testing.T) {
		tb := newTab(t)
		tb.open(s.pageURL())
		s.requireLogin(t, tb, "logged in", uid)
		first := callsTo(tb.sdkCalls(), "login")[0]

		tb.exec(`window.fakeRTM.failLink('RECONNECT_TIMEOUT')`)
		tb.waitForLogins(2)
		calls := tb.sdkCalls()
		again := callsTo(calls, "login")[1]
		if again.Instance != 1 {
			t.Errorf("the second login used instance %d, want a new client (1)", again.Instance)
		}
		if again.Token == first.Token {
			t.Error("logged in again with the first token, not a freshly fetched one")
		}
		s.requireSignalingToken(t, again.Token, uid)
		log := tb.pageLog()
		if n := strings.Count(log, fetch); n != 2 {
			t.Errorf("%d token requests through the proxy, want 2 (login, login again):\n%s", n, log)
		}
		if !strings.Contains(log, "The connection failed (RECONNECT_TIMEOUT): logging in again with a fresh token") {
			t.Errorf("the log does not say why the page logged in again:\n%s", log)
		}
		requireLoggedOut(t, calls, 0)
		if eval[bool](tb, `!document.querySelector('#problem').hidden`) {
			t.Errorf("a problem is shown after logging in again: %s", tb.text("#problem-title"))
		}
		tb.requireCleanConsole()
	})

	tests := []struct {
		name, reasonCode, title, fix string
	}{
		{"a link ended because the user ID logged in elsewhere is not logged in again, and the page says why",
			"SAME_UID_LOGIN", "Logged in elsewhere", "different user ID"},
		{"a link ended by the server on purpose is not logged in again, and the page says why",
			"KICKED_OUT_BY_SERVER", "Removed by Agora", "log in again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTab(t)
			tb.open(s.pageURL())
			s.requireLogin(t, tb, "logged in", uid)

			tb.exec(fmt.Sprintf(`window.fakeRTM.failLink(%q)`, tt.reasonCode))
			p := tb.waitForProblem()
			if p.Title != tt.title || !strings.Contains(p.Detail, tt.reasonCode) || !strings.Contains(p.Detail, "does not log in again") {
				t.Errorf("problem %+v, want %q saying that %s stops the page logging in again", p, tt.title, tt.reasonCode)
			}
			if !strings.Contains(p.Fix, tt.fix) {
				t.Errorf("the fix %q does not mention %q", p.Fix, tt.fix)
			}
			tb.requireIdle()
			calls := tb.sdkCalls()
			if logins := callsTo(calls, "login"); len(logins) != 1 {
				t.Errorf("login calls: %+v, want only the first", logins)
			}
			if log := tb.pageLog(); strings.Count(log, fetch) != 1 || strings.Contains(log, "logging in again") {
				t.Errorf("the page fetched a token or logged in again:\n%s", log)
			}
			requireLoggedOut(t, calls, 0)
		})
	}

	t.Run("a link that keeps failing stops at the re-login limit, says so, and Login works again", func(t *testing.T) {
		tb := newTab(t)
		tb.open(s.pageURL())
		s.requireLogin(t, tb, "logged in", uid)
		for i := 1; i <= maxRelogins; i++ {
			tb.exec(`window.fakeRTM.failLink('RECONNECT_TIMEOUT')`)
			tb.waitForLogins(1 + i)
		}

		tb.exec(`window.fakeRTM.failLink('RECONNECT_TIMEOUT')`)
		p := tb.waitForProblem()
		if p.Title != "Stopped logging in again" || !strings.Contains(p.Detail, "RECONNECT_TIMEOUT") ||
			!strings.Contains(p.Detail, fmt.Sprintf("logged in again %d times", maxRelogins)) {
			t.Errorf("problem %+v, want the re-login limit with the last reason", p)
		}
		if !strings.Contains(p.Fix, "click Login") {
			t.Errorf("the fix %q does not say to click Login", p.Fix)
		}
		tb.requireIdle()
		calls := tb.sdkCalls()
		if logins := callsTo(calls, "login"); len(logins) != 1+maxRelogins {
			t.Errorf("%d login calls, want %d (the first and %d again)", len(logins), 1+maxRelogins, maxRelogins)
		}
		requireLoggedOut(t, calls, maxRelogins)
		if n := strings.Count(tb.pageLog(), "logging in again with a fresh token"); n != maxRelogins {
			t.Errorf("the log shows %d re-logins, want %d:\n%s", n, maxRelogins, tb.pageLog())
		}

		tb.do("click Login", chromedp.Click(chromedp.CSS("#login")))
		tb.waitForLogins(2 + maxRelogins)
		s.requireSignalingToken(t, callsTo(tb.sdkCalls(), "login")[1+maxRelogins].Token, uid)
		if eval[bool](tb, `!document.querySelector('#problem').hidden`) {
			t.Errorf("the limit's problem is still shown after Login: %s", tb.text("#problem-title"))
		}
		// Clicking Login starts the count again: the next failure is logged in again.
		tb.exec(`window.fakeRTM.failLink('RECONNECT_TIMEOUT')`)
		tb.waitForLogins(3 + maxRelogins)
		tb.requireCleanConsole()
	})
}

// waitForLogins waits until the fake SDK has seen n logins and the page shows itself
// logged in.
func (tb *tab) waitForLogins(n int) {
	tb.t.Helper()
	tb.waitUntil(fmt.Sprintf("logged in with login call %d", n),
		fmt.Sprintf(`window.fakeRTM.calls.filter(c => c.method === 'login').length === %d && document.querySelector('#state').dataset.state === 'in'`, n))
}

// requireLoggedOut fails unless the page called logout on the client instance whose
// link failed, so the SDK lets go of it.
func requireLoggedOut(t *testing.T, calls []fakeCall, instance int) {
	t.Helper()
	for _, c := range callsTo(calls, "logout") {
		if c.Instance == instance {
			return
		}
	}
	t.Errorf("the failed client %d was not logged out: %+v", instance, calls)
}
