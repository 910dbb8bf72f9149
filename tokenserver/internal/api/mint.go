package api

import "signaling-auth/tokenserver/internal/accesstoken"

// The minting steps more than one route shares. Each mints only for a
// request with no bad field so far; otherwise it only validates the fields
// not yet reported, so a bad request still hears about every field but costs
// no token.

// userMinter is a Minter method that mints for one user ID (Signaling,
// ChatUser).
type userMinter func(userID string, expire uint32) (accesstoken.Minted, error)

// mintForUser mints uid's token, or when bad already has entries only checks
// uid (reported as name).
func mintForUser(mint userMinter, uid string, exp uint32, name string, bad *params) (accesstoken.Minted, error) {
	if len(*bad) > 0 {
		bad.check(name, accesstoken.ValidateUserID(uid))
		return accesstoken.Minted{}, nil
	}
	return mint(uid, exp)
}

// rtcRequest is one RTC token request, from whichever route asked for it
// (/rtc, /rte, /getToken, /v1/tokens).
type rtcRequest struct {
	channel string
	role    accesstoken.Role
	byUID   bool
	uid     uint32
	account string
	expire  uint32
	uidName string // the request's name for the uid field
}

// mint mints r's token with m, or when bad already has entries only checks
// the fields not yet reported.
func (r rtcRequest) mint(m *accesstoken.Minter, bad *params) (accesstoken.Minted, error) {
	if len(*bad) > 0 {
		bad.check("channel", accesstoken.ValidateChannel(r.channel))
		if !r.byUID {
			bad.check(r.uidName, accesstoken.ValidateAccount(r.account))
		}
		return accesstoken.Minted{}, nil
	}
	if r.byUID {
		return m.RTCWithUID(r.channel, r.uid, r.role, r.expire, r.expire)
	}
	return m.RTCWithAccount(r.channel, r.account, r.role, r.expire, r.expire)
}
