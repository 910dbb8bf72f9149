// Package memory is the in-process ratelimit.Store: buckets in a bounded,
// expiring LRU, so that a flood of distinct keys (spoofed or rotating client
// addresses, made-up user IDs) costs a fixed amount of memory, not memory
// proportional to the attack.
//
// Keys are not stored: each is hashed (hash/maphash, with a seed chosen at
// random per Store so nobody can aim for collisions) to 64 bits, which makes
// an entry the same small size for a 7-byte IP and a 64-byte user ID. Two
// keys sharing a hash would share a bucket; among a million keys the odds of
// any such pair are about one in 40 million.
//
// It is one process's view: replicas behind a load balancer each keep their
// own buckets, which multiplies the limit by the replica count (use package
// redis then).
package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"signaling-auth/ratelimit"
)

// DefaultMaxKeys is the capacity when Options.MaxKeys is zero.
const DefaultMaxKeys = 100_000

// Options configures a Store.
type Options struct {
	// MaxKeys bounds how many buckets are kept. When full, the least
	// recently used bucket is dropped; its key starts again with a full
	// bucket (the one leniency a bound forces).
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests step it by hand.
	Now func() time.Time
}

// Store is a bounded, expiring LRU of GCRA buckets, split into shards with a
// lock each. A bucket expires once it is full again: such an entry says
// nothing a missing one would not, so it is dropped first.
type Store struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64
	now    func() time.Time
}

// shard is an LRU: a map from key hash to slot index, and the slots in a
// doubly linked list threaded through indexes (no pointers, so the garbage
// collector has nothing to scan and each entry costs 24 bytes plus its map slot).
type shard struct {
	mu    sync.Mutex
	idx   map[uint64]int32
	slots []slot
	head  int32 // most recently used, -1 when empty
	tail  int32 // least recently used, -1 when empty
	free  int32 // first free slot, -1 when none
	max   int
}

type slot struct {
	hash       uint64
	tat        int64 // GCRA theoretical arrival time, unix nanoseconds
	prev, next int32
}

// New returns an empty Store.
func New(o Options) *Store {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// Enough shards that two cores rarely meet on a lock, few enough that
	// each keeps a useful share of the capacity.
	n := 1
	for n < 64 && o.MaxKeys/(n*2) >= 1024 {
		n *= 2
	}
	s := &Store{seed: maphash.MakeSeed(), shards: make([]shard, n), mask: uint64(n - 1), now: o.Now}
	per := (o.MaxKeys + n - 1) / n
	for i := range s.shards {
		s.shards[i] = shard{idx: map[uint64]int32{}, head: -1, tail: -1, free: -1, max: per}
	}
	return s
}

// MaxKeys is the capacity: Len never exceeds it.
func (s *Store) MaxKeys() int { return s.shards[0].max * len(s.shards) }

// Len is the number of buckets kept now.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.idx)
		sh.mu.Unlock()
	}
	return n
}

// Allow implements ratelimit.Store with GCRA, the arithmetic of
// redis_rate's Lua script, in integer nanoseconds.
func (s *Store) Allow(_ context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	if l.IsZero() {
		return ratelimit.Result{Allowed: true}, nil
	}
	if err := l.Check(); err != nil {
		return ratelimit.Result{}, err
	}
	h := maphash.String(s.seed, key)
	sh := &s.shards[(h>>32)&s.mask]
	interval := int64(l.Interval())
	burstOffset := interval * int64(l.Burst)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now().UnixNano()
	sh.dropExpired(now, 2)

	i, ok := sh.idx[h]
	tat := now
	if ok && sh.slots[i].tat > now {
		tat = sh.slots[i].tat
	}
	newTat := tat + interval
	diff := now - (newTat - burstOffset)
	if diff < 0 {
		if ok {
			sh.touch(i)
		}
		return ratelimit.Result{Limit: l, RetryAfter: time.Duration(-diff), ResetAfter: time.Duration(tat - now)}, nil
	}
	if ok {
		sh.slots[i].tat = newTat
		sh.touch(i)
	} else {
		sh.insert(h, newTat, now)
	}
	return ratelimit.Result{
		Allowed:    true,
		Limit:      l,
		Remaining:  int(diff / interval),
		ResetAfter: time.Duration(newTat - now),
	}, nil
}

// dropExpired removes up to n full-again buckets from the LRU end: cheap,
// steady cleaning, so idle keys leave without a background goroutine.
func (sh *shard) dropExpired(now int64, n int) {
	for ; n > 0 && sh.tail >= 0 && sh.slots[sh.tail].tat <= now; n-- {
		sh.remove(sh.tail)
	}
}

func (sh *shard) insert(h uint64, tat, now int64) {
	if len(sh.idx) >= sh.max {
		// Full: drop the least recently used bucket, expired or not.
		sh.remove(sh.tail)
	}
	var i int32
	if sh.free >= 0 {
		i = sh.free
		sh.free = sh.slots[i].next
	} else {
		sh.slots = append(sh.slots, slot{})
		i = int32(len(sh.slots) - 1)
	}
	sh.slots[i] = slot{hash: h, tat: tat, prev: -1, next: sh.head}
	if sh.head >= 0 {
		sh.slots[sh.head].prev = i
	}
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
	sh.idx[h] = i
}

func (sh *shard) unlink(i int32) {
	s := &sh.slots[i]
	if s.prev >= 0 {
		sh.slots[s.prev].next = s.next
	} else {
		sh.head = s.next
	}
	if s.next >= 0 {
		sh.slots[s.next].prev = s.prev
	} else {
		sh.tail = s.prev
	}
}

func (sh *shard) remove(i int32) {
	sh.unlink(i)
	delete(sh.idx, sh.slots[i].hash)
	sh.slots[i] = slot{next: sh.free, prev: -1}
	sh.free = i
}

// touch moves slot i to the most recently used end.
func (sh *shard) touch(i int32) {
	if sh.head == i {
		return
	}
	sh.unlink(i)
	sh.slots[i].prev, sh.slots[i].next = -1, sh.head
	sh.slots[sh.head].prev = i
	sh.head = i
	if sh.tail < 0 {
		sh.tail = i
	}
}
