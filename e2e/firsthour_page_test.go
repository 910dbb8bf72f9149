package e2e

// What a newcomer sees on the page however the programs are wired: demo mode from the
// token server itself, a Log in form in the first screen of a phone, and a Login without
// the SDK that says so.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestTheDemoBannerComesFromTheTokenServerWithoutWebdemosDemoMode(t *testing.T) {
	tests := []struct {
		name       string
		demo       bool // the token server has no credentials
		wantBanner bool
	}{
		{name: "a demo-mode token server shows the banner at the first token", demo: true, wantBanner: true},
		{name: "a token server with real credentials shows none", demo: false, wantBanner: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// demoMode false: nothing but the token server's answer says demo mode, as
			// under compose, Helm or any other wiring that does not set WEBDEMO_DEMO_MODE.
			s := startStack(t, stackOptions{demo: tc.demo, demoMode: false})
			tb := newTab(t)
			tb.open(s.pageURL())
			if !eval[bool](tb, `document.querySelector('#demo-banner').hidden`) {
				t.Fatal("the banner shows before any token although config.json does not say demo mode")
			}
			tb.typeAndEnter("gina")
			tb.waitUntil("logged in", `document.querySelector('#state').dataset.state === 'in'`)
			shown := !eval[bool](tb, `document.querySelector('#demo-banner').hidden`)
			if shown != tc.wantBanner {
				t.Errorf("banner shown: %v, want %v\npage log:\n%s", shown, tc.wantBanner, tb.pageLog())
			}
			if logged := strings.Contains(tb.pageLog(), "Token-Mode: demo"); logged != tc.wantBanner {
				t.Errorf("the log names Token-Mode: demo: %v, want %v\n%s", logged, tc.wantBanner, tb.pageLog())
			}
			tb.requireCleanConsole()
		})
	}
}

func TestOnAPhoneTheDemoBannerLeavesTheLogInFormInTheFirstScreen(t *testing.T) {
	for _, size := range []struct{ w, h int64 }{{390, 844}, {360, 740}} {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			s := startStack(t, stackOptions{demo: true, demoMode: true})
			tb := newTab(t)
			tb.do("phone viewport", chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile))
			tb.open(s.pageURL())
			if eval[bool](tb, `document.querySelector('#demo-banner').hidden`) {
				t.Fatal("the banner is hidden")
			}
			top := eval[float64](tb, `document.querySelector('#login-form').getBoundingClientRect().top`)
			button := eval[float64](tb, `document.querySelector('#login').getBoundingClientRect().bottom`)
			height := eval[float64](tb, `window.innerHeight`)
			t.Logf("form top %.0f px, Login button bottom %.0f px, screen %.0f px", top, button, height)
			if top < 0 || button > height {
				t.Errorf("the User ID field and Login button end at %.0f px, below the first screen (%.0f px)", button, height)
			}
			// The steps to leave demo mode are one tap away, not gone.
			tb.do("open the steps", chromedp.Click(chromedp.CSS("#demo-how summary")))
			if !strings.Contains(tb.text("#demo-how"), "AGORA_APP_CERTIFICATE=") || !eval[bool](tb, `document.querySelector('#demo-how').open`) {
				t.Error("the banner's steps do not open")
			}
			t.Logf("screenshot: %s", tb.screenshot(fmt.Sprintf("demo-mode-phone-%dx%d.png", size.w, size.h)))
		})
	}
}

func TestWithoutTheSDKLoginSaysItIsMissingAndHowToGetIt(t *testing.T) {
	// No make sdk and no CDN: nothing answers where the SDK should be.
	url := fmt.Sprintf("http://127.0.0.1:%d/npm/agora-rtm-sdk@2.2.2/agora-rtm.js", freePort(t))
	s := startStack(t, stackOptions{sdkURL: url})
	tb := newTab(t)
	tb.open(s.pageURL())
	tb.typeAndEnter("hana")
	tb.waitUntil("Login gave up", `/Cannot log in without the Signaling SDK/.test(document.querySelector('#log').textContent)`)
	tb.requireIdle()
	log := tb.pageLog()
	got := strings.Index(log, "Got a token")
	missing := strings.Index(log, "Cannot log in without the Signaling SDK")
	if got < 0 || missing < got {
		t.Errorf("want the token, then why Login stops:\n%s", log)
	}
	for _, want := range []string{url, "make sdk", "restart make run"} {
		if !strings.Contains(log[missing:], want) {
			t.Errorf("the log line does not say %q:\n%s", want, log[missing:])
		}
	}
	if status := tb.text("#status"); !strings.Contains(status, "Signaling SDK missing") || !strings.Contains(status, "make sdk") {
		t.Errorf("status line %q, want it to say the SDK is missing and make sdk", status)
	}
	tb.requireCleanConsole()
}
