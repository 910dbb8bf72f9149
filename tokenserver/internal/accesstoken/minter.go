package accesstoken

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// ServiceType identifies a service inside a token.
type ServiceType uint16

// Service types defined by AccessToken2.
const (
	ServiceRTC       ServiceType = 1
	ServiceRTM       ServiceType = 2 // Signaling
	ServiceStreaming ServiceType = 3 // parsed, never minted
	ServiceFPA       ServiceType = 4 // parsed, never minted
	ServiceChat      ServiceType = 5
	ServiceFCDN      ServiceType = 6  // parsed, never minted
	ServiceAPaaS     ServiceType = 7  // parsed, never minted
	ServiceRTM2      ServiceType = 8  // Signaling with resource permissions
	ServiceConvoAI   ServiceType = 9  // Conversational AI agents; no privileges, no fields
	ServiceSTT       ServiceType = 10 // real-time speech-to-text; no privileges, no fields
)

// Known reports whether t is one of the ten types this package reads. Parse stops at
// a service of any other type, since only its type tells how long a service is.
func (t ServiceType) Known() bool { return t >= ServiceRTC && t <= ServiceSTT }

// String is the service's short name: rtc, rtm, streaming, fpa, chat, fcdn, apaas,
// rtm2, convoai, stt, or "unknown service type N" for a type this package does not
// know.
func (t ServiceType) String() string {
	switch t {
	case ServiceRTC:
		return "rtc"
	case ServiceRTM:
		return "rtm"
	case ServiceStreaming:
		return "streaming"
	case ServiceFPA:
		return "fpa"
	case ServiceChat:
		return "chat"
	case ServiceFCDN:
		return "fcdn"
	case ServiceAPaaS:
		return "apaas"
	case ServiceRTM2:
		return "rtm2"
	case ServiceConvoAI:
		return "convoai"
	case ServiceSTT:
		return "stt"
	}
	return fmt.Sprintf("unknown service type %d", uint16(t))
}

// PrivilegeName names privilege p of service t as Agora's reference does, without its
// "Privilege" prefix and service (joinChannel, login, publishMixStream, play, ...), or
// "unknown" for a privilege the service does not define (ConvoAI and STT define none).
func (t ServiceType) PrivilegeName(p Privilege) string {
	var names []string // index p-1
	switch t {
	case ServiceRTC:
		names = []string{"joinChannel", "publishAudioStream", "publishVideoStream", "publishDataStream"}
	case ServiceRTM, ServiceFPA, ServiceRTM2:
		names = []string{"login"}
	case ServiceStreaming:
		names = []string{"publishMixStream", "publishRawStream"}
	case ServiceChat:
		names = []string{"user", "app"}
	case ServiceFCDN:
		names = []string{"publish", "play"}
	case ServiceAPaaS:
		names = []string{"roomUser", "user", "app"}
	}
	if p < 1 || int(p) > len(names) {
		return "unknown"
	}
	return names[p-1]
}

// Privilege identifies a privilege within a service; numbers repeat across services.
type Privilege uint16

// Privileges per service.
const (
	PrivJoinChannel  Privilege = 1 // RTC
	PrivPublishAudio Privilege = 2 // RTC
	PrivPublishVideo Privilege = 3 // RTC
	PrivPublishData  Privilege = 4 // RTC
	PrivLogin        Privilege = 1 // RTM / Signaling
	PrivChatUser     Privilege = 1 // Chat
	PrivChatApp      Privilege = 2 // Chat

	PrivStreamingPublishMixStream Privilege = 1 // Streaming
	PrivStreamingPublishRawStream Privilege = 2 // Streaming
	PrivFCDNPublish               Privilege = 1 // FCDN
	PrivFCDNPlay                  Privilege = 2 // FCDN
	PrivAPaaSRoomUser             Privilege = 1 // aPaaS
	PrivAPaaSUser                 Privilege = 2 // aPaaS
	PrivAPaaSApp                  Privilege = 3 // aPaaS
)

// Role is an RTC role, numbered as in the reference rtctokenbuilder2.
type Role int

// RTC roles: a publisher may also publish audio, video and data streams.
const (
	RolePublisher  Role = 1
	RoleSubscriber Role = 2
)

// Minter builds tokens for one app. Safe for concurrent use. Its String, GoString,
// Format and LogValue never reveal the certificate.
type Minter struct {
	appID string
	// cert sits behind a pointer because fmt prints nested pointers as addresses, even
	// on paths that bypass Format (%p of a Minter value, a Minter inside another value).
	cert *secret
	now  func() time.Time
	salt func() uint32
}

// secret holds the App Certificate's bytes, and the first step of the signing key
// derived from them for the latest issueTs seen.
type secret struct {
	b      []byte
	issued atomic.Pointer[issuedKey]
}

// issuedKey is HMAC-SHA256(key=u32le(ts), appCertificate). It depends only on the
// certificate and issueTs, which is in seconds, so every token minted within the same
// second can share it; that saves a third of the hashing per token.
type issuedKey struct {
	ts  uint32
	key [signatureLen]byte
}

// Option configures a Minter.
type Option func(*Minter)

// WithClock sets the issueTs source (default time.Now), so tests are deterministic.
// issueTs is a uint32 of Unix seconds, as in the reference: times outside 1970-2106 wrap.
func WithClock(now func() time.Time) Option {
	return func(m *Minter) {
		if now != nil {
			m.now = now
		}
	}
}

// WithSalt sets the salt source (default: concurrency-safe random 1..99999998, the
// reference's range). next must be safe for concurrent use.
func WithSalt(next func() uint32) Option {
	return func(m *Minter) {
		if next != nil {
			m.salt = next
		}
	}
}

// randomSalt matches the reference's rand.Intn(99999999-1)+1; math/rand/v2's top-level
// functions are safe for concurrent use.
func randomSalt() uint32 { return rand.Uint32N(99999999-1) + 1 }

// NewMinter validates the App ID and App Certificate and returns a Minter for them.
// The error is an *InvalidParamsError naming "appId" and/or "appCertificate"; it never
// contains the certificate.
func NewMinter(appID, appCertificate string, opts ...Option) (*Minter, error) {
	var pe paramErrors
	pe.check("appId", ValidateAppID(appID))
	pe.check("appCertificate", ValidateCertificate(appCertificate))
	if err := pe.err(); err != nil {
		return nil, err
	}
	m := &Minter{appID: appID, cert: &secret{b: []byte(appCertificate)}, now: time.Now, salt: randomSalt}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// AppID returns the App ID tokens are minted for.
func (m *Minter) AppID() string {
	if m == nil {
		return ""
	}
	return m.appID
}

// String describes the Minter without its certificate.
func (m Minter) String() string {
	return "accesstoken.Minter{appId: " + m.appID + ", appCertificate: [redacted]}"
}

// GoString is String, so %#v cannot print the certificate either.
func (m Minter) GoString() string { return m.String() }

// Format makes every fmt verb (%d and %x included, which would otherwise print the
// fields) print String.
func (m Minter) Format(f fmt.State, _ rune) { fmt.Fprint(f, m.String()) }

// LogValue keeps the certificate out of slog records.
func (m Minter) LogValue() slog.Value {
	return slog.GroupValue(slog.String("appId", m.appID), slog.String("appCertificate", "[redacted]"))
}

// Minted is a freshly built token and the times it covers.
type Minted struct {
	Token     string
	IssuedAt  time.Time // issueTs
	ExpiresAt time.Time // issueTs + token expire
}

// errNoCredentials is returned by a Minter that NewMinter did not make.
var errNoCredentials = errors.New("accesstoken: Minter has no credentials (use NewMinter)")

func (m *Minter) mint(sp *spec) (Minted, error) {
	if m == nil || m.cert == nil {
		return Minted{}, errNoCredentials
	}
	issueTs := uint32(m.now().Unix())
	tok := build(m.appID, m.cert, issueTs, m.salt(), sp)
	at := time.Unix(int64(issueTs), 0).UTC()
	return Minted{Token: tok, IssuedAt: at, ExpiresAt: at.Add(time.Duration(sp.expire) * time.Second)}, nil
}

// Signaling mints a Signaling (RTM) login token for userID, valid for expire seconds;
// the same token as the reference rtmtokenbuilder2.BuildToken.
func (m *Minter) Signaling(userID string, expire uint32) (Minted, error) {
	var pe paramErrors
	pe.check("uid", ValidateUserID(userID))
	pe.check("expire", ValidateExpire(int64(expire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: expire}
	rtmService(&sp, userID, expire)
	return m.mint(&sp)
}

// SignalingWithChannel mints the Signaling token agora-token-service hands out for an
// RTM request with a channel (the community go-tokenbuilder rtmtokenbuilder.BuildToken
// with a stream name): an RTC service for channel with userID as its account and the
// join and publish-data-stream privileges, then the RTM login service for userID, every
// privilege lasting expire seconds. Signaling uses it to join that stream channel.
// userID must also be a valid RTC account, since it is used as one.
func (m *Minter) SignalingWithChannel(userID, channel string, expire uint32) (Minted, error) {
	var pe paramErrors
	uidErr := ValidateUserID(userID)
	if uidErr == nil {
		uidErr = ValidateAccount(userID)
	}
	pe.check("uid", uidErr)
	pe.check("channel", ValidateChannel(channel))
	pe.check("expire", ValidateExpire(int64(expire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: expire}
	rtc := sp.service(ServiceRTC)
	rtc.Channel, rtc.UserID = channel, userID
	sp.grant(PrivJoinChannel, expire)
	sp.grant(PrivPublishData, expire)
	rtmService(&sp, userID, expire)
	return m.mint(&sp)
}

func rtmService(sp *spec, userID string, expire uint32) {
	s := sp.service(ServiceRTM)
	s.UserID = userID
	sp.grant(PrivLogin, expire)
}

func rtcService(sp *spec, channel, account string, role Role, privilegeExpire uint32) {
	s := sp.service(ServiceRTC)
	s.Channel, s.UserID = channel, account
	sp.grant(PrivJoinChannel, privilegeExpire)
	if role == RolePublisher {
		sp.grant(PrivPublishAudio, privilegeExpire)
		sp.grant(PrivPublishVideo, privilegeExpire)
		sp.grant(PrivPublishData, privilegeExpire)
	}
}

// uidAccount is the RTC account the reference writes for a numeric uid: "" for 0.
func uidAccount(uid uint32) string {
	if uid == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// RTCWithUID mints an RTC token for a numeric uid (0 lets any uid join), the same token
// as the reference rtctokenbuilder2.BuildTokenWithUid. A publisher also gets the
// publish audio/video/data privileges; every privilege lasts privilegeExpire seconds.
func (m *Minter) RTCWithUID(channel string, uid uint32, role Role, tokenExpire, privilegeExpire uint32) (Minted, error) {
	var pe paramErrors
	pe.check("channel", ValidateChannel(channel))
	pe.check("role", validateRole(role))
	pe.check("expire", ValidateExpire(int64(tokenExpire)))
	pe.check("privilegeExpire", ValidateExpire(int64(privilegeExpire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: tokenExpire}
	rtcService(&sp, channel, uidAccount(uid), role, privilegeExpire)
	return m.mint(&sp)
}

// RTCWithAccount mints an RTC token for a user account (1-255 bytes of the channel
// character set), the same token as the reference rtctokenbuilder2.BuildTokenWithUserAccount.
func (m *Minter) RTCWithAccount(channel, account string, role Role, tokenExpire, privilegeExpire uint32) (Minted, error) {
	var pe paramErrors
	pe.check("channel", ValidateChannel(channel))
	pe.check("uid", ValidateAccount(account))
	pe.check("role", validateRole(role))
	pe.check("expire", ValidateExpire(int64(tokenExpire)))
	pe.check("privilegeExpire", ValidateExpire(int64(privilegeExpire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: tokenExpire}
	rtcService(&sp, channel, account, role, privilegeExpire)
	return m.mint(&sp)
}

// RTCPrivilegeExpires gives each RTC privilege its own lifetime in seconds after
// issue, as the reference's BuildToken...AndPrivilege builders take them. Each must be
// 1..the token's expire.
type RTCPrivilegeExpires struct {
	JoinChannel  uint32
	PublishAudio uint32
	PublishVideo uint32
	PublishData  uint32
}

// Names of the RTCPrivilegeExpires fields in an InvalidParamsError.
const (
	ParamJoinChannelExpire  = "joinChannelExpire"
	ParamPublishAudioExpire = "publishAudioExpire"
	ParamPublishVideoExpire = "publishVideoExpire"
	ParamPublishDataExpire  = "publishDataExpire"
)

func (p RTCPrivilegeExpires) check(pe *paramErrors, tokenExpire uint32) {
	for _, f := range []struct {
		name string
		v    uint32
	}{
		{ParamJoinChannelExpire, p.JoinChannel}, {ParamPublishAudioExpire, p.PublishAudio},
		{ParamPublishVideoExpire, p.PublishVideo}, {ParamPublishDataExpire, p.PublishData},
	} {
		pe.check(f.name, withinToken(f.v, tokenExpire))
	}
}

// withinToken checks a privilege's lifetime: a valid expire, and no longer than the
// token's.
func withinToken(v, tokenExpire uint32) error {
	if err := ValidateExpire(int64(v)); err != nil {
		return err
	}
	if v > tokenExpire {
		return reasonf("must be at most the token's expire, %d seconds (got %d)", tokenExpire, v)
	}
	return nil
}

// checkSubscriber checks a subscriber's lifetimes: joinChannel as check does, and no
// publish privilege, which a subscriber does not get.
func (p RTCPrivilegeExpires) checkSubscriber(pe *paramErrors, tokenExpire uint32) {
	pe.check(ParamJoinChannelExpire, withinToken(p.JoinChannel, tokenExpire))
	for _, f := range []struct {
		name string
		v    uint32
	}{{ParamPublishAudioExpire, p.PublishAudio}, {ParamPublishVideoExpire, p.PublishVideo}, {ParamPublishDataExpire, p.PublishData}} {
		if f.v != 0 {
			pe.check(f.name, reasonf("a subscriber has no publish privileges; leave it 0 (got %d)", f.v))
		}
	}
}

// RTCWithUIDAndPrivilege mints an RTC token for a numeric uid (0: any uid) with all four
// privileges, each with its own lifetime; the same token as the reference
// rtctokenbuilder2.BuildTokenWithUidAndPrivilege.
func (m *Minter) RTCWithUIDAndPrivilege(channel string, uid uint32, tokenExpire uint32, p RTCPrivilegeExpires) (Minted, error) {
	return m.rtcWithPrivilege(channel, uidAccount(uid), false, tokenExpire, p)
}

// RTCWithAccountAndPrivilege is RTCWithUIDAndPrivilege for a user account; the same
// token as the reference rtctokenbuilder2.BuildTokenWithUserAccountAndPrivilege.
func (m *Minter) RTCWithAccountAndPrivilege(channel, account string, tokenExpire uint32, p RTCPrivilegeExpires) (Minted, error) {
	return m.rtcWithPrivilege(channel, account, true, tokenExpire, p)
}

func (m *Minter) rtcWithPrivilege(channel, account string, checkAccount bool, tokenExpire uint32, p RTCPrivilegeExpires) (Minted, error) {
	var pe paramErrors
	pe.check("channel", ValidateChannel(channel))
	if checkAccount {
		pe.check("uid", ValidateAccount(account))
	}
	pe.check("expire", ValidateExpire(int64(tokenExpire)))
	p.check(&pe, tokenExpire)
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: tokenExpire}
	s := sp.service(ServiceRTC)
	s.Channel, s.UserID = channel, account
	sp.grant(PrivJoinChannel, p.JoinChannel)
	sp.grant(PrivPublishAudio, p.PublishAudio)
	sp.grant(PrivPublishVideo, p.PublishVideo)
	sp.grant(PrivPublishData, p.PublishData)
	return m.mint(&sp)
}

// RTE mints one token carrying RTC and RTM (Signaling) privileges, the same token as the
// reference rtctokenbuilder2.BuildTokenWithRtm2 with privilegeExpire for every RTC
// privilege. rtcAccount "" stands for uid 0; a numeric uid is passed as its decimal
// string. The token itself expires after rtcTokenExpire seconds.
func (m *Minter) RTE(channel, rtcAccount string, role Role, rtcTokenExpire, privilegeExpire uint32, rtmUserID string, rtmTokenExpire uint32) (Minted, error) {
	var pe paramErrors
	pe.check("channel", ValidateChannel(channel))
	if rtcAccount != "" {
		pe.check("uid", ValidateAccount(rtcAccount))
	}
	pe.check("role", validateRole(role))
	pe.check("expire", ValidateExpire(int64(rtcTokenExpire)))
	pe.check("privilegeExpire", ValidateExpire(int64(privilegeExpire)))
	pe.check("rtmUid", ValidateUserID(rtmUserID))
	pe.check("rtmExpire", ValidateExpire(int64(rtmTokenExpire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: rtcTokenExpire}
	rtcService(&sp, channel, rtcAccount, role, privilegeExpire)
	rtmService(&sp, rtmUserID, rtmTokenExpire)
	return m.mint(&sp)
}

// ChatUser mints a Chat user token, the same token as the reference
// chatTokenBuilder.BuildChatUserToken.
func (m *Minter) ChatUser(userID string, expire uint32) (Minted, error) {
	var pe paramErrors
	pe.check("uid", ValidateUserID(userID))
	pe.check("expire", ValidateExpire(int64(expire)))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: expire}
	s := sp.service(ServiceChat)
	s.UserID = userID
	sp.grant(PrivChatUser, expire)
	return m.mint(&sp)
}

// ChatApp mints a Chat app token, the same token as the reference
// chatTokenBuilder.BuildChatAppToken.
func (m *Minter) ChatApp(expire uint32) (Minted, error) {
	if err := ValidateExpire(int64(expire)); err != nil {
		return Minted{}, &InvalidParamsError{Params: []InvalidParam{{Name: "expire", Reason: err.Error()}}}
	}
	sp := spec{expire: expire}
	sp.service(ServiceChat)
	sp.grant(PrivChatApp, expire)
	return m.mint(&sp)
}

// Agent is what a ConvoAI or STT token holds: the RTC service of the agent in Channel,
// with per-privilege lifetimes, and the RTM (Signaling) service of RTMUserID, as
// npm agora-token's ConvoAITokenBuilder and SttTokenBuilder write them.
type Agent struct {
	Channel string
	// RTCAccount is the agent's RTC user: an account, a numeric uid as its decimal
	// string, or "" for uid 0. Agora's REST APIs check it against the agent uid.
	RTCAccount string
	Role       Role
	Expire     uint32 // the token's lifetime in seconds
	// Privileges are the RTC privileges' lifetimes, each 1..Expire. A subscriber has
	// only joinChannel, so its publish lifetimes must be 0.
	Privileges RTCPrivilegeExpires
	RTMUserID  string
	RTMExpire  uint32 // the RTM login privilege's lifetime, 1..Expire
}

// ConvoAI mints the token Agora's Conversational AI REST API accepts
// (Authorization: agora token=...): RTC, RTM, then an empty ConvoAI service; the same
// token as npm agora-token 2.0.6's ConvoAITokenBuilder.buildToken.
func (m *Minter) ConvoAI(a Agent) (Minted, error) { return m.agent(ServiceConvoAI, a) }

// STT mints the token Agora's real-time STT REST API accepts: RTC, RTM, then an empty
// STT service; the same token as npm agora-token 2.0.6's SttTokenBuilder.buildToken.
func (m *Minter) STT(a Agent) (Minted, error) { return m.agent(ServiceSTT, a) }

func (m *Minter) agent(typ ServiceType, a Agent) (Minted, error) {
	var pe paramErrors
	pe.check("channel", ValidateChannel(a.Channel))
	if a.RTCAccount != "" {
		pe.check("uid", ValidateAccount(a.RTCAccount))
	}
	pe.check("role", validateRole(a.Role))
	pe.check("expire", ValidateExpire(int64(a.Expire)))
	if a.Role == RoleSubscriber {
		a.Privileges.checkSubscriber(&pe, a.Expire)
	} else {
		a.Privileges.check(&pe, a.Expire)
	}
	pe.check("rtmUid", ValidateUserID(a.RTMUserID))
	pe.check("rtmExpire", withinToken(a.RTMExpire, a.Expire))
	if err := pe.err(); err != nil {
		return Minted{}, err
	}
	sp := spec{expire: a.Expire}
	s := sp.service(ServiceRTC)
	s.Channel, s.UserID = a.Channel, a.RTCAccount
	sp.grant(PrivJoinChannel, a.Privileges.JoinChannel)
	if a.Role == RolePublisher {
		sp.grant(PrivPublishAudio, a.Privileges.PublishAudio)
		sp.grant(PrivPublishVideo, a.Privileges.PublishVideo)
		sp.grant(PrivPublishData, a.Privileges.PublishData)
	}
	rtmService(&sp, a.RTMUserID, a.RTMExpire)
	sp.service(typ)
	return m.mint(&sp)
}
