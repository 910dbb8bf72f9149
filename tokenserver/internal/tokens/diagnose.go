package tokens

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// The token doctor answers "why is my token refused?" from what the token
// itself holds and what the caller meant to do with it. Every cause Agora's
// SDKs report only as "invalid token" is readable from the token: the App ID,
// who signed it, the channel, the user (and whether it is a numeric uid or a
// user account), the services, each privilege and its lifetime.

// Verdicts of a Diagnosis.
const (
	VerdictAccepted   = "will be accepted"
	VerdictRefused    = "will be refused"
	VerdictCannotTell = "cannot tell"
)

// Finding codes, stable: clients and docs key on them.
const (
	CodeVersion006         = "version_006"
	CodeAppIDMismatch      = "app_id_mismatch"
	CodeSignatureInvalid   = "signature_invalid"
	CodeTokenExpired       = "token_expired"
	CodePrivilegeExpired   = "privilege_expired"
	CodePrivilegeMissing   = "privilege_missing"
	CodeExpiryAbsoluteTime = "expiry_absolute_time"
	CodeServiceMissing     = "service_missing"
	CodeChannelMismatch    = "channel_mismatch"
	CodeUserMismatch       = "user_mismatch"
	CodeUIDAccountMismatch = "uid_account_mismatch"
)

// FindingCodes lists every code Diagnose can report.
var FindingCodes = []string{
	CodeVersion006, CodeAppIDMismatch, CodeSignatureInvalid, CodeTokenExpired, CodePrivilegeExpired,
	CodePrivilegeMissing, CodeExpiryAbsoluteTime, CodeServiceMissing, CodeChannelMismatch,
	CodeUserMismatch, CodeUIDAccountMismatch,
}

// Services and actions a caller may mean (Intent).
const (
	ServiceRTC       = "rtc"
	ServiceSignaling = "signaling"
	ServiceChat      = "chat"
	ServiceConvoAI   = "convoai" // Conversational AI REST API: an agent in an RTC channel
	ServiceSTT       = "stt"     // real-time speech-to-text REST API: likewise

	ActionJoin         = "join"
	ActionPublishAudio = "publish-audio"
	ActionPublishVideo = "publish-video"
	ActionPublishData  = "publish-data"
	ActionLogin        = "login"
	ActionChatUser     = "user" // a Chat user logs in
	ActionChatApp      = "app"  // a server calls Chat's REST API as the app
)

// Services lists the services an Intent may name.
var Services = []string{ServiceRTC, ServiceSignaling, ServiceChat, ServiceConvoAI, ServiceSTT}

// Actions lists the actions an Intent may name (each for some services).
var Actions = []string{ActionJoin, ActionPublishAudio, ActionPublishVideo, ActionPublishData, ActionLogin, ActionChatUser, ActionChatApp}

// maxExpiry is Agora's longest token lifetime, 24 hours.
const maxExpiry = 24 * 60 * 60

// absoluteTimeFloor is 2001-09-09 in Unix seconds: a lifetime this large is no
// lifetime anyone asks for but an absolute time passed as "seconds from now"
// (006 builders took absolute times, and community builders still document
// that meaning).
const absoluteTimeFloor = 1_000_000_000

// Intent is what the caller meant to do with a token. Exactly one of UID (a
// numeric RTC uid) and UserAccount names the user; a Signaling user ID may be
// given as either and is compared as a string.
type Intent struct {
	Service     string // rtc (default), signaling, chat, convoai or stt
	Channel     string // rtc, convoai, stt: required
	UID         string // decimal uid; "0" is not a user
	UserAccount string
	// Action: rtc: join (default), publish-audio, publish-video, publish-data;
	// signaling: login (default); chat: user (default) or app; convoai, stt:
	// join (default: the agent joins the channel).
	Action string
	At     time.Time
}

// Certificates are what signatures are checked against: the configured
// certificate and, during a rotation, the secondary one Agora lets a project
// hold. A nil Primary (demo mode) checks nothing. The certificates never
// leave their Minters.
type Certificates struct {
	Primary, Secondary *accesstoken.Minter
}

// Finding is one reason Agora will refuse the token.
type Finding struct {
	Code    string `json:"code"`
	Problem string `json:"problem"` // what is wrong, in plain words
	Want    string `json:"want"`    // what the intent (or Agora) needs
	Got     string `json:"got"`     // what the token holds
	Fix     string `json:"fix"`
}

// Diagnosis is the doctor's answer: the verdict, every finding, which
// certificate signed the token, and the full inspection of the token.
type Diagnosis struct {
	Verdict  string    `json:"verdict"`
	Findings []Finding `json:"findings"`
	// SignedBy is "primary", "secondary", "none" (neither verifies) or
	// "unchecked" (no certificate configured, or a 006 token whose signature
	// needs a channel and user the intent does not give).
	SignedBy   string         `json:"signedBy"`
	Inspection *Inspection    `json:"inspection,omitempty"`
	Token006   *Inspection006 `json:"token006,omitempty"`
}

// Inspection006 is what a 006 token holds (its times are absolute).
type Inspection006 struct {
	Version    string               `json:"version"`
	AppID      string               `json:"appId"`
	ExpiresAt  string               `json:"expiresAt"`
	Salt       uint32               `json:"salt"`
	Privileges []InspectedPrivilege `json:"privileges"`
}

// CheckIntent validates in, naming each bad field as the JSON body does
// (service, channel, uid, userAccount, action), and fills the defaults.
func CheckIntent(in Intent) (Intent, []InvalidParam) {
	var bad Params
	if in.Service == "" {
		in.Service = ServiceRTC
	}
	needsUser := true
	switch in.Service {
	case ServiceRTC:
		if in.Action == "" {
			in.Action = ActionJoin
		}
		switch in.Action {
		case ActionJoin, ActionPublishAudio, ActionPublishVideo, ActionPublishData:
		default:
			bad.Add("action", "for service rtc must be join, publish-audio, publish-video or publish-data (got "+Quote(in.Action)+")")
		}
		checkChannel(&bad, in)
	case ServiceConvoAI, ServiceSTT:
		if in.Action == "" {
			in.Action = ActionJoin
		}
		if in.Action != ActionJoin {
			bad.Add("action", "for service "+in.Service+" must be join: the agent joins the channel (got "+Quote(in.Action)+")")
		}
		checkChannel(&bad, in)
	case ServiceSignaling:
		if in.Action == "" {
			in.Action = ActionLogin
		}
		if in.Action != ActionLogin {
			bad.Add("action", "for service signaling must be login (got "+Quote(in.Action)+")")
		}
		noChannel(&bad, in, "a Signaling login names no channel")
	case ServiceChat:
		if in.Action == "" {
			in.Action = ActionChatUser
		}
		switch in.Action {
		case ActionChatUser:
		case ActionChatApp:
			needsUser = false
			if in.UID != "" || in.UserAccount != "" {
				bad.Add("uid", "not used by a Chat app token (it names no user); leave uid and userAccount out")
			}
		default:
			bad.Add("action", "for service chat must be user or app (got "+Quote(in.Action)+")")
		}
		noChannel(&bad, in, "Chat tokens name no channel")
	default:
		bad.Add("service", "must be one of "+strings.Join(Services, ", ")+" (got "+Quote(in.Service)+")")
	}
	if !needsUser {
		return in, bad
	}
	switch {
	case in.UID != "" && in.UserAccount != "":
		bad.Add("uid", "give uid (a numeric uid) or userAccount (a string user account), not both")
	case in.UID == "" && in.UserAccount == "":
		bad.Add("uid", "required: the uid (or userAccount) the client uses")
	case in.UID != "":
		if n, ok := RTCUID(in.UID); !ok || n == 0 {
			bad.Add("uid", "must be a number 1-4294967295 (got "+Quote(in.UID)+"); a string user goes in userAccount")
		}
	default:
		bad.Check("userAccount", accesstoken.ValidateAccount(in.UserAccount))
	}
	return in, bad
}

// checkChannel requires the channel a service joins.
func checkChannel(bad *Params, in Intent) {
	if in.Channel == "" {
		bad.Add("channel", "required for service "+in.Service+": the channel the client joins")
	} else {
		bad.Check("channel", accesstoken.ValidateChannel(in.Channel))
	}
}

// noChannel refuses a channel for a service that names none.
func noChannel(bad *Params, in Intent, why string) {
	if in.Channel != "" {
		bad.Add("channel", "not used by service "+in.Service+" ("+why+"); leave it out")
	}
}

// Diagnose says whether Agora will accept token for in (checked with
// CheckIntent first) and why not. A string that is neither an AccessToken2
// nor a 006 token comes back as an InvalidParam named token.
func Diagnose(token string, in Intent, certs Certificates) (Diagnosis, []InvalidParam) {
	in, bad := CheckIntent(in)
	if strings.HasPrefix(token, "006") {
		t, err := accesstoken.Parse006(token)
		if err != nil {
			bad = append(bad, InvalidParam{Name: "token", Reason: "not a readable 006 token: " + strings.TrimPrefix(err.Error(), "accesstoken: ")})
		}
		if len(bad) > 0 {
			return Diagnosis{}, bad
		}
		return diagnose006(t, in, certs), nil
	}
	t, err := accesstoken.Parse(token)
	if err != nil {
		reason := "required"
		if token != "" {
			reason = "not an AccessToken2: " + strings.TrimPrefix(err.Error(), "accesstoken: ")
		}
		bad = append(bad, InvalidParam{Name: "token", Reason: reason})
	}
	if len(bad) > 0 {
		return Diagnosis{}, bad
	}
	return diagnose(t, in, certs), nil
}

// diagnose checks an AccessToken2 against a checked intent.
func diagnose(t *accesstoken.Token, in Intent, certs Certificates) Diagnosis {
	var d Diagnosis
	add := func(code, problem, want, got, fix string) {
		// A token whose lifetime is an absolute time usually has privileges
		// with the same mistake: one finding says it.
		if code == CodeExpiryAbsoluteTime && slices.ContainsFunc(d.Findings, func(f Finding) bool { return f.Code == code }) {
			return
		}
		d.Findings = append(d.Findings, Finding{Code: code, Problem: problem, Want: want, Got: got, Fix: fix})
	}
	issued := t.IssuedAt()
	if certs.Primary != nil && t.AppID != certs.Primary.AppID() {
		add(CodeAppIDMismatch, "the token is for a different Agora project (App ID)",
			certs.Primary.AppID(), t.AppID,
			"mint the token with this project's App ID and certificate, or point the client at the token's project")
	}
	d.SignedBy = "unchecked"
	if certs.Primary != nil {
		switch {
		case certs.Primary.Verify(t):
			d.SignedBy = "primary"
		case certs.Secondary != nil && certs.Secondary.Verify(t):
			d.SignedBy = "secondary"
		default:
			d.SignedBy = "none"
			if t.AppID == certs.Primary.AppID() {
				want := "signed with the configured certificate"
				if certs.Secondary != nil {
					want = "signed with the configured primary or secondary certificate"
				}
				add(CodeSignatureInvalid, "the signature does not match this project's certificate: the token was signed with another certificate (an old one after a rotation, another project's) or was altered",
					want, "signed with neither", "mint with the project's current App Certificate; during a rotation configure the other one as agora.app_certificate_secondary")
			}
		}
	}
	if t.Expire >= absoluteTimeFloor {
		add(CodeExpiryAbsoluteTime, "the token's lifetime looks like an absolute Unix time passed as \"seconds from now\": AccessToken2 takes seconds after issue",
			fmt.Sprintf("at most %d seconds (24 h)", maxExpiry),
			fmt.Sprintf("%d seconds (until %s)", t.Expire, t.ExpiresAt().UTC().Format(time.RFC3339)),
			"pass the lifetime in seconds (e.g. 3600), not now + lifetime")
	}
	expired := !in.At.Before(t.ExpiresAt())
	if expired {
		add(CodeTokenExpired, "the token has expired",
			"valid at "+in.At.UTC().Format(time.RFC3339), "expired at "+t.ExpiresAt().UTC().Format(time.RFC3339),
			"mint a fresh token, and renew it before it expires (the SDKs warn about 30 s before)")
	}
	switch in.Service {
	case ServiceRTC:
		diagnoseRTC(t, in, expired, issued, add)
	case ServiceSignaling:
		diagnoseSignaling(t, in, expired, issued, add)
	case ServiceChat:
		diagnoseChat(t, in, expired, issued, add)
	case ServiceConvoAI:
		diagnoseAgent(t, accesstoken.ServiceConvoAI, "Conversational AI", in, expired, issued, add)
	case ServiceSTT:
		diagnoseAgent(t, accesstoken.ServiceSTT, "real-time STT", in, expired, issued, add)
	}
	d.Findings = nonNil(d.Findings)
	in2 := Inspect(t, certs.Primary, in.At)
	d.Inspection = &in2
	switch {
	case len(d.Findings) > 0:
		d.Verdict = VerdictRefused
	case d.SignedBy == "unchecked":
		d.Verdict = VerdictCannotTell
	default:
		d.Verdict = VerdictAccepted
	}
	return d
}

type addFinding func(code, problem, want, got, fix string)

// servicesOf names the token's services for a finding.
func servicesOf(t *accesstoken.Token) string {
	var names []string
	for _, s := range t.Services {
		names = append(names, s.Type.String())
	}
	if len(names) == 0 {
		return "no service"
	}
	return strings.Join(names, ", ")
}

// servicesOfType is the token's services of type typ, in order.
func servicesOfType(t *accesstoken.Token, typ accesstoken.ServiceType) []accesstoken.Service {
	var out []accesstoken.Service
	for _, s := range t.Services {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

func diagnoseRTC(t *accesstoken.Token, in Intent, expired bool, issued time.Time, add addFinding) {
	rtc := servicesOfType(t, accesstoken.ServiceRTC)
	if len(rtc) == 0 {
		add(CodeServiceMissing, "the token has no RTC service, so it cannot join an RTC channel",
			"rtc", servicesOf(t), "mint an RTC token (type rtc) for the channel and user")
		return
	}
	var channels []string
	var s *accesstoken.Service
	for i := range rtc {
		channels = append(channels, strconv.Quote(rtc[i].Channel))
		if rtc[i].Channel == in.Channel {
			s = &rtc[i]
			break
		}
	}
	if s == nil {
		add(CodeChannelMismatch, "the token is for a different channel (names are case-sensitive)",
			strconv.Quote(in.Channel), strings.Join(channels, ", "), "mint the token for the channel the client joins")
		// Go on with the token's own channel: its other faults would
		// refuse it just as well once the channel is fixed.
		s = &rtc[0]
	}
	checkRTCUser(s.UserID, in, add)
	needed := []accesstoken.Privilege{accesstoken.PrivJoinChannel}
	switch in.Action {
	case ActionPublishAudio:
		needed = append(needed, accesstoken.PrivPublishAudio)
	case ActionPublishVideo:
		needed = append(needed, accesstoken.PrivPublishVideo)
	case ActionPublishData:
		needed = append(needed, accesstoken.PrivPublishData)
	}
	checkPrivileges(*s, needed, in, expired, issued, "mint it with role publisher", add)
}

// checkRTCUser compares the token's RTC user with the intent's: a token for
// uid 0 ("") lets any numeric uid join; a uid token carries the uid's decimal
// string, a user-account token the account itself.
func checkRTCUser(tokenUser string, in Intent, add addFinding) {
	if in.UID != "" {
		n, _ := RTCUID(in.UID)
		want := strconv.FormatUint(uint64(n), 10)
		switch {
		case tokenUser == "" || tokenUser == want:
			return
		case isNumberSpelling(tokenUser, n):
			add(CodeUIDAccountMismatch, "the token was built for the user account "+strconv.Quote(tokenUser)+", a string; the client joins with the numeric uid "+want+", a different user",
				"uid "+want, "user account "+strconv.Quote(tokenUser),
				"build the token with the uid builder (uid "+want+"), or join with joinChannelWithUserAccount("+strconv.Quote(tokenUser)+")")
			return
		}
		add(CodeUserMismatch, "the token is for a different user", "uid "+want, describeRTCUser(tokenUser),
			"mint the token for the uid the client joins with")
		return
	}
	switch tokenUser {
	case in.UserAccount:
		return
	case "":
		add(CodeUIDAccountMismatch, "the token was built for uid 0 (any numeric uid); the client joins with the user account "+strconv.Quote(in.UserAccount)+", which needs a token for that account",
			"user account "+strconv.Quote(in.UserAccount), "uid 0 (any numeric uid)",
			"build the token with the user-account builder for "+strconv.Quote(in.UserAccount)+", or join with a numeric uid")
		return
	}
	add(CodeUserMismatch, "the token is for a different user", "user account "+strconv.Quote(in.UserAccount), describeRTCUser(tokenUser),
		"mint the token for the user account the client joins with")
}

// isNumberSpelling says whether s reads as n without being n's decimal
// string ("0123" for 123): the same number, a different user.
func isNumberSpelling(s string, n uint32) bool {
	m, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(s, "+")), 10, 32)
	return err == nil && uint32(m) == n
}

func describeRTCUser(u string) string {
	if u == "" {
		return "uid 0 (any numeric uid)"
	}
	return "user " + strconv.Quote(u)
}

func diagnoseSignaling(t *accesstoken.Token, in Intent, expired bool, issued time.Time, add addFinding) {
	user := in.UID + in.UserAccount // exactly one is set
	var s *accesstoken.Service
	var users []string
	for i, sv := range t.Services {
		if sv.Type == accesstoken.ServiceRTM || sv.Type == accesstoken.ServiceRTM2 {
			users = append(users, strconv.Quote(sv.UserID))
			if sv.UserID == user {
				s = &t.Services[i]
				break
			}
		}
	}
	switch {
	case len(users) == 0:
		add(CodeServiceMissing, "the token has no Signaling (RTM) service: an RTC-only token cannot log in to Signaling",
			"rtm (or rtm2) with the login privilege", servicesOf(t), "mint a Signaling token (type signaling) for the user ID")
		return
	case s == nil:
		add(CodeUserMismatch, "the token is for a different Signaling user ID (IDs are compared as strings)",
			strconv.Quote(user), strings.Join(users, ", "), "mint the token for the user ID the client logs in with")
		return
	}
	checkPrivileges(*s, []accesstoken.Privilege{accesstoken.PrivLogin}, in, expired, issued, "mint a Signaling token", add)
}

// diagnoseChat checks a Chat user token (the user's ID, compared as a
// string, and the user privilege) or a Chat app token (the app privilege).
func diagnoseChat(t *accesstoken.Token, in Intent, expired bool, issued time.Time, add addFinding) {
	chats := servicesOfType(t, accesstoken.ServiceChat)
	if len(chats) == 0 {
		add(CodeServiceMissing, "the token has no Chat service, so Agora Chat refuses it",
			"chat", servicesOf(t), "mint a Chat token (type chat-user for a user, chat-app for the app)")
		return
	}
	if in.Action == ActionChatApp {
		checkPrivileges(chats[0], []accesstoken.Privilege{accesstoken.PrivChatApp}, in, expired, issued, "mint a Chat app token (type chat-app)", add)
		return
	}
	user := in.UID + in.UserAccount // exactly one is set
	var users []string
	for _, s := range chats {
		if s.UserID == user {
			checkPrivileges(s, []accesstoken.Privilege{accesstoken.PrivChatUser}, in, expired, issued, "mint a Chat user token (type chat-user) for the user", add)
			return
		}
		users = append(users, describeChatUser(s.UserID))
	}
	add(CodeUserMismatch, "the token is for a different Chat user (IDs are compared as strings)",
		strconv.Quote(user), strings.Join(users, ", "), "mint a Chat user token (type chat-user) for the user ID the client logs in with")
}

func describeChatUser(u string) string {
	if u == "" {
		return "no user (an app token)"
	}
	return strconv.Quote(u)
}

// diagnoseAgent checks a token for Agora's agent REST APIs (Conversational
// AI, real-time STT): the API's own service, and an RTC service for the
// channel and the agent's uid with the join privilege, as for an RTC join.
func diagnoseAgent(t *accesstoken.Token, typ accesstoken.ServiceType, api string, in Intent, expired bool, issued time.Time, add addFinding) {
	if len(servicesOfType(t, typ)) == 0 {
		add(CodeServiceMissing, "the token has no "+typ.String()+" service, so Agora's "+api+" REST API refuses it",
			typ.String(), servicesOf(t), "mint a token of type "+in.Service+" for the channel and the agent's uid")
	}
	diagnoseRTC(t, in, expired, issued, add)
}

// checkPrivileges reports each needed privilege the service lacks, and, while
// the token itself is valid, each that has expired.
func checkPrivileges(s accesstoken.Service, needed []accesstoken.Privilege, in Intent, expired bool, issued time.Time, missingFix string, add addFinding) {
	for _, p := range needed {
		name := s.Type.PrivilegeName(p)
		var got *accesstoken.PrivilegeExpire
		for i := range s.Privileges {
			if s.Privileges[i].Privilege == p {
				got = &s.Privileges[i]
			}
		}
		switch {
		case got == nil:
			doing := strings.ReplaceAll(in.Action, "-", " ")
			switch in.Action {
			case ActionChatUser:
				doing = "log in to Chat as a user"
			case ActionChatApp:
				doing = "call Chat's REST API as the app"
			}
			problem := "the token lacks the " + name + " privilege needed to " + doing
			if p != accesstoken.PrivJoinChannel && s.Type == accesstoken.ServiceRTC {
				problem = "the token is a subscriber's: it lacks the " + name + " privilege needed to " + doing
			}
			add(CodePrivilegeMissing, problem, name, privilegeNames(s), missingFix)
		case !expired && got.Expire < absoluteTimeFloor && !in.At.Before(issued.Add(time.Duration(got.Expire)*time.Second)):
			at := issued.Add(time.Duration(got.Expire) * time.Second).UTC().Format(time.RFC3339)
			add(CodePrivilegeExpired, "the "+name+" privilege has expired while the token itself is still valid",
				name+" valid at "+in.At.UTC().Format(time.RFC3339), name+" expired at "+at,
				"mint a fresh token (renew it when the SDK says the privilege will expire), or give the privilege the token's lifetime")
		case got.Expire >= absoluteTimeFloor:
			add(CodeExpiryAbsoluteTime, "the "+name+" privilege's lifetime looks like an absolute Unix time passed as \"seconds from now\"",
				fmt.Sprintf("at most %d seconds (24 h)", maxExpiry), fmt.Sprintf("%d seconds", got.Expire),
				"pass privilege lifetimes in seconds (e.g. 3600), not now + lifetime")
		}
	}
}

func privilegeNames(s accesstoken.Service) string {
	var names []string
	for _, p := range s.Privileges {
		names = append(names, s.Type.PrivilegeName(p.Privilege))
	}
	if len(names) == 0 {
		return "no privilege"
	}
	return strings.Join(names, ", ")
}

// diagnose006 reads a 006 token: Signaling 2.x and AccessToken2-era SDKs
// need 007, and the rest of what it holds is shown.
func diagnose006(t *accesstoken.Token006, in Intent, certs Certificates) Diagnosis {
	d := Diagnosis{SignedBy: "unchecked", Findings: []Finding{{
		Code:    CodeVersion006,
		Problem: "this is a 006 token (Agora's older AccessToken); Signaling 2.x and current SDKs need an AccessToken2 (007) token",
		Want:    "007", Got: "006",
		Fix: "mint an AccessToken2 token (this server's /v1/tokens, or Agora's *TokenBuilder2 builders); note that 007 lifetimes are seconds from now, where 006 took absolute times",
	}}}
	if certs.Primary != nil && t.AppID != certs.Primary.AppID() {
		d.Findings = append(d.Findings, Finding{Code: CodeAppIDMismatch, Problem: "the token is for a different Agora project (App ID)",
			Want: certs.Primary.AppID(), Got: t.AppID, Fix: "mint the token with this project's App ID and certificate"})
	}
	channel, user := in.Channel, in.UID+in.UserAccount
	if in.Service == ServiceSignaling {
		channel, user = user, "" // 006 RTM tokens carry the user ID as their channel
	}
	if certs.Primary != nil {
		switch {
		case certs.Primary.Verify006(t, channel, user):
			d.SignedBy = "primary"
		case certs.Secondary != nil && certs.Secondary.Verify006(t, channel, user):
			d.SignedBy = "secondary"
		}
	}
	out := Inspection006{Version: t.Version, AppID: t.AppID, ExpiresAt: t.ExpiresAt().Format(time.RFC3339), Salt: t.Salt, Privileges: []InspectedPrivilege{}}
	for _, p := range t.Privileges {
		out.Privileges = append(out.Privileges, InspectedPrivilege{Privilege: uint16(p.Privilege), Name: accesstoken.Privilege006Name(p.Privilege),
			Expire: p.Expire, ExpiresAt: time.Unix(int64(p.Expire), 0).UTC().Format(time.RFC3339)})
	}
	d.Token006 = &out
	d.Verdict = VerdictRefused
	return d
}

func nonNil(f []Finding) []Finding {
	if f == nil {
		return []Finding{}
	}
	return f
}
