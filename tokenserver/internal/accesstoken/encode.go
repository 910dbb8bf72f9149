package accesstoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"

	"signaling-auth/tokenserver/internal/zlibexact"
)

// version is the AccessToken2 prefix.
const version = "007"

// signatureLen is the length of an HMAC-SHA256 signature.
const signatureLen = sha256.Size

// spec describes a token to build; services must be in ascending type order, as the
// reference builder writes them. The services' privileges are kept in privs rather than
// in their Privileges slices: a slice into spec itself would move spec to the heap, and
// building a token allocates nothing but the result.
type spec struct {
	expire   uint32
	n        int
	services [3]Service // Privileges unused
	privs    [3][4]PrivilegeExpire
	nprivs   [3]int
}

// service starts the next service of sp; the caller sets its type-specific fields and
// grants its privileges (at most 4).
func (sp *spec) service(typ ServiceType) *Service {
	s := &sp.services[sp.n]
	*s = Service{Type: typ}
	sp.n++
	return s
}

// grant adds a privilege to the service started last.
func (sp *spec) grant(p Privilege, expire uint32) {
	i := sp.n - 1
	sp.privs[i][sp.nprivs[i]] = PrivilegeExpire{Privilege: p, Expire: expire}
	sp.nprivs[i]++
}

// scratch holds everything one token build needs, pooled so that building a token
// allocates only the returned string.
type scratch struct {
	raw []byte // packString(signature) + content
	z   zlibexact.Compressor
	zip []byte // the compressed raw, reused
	out []byte
	h   hash.Hash
	pad [sha256.BlockSize]byte
	in  [sha256.Size]byte
	key [sha256.Size]byte
	sig [sha256.Size]byte
	num [4]byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{h: sha256.New()} }}

func getScratch() *scratch  { return scratchPool.Get().(*scratch) }
func putScratch(s *scratch) { scratchPool.Put(s) }

// hmacSHA256 writes HMAC-SHA256(key, msg) (RFC 2104) into dst using the pooled hash, so
// that signing allocates nothing. key is at most one block here (4-byte integers and
// 32-byte digests), so it is never pre-hashed. dst may alias key or msg.
func (s *scratch) hmacSHA256(dst *[sha256.Size]byte, key, msg []byte) {
	clear(s.pad[:])
	copy(s.pad[:], key)
	for i := range s.pad {
		s.pad[i] ^= 0x36
	}
	s.h.Reset()
	s.h.Write(s.pad[:])
	s.h.Write(msg)
	s.h.Sum(s.in[:0])
	for i := range s.pad {
		s.pad[i] ^= 0x36 ^ 0x5c
	}
	s.h.Reset()
	s.h.Write(s.pad[:])
	s.h.Write(s.in[:])
	s.h.Sum(dst[:0])
}

// signingKey computes HMAC(u32le(salt), HMAC(u32le(issueTs), cert)) into s.key.
func (s *scratch) signingKey(cert []byte, issueTs, salt uint32) {
	binary.LittleEndian.PutUint32(s.num[:], issueTs)
	s.hmacSHA256(&s.key, s.num[:], cert)
	binary.LittleEndian.PutUint32(s.num[:], salt)
	s.hmacSHA256(&s.key, s.num[:], s.key[:])
}

// mintingKey is signingKey with its first HMAC taken from cert's cache when issueTs
// matches. Concurrent misses may each store their result; they store the same key.
func (s *scratch) mintingKey(cert *secret, issueTs, salt uint32) {
	if k := cert.issued.Load(); k != nil && k.ts == issueTs {
		s.key = k.key
	} else {
		binary.LittleEndian.PutUint32(s.num[:], issueTs)
		s.hmacSHA256(&s.key, s.num[:], cert.b)
		cert.issued.Store(&issuedKey{ts: issueTs, key: s.key})
	}
	binary.LittleEndian.PutUint32(s.num[:], salt)
	s.hmacSHA256(&s.key, s.num[:], s.key[:])
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendService appends service s with privileges privs (s.Privileges is not read) in
// the layout doc.go describes. Its strings and lists are already validated to fit their
// uint16 lengths.
func appendService(b []byte, s *Service, privs []PrivilegeExpire) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(s.Type))
	if !s.Type.Known() {
		return append(b, s.Unread...) // Parse kept them as they came
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(privs)))
	for _, p := range privs {
		b = binary.LittleEndian.AppendUint16(b, uint16(p.Privilege))
		b = binary.LittleEndian.AppendUint32(b, p.Expire)
	}
	switch s.Type {
	case ServiceRTC, ServiceStreaming, ServiceFCDN:
		b = appendString(b, s.Channel)
		b = appendString(b, s.UserID)
	case ServiceRTM, ServiceChat:
		b = appendString(b, s.UserID)
	case ServiceAPaaS:
		b = appendString(b, s.Channel)
		b = appendString(b, s.UserID)
		b = binary.LittleEndian.AppendUint16(b, uint16(s.APaaSRole))
	case ServiceRTM2:
		b = appendString(b, s.UserID)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s.Permissions)))
		for _, r := range s.Permissions {
			b = binary.LittleEndian.AppendUint16(b, uint16(r.Resource))
			b = binary.LittleEndian.AppendUint16(b, uint16(len(r.Lists)))
			for _, l := range r.Lists {
				b = binary.LittleEndian.AppendUint16(b, uint16(l.Permission))
				b = binary.LittleEndian.AppendUint16(b, uint16(len(l.Names)))
				for _, name := range l.Names {
					b = appendString(b, name)
				}
			}
		}
	}
	return b
}

// build returns the token for sp. Inputs are already validated, so every string fits
// in a uint16 length.
func build(appID string, cert *secret, issueTs, salt uint32, sp *spec) string {
	s := getScratch()
	defer putScratch(s)

	// Leave room for packString(signature); the signature covers what follows it.
	b := binary.LittleEndian.AppendUint16(s.raw[:0], signatureLen)
	b = append(b, make([]byte, signatureLen)...)
	content := len(b)
	b = appendString(b, appID)
	b = binary.LittleEndian.AppendUint32(b, issueTs)
	b = binary.LittleEndian.AppendUint32(b, sp.expire)
	b = binary.LittleEndian.AppendUint32(b, salt)
	b = binary.LittleEndian.AppendUint16(b, uint16(sp.n))
	for i := range sp.n {
		b = appendService(b, &sp.services[i], sp.privs[i][:sp.nprivs[i]])
	}
	s.raw = b

	s.mintingKey(cert, issueTs, salt)
	s.hmacSHA256(&s.sig, s.key[:], b[content:])
	copy(b[2:content], s.sig[:])

	s.zip = s.z.AppendZlib(s.zip[:0], b)
	s.out = append(s.out[:0], version...)
	s.out = base64.StdEncoding.AppendEncode(s.out, s.zip)
	return string(s.out)
}
