package load

import (
	"math/bits"
	"time"
)

// Latencies are counted in buckets 1/64 of a power of two wide, so every
// quantile is within about 1.6 % of the true value whatever the scale, and a
// histogram is a fixed 30 KB however many requests it has seen: a five-minute
// soak costs no more memory than a ten-second run.
const (
	subBits  = 6
	subCount = 1 << subBits
	nBuckets = subCount + (63-subBits)*subCount + subCount
)

// Histogram counts durations. The zero value is ready to use; it is not safe
// for concurrent use (each client keeps its own and they are merged).
type Histogram struct {
	counts [nBuckets]uint64
	n      uint64
	max    time.Duration
}

// bucket maps a duration in nanoseconds to its bucket: values below 64 have
// a bucket each, larger ones keep their top 7 significant bits.
func bucket(ns int64) int {
	if ns < subCount {
		if ns < 0 {
			return 0
		}
		return int(ns)
	}
	e := bits.Len64(uint64(ns)) - (subBits + 1)
	return subCount + e*subCount + int(ns>>e) - subCount
}

// bucketMid is the middle of bucket i, the value a quantile in it reports.
func bucketMid(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := (i - subCount) / subCount
	m := int64(i-subCount-e*subCount) + subCount
	lo := m << e
	return lo + (int64(1)<<e)/2
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucket(int64(d))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the duration below which a fraction q (0..1) of the
// recorded durations lie, 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	if rank > h.n {
		rank = h.n
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			d := time.Duration(bucketMid(i))
			if d > h.max {
				d = h.max
			}
			return d
		}
	}
	return h.max
}
