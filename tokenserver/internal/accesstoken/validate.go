package accesstoken

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxExpire is Agora's maximum token and privilege lifetime, in seconds (24 h).
const MaxExpire = 86400

// Length limits from Agora's documentation.
const (
	maxUserIDLen  = 64  // Signaling (RTM) and Chat user IDs
	maxChannelLen = 64  // RTC channel names
	maxAccountLen = 255 // RTC user accounts
)

// InvalidParam names one bad input and the rule it broke.
type InvalidParam struct {
	Name   string // "uid", "channel", "role", "expire", "privilegeExpire", "rtmUid", "rtmExpire", "appId", "appCertificate"
	Reason string // e.g. "must be 1-64 bytes (got 70)"
}

// InvalidParamsError lists every bad input of one call, in parameter order, so a caller
// can report them all at once (HTTP APIs map it to RFC 9457 invalidParams).
type InvalidParamsError struct {
	Params []InvalidParam
}

func (e *InvalidParamsError) Error() string {
	var b strings.Builder
	b.WriteString("accesstoken: invalid parameters: ")
	for i, p := range e.Params {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Name)
		b.WriteString(": ")
		b.WriteString(p.Reason)
	}
	return b.String()
}

// paramErrors collects InvalidParams; its zero value is ready to use.
type paramErrors struct{ params []InvalidParam }

func (p *paramErrors) check(name string, err error) {
	if err != nil {
		p.params = append(p.params, InvalidParam{Name: name, Reason: err.Error()})
	}
}

func (p *paramErrors) err() error {
	if len(p.params) == 0 {
		return nil
	}
	return &InvalidParamsError{Params: p.params}
}

// reasonError is a validation failure whose message is only the reason, so that
// callers can prefix it with their own field name.
type reasonError string

func (e reasonError) Error() string { return string(e) }

func reasonf(format string, args ...any) error { return reasonError(fmt.Sprintf(format, args...)) }

// describeByte renders an offending byte for an error message: hex always, and the
// character itself when it is printable (never used for secrets).
func describeByte(c byte) string {
	if c >= 0x20 && c <= 0x7e {
		return fmt.Sprintf("byte 0x%02x %q", c, rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ValidateAppID checks an Agora App ID: 32 hex characters.
func ValidateAppID(s string) error {
	if len(s) != 32 {
		return reasonf("must be 32 hex characters (got %d)", len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return reasonf("must be 32 hex characters (%s at offset %d is not hex)", describeByte(s[i]), i)
		}
	}
	return nil
}

// ValidateCertificate checks an Agora App Certificate: 32 hex characters. Unlike the
// other validators its message never shows any character of s, because s is a secret.
func ValidateCertificate(s string) error {
	if len(s) != 32 {
		return reasonf("must be 32 hex characters (got %d)", len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return reasonf("must be 32 hex characters (the character at offset %d is not hex)", i)
		}
	}
	return nil
}

// ValidateUserID checks a Signaling (RTM) or Chat user ID: 1-64 bytes of printable
// ASCII (0x20-0x7e). The reasons are worded for whoever typed the ID, not for a
// programmer: characters, not bytes, and the first character that is not allowed,
// counted from 1 (webdemo's page says exactly the same).
func ValidateUserID(s string) error {
	for i, r := range s {
		if r < 0x20 || r > 0x7e {
			return reasonf("may use only English letters, digits, spaces and ASCII punctuation; %s (character %d) is not allowed",
				describeChar(s[i:]), utf8.RuneCountInString(s[:i])+1)
		}
	}
	if len(s) < 1 || len(s) > maxUserIDLen {
		return reasonf("must be 1-%d characters long (got %d)", maxUserIDLen, len(s))
	}
	return nil
}

// describeChar names the first character of s for a reader: quoted when it can be shown
// ('å'), by name or code point when it is a control character, which is never echoed.
func describeChar(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError && size <= 1:
		return fmt.Sprintf("a byte that is not UTF-8 text (0x%02x)", s[0])
	case r == '\t':
		return "a tab"
	case r == '\n' || r == '\r':
		return "a line break"
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return fmt.Sprintf("the control character U+%04X", r)
	}
	return fmt.Sprintf("%q", r) // %q escapes what is not printable, e.g. '\u202e'
}

// agoraCharset is the character set Agora documents for RTC channel names and user
// accounts (89 characters: letters, digits, space and 26 punctuation marks).
const agoraCharset = "a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,"

// agoraChars[c] is true when byte c may appear in an RTC channel name or user account.
var agoraChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range " !#$%&()+-:;<=.>?@[]^_{}|~," {
		t[c] = true
	}
	return t
}()

func validateAgoraName(s string, maxLen int) error {
	if len(s) < 1 || len(s) > maxLen {
		return reasonf("must be 1-%d bytes (got %d)", maxLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !agoraChars[s[i]] {
			return reasonf("must contain only %s (%s at offset %d)", agoraCharset, describeByte(s[i]), i)
		}
	}
	return nil
}

// ValidateChannel checks an RTC channel name: 1-64 bytes of Agora's allowed characters
// (a-z, A-Z, 0-9, space and !#$%&()+-:;<=.>?@[]^_{}|~,).
func ValidateChannel(s string) error { return validateAgoraName(s, maxChannelLen) }

// ValidateAccount checks an RTC user account: 1-255 bytes of the same characters as a
// channel name.
func ValidateAccount(s string) error { return validateAgoraName(s, maxAccountLen) }

// ValidateExpire checks a lifetime in seconds from now: 1..MaxExpire.
func ValidateExpire(seconds int64) error {
	switch {
	case seconds < 1:
		return reasonf("must be at least 1 second (got %d)", seconds)
	case seconds > MaxExpire:
		return reasonf("must be at most %d seconds (24 h) (got %d)", MaxExpire, seconds)
	}
	return nil
}

func validateRole(r Role) error {
	if r != RolePublisher && r != RoleSubscriber {
		return reasonf("must be %d (publisher) or %d (subscriber) (got %d)", RolePublisher, RoleSubscriber, r)
	}
	return nil
}
