// Package zlibexact writes the zlib stream that compress/zlib.NewWriter (default level)
// writes for one Write and Close, byte for byte, at a fraction of its cost for small inputs.
//
// Why a deflate encoder of our own: AccessToken2 tokens must be byte-identical to Agora's
// reference builder, which compresses with compress/zlib at the default level. Reusing a
// zlib.Writer through Reset gives identical bytes but still costs ~25 µs per token, because
// Reset clears the compressor's 640 KB of hash tables and rebuilds three Huffman codes the
// slow way; that alone misses the token server's 10x speed bar over the reference.
// [Compressor] makes exactly the decisions compress/flate makes at level 6 for a single
// small input (the same LZ77 hash chains and lazy matching, the same length-limited Huffman
// lengths, the same choice between stored, fixed and dynamic blocks), with state sized to
// the input. BenchmarkDeflate and BenchmarkZlibWriterReset in accesstoken measure the
// difference on real token contents; TestDeflateMatchesCompressZlib and FuzzDeflate here
// compare it with compress/zlib byte for byte. Inputs above maxDeflateInput go to
// compress/zlib itself.
package zlibexact

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
	"math"
	"math/bits"
	"slices"
)

// maxDeflateInput bounds the inputs a Compressor handles itself. Below it, compress/flate
// never slides its window, never splits a block (16384 tokens) and every distance is
// below the 32 KiB window, so those cases need no code here. Tokens are under 1 KiB.
const maxDeflateInput = 8 << 10

// Constants of compress/flate's level 6 and of RFC 1951.
const (
	minMatch      = 4   // compress/flate never emits shorter matches
	maxMatch      = 258 // RFC 1951
	lazyLimit     = 16  // level 6: stop looking for a better match after one this long
	niceMatch     = 128 // level 6: a match this long ends the chain walk
	chainLimit    = 128 // level 6: chain entries examined per position
	farMatch4     = 4096
	hashShift     = 32 - 17 // compress/flate hashes 4 bytes to 17 bits
	hashMul       = 0x1e35a7bd
	endOfBlock    = 256
	numLitCodes   = 286
	numDistCodes  = 30
	numCLCodes    = 19
	maxLitBits    = 15
	maxCLBits     = 7
	tokenMatchBit = 1 << 31
)

// clOrder is the order in which code-length code lengths are sent (RFC 1951 3.2.7).
var clOrder = [numCLCodes]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// lengthCode maps match length-3 (0..255) to its length code minus 257.
var lengthCode = func() (t [256]uint8) {
	for x := range t {
		switch {
		case x < 8:
			t[x] = uint8(x)
		case x == 255:
			t[x] = 28
		default:
			n := bits.Len(uint(x)) - 1
			t[x] = uint8(4*(n-1) + (x>>(n-2))&3)
		}
	}
	return t
}()

// lengthBase[c] is the smallest length-3 of length code 257+c; lengthExtra its extra bits.
var lengthBase, lengthExtra = func() (base, extra [29]uint16) {
	for x := 255; x >= 0; x-- {
		base[lengthCode[x]] = uint16(x)
	}
	for c := range extra {
		if c >= 8 && c < 28 {
			extra[c] = uint16(c/4 - 1)
		}
	}
	return base, extra
}()

// distCode maps distance-1 to its distance code.
func distCode(x uint32) uint32 {
	if x < 4 {
		return x
	}
	n := uint32(bits.Len32(x)) - 1
	return 2*n + (x>>(n-1))&1
}

func distExtra(c uint32) uint32 {
	if c < 4 {
		return 0
	}
	return c/2 - 1
}

// distBase is the smallest distance-1 of distance code c >= 4 (codes 0-3 have no extra bits).
func distBase(c uint32) uint32 {
	return (2 + c&1) << distExtra(c)
}

// fixedLitLens and fixedDistLens are the code lengths of the fixed Huffman block.
var fixedLitLens = func() (l [288]uint8) {
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	return l
}()

var fixedLitCodes = canonicalCodes(fixedLitLens[:])

// canonicalCodes returns the RFC 1951 canonical codes for lens, bit-reversed because
// deflate sends Huffman codes most significant bit first into an LSB-first stream.
func canonicalCodes(lens []uint8) []uint16 {
	codes := make([]uint16, len(lens))
	fillCanonical(codes, lens)
	return codes
}

func fillCanonical(codes []uint16, lens []uint8) {
	var count, next [maxLitBits + 2]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	code := uint16(0)
	for b := 1; b <= maxLitBits+1; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	for i, l := range lens {
		if l != 0 {
			codes[i] = bits.Reverse16(next[l]) >> (16 - l)
			next[l]++
		}
	}
}

// hnode is a symbol and its frequency, for building Huffman codes.
type hnode struct {
	sym  uint16
	freq int32
}

// A Compressor is the reusable state of one compression at a time; its zero value is
// ready to use. It is not safe for concurrent use: give each goroutine its own (the
// token builder keeps one in each pooled scratch).
type Compressor struct {
	keys   []uint32 // open-addressing map from hash+1 (0: empty slot)...
	slots  []uint32 // ...to the chain head: position+1 (0: none)
	prev   []int32  // prev[i]: the chain's next older position+1 (0: none)
	tokens []uint32 // literal byte, or tokenMatchBit | (length-3)<<16 | (distance-1)

	litFreq  [numLitCodes]int32
	distFreq [numDistCodes]int32
	clFreq   [numCLCodes]int32
	litLens  [numLitCodes]uint8
	distLens [numDistCodes]uint8
	clLens   [numCLCodes]uint8
	litCodes [numLitCodes]uint16
	distCode [numDistCodes]uint16
	clCodes  [numCLCodes]uint16
	cl       []uint8 // the run-length coded code lengths, extra bits after 16/17/18
	numCL    int     // code-length code lengths sent

	litNodes  [numLitCodes]hnode
	distNodes [numDistCodes]hnode
	clNodes   [numCLCodes]hnode
	sorted    [numLitCodes]hnode
	byFreq    []int32
	merged    []int
	chains    []chain
	freqs     []int32

	out   []byte
	acc   uint64
	nbits uint
}

// AppendZlib appends to dst the zlib stream of src that compress/zlib.NewWriter (default
// level) writes for one Write and Close.
func (d *Compressor) AppendZlib(dst, src []byte) []byte {
	if len(src) > maxDeflateInput {
		var b bytes.Buffer
		zw := zlib.NewWriter(&b)
		zw.Write(src)
		zw.Close()
		return append(dst, b.Bytes()...)
	}
	d.out, d.acc, d.nbits = append(dst, 0x78, 0x9c), 0, 0
	d.lz77(src)
	if len(d.tokens) > 0 {
		d.writeBlock(src)
	}
	// compress/flate ends every stream with an empty final stored block.
	d.putBits(1, 3)
	d.alignByte()
	d.out = append(d.out, 0, 0, 0xff, 0xff)
	d.out = binary.BigEndian.AppendUint32(d.out, adler32.Checksum(src))
	return d.out
}

func hash4(b []byte) uint32 {
	return (binary.BigEndian.Uint32(b) * hashMul) >> hashShift
}

// resetChains sizes the position→hash-head map for n positions (load factor <= 1/2).
func (d *Compressor) resetChains(n int) {
	size := 64
	for size < 2*n {
		size <<= 1
	}
	d.keys = slices.Grow(d.keys[:0], size)[:size]
	d.slots = slices.Grow(d.slots[:0], size)[:size]
	clear(d.keys)
	d.prev = slices.Grow(d.prev[:0], n)[:n]
	d.tokens = d.tokens[:0]
}

// headSlot finds the slot of hash h: compress/flate's hashHead[h] lives in slots[i]
// when keys[i] == h+1.
func (d *Compressor) headSlot(h uint32) *uint32 {
	mask := uint32(len(d.keys) - 1)
	for i := (h * 0x9e3779b1) >> 16 & mask; ; i = (i + 1) & mask {
		switch d.keys[i] {
		case h + 1:
			return &d.slots[i]
		case 0:
			d.keys[i] = h + 1
			d.slots[i] = 0
			return &d.slots[i]
		}
	}
}

// insert adds position i to its hash chain and returns the previous head (position+1,
// or 0 for none), as compress/flate does.
func (d *Compressor) insert(src []byte, i int) int32 {
	head := d.headSlot(hash4(src[i:]))
	old := int32(*head)
	d.prev[i] = old
	*head = uint32(i + 1)
	return old
}

// lz77 turns src into literal and match tokens exactly as compress/flate's deflate loop
// does at level 6 when the whole input is processed at Close (lazy matching, a match is
// taken only if the next position does not start a longer one).
func (d *Compressor) lz77(src []byte) {
	d.resetChains(len(src))
	n := len(src)
	maxInsert := n - (minMatch - 1)
	index := 0
	length, offset := minMatch-1, 0
	pending := false // src[index-1] still needs a token
	chainHead := int32(-1)
	for {
		lookahead := n - index
		if lookahead == 0 {
			if pending {
				d.tokens = append(d.tokens, uint32(src[index-1]))
			}
			return
		}
		if index < maxInsert {
			chainHead = d.insert(src, index)
		}
		prevLength, prevOffset := length, offset
		length, offset = minMatch-1, 0
		if chainHead >= 1 && lookahead > prevLength && prevLength < lazyLimit {
			if l, o, ok := d.findMatch(src, index, int(chainHead)-1, lookahead); ok {
				length, offset = l, o
			}
		}
		if prevLength >= minMatch && length <= prevLength {
			d.tokens = append(d.tokens, tokenMatchBit|uint32(prevLength-3)<<16|uint32(prevOffset-1))
			end := index + prevLength - 1
			for index++; index < end; index++ {
				if index < maxInsert {
					d.insert(src, index)
				}
			}
			pending = false
			length = minMatch - 1
			continue
		}
		if pending {
			d.tokens = append(d.tokens, uint32(src[index-1]))
		}
		index++
		pending = true
	}
}

// findMatch walks the hash chain from candidate for a match longer than minMatch-1, as
// compress/flate's findMatch does (including its refusal of 4-byte matches further
// back than 4096 bytes).
func (d *Compressor) findMatch(src []byte, pos, candidate, lookahead int) (length, offset int, ok bool) {
	limit := min(maxMatch, lookahead)
	win := src[:pos+limit]
	nice := min(limit, niceMatch)
	length = minMatch - 1
	want := win[pos+length]
	cur := win[pos:]
	for i, tries := candidate, chainLimit; tries > 0; tries-- {
		if win[i+length] == want {
			n := matchLen(win[i:i+limit], cur[:limit])
			if n > length && (n > minMatch || pos-i <= farMatch4) {
				length, offset, ok = n, pos-i, true
				if n >= nice {
					break
				}
				want = win[pos+n]
			}
		}
		i = int(d.prev[i]) - 1
		if i < 0 {
			break
		}
	}
	return
}

func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 {
		if x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		a, b, n = a[8:], b[8:], n+8
	}
	for i := range a {
		if a[i] != b[i] {
			return n + i
		}
	}
	return n + len(a)
}

// writeBlock writes the tokens as one non-final block, choosing stored, fixed or dynamic
// Huffman by the sizes compress/flate computes, with its tie-breaks.
func (d *Compressor) writeBlock(src []byte) {
	clear(d.litFreq[:])
	clear(d.distFreq[:])
	for _, t := range d.tokens {
		if t&tokenMatchBit == 0 {
			d.litFreq[t]++
			continue
		}
		d.litFreq[257+int(lengthCode[(t>>16)&0xff])]++
		d.distFreq[distCode(t&0xffff)]++
	}
	d.litFreq[endOfBlock]++
	numLit := numLitCodes
	for d.litFreq[numLit-1] == 0 {
		numLit--
	}
	numDist := numDistCodes
	for numDist > 0 && d.distFreq[numDist-1] == 0 {
		numDist--
	}
	if numDist == 0 {
		// compress/flate counts one phantom distance so a dynamic header stays valid;
		// it also enters the fixed-block size below.
		d.distFreq[0] = 1
		numDist = 1
	}
	extra := 0
	for c := 8; c < numLit-257; c++ {
		extra += int(d.litFreq[257+c]) * int(lengthExtra[c])
	}
	for c := 4; c < numDist; c++ {
		extra += int(d.distFreq[c]) * int(distExtra(uint32(c)))
	}

	fixedSize := 3 + extra
	for i, f := range d.litFreq {
		fixedSize += int(f) * int(fixedLitLens[i])
	}
	for _, f := range d.distFreq {
		fixedSize += int(f) * 5
	}

	litList := usedSymbols(d.litFreq[:], d.litNodes[:0])
	distList := usedSymbols(d.distFreq[:], d.distNodes[:0])
	clBound := d.codeLengthsLowerBound(numLit, numDist, litList, distList)
	d.sortByFreq(litList)
	d.sortByFreq(distList)
	size, dynamic := fixedSize, false
	// The dynamic block costs at least its smallest possible header plus optimal
	// (unlimited) Huffman codes; when even that is no smaller than the fixed block,
	// compress/flate would not choose it, and building its codes can be skipped.
	if clBound+d.huffmanCost(litList)+d.huffmanCost(distList)+extra < fixedSize {
		d.assignLengths(litList, d.litLens[:], maxLitBits)
		d.assignLengths(distList, d.distLens[:], maxLitBits)
		d.codeLengthCodes(numLit, numDist)
		numCL := numCLCodes
		for numCL > 4 && d.clFreq[clOrder[numCL-1]] == 0 {
			numCL--
		}
		d.numCL = numCL
		dynSize := 3 + 5 + 5 + 4 + 3*numCL + extra +
			int(d.clFreq[16])*2 + int(d.clFreq[17])*3 + int(d.clFreq[18])*7
		for _, n := range litList {
			dynSize += int(n.freq) * int(d.litLens[n.sym])
		}
		for _, n := range distList {
			dynSize += int(n.freq) * int(d.distLens[n.sym])
		}
		// Everything but the code-length code is now exact. That code costs at least an
		// unlimited Huffman code for the same counts, so when even that does not beat
		// the fixed block, its length-limited lengths need not be computed.
		clList := d.byFrequency(d.clFreq[:], d.clNodes[:0])
		if dynSize+d.huffmanCost(clList) < size {
			d.assignLengths(clList, d.clLens[:], maxCLBits)
			for _, n := range clList {
				dynSize += int(n.freq) * int(d.clLens[n.sym])
			}
			if dynSize < size {
				size, dynamic = dynSize, true
			}
		}
	}
	if stored := (len(src) + 5) * 8; stored < size {
		d.putBits(0, 3)
		d.alignByte()
		d.out = binary.LittleEndian.AppendUint16(d.out, uint16(len(src)))
		d.out = binary.LittleEndian.AppendUint16(d.out, ^uint16(len(src)))
		d.out = append(d.out, src...)
		return
	}
	if !dynamic {
		d.putBits(2, 3)
		d.writeTokens(fixedLitCodes, fixedLitLens[:], fixedDistCodes[:], fixedDistLens[:])
		return
	}
	fillCanonical(d.litCodes[:], d.litLens[:])
	fillCanonical(d.distCode[:], d.distLens[:])
	fillCanonical(d.clCodes[:], d.clLens[:])
	d.putBits(4, 3)
	d.putBits(uint32(numLit-257), 5)
	d.putBits(uint32(numDist-1), 5)
	d.putBits(uint32(d.numCL-4), 4)
	for _, s := range clOrder[:d.numCL] {
		d.putBits(uint32(d.clLens[s]), 3)
	}
	for i := 0; i < len(d.cl); i++ {
		s := d.cl[i]
		d.putBits(uint32(d.clCodes[s]), uint(d.clLens[s]))
		switch s {
		case 16:
			i++
			d.putBits(uint32(d.cl[i]), 2)
		case 17:
			i++
			d.putBits(uint32(d.cl[i]), 3)
		case 18:
			i++
			d.putBits(uint32(d.cl[i]), 7)
		}
	}
	d.writeTokens(d.litCodes[:], d.litLens[:], d.distCode[:], d.distLens[:])
}

var fixedDistLens = [numDistCodes]uint8{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}

var fixedDistCodes = canonicalCodes(fixedDistLens[:])

func (d *Compressor) writeTokens(litCodes []uint16, litLens []uint8, distCodes []uint16, distLens []uint8) {
	for _, t := range d.tokens {
		if t&tokenMatchBit == 0 {
			d.putBits(uint32(litCodes[t]), uint(litLens[t]))
			continue
		}
		x := (t >> 16) & 0xff
		lc := lengthCode[x]
		d.putBits(uint32(litCodes[257+int(lc)]), uint(litLens[257+int(lc)]))
		if e := lengthExtra[lc]; e > 0 {
			d.putBits(x-uint32(lengthBase[lc]), uint(e))
		}
		dist := t & 0xffff
		dc := distCode(dist)
		d.putBits(uint32(distCodes[dc]), uint(distLens[dc]))
		if e := distExtra(dc); e > 0 {
			d.putBits(dist-distBase(dc), uint(e))
		}
	}
	d.putBits(uint32(litCodes[endOfBlock]), uint(litLens[endOfBlock]))
}

// codeLengthCodes run-length codes the literal/length and distance code lengths with
// symbols 0-18 into d.cl and counts them in d.clFreq, making compress/flate's choices
// (a nonzero length is sent once, then repeated with 16 in runs of up to 6; zeros use
// 18 for 11-138 and 17 for 3-10).
func (d *Compressor) codeLengthCodes(numLit, numDist int) {
	clear(d.clFreq[:])
	d.cl = d.cl[:0]
	// The two alphabets are coded as one sequence; runs may cross from one to the other.
	var all [numLitCodes + numDistCodes]uint8
	copy(all[:], d.litLens[:numLit])
	copy(all[numLit:], d.distLens[:numDist])
	lens := all[:numLit+numDist]
	for len(lens) > 0 {
		size := lens[0]
		run := 1
		for run < len(lens) && lens[run] == size {
			run++
		}
		lens = lens[run:]
		if size != 0 {
			d.cl = append(d.cl, size)
			d.clFreq[size]++
			run--
			for run >= 3 {
				n := min(run, 6)
				d.cl = append(d.cl, 16, uint8(n-3))
				d.clFreq[16]++
				run -= n
			}
		} else {
			for run >= 11 {
				n := min(run, 138)
				d.cl = append(d.cl, 18, uint8(n-11))
				d.clFreq[18]++
				run -= n
			}
			if run >= 3 {
				d.cl = append(d.cl, 17, uint8(run-3))
				d.clFreq[17]++
				run = 0
			}
		}
		for ; run > 0; run-- {
			d.cl = append(d.cl, size)
			d.clFreq[size]++
		}
	}
}

// byFrequency appends the used symbols of freq to list, ordered by (frequency, symbol)
// as compress/flate orders them before building a code.
func (d *Compressor) byFrequency(freq []int32, list []hnode) []hnode {
	list = usedSymbols(freq, list)
	d.sortByFreq(list)
	return list
}

// usedSymbols appends the used symbols of freq to list, in symbol order.
func usedSymbols(freq []int32, list []hnode) []hnode {
	for i, f := range freq {
		if f != 0 {
			list = append(list, hnode{uint16(i), f})
		}
	}
	return list
}

// assignLengths sets lens to the code lengths compress/flate assigns to the symbols of
// list (from byFrequency): with one or two symbols every length is 1; otherwise the
// per-length counts of a boundary package-merge limited to maxBits, the most frequent
// symbols getting the shortest codes.
func (d *Compressor) assignLengths(list []hnode, lens []uint8, maxBits int32) {
	clear(lens)
	if len(list) <= 2 {
		for _, n := range list {
			lens[n.sym] = 1
		}
		return
	}
	var counts [maxLitBits + 1]int32
	maxBits = d.packageMerge(list, maxBits, &counts)
	i := len(list)
	for b := int32(1); b <= maxBits; b++ {
		for range counts[b] {
			i--
			lens[list[i].sym] = uint8(b)
		}
	}
}

// huffmanCost is the size in bits of the symbols of list (from byFrequency) under an
// optimal prefix code with no length limit: the sum of the merged weights of Huffman's
// algorithm, run with two queues since list is sorted. No code, limited or not, is
// smaller.
func (d *Compressor) huffmanCost(list []hnode) int {
	switch len(list) {
	case 0:
		return 0
	case 1:
		return int(list[0].freq) // compress/flate gives a lone symbol a 1-bit code
	}
	merged := d.merged[:0]
	cost, leaf, next := 0, 0, 0
	take := func() int {
		if leaf < len(list) && (next >= len(merged) || int(list[leaf].freq) <= merged[next]) {
			leaf++
			return int(list[leaf-1].freq)
		}
		next++
		return merged[next-1]
	}
	for range len(list) - 1 {
		w := take() + take()
		cost += w
		merged = append(merged, w)
	}
	d.merged = merged
	return cost
}

// codeLengthsLowerBound is a lower bound of the size of the dynamic block's header,
// given litSyms and distSyms, the used symbols in symbol order. It counts the fixed
// part of the header and what the pattern of used and unused symbols forces on the
// code lengths: runs of unused symbols are coded exactly as codeLengthCodes will code
// them, a run of k used ones needs at least minUsedRunSymbols[k] symbols, and those
// symbols cost at least an optimal code in which all the used-length symbols are lumped
// together (merging symbols never makes a code dearer). The number of code-length code
// lengths sent is bounded by minNumCL. With optimal (unlimited) codes for the literals
// and distances added, it bounds the whole dynamic block; tokens almost always end up
// in a fixed block, so the tighter this bound, the more often the Huffman codes need
// not be built at all.
func (d *Compressor) codeLengthsLowerBound(numLit, numDist int, litSyms, distSyms []hnode) int {
	numCL := max(minNumCL(len(litSyms)), minNumCL(len(distSyms)))
	bound := 3 + 5 + 5 + 4 + 3*numCL
	var zeros, rep17, rep18, lengths int32
	zeroRun := func(run int) {
		for run >= 11 {
			rep18++
			run -= min(run, 138)
		}
		if run >= 3 {
			rep17++
			run = 0
		}
		zeros += int32(run)
	}
	// Walk the used positions of the sequence codeLengthCodes codes (literals, then
	// distances); the gaps between them are the runs of unused symbols.
	next, usedRun := 0, 0 // the position after the current run of used symbols, its length
	visit := func(p int) {
		if p == next && usedRun > 0 {
			usedRun++
			next++
			return
		}
		lengths += minUsedRunSymbols[usedRun]
		zeroRun(p - next)
		next, usedRun = p+1, 1
	}
	for _, n := range litSyms {
		visit(int(n.sym))
	}
	for _, n := range distSyms {
		visit(numLit + int(n.sym))
	}
	lengths += minUsedRunSymbols[usedRun]
	zeroRun(numLit + numDist - next)
	bound += 3*int(rep17) + 7*int(rep18)
	var w [4]hnode
	list := w[:0]
	for i, f := range [4]int32{zeros, rep17, rep18, lengths} {
		if f > 0 {
			list = append(list, hnode{uint16(i), f})
		}
	}
	slices.SortFunc(list, func(a, b hnode) int { return int(a.freq - b.freq) })
	return bound + d.huffmanCost(list)
}

// minNumCL is a lower bound of the number of code-length code lengths sent when one of
// the codes has m used symbols. With m <= 2 every length is 1 (assignLengths); with more,
// package-merge gives an optimal code, which is complete (an incomplete one could shorten
// a codeword), so its shortest length is at most floor(log2 m). Some length in
// 1..floor(log2 m) is therefore sent as a code-length symbol (codeLengthCodes always
// sends the first length of a run itself), and the header must reach its place in
// clOrder.
func minNumCL(m int) int {
	short := max(1, bits.Len(uint(m))-1)
	return minCLPlace[min(short, maxLitBits)] + 1
}

// minCLPlace[l] is the smallest index in clOrder of the lengths 1..l (at least 3, the
// place of the first length after the repeat codes, so at least 4 lengths are sent).
var minCLPlace = func() (t [maxLitBits + 1]int) {
	var place [numCLCodes]int
	for i, s := range clOrder {
		place[s] = i
	}
	t[0] = numCLCodes
	for l := 1; l <= maxLitBits; l++ {
		t[l] = min(t[l-1], place[l])
	}
	for l := range t {
		t[l] = max(t[l], 3)
	}
	return t
}()

// minUsedRunSymbols[k] is the fewest code-length symbols codeLengthCodes can emit for k
// consecutive used symbols, whatever their lengths: each run of r equal lengths costs
// runSymbols(r), and the k symbols split into such runs in some way.
var minUsedRunSymbols = func() (t [numLitCodes + numDistCodes + 1]int32) {
	for k := 1; k < len(t); k++ {
		t[k] = math.MaxInt32
		for r := 1; r <= k; r++ {
			t[k] = min(t[k], runSymbols(r)+t[k-r])
		}
	}
	return t
}()

// runSymbols is how many symbols codeLengthCodes emits for a run of r equal nonzero
// lengths: the length itself, then repeats of up to 6, then what is left singly.
func runSymbols(r int) int32 {
	n := int32(1)
	r--
	for r >= 3 {
		r -= min(r, 6)
		n++
	}
	return n + int32(r)
}

// sortByFreq sorts by frequency, then symbol. list is in symbol order, so a stable
// counting sort by frequency gives that order without comparisons.
func (d *Compressor) sortByFreq(list []hnode) {
	if len(list) <= 2 {
		return // every code length is 1, whatever the order
	}
	maxFreq := int32(0) // at most the token count, bounded by maxDeflateInput
	for _, n := range list {
		maxFreq = max(maxFreq, n.freq)
	}
	start := slices.Grow(d.byFreq[:0], int(maxFreq)+2)[:maxFreq+2]
	d.byFreq = start
	clear(start)
	for _, n := range list {
		start[n.freq+1]++
	}
	for f := 1; f < len(start); f++ {
		start[f] += start[f-1]
	}
	sorted := d.sorted[:len(list)]
	for _, n := range list {
		sorted[start[n.freq]] = n
		start[n.freq]++
	}
	copy(list, sorted)
}

// packageMerge computes how many of the n >= 3 leaves of list (ascending by frequency)
// get each code length, at most maxBits (lowered to n-1), by the boundary package-merge
// that compress/flate runs, with its tie-break (a package beats a leaf of equal weight).
// It returns the bit limit used; counts[b] is the number of leaves of length b.
//
// compress/flate keeps, per level, the leaf counts along the last chain's ancestry in a
// 16x16 array and copies a row whenever it takes a package. Here chains are immutable
// nodes in an arena that point to the chain below (the same information, shared instead
// of copied): leafCounts[L][j] of compress/flate is the count of the node reached from
// level L's last chain after L-j steps down. A level's last chain lives in the level
// itself and enters the arena only when a package above refers to it, which most never
// do; this loop is the hottest part of building a dynamic block.
func (d *Compressor) packageMerge(list []hnode, maxBits int32, counts *[maxLitBits + 1]int32) int32 {
	n := int32(len(list))
	maxBits = min(maxBits, n-1)
	// freqs[i] is leaf i's frequency, with a sentinel for "no leaf left".
	freqs := slices.Grow(d.freqs[:0], int(n)+1)[:n+1]
	for i, x := range list {
		freqs[i] = x.freq
	}
	freqs[n] = math.MaxInt32
	d.freqs = freqs
	type level struct {
		last, nextLeaf, nextPair, needed int32
		leaves, below                    int32 // this level's last chain
		stored                           int32 // its arena index, -1 until referred to
	}
	// Level L holds chains for codes of up to L bits; level 0 is a sentinel that never
	// needs anything (level 1 never takes a package).
	var levels [maxLitBits + 2]level
	arena := d.chains[:0]
	for L := int32(1); L <= maxBits; L++ {
		levels[L] = level{last: freqs[1], nextLeaf: freqs[2], nextPair: freqs[0] + freqs[1], leaves: 2, below: -1, stored: -1}
		if L == 1 {
			levels[L].nextPair = math.MaxInt32
		}
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
			l.leaves++
			l.last = l.nextLeaf
			l.nextLeaf = freqs[l.leaves]
		} else {
			l.last = l.nextPair
			lo := &levels[L-1]
			if lo.stored < 0 {
				lo.stored = int32(len(arena))
				arena = append(arena, chain{leaves: lo.leaves, below: lo.below})
			}
			l.below = lo.stored
			lo.needed = 2
		}
		l.stored = -1
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
	d.chains = arena
	// Leaves to the left of the chain at each level, walking down from the top.
	var left [maxLitBits + 1]int32
	left[maxBits] = levels[maxBits].leaves
	for c, L := levels[maxBits].below, maxBits-1; c >= 0 && L > 0; L-- {
		left[L] = arena[c].leaves
		c = arena[c].below
	}
	for b := int32(1); b <= maxBits; b++ {
		L := maxBits + 1 - b
		counts[b] = left[L] - left[L-1]
	}
	return maxBits
}

// chain is a package-merge chain: the leaves it has taken at its level, and the arena
// index of the chain below it at the time it last took a package (-1: none).
type chain struct {
	leaves, below int32
}

// putBits appends the low nb bits of v to the LSB-first bit stream.
func (d *Compressor) putBits(v uint32, nb uint) {
	d.acc |= uint64(v) << d.nbits
	d.nbits += nb
	for d.nbits >= 32 {
		d.out = binary.LittleEndian.AppendUint32(d.out, uint32(d.acc))
		d.acc >>= 32
		d.nbits -= 32
	}
}

// alignByte flushes the pending bits, zero-padded to a byte boundary.
func (d *Compressor) alignByte() {
	for d.nbits > 0 {
		d.out = append(d.out, byte(d.acc))
		d.acc >>= 8
		d.nbits -= min(d.nbits, 8)
	}
	d.acc = 0
}
