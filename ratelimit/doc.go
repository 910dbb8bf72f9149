// Package ratelimit is the token-bucket rate limiting that tokenserver and
// corsproxy share (they must not import each other, so it lives in a module
// of its own). A Limit says how fast a bucket refills and how big it is; a
// Store keeps the buckets (package memory: one process; package redis: every
// replica behind a load balancer shares them); a Limiter puts a Store behind
// a time limit and an on_store_error policy, so a broken store can neither
// hang a request nor fail silently.
//
// The algorithm is GCRA (the generic cell rate algorithm), a token bucket
// that keeps one timestamp per key. The memory store runs the same arithmetic
// as the Lua script of github.com/go-redis/redis_rate, so switching stores
// changes where buckets live, not how they behave.
//
// It does not find the client's address (package clientip does) and does not
// write HTTP answers beyond the rate-limit headers (SetHeaders): each program
// answers 429 in its own problem-JSON shape.
package ratelimit
