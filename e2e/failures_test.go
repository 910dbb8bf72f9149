package e2e

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Every failure must reach the page as an explanation with something to do, and leave
// the Login button usable.

func TestCORSIsEnforcedByTheBrowser(t *testing.T) {
	tests := []struct {
		name string
		opts stackOptions
	}{
		{"a page calling a token server that sends no CORS headers is blocked", stackOptions{direct: true}},
		{"a page whose origin is not on the proxy's list is refused", stackOptions{proxyOrigins: "http://127.0.0.1:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, tt.opts)
			tb := newTab(t)
			tb.open(s.pageURL())
			tb.typeAndEnter("bob")
			p := tb.waitForProblem()
			if p.Title != "Blocked by CORS" {
				t.Errorf("problem %+v, want Blocked by CORS", p)
			}
			if !strings.Contains(p.Detail, s.web.url()) || !strings.Contains(p.Fix, "cors.allowed_origins") {
				t.Errorf("the explanation does not name the page's origin and the setting to change: %+v", p)
			}
			tb.requireIdle()
			if calls := tb.sdkCalls(); len(calls) != 0 {
				t.Errorf("the SDK was called without a token: %+v", calls)
			}
			// The browser, not some other failure, stopped it: the preflight it sent got
			// no permission for this origin.
			target := s.token.url()
			if s.proxy != nil {
				target = s.proxy.url()
			}
			req, _ := http.NewRequest(http.MethodOptions, target+"/rtm/bob/?expiry=600", nil)
			req.Header.Set("Origin", s.web.url())
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "x-requested-with")
			res, err := plainHTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("the preflight was allowed (Access-Control-Allow-Origin %q), so CORS did not block it", got)
			}
		})
	}
}

func TestTokenServerDownShowsThe502Explanation(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.open(s.pageURL())
	s.token.stop(t)
	tb.typeAndEnter("carol")
	p := tb.waitForProblem()
	if p.Title != "Token server down (502 Bad Gateway)" || !strings.Contains(p.Fix, "Start tokenserver") {
		t.Errorf("problem %+v, want the 502 explanation", p)
	}
	tb.requireIdle()
}

func TestUserIDIsCheckedInThePageWithTheServersRules(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.open(s.pageURL())
	tests := []struct {
		name, uid, reason string
	}{
		{"an empty user ID is refused", "", "must be 1-64 characters long (got 0)"},
		{"a user ID of 65 characters is refused", strings.Repeat("a", 65), "must be 1-64 characters long (got 65)"},
		{"a tab is refused by name", "a\tb", "may use only English letters, digits, spaces and ASCII punctuation; a tab (character 2) is not allowed"},
		{"a non-ASCII letter is refused by itself and its position in characters", "zoë", "may use only English letters, digits, spaces and ASCII punctuation; 'ë' (character 3) is not allowed"},
		{"a non-ASCII letter after another counts characters, not bytes", "åå", "may use only English letters, digits, spaces and ASCII punctuation; 'å' (character 1) is not allowed"},
		{"DEL is refused by its code point", "x\x7f", "may use only English letters, digits, spaces and ASCII punctuation; the control character U+007F (character 2) is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb.exec(`document.querySelector('#log').replaceChildren()`)
			tb.submitRaw(tt.uid)
			tb.waitUntil("the field shows its error", `!document.querySelector('#uid-error').hidden`)
			if got, want := tb.text("#uid-error"), "User ID "+tt.reason+"."; got != want {
				t.Errorf("the page says %q, want %q", got, want)
			}
			if invalid := eval[string](tb, `document.querySelector('#uid').getAttribute('aria-invalid')`); invalid != "true" {
				t.Errorf("aria-invalid=%q", invalid)
			}
			if log := tb.pageLog(); strings.Contains(log, "Fetching a token") {
				t.Errorf("the page asked for a token for an invalid user ID:\n%s", log)
			}
			if tt.uid != "" { // the server's route has no empty segment to answer for
				if server := s.serverProblem(t, tt.uid); server != "uid: "+tt.reason {
					t.Errorf("the server says %q, the page %q: the rules differ", server, tt.reason)
				}
			}
			tb.requireIdle()
		})
	}
	if calls := tb.sdkCalls(); len(calls) != 0 {
		t.Errorf("the SDK was called: %+v", calls)
	}
}

func TestInvalidUserIDShowsTheServersReason(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.open(s.pageURL())
	// Untick the page's own check, so the token server is asked and must explain.
	tb.exec(`document.querySelector('#check-uid').checked = false`)
	for _, uid := range []string{"zoë", strings.Repeat("b", 65)} {
		want := s.serverProblem(t, uid)
		tb.submitRaw(uid)
		p := tb.waitForProblem()
		if p.Title != "The token server refused the User ID" || p.Detail != want {
			t.Errorf("for %q the page shows %+v, want the server's %q", uid, p, want)
		}
		tb.requireIdle()
		tb.exec(`document.querySelector('#problem').hidden = true`)
	}
}

func TestAgoraRejectingDemoCredentialsIsExplained(t *testing.T) {
	tests := []struct {
		name      string
		demo      bool // the token server has no credentials
		wantTitle string
		wantFix   []string
	}{
		// webdemo's demo_mode is off in both: what the page knows comes from the token
		// server's Token-Mode on the token it got.
		{name: "a demo-mode token server: the rejection is explained as demo mode with the two .env lines",
			demo: true, wantTitle: "Agora rejected the credentials (invalid token): demo mode",
			wantFix: []string{"demo mode", "AGORA_APP_ID=", "AGORA_APP_CERTIFICATE=", ".env"}},
		// The fix names what make run and docker compose read (.env), not only the token
		// server's own variables: " AGORA_APP_CERTIFICATE " is the .env name on its own.
		{name: "a token server with credentials Agora refuses: every place credentials are set is named",
			demo: false, wantTitle: "Agora rejected the credentials (invalid token)",
			wantFix: []string{"demo mode", " AGORA_APP_CERTIFICATE ", "configs/.env.example", "AGORA_APP_CERTIFICATE_FILE", "TOKENSERVER_AGORA_APP_CERTIFICATE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startStack(t, stackOptions{demo: tc.demo})
			tb := newTab(t)
			tb.open(s.pageURL())
			// Agora refuses the token; the fake SDK answers login as Agora would.
			tb.exec(`window.fakeRTM.control.rejectLogin = {errorCode: -10005, reason: 'Invalid token.'}`)
			tb.typeAndEnter("dave")
			p := tb.waitForProblem()
			if p.Title != tc.wantTitle {
				t.Errorf("problem %+v, want title %q", p, tc.wantTitle)
			}
			for _, want := range tc.wantFix {
				if !strings.Contains(p.Fix, want) {
					t.Errorf("the fix does not mention %q: %q", want, p.Fix)
				}
			}
			if !strings.Contains(p.Detail, "code -10005") {
				t.Errorf("the detail does not quote Agora's error: %q", p.Detail)
			}
			tb.requireIdle()
			if logins := callsTo(tb.sdkCalls(), "login"); len(logins) != 1 {
				t.Errorf("login calls: %+v", logins)
			}
		})
	}
}

func TestMissingSDKIsExplained(t *testing.T) {
	closed := "http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/npm/agora-rtm-sdk@2.2.2/agora-rtm.js"
	s := startStack(t, stackOptions{sdkURL: closed})
	tb := newTab(t)
	tb.open(s.pageURL())
	// Shown as soon as the page fails to load it, before anyone clicks Login.
	if p := tb.waitForProblem(); p.Title != "Signaling SDK not loaded" || !strings.Contains(p.Detail, closed) {
		t.Errorf("on load: %+v", p)
	}
	tb.exec(`document.querySelector('#problem').hidden = true`)
	tb.typeAndEnter("erin")
	p := tb.waitForProblem()
	if p.Title != "Signaling SDK not loaded" || !strings.Contains(p.Fix, "sdk_url") {
		t.Errorf("on login: %+v", p)
	}
	tb.requireIdle()
	if !strings.Contains(tb.pageLog(), "Got a token") {
		t.Errorf("the token should still have been fetched:\n%s", tb.pageLog())
	}
}

func TestCORSAnywhereStyleThroughTheProxy(t *testing.T) {
	s := startStack(t, stackOptions{corsAnywhere: true})
	tb := newTab(t)
	tb.open(s.pageURL())
	s.requireLogin(t, tb, "logged in", "frank")
	if !strings.Contains(tb.pageLog(), s.proxy.url()+"/"+s.token.url()+"/rtm/frank/") {
		t.Errorf("the page did not use proxy_url + server_url:\n%s", tb.pageLog())
	}
	tb.requireCleanConsole()
}

func TestConfiguredAppID(t *testing.T) {
	tests := []struct {
		name, appID string
		ok          bool
	}{
		{"the configured App ID is given to the SDK", strings.ToLower(vectorAppID), true},
		{"an App ID that differs from the token's stops the login before Agora refuses it", "0123456789abcdef0123456789abcdef", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, stackOptions{appID: tt.appID})
			tb := newTab(t)
			tb.open(s.pageURL())
			if got := tb.text("#setup-app-id"); got != tt.appID {
				t.Errorf("setup shows App ID %q, want %q", got, tt.appID)
			}
			tb.typeAndEnter("gina")
			if !tt.ok {
				p := tb.waitForProblem()
				if p.Title != "App ID mismatch" || !strings.Contains(p.Detail, vectorAppID) || !strings.Contains(p.Fix, "agora.app_id") {
					t.Errorf("problem %+v", p)
				}
				tb.requireIdle()
				if calls := tb.sdkCalls(); len(calls) != 0 {
					t.Errorf("the SDK was called: %+v", calls)
				}
				return
			}
			tb.waitUntil("logged in", `document.querySelector('#state').dataset.state === 'in'`)
			ctor := callsTo(tb.sdkCalls(), "constructor")
			if len(ctor) != 1 || ctor[0].AppID != tt.appID {
				t.Errorf("constructor calls %+v, want App ID %q", ctor, tt.appID)
			}
		})
	}
}

// e2eAPIKey is the token server's API key in api_key mode: 16+ characters, made up.
const e2eAPIKey = "e2e-api-key-4f1c9a7d2b6e8035"

func TestCallerAuthenticationIsExplainedAndTheSessionTokenIsSent(t *testing.T) {
	s := startStack(t, stackOptions{
		tokenEnv:    []string{"TOKENSERVER_AUTH_MODE=api_key", "TOKENSERVER_AUTH_API_KEYS=" + e2eAPIKey},
		inspectAuth: "Bearer " + e2eAPIKey,
	})
	tb := newTab(t)
	tb.open(s.pageURL())

	t.Run("without a session token the page explains the 401 and how a real app authenticates", func(t *testing.T) {
		tb.t = t
		tb.typeAndEnter("heidi")
		p := tb.waitForProblem()
		if p.Title != "The token server requires caller authentication (401)" {
			t.Errorf("problem %+v, want the 401 explanation", p)
		}
		for _, want := range []string{"auth.mode", "Authorization: Bearer", "Securing the token server", "Session token"} {
			if !strings.Contains(p.Fix, want) {
				t.Errorf("the fix does not mention %q: %q", want, p.Fix)
			}
		}
		if !strings.Contains(p.Detail, "credentials required") {
			t.Errorf("the detail does not quote the token server's problem: %q", p.Detail)
		}
		tb.requireIdle()
	})

	t.Run("a wrong key is refused with its own explanation", func(t *testing.T) {
		tb.t = t
		tb.setSessionToken("e2e-not-the-key-000000000000")
		tb.typeAndEnter("heidi")
		p := tb.waitForProblem()
		if p.Title != "The token server did not accept the session token (401)" || !strings.Contains(p.Fix, "auth.api_keys") {
			t.Errorf("problem %+v", p)
		}
		tb.requireIdle()
	})

	t.Run("a session token the browser could not send is caught in the page", func(t *testing.T) {
		tb.t = t
		tb.exec(`document.querySelector('#log').replaceChildren()`)
		tb.setSessionToken("two words")
		tb.typeAndEnter("heidi")
		tb.waitUntil("the field shows its error", `!document.querySelector('#session-token-error').hidden`)
		if got, want := tb.text("#session-token-error"), "Session token must be printable ASCII without spaces (U+0020 at position 4)."; got != want {
			t.Errorf("the page says %q, want %q", got, want)
		}
		if strings.Contains(tb.pageLog(), "Fetching a token") {
			t.Errorf("the page asked for a token with an unusable session token:\n%s", tb.pageLog())
		}
		tb.requireIdle()
	})

	t.Run("with the key typed under Options the login succeeds", func(t *testing.T) {
		tb.t = t
		tb.setSessionToken(e2eAPIKey)
		s.requireLogin(t, tb, "logged in", "heidi")
		if !strings.Contains(tb.pageLog(), "with Authorization: Bearer") {
			t.Errorf("the log does not say the session token was sent:\n%s", tb.pageLog())
		}
	})

	t.Run("the key appears in no log", func(t *testing.T) {
		tb.t = t
		if strings.Contains(tb.pageLog(), e2eAPIKey) {
			t.Errorf("the page's log shows the key")
		}
		for _, p := range []*process{s.token, s.proxy, s.web} {
			if strings.Contains(p.out.String(), e2eAPIKey) {
				t.Errorf("%s logged the key", p.name)
			}
		}
	})
	tb.t = t
	tb.requireCleanConsole()
}

func TestTokensOnlyForYourOwnUserIDIsExplained(t *testing.T) {
	s := startStack(t, stackOptions{
		tokenEnv:    []string{"TOKENSERVER_AUTH_MODE=jwt", "TOKENSERVER_AUTH_JWT_SECRET=" + securityJWTSecret},
		inspectAuth: "Bearer " + securityJWT("inspector"),
	})
	tb := newTab(t)
	tb.open(s.pageURL())
	// A pasted "Bearer …" works as well as the bare token.
	tb.setSessionToken("Bearer " + securityJWT("ivan"))
	tb.typeAndEnter("judy")
	p := tb.waitForProblem()
	if p.Title != "Tokens only for your own user ID (403)" || !strings.Contains(p.Detail, "signed-in user's own ID") {
		t.Errorf("problem %+v, want the 403 explanation", p)
	}
	if !strings.Contains(p.Detail, `"judy" is not the user ID in your token`) {
		t.Errorf("the detail does not show the token server's: %q", p.Detail)
	}
	tb.requireIdle()
	if calls := tb.sdkCalls(); len(calls) != 0 {
		t.Errorf("the SDK was called without a token: %+v", calls)
	}

	s.requireLogin(t, tb, "logged in as the session's own user", "ivan")
	tb.requireCleanConsole()
}

func TestRateLimitIsExplainedAndLoginWorksAgain(t *testing.T) {
	oneAnHour := []string{"--rate_limit.per_ip=1/h", "--rate_limit.burst=1"}
	retry := regexp.MustCompile(`^Retry after (\d+) s \(at \d\d:\d\d:\d\d\)`)
	tests := []struct {
		name     string
		opts     stackOptions
		readable bool // the page can read Retry-After
	}{
		{"corsproxy's limit is explained with the time to wait", stackOptions{proxyArgs: oneAnHour}, true},
		// Behind the proxy the token server sees one client (the proxy), which is enough here.
		{"the token server's limit reaches the page through the proxy with the time to wait", stackOptions{tokenArgs: oneAnHour}, true},
		{"a proxy that hides Retry-After gets an explanation that says so", stackOptions{
			proxyArgs: append([]string{"--cors.exposed_headers", "RateLimit-Remaining"}, oneAnHour...)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, tt.opts)
			tb := newTab(t)
			tb.open(s.pageURL())
			tb.typeAndEnter("kim")
			tb.waitUntil("logged in", `document.querySelector('#state').dataset.state === 'in'`)
			tb.do("click Logout", chromedp.Click(chromedp.CSS("#login")))
			tb.requireIdle()

			for try := 1; try <= 2; try++ {
				tb.typeAndEnter("kim")
				p := tb.waitForProblem()
				if p.Title != "Too many requests (429)" || !strings.Contains(p.Detail, "rate_limit.per_ip") {
					t.Errorf("try %d: problem %+v, want the 429 explanation", try, p)
				}
				if !strings.Contains(p.Detail, "retry after") {
					t.Errorf("try %d: the detail does not quote the server's problem: %q", try, p.Detail)
				}
				if tt.readable {
					m := retry.FindStringSubmatch(p.Fix)
					if n, _ := strconv.Atoi(safeIndex(m, 1)); n < 3000 || n > 3600 {
						t.Errorf("try %d: the fix %q does not say to retry after about an hour (1/h)", try, p.Fix)
					}
				} else if !strings.Contains(p.Fix, "Retry-After header could not be read") || !strings.Contains(p.Fix, "cors.exposed_headers") {
					t.Errorf("try %d: the fix %q does not say Retry-After was unreadable", try, p.Fix)
				}
				// The button is not stuck: the second try is a real request, refused again.
				tb.requireIdle()
				tb.exec(`document.querySelector('#problem').hidden = true`)
			}
			if n := strings.Count(tb.pageLog(), "Fetching a token"); n != 3 {
				t.Errorf("%d token requests, want 3 (one login, two refused tries):\n%s", n, tb.pageLog())
			}
			if logins := callsTo(tb.sdkCalls(), "login"); len(logins) != 1 {
				t.Errorf("login calls: %+v", logins)
			}
		})
	}
}

func safeIndex(m []string, i int) string {
	if i < len(m) {
		return m[i]
	}
	return ""
}

// requireLogin types uid and presses Enter, waits (saying what for) until the page is
// logged in, and fails unless the SDK was given exactly one login, with a Signaling
// token for uid.
func (s *stack) requireLogin(t *testing.T, tb *tab, what, uid string) {
	t.Helper()
	tb.typeAndEnter(uid)
	tb.waitUntil(what, `document.querySelector('#state').dataset.state === 'in'`)
	logins := callsTo(tb.sdkCalls(), "login")
	if len(logins) != 1 {
		t.Fatalf("login calls: %+v", logins)
	}
	s.requireSignalingToken(t, logins[0].Token, uid)
}
