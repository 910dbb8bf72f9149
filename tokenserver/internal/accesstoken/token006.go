package accesstoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"
)

// version006 is the prefix of Agora's older AccessToken.
const version006 = "006"

// ErrVersion006 is what Parse006 wraps for a string that is not a 006 token.
var ErrVersion006 = errors.New("not a \"006\" AccessToken")

// appIDLen is the length of an App ID, which a 006 token carries in the clear.
const appIDLen = 32

// Privileges of a 006 token, numbered as in the reference AccessToken package. Unlike
// AccessToken2 one map holds them all; Signaling's login is 1000.
const (
	Priv006JoinChannel  Privilege = 1
	Priv006PublishAudio Privilege = 2
	Priv006PublishVideo Privilege = 3
	Priv006PublishData  Privilege = 4
	Priv006RTMLogin     Privilege = 1000
)

// Privilege006Name names a 006 privilege as the reference does, without its "k"
// prefix (joinChannel, publishAudioStream, ..., rtmLogin), or "unknown".
func Privilege006Name(p Privilege) string {
	switch p {
	case Priv006JoinChannel:
		return "joinChannel"
	case Priv006PublishAudio:
		return "publishAudioStream"
	case Priv006PublishVideo:
		return "publishVideoStream"
	case Priv006PublishData:
		return "publishDataStream"
	case Priv006RTMLogin:
		return "rtmLogin"
	}
	return "unknown"
}

// Token006 is a decoded 006 AccessToken, the format Agora's SDKs took before
// AccessToken2. Its times are absolute Unix seconds, where AccessToken2's are seconds
// after issue, and it carries only CRC-32 checksums of its channel and user, so a
// signature can only be checked by someone who also knows both.
type Token006 struct {
	Version string // "006"
	AppID   string
	// Ts is when the token itself expires, in Unix seconds; the reference builders
	// set it to the issue time plus 24 hours, so it also dates the token.
	Ts   uint32
	Salt uint32
	// ChannelCRC and UserCRC are the CRC-32 (IEEE) of the channel name and of the
	// user: a uid's decimal string, "" for uid 0. An RTM token has the user ID as
	// its channel and "" as its user.
	ChannelCRC uint32
	UserCRC    uint32
	// Privileges are ascending; each Expire is a Unix time, 0 for no expiry.
	Privileges []PrivilegeExpire

	signature []byte
	message   []byte // salt | ts | privileges, as signed
}

// ExpiresAt is when the token itself stops being valid (Ts).
func (t *Token006) ExpiresAt() time.Time { return time.Unix(int64(t.Ts), 0).UTC() }

// MatchesChannel reports whether the token was made for channel, by its checksum.
func (t *Token006) MatchesChannel(channel string) bool {
	return t != nil && crc32.ChecksumIEEE([]byte(channel)) == t.ChannelCRC
}

// MatchesUser reports whether the token was made for user (a uid's decimal string,
// "" for uid 0), by its checksum.
func (t *Token006) MatchesUser(user string) bool {
	return t != nil && crc32.ChecksumIEEE([]byte(user)) == t.UserCRC
}

// Verify reports whether the token was signed with appCertificate for channel and
// user (as MatchesUser spells it). The comparison is constant-time; an invalid
// certificate never verifies. The signature covers App ID, channel and user run
// together ("ab"+"c" signs as "a"+"bc"), so a caller that must know which channel
// and user also checks MatchesChannel and MatchesUser.
func (t *Token006) Verify(appCertificate, channel, user string) bool {
	if t == nil || ValidateCertificate(appCertificate) != nil {
		return false
	}
	return t.signedWith([]byte(appCertificate), channel, user)
}

// Verify006 is Token006.Verify with m's certificate, which never leaves the Minter.
// A nil Minter or token never verifies.
func (m *Minter) Verify006(t *Token006, channel, user string) bool {
	if m == nil || m.cert == nil || t == nil {
		return false
	}
	return t.signedWith(m.cert.b, channel, user)
}

// signedWith checks HMAC-SHA256(key=cert, appId | channel | user | message).
func (t *Token006) signedWith(cert []byte, channel, user string) bool {
	if len(t.signature) != signatureLen {
		return false
	}
	h := hmac.New(sha256.New, cert)
	h.Write([]byte(t.AppID))
	h.Write([]byte(channel))
	h.Write([]byte(user))
	h.Write(t.message)
	return hmac.Equal(h.Sum(nil), t.signature)
}

// Parse006 decodes a 006 AccessToken string. Like Parse it never panics, refuses
// strings longer than MaxTokenLen and does not check the signature (see
// Token006.Verify) or the expiry; errors wrap ErrVersion006 or ErrMalformed and never
// contain the token.
func Parse006(s string) (*Token006, error) {
	if len(s) < len(version006) || s[:len(version006)] != version006 {
		if strings.HasPrefix(s, version) {
			return nil, fmt.Errorf("accesstoken: %w: it is a %q AccessToken2, the newer format", ErrVersion006, version)
		}
		return nil, fmt.Errorf("accesstoken: %w", ErrVersion006)
	}
	if len(s) > MaxTokenLen {
		return nil, malformed("token is %d bytes, more than the %d allowed", len(s), MaxTokenLen)
	}
	if len(s) < len(version006)+appIDLen {
		return nil, malformed("truncated: a 006 token starts with a %d-character App ID, %d characters left", appIDLen, len(s)-len(version006))
	}
	raw, err := base64.StdEncoding.DecodeString(s[len(version006)+appIDLen:])
	if err != nil {
		return nil, malformed("base64: %v", err)
	}
	t := &Token006{Version: version006, AppID: s[len(version006) : len(version006)+appIDLen]}
	r := &reader{b: raw}
	t.signature = r.bytes("signature")
	t.ChannelCRC = r.u32("channel crc")
	t.UserCRC = r.u32("user crc")
	t.message = r.bytes("message")
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(raw) {
		return nil, malformed("%d unexpected bytes after the message", len(raw)-r.off)
	}
	m := &reader{b: t.message}
	t.Salt = m.u32("salt")
	t.Ts = m.u32("ts")
	n := m.count("privileges", 6)
	if m.err != nil {
		return nil, m.err
	}
	if n > MaxPrivileges {
		return nil, malformed("%d privileges, more than the %d a token may hold", n, MaxPrivileges)
	}
	t.Privileges = make([]PrivilegeExpire, n)
	for i := range t.Privileges {
		t.Privileges[i] = PrivilegeExpire{Privilege: Privilege(m.u16("privilege")), Expire: m.u32("privilege expire")}
	}
	if m.off != len(t.message) {
		return nil, malformed("%d unexpected bytes after the privileges", len(t.message)-m.off)
	}
	slices.SortFunc(t.Privileges, func(a, b PrivilegeExpire) int { return int(a.Privilege) - int(b.Privilege) })
	for i := 1; i < len(t.Privileges); i++ {
		if t.Privileges[i].Privilege == t.Privileges[i-1].Privilege {
			return nil, malformed("privilege %d appears twice", t.Privileges[i].Privilege)
		}
	}
	return t, nil
}
