package accesstoken

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limits that keep Parse cheap on hostile input. Real tokens are a few hundred bytes.
const (
	// MaxTokenLen is the longest string Parse accepts.
	MaxTokenLen = 96 << 10
	// MaxInflatedLen caps the decompressed size, so a zlib bomb costs at most this much.
	MaxInflatedLen = 64 << 10
	// MaxServices is the most services one token may declare. Agora's builders write
	// at most three (ConvoAI and STT: RTC, RTM and their own); 16 holds every one of
	// the ten types with room for repeats. Without it a 195-byte token of 10,000 empty
	// RTM services inflates to a 400 KB inspection.
	MaxServices = 16
	// MaxPrivileges is the most privileges one service (or a 006 token) may hold. No
	// service defines more than four (a 006 token five); without it a token of
	// thousands of privileges inflates its inspection the same way.
	MaxPrivileges = 16
)

// Errors that Parse wraps; test with errors.Is.
var (
	ErrVersion   = errors.New("not an AccessToken2 (\"007\") token")
	ErrMalformed = errors.New("malformed token")
)

// Token is a decoded AccessToken2.
type Token struct {
	Version  string // "007"
	AppID    string
	IssueTs  uint32
	Expire   uint32 // seconds after IssueTs
	Salt     uint32
	Services []Service // in the order found; a type may repeat
	// ServiceCount is the number of services the token declares: more than
	// len(Services) when a service of an unknown type stopped the reading.
	ServiceCount int

	signature []byte
	content   []byte // the signed bytes
	issueTs   uint32 // as signed, in case the exported fields are changed
	salt      uint32
}

// PrivilegeExpire is one privilege and its lifetime.
type PrivilegeExpire struct {
	Privilege Privilege
	Expire    uint32 // seconds after IssueTs
}

// Service is one service of a token. Its fields map to Agora's reference as doc.go
// lists.
type Service struct {
	Type       ServiceType
	Privileges []PrivilegeExpire // ascending by Privilege
	// Channel is the channel name of RTC, Streaming and FCDN, and aPaaS's room UUID.
	Channel string
	// UserID is the account of RTC, Streaming and FCDN (a uid as its decimal string,
	// "" for uid 0), the user ID of RTM, RTM2 and Chat, and aPaaS's user UUID.
	UserID      string
	APaaSRole   int16          // aPaaS only
	Permissions []Rtm2Resource // RTM2 only, in token order
	// Unread holds, for a type this package does not know (!Type.Known()), every
	// byte after the type to the end of the token, unread: only a service's type
	// tells its layout, so nothing after it can be read (npm agora-token's parser
	// stops there too). The signature covers these bytes, so Verify still works.
	Unread []byte
}

// IssuedAt is the time the token was issued.
func (t *Token) IssuedAt() time.Time { return time.Unix(int64(t.IssueTs), 0).UTC() }

// ExpiresAt is the time the token stops being valid.
func (t *Token) ExpiresAt() time.Time {
	return t.IssuedAt().Add(time.Duration(t.Expire) * time.Second)
}

// Verify reports whether the token was signed with appCertificate. The comparison is
// constant-time; an invalid certificate never verifies.
func (t *Token) Verify(appCertificate string) bool {
	if t == nil || ValidateCertificate(appCertificate) != nil {
		return false
	}
	s := getScratch()
	defer putScratch(s)
	cert := append(s.raw[:0], appCertificate...)
	ok := t.signedWith(s, cert)
	clear(cert) // the pooled buffer must not keep the caller's certificate
	return ok
}

// Verify reports whether t was signed with m's certificate, which never leaves
// the Minter. A nil Minter or token never verifies.
func (m *Minter) Verify(t *Token) bool {
	if m == nil || m.cert == nil || t == nil {
		return false
	}
	s := getScratch()
	defer putScratch(s)
	return t.signedWith(s, m.cert.b)
}

// signedWith is the constant-time signature check both Verify methods share.
func (t *Token) signedWith(s *scratch, cert []byte) bool {
	if len(t.signature) != signatureLen {
		return false
	}
	s.signingKey(cert, t.issueTs, t.salt)
	s.hmacSHA256(&s.sig, s.key[:], t.content)
	return hmac.Equal(s.sig[:], t.signature)
}

// Parse decodes an AccessToken2 string. It never panics, refuses strings longer than
// MaxTokenLen and stops inflating at MaxInflatedLen. It does not check the signature
// (see Token.Verify) or whether the token has expired. Errors never contain the token.
func Parse(s string) (*Token, error) {
	if len(s) < len(version) || s[:len(version)] != version {
		if strings.HasPrefix(s, version006) {
			return nil, fmt.Errorf("accesstoken: %w: it is a %q AccessToken, the older format", ErrVersion, version006)
		}
		return nil, fmt.Errorf("accesstoken: %w", ErrVersion)
	}
	if len(s) > MaxTokenLen {
		return nil, malformed("token is %d bytes, more than the %d allowed", len(s), MaxTokenLen)
	}
	compressed, err := base64.StdEncoding.DecodeString(s[len(version):])
	if err != nil {
		return nil, malformed("base64: %v", err)
	}
	raw, err := inflate(compressed)
	if err != nil {
		return nil, err
	}
	return decode(raw)
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("accesstoken: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// inflater is a pooled zlib reader and output buffer: a fresh zlib reader costs ~40 KB.
type inflater struct {
	src bytes.Reader
	zr  io.ReadCloser // always also a zlib.Resetter
	out bytes.Buffer
}

// emptyZlib is a valid zlib stream of no bytes, used to create pooled readers, since
// zlib.NewReader needs a readable header.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}

var inflaterPool = sync.Pool{New: func() any {
	f := new(inflater)
	f.src.Reset(emptyZlib)
	zr, err := zlib.NewReader(&f.src)
	if err != nil {
		panic("accesstoken: cannot read an empty zlib stream: " + err.Error())
	}
	f.zr = zr
	return f
}}

// inflate decompresses a whole zlib stream of at most MaxInflatedLen bytes, checksum
// included, and refuses bytes after it.
func inflate(compressed []byte) ([]byte, error) {
	f := inflaterPool.Get().(*inflater)
	defer inflaterPool.Put(f)
	f.src.Reset(compressed)
	if err := f.zr.(zlib.Resetter).Reset(&f.src, nil); err != nil {
		return nil, malformed("zlib: %v", err)
	}
	f.out.Reset()
	if _, err := f.out.ReadFrom(io.LimitReader(f.zr, MaxInflatedLen+1)); err != nil {
		return nil, malformed("zlib: %v", err)
	}
	if f.out.Len() > MaxInflatedLen {
		return nil, malformed("inflates to more than %d bytes", MaxInflatedLen)
	}
	if f.src.Len() != 0 {
		return nil, malformed("%d bytes after the zlib stream", f.src.Len())
	}
	return bytes.Clone(f.out.Bytes()), nil
}

// reader walks the inflated bytes; the first short read sticks as its error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.err = malformed("truncated: %s needs %d bytes at offset %d, %d left", what, n, r.off, len(r.b)-r.off)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u16(what string) uint16 {
	if p := r.take(2, what); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if p := r.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) bytes(what string) []byte {
	n := r.u16(what + " length")
	return r.take(int(n), what)
}

func (r *reader) str(what string) string { return string(r.bytes(what)) }

func decode(raw []byte) (*Token, error) {
	r := &reader{b: raw}
	t := &Token{Version: version}
	t.signature = r.bytes("signature")
	start := r.off
	t.AppID = r.str("appId")
	t.IssueTs = r.u32("issueTs")
	t.Expire = r.u32("expire")
	t.Salt = r.u32("salt")
	n := int(r.u16("service count"))
	if r.err != nil {
		return nil, r.err
	}
	if n > MaxServices {
		return nil, malformed("%d services, more than the %d a token may hold (Agora's builders write at most 3)", n, MaxServices)
	}
	t.ServiceCount = n
	t.Services = make([]Service, 0, n)
	for range n {
		s, err := decodeService(r)
		if err != nil {
			return nil, err
		}
		t.Services = append(t.Services, s)
		if !s.Type.Known() {
			break
		}
	}
	if r.off != len(raw) {
		return nil, malformed("%d unexpected bytes after the last service", len(raw)-r.off)
	}
	t.content = raw[start:]
	t.issueTs, t.salt = t.IssueTs, t.Salt
	return t, nil
}

func decodeService(r *reader) (Service, error) {
	s := Service{Type: ServiceType(r.u16("service type"))}
	if r.err == nil && !s.Type.Known() {
		s.Unread = r.take(len(r.b)-r.off, "unknown service")
		return s, nil
	}
	n := int(r.u16("privilege count"))
	if r.err != nil {
		return s, r.err
	}
	if n > MaxPrivileges {
		return s, malformed("%d privileges in service %v, more than the %d a service may hold", n, s.Type, MaxPrivileges)
	}
	if n*6 > len(r.b)-r.off {
		return s, malformed("truncated: %d privileges of service %v need %d bytes at offset %d, %d left", n, s.Type, n*6, r.off, len(r.b)-r.off)
	}
	s.Privileges = make([]PrivilegeExpire, n)
	for i := range s.Privileges {
		s.Privileges[i] = PrivilegeExpire{Privilege: Privilege(r.u16("privilege")), Expire: r.u32("privilege expire")}
	}
	slices.SortFunc(s.Privileges, func(a, b PrivilegeExpire) int { return int(a.Privilege) - int(b.Privilege) })
	for i := 1; i < len(s.Privileges); i++ {
		if s.Privileges[i].Privilege == s.Privileges[i-1].Privilege {
			return s, malformed("privilege %d of service %v appears twice", s.Privileges[i].Privilege, s.Type)
		}
	}
	switch s.Type {
	case ServiceRTC:
		s.Channel = r.str("rtc channel")
		s.UserID = r.str("rtc uid")
	case ServiceRTM:
		s.UserID = r.str("rtm user id")
	case ServiceStreaming:
		s.Channel = r.str("streaming channel")
		s.UserID = r.str("streaming account")
	case ServiceFPA:
	case ServiceChat:
		s.UserID = r.str("chat user id")
	case ServiceFCDN:
		s.Channel = r.str("fcdn channel")
		s.UserID = r.str("fcdn account")
	case ServiceAPaaS:
		s.Channel = r.str("apaas room uuid")
		s.UserID = r.str("apaas user uuid")
		s.APaaSRole = int16(r.u16("apaas role"))
	case ServiceRTM2:
		s.UserID = r.str("rtm2 user id")
		s.Permissions = decodeRtm2Permissions(r)
	case ServiceConvoAI, ServiceSTT:
	}
	return s, r.err
}

// count reads a uint16 count of items that each take at least minSize bytes, and fails
// when the bytes left cannot hold them, so that a hostile count allocates nothing.
func (r *reader) count(what string, minSize int) int {
	n := int(r.u16(what))
	if r.err == nil && n*minSize > len(r.b)-r.off {
		r.err = malformed("truncated: %d %s need at least %d bytes at offset %d, %d left", n, what, n*minSize, r.off, len(r.b)-r.off)
	}
	if r.err != nil {
		return 0
	}
	return n
}

// decodeRtm2Permissions reads RTM2's resource permissions: a count of resources, each a
// resource type, a count of lists, each a permission type and a count of names. Unknown
// resource and permission types are kept (Agora's reference keeps them too).
func decodeRtm2Permissions(r *reader) []Rtm2Resource {
	n := r.count("rtm2 resources", 4)
	if n == 0 {
		return nil
	}
	out := make([]Rtm2Resource, n)
	for i := range out {
		out[i].Resource = ResourceType(r.u16("rtm2 resource type"))
		lists := make([]Rtm2List, r.count("rtm2 permission lists", 4))
		for j := range lists {
			lists[j].Permission = PermissionType(r.u16("rtm2 permission type"))
			names := make([]string, r.count("rtm2 resource names", 2))
			for k := range names {
				names[k] = r.str("rtm2 resource name")
			}
			lists[j].Names = names
		}
		out[i].Lists = lists
		if r.err != nil {
			return nil
		}
	}
	return out
}
