package tokens

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	refrtm "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"

	"signaling-auth/tokenserver/internal/accesstoken/npmoracle"
)

// npm agora-token 2.0.6's AccessToken2 parser and verifier is the oracle the
// doctor must never contradict with "will be accepted" (package npmoracle).

// TestMain removes the npm oracle's package after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	npmoracle.Cleanup()
	os.Exit(code)
}

// npmParse asks npm's AccessToken2 whether each token parses and verifies
// with cert.
func npmParse(t *testing.T, cert string, toks []string) []struct{ OK, Verified bool } {
	t.Helper()
	var reqs []map[string]any
	for _, tok := range toks {
		reqs = append(reqs, map[string]any{"op": "parse", "token": tok, "cert": cert})
	}
	var answers []struct{ OK, Verified bool }
	npmoracle.Call(t, reqs, &answers)
	return answers
}

// npmAgentToken builds a ConvoAI or STT token (kind convoai or stt) with npm
// agora-token's own builder, issued now: a publisher in channel with the RTC
// user account ("" for uid 0) and the RTM user ID account, every lifetime
// expire.
func npmAgentToken(t testing.TB, kind, cert, channel, account string, expire uint32) string {
	t.Helper()
	var answers []struct{ Token string }
	npmoracle.Call(t, []map[string]any{{"op": "agent", "kind": kind, "appId": testAppID, "cert": cert,
		"args": []any{channel, account, 1, expire, expire, expire, expire, expire, account, expire}}}, &answers)
	return answers[0].Token
}

// signed packs content as a token signed with cert, the AccessToken2 way,
// so a token our parser and npm's might read differently still verifies.
func signed(cert string, content []byte) string {
	h := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	issueTs, salt := binary.LittleEndian.Uint32(content[34:]), binary.LittleEndian.Uint32(content[42:])
	key := h(binary.LittleEndian.AppendUint32(nil, salt), h(binary.LittleEndian.AppendUint32(nil, issueTs), []byte(cert)))
	raw := append(binary.LittleEndian.AppendUint16(nil, 32), h(key, content)...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(append(raw, content...))
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

// contentOf unpacks a token's signed content.
func contentOf(t *testing.T, tok string) []byte {
	raw, err := base64.StdEncoding.DecodeString(tok[3:])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	sigLen := int(binary.LittleEndian.Uint16(b.Bytes()))
	return b.Bytes()[2+sigLen:]
}

// The doctor never says "will be accepted" for a token npm agora-token's
// AccessToken2 refuses to parse or verify: reference tokens, tokens with one
// bit flipped anywhere, cut short, with trailing bytes, with an unknown or
// repeated service, all correctly signed where it matters.
func TestTheDoctorNeverAcceptsWhatAgorasParserRefuses(t *testing.T) {
	certs := testCertificates(t, false)
	now := time.Now()
	rtc, _ := refrtc.BuildTokenWithUid(testAppID, primaryCert, "room", 42, refrtc.RolePublisher, 3600, 3600)
	rtm, _ := refrtm.BuildToken(testAppID, primaryCert, "alice", 3600)
	type probe struct {
		tok string
		in  Intent
	}
	chat, _ := refchat.BuildChatUserToken(testAppID, primaryCert, "alice", 3600)
	convoai := npmAgentToken(t, "convoai", primaryCert, "room", "42", 3600)
	rtcIn := Intent{Channel: "room", UID: "42", At: now}
	rtmIn := Intent{Service: ServiceSignaling, UserAccount: "alice", At: now}
	chatIn := Intent{Service: ServiceChat, UserAccount: "alice", At: now}
	convoaiIn := Intent{Service: ServiceConvoAI, Channel: "room", UID: "42", At: now}
	references := []probe{{rtc, rtcIn}, {rtm, rtmIn}, {chat, chatIn}, {convoai, convoaiIn}}
	probes := slices.Clone(references)
	for _, p := range references {
		c := contentOf(t, p.tok)
		probes = append(probes,
			probe{signed(primaryCert, append(append([]byte{}, c...), 0, 1, 2)), p.in},     // trailing bytes
			probe{signed(primaryCert, c[:len(c)-1]), p.in},                                // cut short
			probe{signed(primaryCert, append(append([]byte{}, c...), c[48:]...)), p.in},   // services repeated, count unchanged
			probe{signed(primaryCert, append(append([]byte{}, c...), 11, 0, 0, 0)), p.in}, // an unknown service after the count
			probe{signed(strings.Repeat("0", 32), c), p.in},                               // another certificate
			probe{strings.TrimRight(p.tok, "="), p.in},                                    // no base64 padding
			probe{p.tok[:len(p.tok)-4], p.in},                                             // the string cut short
		)
		// The service count raised by one with an unknown service appended.
		unknown := append(append([]byte{}, c...), 11, 0)
		unknown[46]++
		probes = append(probes, probe{signed(primaryCert, unknown), p.in})
		for i := range c {
			for _, bit := range []byte{1, 0x80} {
				m := append([]byte{}, c...)
				m[i] ^= bit
				probes = append(probes, probe{signed(primaryCert, m), p.in})
			}
		}
	}
	toks := make([]string, len(probes))
	for i, p := range probes {
		toks[i] = p.tok
	}
	answers := npmParse(t, primaryCert, toks)
	accepted := 0
	for i, p := range probes {
		d, bad := Diagnose(p.tok, p.in, certs)
		if len(bad) > 0 || d.Verdict != VerdictAccepted {
			continue
		}
		accepted++
		if !answers[i].OK || !answers[i].Verified {
			t.Errorf("probe %d: the doctor says %q, npm AccessToken2 says parsed=%v verified=%v", i, d.Verdict, answers[i].OK, answers[i].Verified)
		}
	}
	if accepted < 2 {
		t.Fatalf("only %d of %d probes accepted: the test judges nothing", accepted, len(probes))
	}
	t.Logf("%d probes, %d accepted by the doctor, all parsed and verified by npm", len(probes), accepted)
}
