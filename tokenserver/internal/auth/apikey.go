package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// HashPrefix marks a configured API key given as its SHA-256 digest, so the
// key itself need not sit in a config file: "sha256:" + 64 hex digits.
const HashPrefix = "sha256:"

// MinAPIKeyLength is the shortest API key accepted in clear: 16 characters
// of a random key are about 95 bits, out of reach of guessing at any rate
// the limiter lets through.
const MinAPIKeyLength = 16

// ParseAPIKey turns one configured entry into the digest it is checked
// against: "sha256:<hex>" as given, anything else hashed. The error never
// quotes the entry (it may be a key).
func ParseAPIKey(entry string) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if hexDigest, ok := strings.CutPrefix(entry, HashPrefix); ok {
		b, err := hex.DecodeString(hexDigest)
		if err != nil || len(b) != sha256.Size {
			return d, fmt.Errorf("a %s entry must be followed by 64 hex digits (got %d characters)", HashPrefix, len(hexDigest))
		}
		copy(d[:], b)
		return d, nil
	}
	if len(entry) < MinAPIKeyLength {
		return d, fmt.Errorf("a key must be at least %d characters (one has %d); make them random, e.g. openssl rand -hex 24", MinAPIKeyLength, len(entry))
	}
	if len(entry) > maxCredential {
		return d, fmt.Errorf("a key must be at most %d characters", maxCredential)
	}
	for i := 0; i < len(entry); i++ {
		if entry[i] <= ' ' || entry[i] >= 0x7f || entry[i] == ',' {
			return d, errors.New("a key must be printable ASCII without spaces or commas (clients send it in a header; lists are comma-separated)")
		}
	}
	return sha256.Sum256([]byte(entry)), nil
}

// KeyIDOf is how logs name an API key: "sha256:" and the first 12 hex
// digits of its SHA-256. An operator finds it for a key with
// printf %s "$KEY" | sha256sum | cut -c1-12, or reads it off a sha256:
// entry; 48 bits of a digest tell nothing usable about a random key.
func KeyIDOf(key string) string {
	d := sha256.Sum256([]byte(key))
	return HashPrefix + hex.EncodeToString(d[:6])
}

// keyRing holds the digests of the accepted keys.
type keyRing struct {
	digests [][sha256.Size]byte
}

func newKeyRing(entries []string) (*keyRing, error) {
	if len(entries) == 0 {
		return nil, errors.New("auth: api_key mode needs at least one key")
	}
	kr := &keyRing{}
	for i, e := range entries {
		d, err := ParseAPIKey(e)
		if err != nil {
			return nil, fmt.Errorf("auth: API key %d: %v", i+1, err)
		}
		kr.digests = append(kr.digests, d)
	}
	return kr, nil
}

// contains compares the presented key's digest with every configured one in
// constant time, without stopping at a match, so the time taken says nothing
// about which key, or how much of one, matched.
func (kr *keyRing) contains(key string) bool {
	d := sha256.Sum256([]byte(key))
	found := 0
	for i := range kr.digests {
		found |= subtle.ConstantTimeCompare(d[:], kr.digests[i][:])
	}
	return found == 1
}

// apiKeyOf reads the key from X-API-Key, or else from Authorization: Bearer.
func apiKeyOf(r *http.Request) (string, *Error) {
	if vals := r.Header.Values("X-API-Key"); len(vals) > 0 {
		if len(vals) > 1 {
			return "", unauthorized("invalid_request", "send one X-API-Key header, not several")
		}
		k := strings.TrimSpace(vals[0])
		if k == "" || len(k) > maxCredential {
			return "", unauthorized("invalid_request", "the X-API-Key header is empty or too long")
		}
		return k, nil
	}
	k, e := bearer(r)
	if e != nil && e.Code == "" {
		e.Reason = "credentials required: send X-API-Key: <key> or Authorization: Bearer <key>"
	}
	return k, e
}
