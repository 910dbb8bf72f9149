package tokens

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// InvalidParam names one bad request field and the rule it broke.
type InvalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Params collects every bad field of one request, so a client learns about
// all of them at once.
type Params []InvalidParam

// Add reports name as bad for reason.
func (p *Params) Add(name, reason string) { *p = append(*p, InvalidParam{Name: name, Reason: reason}) }

// Has says whether name is already reported.
func (p Params) Has(name string) bool {
	for _, e := range p {
		if e.Name == name {
			return true
		}
	}
	return false
}

// Check adds a stand-alone validator's verdict on a field not yet reported.
// Handlers use it instead of minting once a request is known to be bad, so
// that a bad request still hears about every field but costs no token.
func (p *Params) Check(name string, err error) {
	if err != nil && !p.Has(name) {
		p.Add(name, err.Error())
	}
}

// Merge adds the engine's complaints, renamed to the request's field names,
// skipping fields already reported (the engine saw a placeholder for those).
// An error that is not about parameters is returned as is.
func (p *Params) Merge(err error, names map[string]string) error {
	if err == nil {
		return nil
	}
	var ipe *accesstoken.InvalidParamsError
	if !errors.As(err, &ipe) {
		return err
	}
	for _, e := range ipe.Params {
		name := e.Name
		if n, ok := names[name]; ok {
			name = n
		}
		if !p.Has(name) {
			p.Add(name, e.Reason)
		}
	}
	return nil
}

// Quote shows a client's value in a reason: escaped, and cut short so a
// 16 KB parameter does not come back as a 16 KB error.
func Quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// Limits are the lifetimes a client may ask for. Its methods turn a lifetime
// asked for in seconds into the engine's uint32: absent means DefaultExpiry;
// anything outside 1..MaxExpiry is refused, never clamped, and the reason
// names the maximum.
type Limits struct {
	DefaultExpiry, MaxExpiry time.Duration
}

func (e Limits) maxSeconds() uint64 { return uint64(e.MaxExpiry / time.Second) }

// FromQuery reads the values of ?name=N (absent or empty: default). A
// repeated parameter is refused: which one would the client have meant?
func (e Limits) FromQuery(vals []string, name string, bad *Params) uint32 {
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return uint32(e.DefaultExpiry / time.Second)
	case len(vals) > 1:
		bad.Add(name, "must be given once")
		return 1
	}
	return e.parse(vals[0], name, bad)
}

// parse checks a decimal number of seconds.
func (e Limits) parse(s, name string, bad *Params) uint32 {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		bad.Add(name, "must be a whole number of seconds (got "+Quote(s)+")")
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil { // only overflow is left
		n = ^uint64(0)
	}
	return e.check(n, s, name, bad)
}

// FromJSON checks a JSON number of seconds; zero means default when
// zeroIsDefault (the compat /getToken, whose clients send 0 for "unset").
func (e Limits) FromJSON(n *int64, zeroIsDefault bool, name string, bad *Params) uint32 {
	switch {
	case n == nil || (*n == 0 && zeroIsDefault):
		return uint32(e.DefaultExpiry / time.Second)
	case *n < 1:
		bad.Add(name, "must be at least 1 second (got "+strconv.FormatInt(*n, 10)+")")
		return 1
	}
	return e.check(uint64(*n), strconv.FormatInt(*n, 10), name, bad)
}

func (e Limits) check(n uint64, raw, name string, bad *Params) uint32 {
	switch {
	case n < 1:
		bad.Add(name, "must be at least 1 second (got 0)")
		return 1
	case n > e.maxSeconds():
		bad.Add(name, fmt.Sprintf("must be at most %d seconds (%s), the server's maximum (got %s)",
			e.maxSeconds(), e.MaxExpiry, cut(raw)))
		return 1
	}
	return uint32(n)
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// ParseRole accepts the names and numbers existing token servers accept:
// publisher/1, and subscriber/2 (the Node server calls it audience).
func ParseRole(s, name string, bad *Params) accesstoken.Role {
	switch s {
	case "publisher", "1":
		return accesstoken.RolePublisher
	case "subscriber", "audience", "2":
		return accesstoken.RoleSubscriber
	}
	bad.Add(name, "must be publisher or subscriber (or 1, 2) (got "+Quote(s)+")")
	return accesstoken.RolePublisher
}

// RTCUID reads an RTC uid, the one place that does: a decimal uint32
// (digits only, no sign), 0 meaning any user. ok is false for anything else,
// which /getToken and /v1/tokens then take for a user account.
func RTCUID(s string) (uid uint32, ok bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// ParseRTCUID is RTCUID for a field that must hold a uid.
func ParseRTCUID(s, name string, bad *Params) uint32 {
	n, ok := RTCUID(s)
	if !ok {
		bad.Add(name, "must be a number 0-4294967295 (got "+Quote(s)+")")
	}
	return n
}

// UserMinter is a Minter method that mints for one user ID (Signaling,
// ChatUser).
type UserMinter func(userID string, expire uint32) (accesstoken.Minted, error)

// MintForUser mints uid's token, or when bad already has entries only checks
// uid (reported as name).
func MintForUser(mint UserMinter, uid string, exp uint32, name string, bad *Params) (accesstoken.Minted, error) {
	if len(*bad) > 0 {
		bad.Check(name, accesstoken.ValidateUserID(uid))
		return accesstoken.Minted{}, nil
	}
	return mint(uid, exp)
}

// RTCRequest is one RTC token request, from whichever route asked for it
// (/rtc, /rte, /getToken, /v1/tokens).
type RTCRequest struct {
	Channel string
	Role    accesstoken.Role
	ByUID   bool
	UID     uint32
	Account string
	Expire  uint32
	UIDName string // the request's name for the uid field
}

// Mint mints r's token with m, or when bad already has entries only checks
// the fields not yet reported.
func (r RTCRequest) Mint(m *accesstoken.Minter, bad *Params) (accesstoken.Minted, error) {
	if len(*bad) > 0 {
		bad.Check("channel", accesstoken.ValidateChannel(r.Channel))
		if !r.ByUID {
			bad.Check(r.UIDName, accesstoken.ValidateAccount(r.Account))
		}
		return accesstoken.Minted{}, nil
	}
	if r.ByUID {
		return m.RTCWithUID(r.Channel, r.UID, r.Role, r.Expire, r.Expire)
	}
	return m.RTCWithAccount(r.Channel, r.Account, r.Role, r.Expire, r.Expire)
}
