// Package redis is the shared ratelimit.Store: buckets in Redis, through
// github.com/go-redis/redis_rate (GCRA in one Lua script, so the
// read-modify-write is atomic) over github.com/redis/go-redis/v9. Every
// replica that points at the same Redis shares the same buckets, so N
// replicas behind a load balancer still allow the configured rate, not N
// times it.
//
// Every call is bounded: connection, read and write timeouts are set to the
// configured timeout, retries are off, and the caller's context deadline is
// honoured. It does not decide what happens when Redis is down; the
// ratelimit.Limiter around it does (on_store_error).
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"signaling-auth/ratelimit"
)

// Options configures a Store.
type Options struct {
	// URL is redis://[user:password@]host:port[/db], rediss:// for TLS, or
	// unix:///path/to/socket.
	URL string
	// Timeout bounds connecting and each command; zero means ratelimit.DefaultTimeout.
	Timeout time.Duration
	// Prefix starts every key, so programs sharing one Redis keep separate
	// buckets ("tokenserver:", "corsproxy:").
	Prefix string
}

// Store is a ratelimit.Store in Redis. It is safe for concurrent use.
type Store struct {
	client  *goredis.Client
	limiter *redis_rate.Limiter
	prefix  string
}

// CheckURL reports what is wrong with a Redis URL without echoing it (it may
// hold a password).
func CheckURL(s string) error {
	const want = "must be redis://[user:password@]host:port[/db], rediss://… or unix:///path"
	u, err := url.Parse(s)
	if err != nil {
		return errors.New(want)
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return errors.New(want + " (no host)")
		}
	case "unix":
		if u.Path == "" {
			return errors.New(want + " (no socket path)")
		}
	default:
		return errors.New(want)
	}
	if _, err := goredis.ParseURL(s); err != nil {
		// go-redis's reasons name a field (database number, an option), not the password.
		return fmt.Errorf("%s (%s)", want, strings.TrimPrefix(err.Error(), "redis: "))
	}
	return nil
}

// Redact returns s with any password replaced, for logs and errors.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparseable Redis URL]"
	}
	return u.Redacted()
}

// New connects lazily: it checks the URL and returns a Store; the first
// Allow (or Ping) opens the connection.
func New(o Options) (*Store, error) {
	if err := CheckURL(o.URL); err != nil {
		return nil, err
	}
	opt, err := goredis.ParseURL(o.URL)
	if err != nil {
		return nil, err
	}
	t := o.Timeout
	if t <= 0 {
		t = ratelimit.DefaultTimeout
	}
	opt.DialTimeout = t
	opt.ReadTimeout = t
	opt.WriteTimeout = t
	opt.PoolTimeout = t
	opt.ContextTimeoutEnabled = true
	// A retry would double the wait on a dead server; the Limiter decides.
	opt.MaxRetries = -1
	// No CLIENT SETINFO or maintenance-notification handshake: fewer round
	// trips on connect, and nothing for an older or managed Redis to refuse.
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// One dial attempt: the Limiter's back-off is the retry.
	opt.DialerRetries = 1
	quietLibrary.Do(func() { goredis.SetLogger(discard{}) })
	c := goredis.NewClient(opt)
	return &Store{client: c, limiter: redis_rate.NewLimiter(c), prefix: o.Prefix}, nil
}

// go-redis prints its own unstructured lines to stderr (one per failed
// dial) through a process-wide logger. The Limiter already reports store
// failures, structured and throttled, so the library's lines are dropped.
var quietLibrary sync.Once

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// Allow implements ratelimit.Store.
func (s *Store) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	if l.IsZero() {
		return ratelimit.Result{Allowed: true}, nil
	}
	if err := l.Check(); err != nil {
		return ratelimit.Result{}, err
	}
	r, err := s.limiter.Allow(ctx, s.prefix+key, redis_rate.Limit{Rate: l.Rate, Burst: l.Burst, Period: l.Period})
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis: %w", err)
	}
	res := ratelimit.Result{Allowed: r.Allowed > 0, Limit: l, Remaining: r.Remaining, ResetAfter: max(r.ResetAfter, 0)}
	if !res.Allowed {
		res.RetryAfter = max(r.RetryAfter, 0)
	}
	return res, nil
}

// Ping checks that Redis answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error { return s.client.Ping(ctx).Err() }

// Close closes the connections.
func (s *Store) Close() error { return s.client.Close() }
