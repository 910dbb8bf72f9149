package zlibexact

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
		for j := range b {
			b[j] = byte(' ' + r.IntN(95))
		}
		return "ascii", b
	case 6: // token-shaped content: a zeroed signature, a hex app ID, privileges, a user ID
		raw := bytes.Repeat([]byte{0}, 34)
		raw = append(raw, 32, 0)
		for range 32 {
			raw = append(raw, "0123456789abcdef"[r.IntN(16)])
		}
		for range 3 + r.IntN(20) {
			raw = append(raw, byte(r.UintN(256)), 0, 0, byte(r.UintN(3)))
		}
		user := r.IntN(256)
		raw = append(raw, byte(user), 0)
		for range user {
			raw = append(raw, byte(' '+r.IntN(95)))
		}
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
	var d Compressor
	for i := range rounds {
		kind, src := deflateInputs(r, i)
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(src)
		zw.Close()
		want := buf.Bytes()
		got := d.AppendZlib(nil, src)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s input of %d bytes (round %d, seed %d): Compressor differs from compress/zlib\n got %x\nwant %x\ninput %x",
				kind, len(src), i, seed, got, want, src)
		}
	}
}

// A Compressor appends to dst and is reusable: a small input after a large one, and the
// same input twice, give the same bytes.
func TestDeflaterReuseAndAppend(t *testing.T) {
	var d Compressor
	big := bytes.Repeat([]byte("0123456789abcdef"), 400)
	small := []byte("test_user test_user test_user")
	for _, src := range [][]byte{big, small, small, nil, big} {
		got := d.AppendZlib([]byte("prefix"), src)
		if want := append([]byte("prefix"), stdZlib(src)...); !bytes.Equal(got, want) {
			t.Fatalf("input of %d bytes: got %x, want %x", len(src), got, want)
		}
	}
}

// FuzzDeflate compares Compressor with compress/zlib on arbitrary input.
func FuzzDeflate(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("a"))
	f.Add([]byte("abababababababababababababababab"))
	f.Add(bytes.Repeat([]byte{0}, 600))
	f.Add([]byte("007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUl"))
	var d Compressor
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := d.AppendZlib(nil, src), stdZlib(src); !bytes.Equal(got, want) {
			t.Fatalf("Compressor differs from compress/zlib\n got %x\nwant %x", got, want)
		}
	})
}

func TestPackageMergeMatchesTheRowLayout(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 5))
	var d Compressor
	for i := range 20000 {
		n := 3 + r.IntN(numCLCodes-2)
		if i%3 == 0 {
			n = 3 + r.IntN(numLitCodes-3)
		}
		list := make([]hnode, n)
		for j := range list {
			switch i % 4 {
			case 0: // small counts with many ties
				list[j] = hnode{uint16(j), 1 + r.Int32N(4)}
			case 1: // Fibonacci-like growth: deep trees that hit the limit
				list[j] = hnode{uint16(j), int32(math.Pow(1.618, float64(j%40))) + r.Int32N(2)}
			default:
				list[j] = hnode{uint16(j), 1 + r.Int32N(1000)}
			}
		}
		slices.SortFunc(list, func(a, b hnode) int {
			if a.freq != b.freq {
				return int(a.freq - b.freq)
			}
			return int(a.sym) - int(b.sym)
		})
		limits := []int32{maxLitBits}
		if n <= numCLCodes { // the 7-bit limit only ever applies to the 19 code-length codes
			limits = append(limits, maxCLBits)
		}
		for _, maxBits := range limits {
			var got, want [maxLitBits + 1]int32
			gb := d.packageMerge(list, maxBits, &got)
			wb := packageMergeRows(list, maxBits, &want)
			if gb != wb || got != want {
				t.Fatalf("round %d, limit %d, freqs %v: got %d %v, want %d %v", i, maxBits, list, gb, got, wb, want)
			}
		}
	}
}

// packageMergeRows is the boundary package-merge laid out as compress/flate's bitCounts
// lays it out (a 16x16 array of leaf counts, a row copied per package): the oracle for
// Compressor.packageMerge, including length limits that bind, which no deflate input
// below maxDeflateInput reaches for 15-bit codes.
func packageMergeRows(list []hnode, maxBits int32, counts *[maxLitBits + 1]int32) int32 {
	n := int32(len(list))
	maxBits = min(maxBits, n-1)
	freq := func(i int32) int32 {
		if i >= n {
			return math.MaxInt32
		}
		return list[i].freq
	}
	// Level L holds chains for codes of up to L bits; level 0 is a sentinel that never
	// needs anything.
	type level struct {
		last, nextLeaf, nextPair, needed int32
	}
	var levels [maxLitBits + 2]level
	// leafCounts[L][j]: leaves to the left of the level-j ancestor of level L's last chain.
	var leafCounts [maxLitBits + 1][maxLitBits + 1]int32
	for L := int32(1); L <= maxBits; L++ {
		levels[L] = level{last: list[1].freq, nextLeaf: freq(2), nextPair: list[0].freq + list[1].freq}
		if L == 1 {
			levels[L].nextPair = math.MaxInt32
		}
		leafCounts[L][L] = 2
	}
	levels[maxBits].needed = 2*n - 4
	L := maxBits
	for {
		l := &levels[L]
		if l.nextPair == math.MaxInt32 && l.nextLeaf == math.MaxInt32 {
			l.needed = 0
			levels[L+1].nextPair = math.MaxInt32
			L++
			continue
		}
		prev := l.last
		if l.nextLeaf < l.nextPair {
			k := leafCounts[L][L] + 1
			l.last = l.nextLeaf
			leafCounts[L][L] = k
			l.nextLeaf = freq(k)
		} else {
			l.last = l.nextPair
			// Take the leaf counts of the chain below, keeping this level's own
			// (a whole-row copy is cheaper than a slice copy; entries above L are unused).
			own := leafCounts[L][L]
			leafCounts[L] = leafCounts[L-1]
			leafCounts[L][L] = own
			levels[L-1].needed = 2
		}
		if l.needed--; l.needed == 0 {
			if L == maxBits {
				break
			}
			levels[L+1].nextPair = prev + l.last
			L++
		} else {
			for levels[L-1].needed > 0 {
				L--
			}
		}
	}
	top := &leafCounts[maxBits]
	for b := int32(1); b <= maxBits; b++ {
		L := maxBits + 1 - b
		counts[b] = top[L] - top[L-1]
	}
	return maxBits
}
