package accesstoken

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken/npmoracle"
)

// TestParseReportsUnknownServiceTypes: a service of a type this package does not know
// ends the reading instead of refusing the token, keeps the bytes from there on, and
// the signature still verifies over them. npm agora-token 2.0.6's AccessToken2 parser,
// which stops the same way, reads and verifies the same tokens.
func TestParseReportsUnknownServiceTypes(t *testing.T) {
	tests := []struct {
		name      string
		content   func(t testing.TB) []byte
		want      []Service
		wantCount int
	}{
		{"a type after the known ones ends the reading and keeps the rest unread", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(3),
				"02 00 01 00 01 00 58 02 00 00 03 00 62 6f 62", // RTM, login 600 s, user "bob"
				"0b 00",                      // service type 11
				"01 00 01 00 58 02 00 00 ff", // whatever type 11 holds
				"01 00 00 00")                // a third service, never read
		}, []Service{
			{Type: ServiceRTM, Privileges: []PrivilegeExpire{{PrivLogin, 600}}, UserID: "bob"},
			{Type: 11, Unread: hexBytes(t, "01 00 01 00 58 02 00 00 ff 01 00 00 00")},
		}, 3},
		{"type 0 is unknown too", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(1), "00 00", "ff ff ff")
		}, []Service{{Type: 0, Unread: []byte{0xff, 0xff, 0xff}}}, 1},
		{"an unknown type with nothing after it", func(t testing.TB) []byte {
			return hexBytes(t, vecHeader(1), "ff ff")
		}, []Service{{Type: 0xffff, Unread: []byte{}}}, 1},
	}
	var requests []map[string]any
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := handRaw(tt.content(t))
			tok, err := Parse(tokenOf(raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !servicesEqual(tok.Services, tt.want) || tok.ServiceCount != tt.wantCount {
				t.Errorf("services %+v (count %d)\nwant %+v (count %d)", tok.Services, tok.ServiceCount, tt.want, tt.wantCount)
			}
			last := tok.Services[len(tok.Services)-1]
			if last.Type.Known() || last.Type.String() != "unknown service type "+strconv.Itoa(int(last.Type)) {
				t.Errorf("the last service is %v, known %v", last.Type, last.Type.Known())
			}
			if !tok.Verify(vecCert) {
				t.Error("the signature over the unread bytes does not verify")
			}
			for i := len(raw) - len(last.Unread); i < len(raw); i++ {
				changed := slices.Clone(raw)
				changed[i] ^= 1
				if tok, err := Parse(tokenOf(changed)); err == nil && tok.Verify(vecCert) {
					t.Fatalf("unread byte %d changed and the token still verifies", i)
				}
			}
		})
		requests = append(requests, map[string]any{"op": "parse", "token": tokenOf(handRaw(tt.content(t))), "cert": vecCert})
	}
	var npm []struct {
		OK, Verified bool
		Types        []ServiceType
	}
	npmoracle.Call(t, requests, &npm)
	for i, tt := range tests {
		var known []ServiceType
		for _, s := range tt.want {
			if s.Type.Known() {
				known = append(known, s.Type)
			}
		}
		if !npm[i].OK || !npm[i].Verified || !slices.Equal(npm[i].Types, known) && len(known) > 0 {
			t.Errorf("%s: npm reads %+v, want ok, verified, types %v", tt.name, npm[i], known)
		}
	}
}

// TestParseCapsServicesAndPrivileges: MaxServices services and MaxPrivileges
// privileges are the last counts accepted and one more is refused, with a message
// that says so; the 195-byte token of 10,000 RTM services is refused before any is
// read.
func TestParseCapsServicesAndPrivileges(t *testing.T) {
	services := func(n int) string {
		content := hexBytes(t, vecHeader(0))
		content[len(content)-2], content[len(content)-1] = byte(n), byte(n>>8)
		for range n {
			content = append(content, 2, 0, 0, 0, 0, 0) // RTM, no privileges, user ""
		}
		return tokenOf(handRaw(content))
	}
	privileges := func(n int) string {
		content := append(hexBytes(t, vecHeader(1)), 1, 0, byte(n), 0) // RTC, n privileges
		for i := range n {
			content = append(content, byte(i+1), 0, 0x58, 2, 0, 0)
		}
		return tokenOf(handRaw(append(content, 0, 0, 0, 0))) // channel "", uid ""
	}
	tests := []struct {
		name   string
		token  string
		refuse string // "" to accept
	}{
		{"MaxServices services are accepted", services(MaxServices), ""},
		{"one service more than MaxServices is refused", services(MaxServices + 1), "17 services, more than the 16 a token may hold (Agora's builders write at most 3)"},
		{"10,000 empty RTM services are refused before any is read", services(10000), "10000 services, more than the 16"},
		{"MaxPrivileges privileges in a service are accepted", privileges(MaxPrivileges), ""},
		{"one privilege more than MaxPrivileges is refused", privileges(MaxPrivileges + 1), "17 privileges in service rtc, more than the 16 a service may hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.token)
			if tt.refuse == "" {
				if err != nil || !tok.Verify(vecCert) {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.refuse) {
				t.Fatalf("Parse error %v, want one saying %q", err, tt.refuse)
			}
		})
	}
	if n := len(services(10000)); n > 400 {
		t.Errorf("the 10,000-service token is %d characters; the test meant a small one", n)
	}
}
