package accesstoken

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"testing"

	ref "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/accesstoken2"
	refchat "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/chatTokenBuilder"
	refrtc "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtctokenbuilder2"
	refrtm "github.com/AgoraIO/Tools/DynamicKey/AgoraDynamicKey/go/src/rtmtokenbuilder2"

	"signaling-auth/tokenserver/internal/zlibexact"
)

// Every Benchmark<X> has a BenchmarkReference<X> that builds the same kind of token with
// the reference builder, so one `go test -bench .` run gives the ratio.

func benchMinter(b *testing.B) *Minter {
	m, err := NewMinter(vecAppID, vecCert)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return m
}

func benchMint(b *testing.B, mint func(*Minter) (Minted, error)) {
	m := benchMinter(b)
	for b.Loop() {
		if _, err := mint(m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchMintParallel(b *testing.B, mint func(*Minter) (Minted, error)) {
	m := benchMinter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := mint(m); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchRef(b *testing.B, build func() (string, error)) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := build(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRefParallel(b *testing.B, build func() (string, error)) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := build(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func signaling(m *Minter) (Minted, error) { return m.Signaling("test_user", 600) }
func refSignaling() (string, error)       { return refrtm.BuildToken(vecAppID, vecCert, "test_user", 600) }

func rtcUID(m *Minter) (Minted, error) {
	return m.RTCWithUID(vecChannel, vecUID, RolePublisher, 600, 600)
}
func refRTCUID() (string, error) {
	return refrtc.BuildTokenWithUid(vecAppID, vecCert, vecChannel, vecUID, refrtc.RolePublisher, 600, 600)
}

func rte(m *Minter) (Minted, error) {
	return m.RTE(vecChannel, vecUIDStr, RolePublisher, 600, 600, "test_user", 600)
}
func refRTE() (string, error) {
	return refrtc.BuildTokenWithRtm2(vecAppID, vecCert, vecChannel, vecUIDStr, refrtc.RolePublisher, 600, 600, 600, 600, 600, "test_user", 600)
}

// convoAI is rte's token plus the ConvoAI service; npm's builder, its only
// reference, runs in node, so BenchmarkRTE is its baseline here.
func convoAI(m *Minter) (Minted, error) {
	return m.ConvoAI(Agent{Channel: vecChannel, RTCAccount: vecUIDStr, Role: RolePublisher, Expire: 600,
		Privileges: RTCPrivilegeExpires{600, 600, 600, 600}, RTMUserID: "test_user", RTMExpire: 600})
}

func chatUser(m *Minter) (Minted, error) { return m.ChatUser("test_user", 600) }
func refChatUser() (string, error) {
	return refchat.BuildChatUserToken(vecAppID, vecCert, "test_user", 600)
}

func BenchmarkSignaling(b *testing.B)                  { benchMint(b, signaling) }
func BenchmarkReferenceSignaling(b *testing.B)         { benchRef(b, refSignaling) }
func BenchmarkSignalingParallel(b *testing.B)          { benchMintParallel(b, signaling) }
func BenchmarkReferenceSignalingParallel(b *testing.B) { benchRefParallel(b, refSignaling) }
func BenchmarkRTCWithUID(b *testing.B)                 { benchMint(b, rtcUID) }
func BenchmarkReferenceRTCWithUID(b *testing.B)        { benchRef(b, refRTCUID) }
func BenchmarkRTCWithUIDParallel(b *testing.B)         { benchMintParallel(b, rtcUID) }
func BenchmarkReferenceRTCWithUIDParallel(b *testing.B) {
	benchRefParallel(b, refRTCUID)
}
func BenchmarkRTE(b *testing.B)                    { benchMint(b, rte) }
func BenchmarkReferenceRTE(b *testing.B)           { benchRef(b, refRTE) }
func BenchmarkConvoAI(b *testing.B)                { benchMint(b, convoAI) }
func BenchmarkChatUser(b *testing.B)               { benchMint(b, chatUser) }
func BenchmarkReferenceChatUser(b *testing.B)      { benchRef(b, refChatUser) }
func BenchmarkParseVerify(b *testing.B)            { benchParse(b, parseVerify) }
func BenchmarkReferenceParse(b *testing.B)         { benchParse(b, refParse) }
func BenchmarkParseVerifyParallel(b *testing.B)    { benchParseParallel(b, parseVerify) }
func BenchmarkReferenceParseParallel(b *testing.B) { benchParseParallel(b, refParse) }

// The parse benchmarks read an RTE token (the largest kind). The reference has no
// verify, so its baseline only parses: the ratio flatters the reference.
func parseVerify(tok string) error {
	t, err := Parse(tok)
	if err != nil {
		return err
	}
	if !t.Verify(vecCert) {
		return errors.New("does not verify")
	}
	return nil
}

func refParse(tok string) error {
	if ok, err := ref.CreateAccessToken().Parse(tok); !ok || err != nil {
		return fmt.Errorf("reference parse failed: %v", err)
	}
	return nil
}

func benchParse(b *testing.B, parse func(string) error) {
	tok := rteToken(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func benchParseParallel(b *testing.B, parse func(string) error) {
	tok := rteToken(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := parse(tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func rteToken(b *testing.B) string {
	tok, err := rte(vectorMinter(b))
	if err != nil {
		b.Fatal(err)
	}
	return tok.Token
}

// BenchmarkDeflate and BenchmarkZlibWriterReset compress the same token contents with
// zlibexact and with a reused compress/zlib writer (the obvious pooling, identical bytes);
// the difference is why package zlibexact exists.
func BenchmarkDeflate(b *testing.B) {
	raws := tokenContents(b)
	var d zlibexact.Compressor
	var out []byte
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out = d.AppendZlib(out[:0], raws[i%len(raws)])
		i++
	}
}

func BenchmarkZlibWriterReset(b *testing.B) {
	raws := tokenContents(b)
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(raws[i%len(raws)])
		zw.Close()
		i++
	}
}

// tokenContents returns the inflated contents of 64 Signaling tokens (random salts).
func tokenContents(b *testing.B) [][]byte {
	m, err := NewMinter(vecAppID, vecCert)
	if err != nil {
		b.Fatal(err)
	}
	var raws [][]byte
	for range 64 {
		x, err := m.Signaling("test_user", 600)
		if err != nil {
			b.Fatal(err)
		}
		c, _ := base64.StdEncoding.DecodeString(x.Token[3:])
		zr, err := zlib.NewReader(bytes.NewReader(c))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		raws = append(raws, raw)
	}
	return raws
}
