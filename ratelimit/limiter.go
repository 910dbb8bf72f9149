package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Result is a store's verdict on one request.
type Result struct {
	Allowed bool
	Limit   Limit
	// Remaining is how many more requests the bucket would allow right now.
	Remaining int
	// RetryAfter is, when !Allowed, how long until one request is allowed again.
	RetryAfter time.Duration
	// ResetAfter is how long until the bucket is full again.
	ResetAfter time.Duration
}

// Store keeps buckets. Allow takes one token from key's bucket under l.
// Implementations must be safe for concurrent use and must respect ctx.
type Store interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// Policy says what a Limiter does when its store fails.
type Policy int

const (
	// OnErrorAllow lets requests through unlimited while the store is down:
	// limits protect against abuse, and an outage of the store should not
	// become an outage of the service.
	OnErrorAllow Policy = iota
	// OnErrorDeny refuses every request while the store is down: for
	// deployments where an unlimited minute is worse than a refused one.
	OnErrorDeny
)

// ParsePolicy reads "allow" or "deny".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "allow":
		return OnErrorAllow, nil
	case "deny":
		return OnErrorDeny, nil
	}
	return 0, errors.New(`must be allow or deny`)
}

func (p Policy) String() string {
	if p == OnErrorDeny {
		return "deny"
	}
	return "allow"
}

// Options configures a Limiter.
type Options struct {
	Store        Store
	OnStoreError Policy
	// Timeout bounds one store call; the request goes on (per OnStoreError)
	// when it passes. Zero means DefaultTimeout.
	Timeout time.Duration
	// Name goes into log records ("tokenserver", "corsproxy").
	Name   string
	Logger *slog.Logger
}

// DefaultTimeout is the store time limit when Options.Timeout is zero: far
// above a healthy Redis round trip, far below what a client would notice.
const DefaultTimeout = 250 * time.Millisecond

// Once a store call fails, the Limiter does not call the store again for
// storeBackoff: a dead or black-holed store then costs one timeout per
// second, not one per request. Errors are logged at most every logEvery.
const (
	storeBackoff = time.Second
	logEvery     = 10 * time.Second
)

// ErrStoreDown is the error of decisions taken without asking the store,
// during the back-off after a failure.
var ErrStoreDown = errors.New("rate limit store is failing; not asked again for a second")

// Decision is a Limiter's verdict: the store's Result, or when StoreErr is
// set, the OnStoreError policy's (Allowed true for allow; for deny false
// with a RetryAfter of one second).
type Decision struct {
	Result
	StoreErr error
}

// Limiter asks a Store about each request, within a time limit, and applies
// the on_store_error policy when the store fails. It is safe for concurrent use.
type Limiter struct {
	store   Store
	policy  Policy
	timeout time.Duration
	name    string
	log     *slog.Logger

	downUntil atomic.Int64 // unix nanos; store calls skipped before it
	down      atomic.Bool  // a failure was logged and no success since

	mu         sync.Mutex // guards the log throttle
	lastLog    time.Time
	suppressed int
}

// New returns a Limiter over o.Store.
func New(o Options) *Limiter {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Limiter{store: o.Store, policy: o.OnStoreError, timeout: o.Timeout, name: o.Name, log: o.Logger}
}

// Policy is the on_store_error policy the Limiter applies.
func (l *Limiter) Policy() Policy { return l.policy }

// Allow takes one token from key's bucket. A zero lim always allows.
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) Decision {
	if lim.IsZero() {
		return Decision{Result: Result{Allowed: true}}
	}
	now := time.Now()
	if now.UnixNano() < l.downUntil.Load() {
		return l.fallback(lim, ErrStoreDown)
	}
	callCtx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	res, err := l.call(callCtx, key, lim)
	if err != nil {
		if ctx.Err() != nil {
			// The client went away; that says nothing about the store.
			return l.fallback(lim, ctx.Err())
		}
		var ne net.Error
		if callCtx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			err = fmt.Errorf("no answer within %s: %w", l.timeout, err)
		}
		l.downUntil.Store(time.Now().Add(storeBackoff).UnixNano())
		l.logFailure(err)
		return l.fallback(lim, err)
	}
	if l.down.Load() && l.down.CompareAndSwap(true, false) {
		l.log.Info("rate limit store recovered", "service", l.name)
	}
	return Decision{Result: res}
}

// call is the store call, with a panic (a store's bug, or a reply it did not
// expect) turned into an error: a limiter must not take the request down.
func (l *Limiter) call(ctx context.Context, key string, lim Limit) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store panicked: %v", r)
		}
	}()
	return l.store.Allow(ctx, key, lim)
}

func (l *Limiter) fallback(lim Limit, err error) Decision {
	d := Decision{Result: Result{Limit: lim}, StoreErr: err}
	if l.policy == OnErrorAllow {
		d.Allowed = true
	} else {
		d.RetryAfter = time.Second
	}
	return d
}

// logFailure logs the first failure at once and later ones at most every
// logEvery, with how many were not logged, so an outage is visible without
// one record per request.
func (l *Limiter) logFailure(err error) {
	l.down.Store(true)
	l.mu.Lock()
	now := time.Now()
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < logEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.lastLog, l.suppressed = now, 0
	l.mu.Unlock()
	action := "allowing requests unlimited"
	if l.policy == OnErrorDeny {
		action = "refusing requests"
	}
	l.log.Error("rate limit store failed; "+action+" until it answers again",
		"service", l.name, "on_store_error", l.policy.String(), "err", err.Error(), "failures_not_logged", n)
}
