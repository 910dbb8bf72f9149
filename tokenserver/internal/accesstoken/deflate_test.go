package accesstoken

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func stdZlib(src []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(src)
	zw.Close()
	return b.Bytes()
}

// deflateInputs returns inputs that exercise every path of compress/flate's level 6:
// no matches, short and long matches, 4-byte matches near and beyond 4096 bytes, runs
// longer than 258, long hash chains, stored/fixed/dynamic blocks, code-length codes
// that hit the 7-bit limit, and the maxDeflateInput fallback.
func deflateInputs(r *rand.Rand, i int) (string, []byte) {
	n := r.IntN(1200)
	if i%50 == 0 {
		n = r.IntN(maxDeflateInput + 2000)
	}
	b := make([]byte, n)
	switch i % 9 {
	case 0: // random bytes: stored or fixed blocks
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		return "random", b
	case 1: // small alphabets: many repeats, dynamic blocks
		k := 1 + r.IntN(6)
		for j := range b {
			b[j] = "abcdef"[r.IntN(k)]
		}
		return fmt.Sprintf("alphabet of %d", k), b
	case 2: // one byte repeated: runs longer than 258, long chains
		c := byte(r.UintN(256))
		for j := range b {
			b[j] = c
		}
		return "run", b
	case 3: // skewed text: Fibonacci-like frequencies push code lengths to their limits
		for j := range b {
			x := r.Float64()
			k := 0
			for x < 0.6 && k < 25 {
				x /= 0.6
				k++
			}
			b[j] = byte('A' + k)
		}
		return "skewed", b
	case 4: // repeated random blocks at chosen distances (4-byte matches near/far)
		block := make([]byte, 4+r.IntN(12))
		for j := range block {
			block[j] = byte(r.UintN(256))
		}
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		step := 1 + r.IntN(5000)
		for at := 0; at+len(block) <= len(b); at += step + len(block) {
			copy(b[at:], block[:4+r.IntN(len(block)-3)])
		}
		return "blocks", b
	case 5: // printable ASCII like user IDs
		return "ascii", []byte(randString(r, printableASCII, n))
	case 6: // token-shaped content
		raw := bytes.Repeat([]byte{0}, 34)
		raw = appendString(raw, randString(r, hexDigits, 32))
		for range 3 + r.IntN(20) {
			raw = append(raw, byte(r.UintN(256)), 0, 0, byte(r.UintN(3)))
		}
		raw = appendString(raw, randString(r, agoraNameChars, r.IntN(256)))
		return "token-like", raw
	case 7: // few distinct bytes in a row, short inputs (0-2 symbols, tiny trees)
		return "tiny", b[:min(n, r.IntN(8))]
	default: // text with repeated words
		words := []string{"agora", "token", "signal", " ", "rtm", "007", "\n", "user_", "channel"}
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(words[r.IntN(len(words))])
		}
		return "words", []byte(sb.String())
	}
}

func TestDeflateMatchesCompressZlib(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 4))
	rounds := 6000
	if testing.Short() || raceEnabled {
		rounds = 2000
	}
	// A reused writer gives the bytes of a fresh one (TestDeflaterReuseAndAppend uses
	// fresh ones) and keeps this test fast.
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	var d deflater
	for i := range rounds {
		kind, src := deflateInputs(r, i)
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(src)
		zw.Close()
		want := buf.Bytes()
		got := d.appendZlib(nil, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s input of %d bytes (round %d, seed %d): deflater differs from compress/zlib\n got %x\nwant %x\ninput %x",
				kind, len(src), i, seed, got, want, src)
		}
	}
}

// The deflater appends to dst and is reusable: a small input after a large one, and the
// same input twice, give the same bytes.
func TestDeflaterReuseAndAppend(t *testing.T) {
	var d deflater
	big := bytes.Repeat([]byte("0123456789abcdef"), 400)
	small := []byte("test_user test_user test_user")
	for _, src := range [][]byte{big, small, small, nil, big} {
		got := d.appendZlib([]byte("prefix"), src)
		if want := append([]byte("prefix"), stdZlib(src)...); !bytes.Equal(got, want) {
			t.Fatalf("input of %d bytes: got %x, want %x", len(src), got, want)
		}
	}
}

// FuzzDeflate compares deflater with compress/zlib on arbitrary input.
func FuzzDeflate(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("a"))
	f.Add([]byte("abababababababababababababababab"))
	f.Add(bytes.Repeat([]byte{0}, 600))
	f.Add([]byte("007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUl"))
	var d deflater
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := d.appendZlib(nil, src), stdZlib(src); !bytes.Equal(got, want) {
			t.Fatalf("deflater differs from compress/zlib\n got %x\nwant %x", got, want)
		}
	})
}
