// Package tokentest checks the services of a minted token against what a test
// expects. The api tests and the compat table of package main both use it, so
// "this answer holds these services" is checked one way. Tests only.
package tokentest

import (
	"slices"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// Service is what one service of a token must be: its type, channel, user and
// privileges, each privilege lasting the token's expire.
type Service struct {
	Type    accesstoken.ServiceType
	Channel string
	User    string
	Privs   []accesstoken.Privilege
}

// Privilege sets of the RTC tokens the routes mint.
var (
	Publisher  = []accesstoken.Privilege{accesstoken.PrivJoinChannel, accesstoken.PrivPublishAudio, accesstoken.PrivPublishVideo, accesstoken.PrivPublishData}
	Subscriber = []accesstoken.Privilege{accesstoken.PrivJoinChannel}
	// Stream is the RTC part of agora-token-service's RTM token for a channel.
	Stream = []accesstoken.Privilege{accesstoken.PrivJoinChannel, accesstoken.PrivPublishData}
)

// Check reports, under field, where tok's expire or services differ from
// expire and want, in order.
func Check(t testing.TB, field string, tok *accesstoken.Token, expire uint32, want []Service) {
	t.Helper()
	if tok.Expire != expire {
		t.Errorf("%s: expire %d, want %d", field, tok.Expire, expire)
	}
	if len(tok.Services) != len(want) {
		t.Fatalf("%s: %d services, want %d", field, len(tok.Services), len(want))
	}
	for i, w := range want {
		g := tok.Services[i]
		var privs []accesstoken.Privilege
		for _, p := range g.Privileges {
			privs = append(privs, p.Privilege)
			if p.Expire != expire {
				t.Errorf("%s: service %s privilege %s lasts %d s, want %d", field, g.Type, g.Type.PrivilegeName(p.Privilege), p.Expire, expire)
			}
		}
		if g.Type != w.Type || g.Channel != w.Channel || g.UserID != w.User || !slices.Equal(privs, w.Privs) {
			t.Errorf("%s: service %d = %s channel %q user %q privileges %v; want %s channel %q user %q privileges %v",
				field, i, g.Type, g.Channel, g.UserID, privs, w.Type, w.Channel, w.User, w.Privs)
		}
	}
}
