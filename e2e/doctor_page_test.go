package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// diagnosePaths are corsproxy's allowed_paths as make run sets them: the token
// routes plus the token doctor's.
const diagnosePaths = "/rtm/,/rtc/,/rte/,/chat/,/getToken,/v1/tokens,/v1/tokens/diagnose"

// askDoctor fills the Token doctor form as a user would and presses Diagnose.
func (tb *tab) askDoctor(token, channel, uid, action string) {
	tb.t.Helper()
	tb.exec(`document.querySelector('#token').value = '', document.querySelector('#channel').value = '', document.querySelector('#user').value = ''`)
	tb.do("fill the form",
		chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#channel"), channel),
		chromedp.SendKeys(chromedp.CSS("#user"), uid),
		chromedp.SetValue(chromedp.CSS("#action"), action),
		chromedp.Click(chromedp.CSS("#diagnose")))
}

func TestTokenDoctorPageShowsEveryFinding(t *testing.T) {
	s := startStack(t, stackOptions{proxyArgs: []string{"--allowed_paths", diagnosePaths}})
	tb := newTab(t)
	tb.do("open the doctor", chromedp.Navigate(s.web.url()+"/token_doctor/"))
	tb.waitUntil("the page has its configuration", `!document.querySelector('#diagnose').disabled`)

	// Agora's reference builder, two faults: another channel, and a subscriber's
	// token used to publish audio.
	twoFaults, err := refrtc.BuildTokenWithUid(vectorAppID, vectorCertificate, "other", 42, refrtc.RoleSubscriber, 3600, 3600)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a token with two faults shows both findings", func(t *testing.T) {
		tb.askDoctor(twoFaults, "room", "42", "publish-audio")
		tb.waitUntil("the verdict is shown", `!document.querySelector('#result').hidden`)
		codes := eval[[]string](tb, `[...document.querySelectorAll('#findings li')].map((li) => li.dataset.code)`)
		if !slices.Equal(codes, []string{"channel_mismatch", "privilege_missing"}) {
			t.Errorf("findings shown %v", codes)
		}
		if v := tb.text("#verdict"); !strings.HasPrefix(v, "Agora will refuse this token") || !strings.Contains(v, "2 reasons") {
			t.Errorf("verdict %q", v)
		}
		findings := tb.text("#findings")
		for _, want := range []string{"different channel", `You need: "room". The token has: "other".`, "subscriber", "What to do:"} {
			if !strings.Contains(findings, want) {
				t.Errorf("the findings do not say %q:\n%s", want, findings)
			}
		}
		if strings.Contains(tb.text("body"), vectorCertificate) {
			t.Error("the page shows the certificate")
		}
	})

	t.Run("the page fits a phone's width", func(t *testing.T) {
		tb.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		if overflow := eval[int](tb, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
			t.Errorf("the page is %d px wider than a 390 px phone screen", overflow)
		}
		t.Logf("screenshot at phone width: %s", tb.screenshot("token-doctor-phone.png"))
		tb.do("desktop viewport", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
			return err
		}))
	})

	t.Run("the server's refusal of a field shows at that field", func(t *testing.T) {
		tb.askDoctor("007notatoken", "room", "42", "join")
		tb.waitUntil("the token field shows the server's reason", `!document.querySelector('#token-error').hidden`)
		if got := tb.text("#token-error"); !strings.Contains(got, "not an AccessToken2") {
			t.Errorf("token error %q", got)
		}
		if !eval[bool](tb, `document.querySelector('#result').hidden && !document.querySelector('#diagnose').disabled`) {
			t.Error("an old verdict is still shown, or the button is stuck")
		}
	})

	t.Run("a Chat user token used as the app's asks for no channel or user and is refused", func(t *testing.T) {
		chat, err := refchat.BuildChatUserToken(vectorAppID, vectorCertificate, "alice", 3600)
		if err != nil {
			t.Fatal(err)
		}
		tb.exec(`document.querySelector('#service').value = 'chat:app', document.querySelector('#service').dispatchEvent(new Event('change'))`)
		if !eval[bool](tb, `['#channel-field', '#user-field', '#user-kind-field', '#action-field'].every((f) => document.querySelector(f).hidden)`) {
			t.Error("a Chat app token's form still asks for a channel, a user or an RTC action")
		}
		tb.exec(`document.querySelector('#token').value = ''`)
		tb.do("diagnose", chromedp.SetValue(chromedp.CSS("#token"), chat), chromedp.Click(chromedp.CSS("#diagnose")))
		tb.waitUntil("the verdict is shown", `!document.querySelector('#result').hidden`)
		if codes := eval[[]string](tb, `[...document.querySelectorAll('#findings li')].map((li) => li.dataset.code)`); !slices.Equal(codes, []string{"privilege_missing"}) {
			t.Errorf("findings shown %v", codes)
		}
		if findings := tb.text("#findings"); !strings.Contains(findings, "call Chat's REST API as the app") {
			t.Errorf("the finding does not say what the token cannot do:\n%s", findings)
		}
	})
	tb.requireCleanConsole()
}

// With the shipped proxy configuration the diagnose route is private: the page
// says so and what to do.
func TestTokenDoctorPageExplainsAPrivateRoute(t *testing.T) {
	s := startStack(t, stackOptions{})
	tb := newTab(t)
	tb.do("open the doctor", chromedp.Navigate(s.web.url()+"/token_doctor/"))
	tb.waitUntil("the page has its configuration", `!document.querySelector('#diagnose').disabled`)
	good, err := refrtc.BuildTokenWithUid(vectorAppID, vectorCertificate, "room", 42, refrtc.RolePublisher, 3600, 3600)
	if err != nil {
		t.Fatal(err)
	}
	tb.askDoctor(good, "room", "42", "join")
	p := tb.waitForProblem()
	if !strings.Contains(p.Title, "404") || !strings.Contains(p.Fix, "allowed_paths") {
		t.Errorf("problem %+v", p)
	}
	if !eval[bool](tb, `!document.querySelector('#diagnose').disabled`) {
		t.Error("the Diagnose button is stuck")
	}
	tb.requireCleanConsole()
}
