package counter

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// failuresToFallBack is how many consecutive failed calls switch a link to
// local answers for the Retry period; a single failure only answers that
// call locally, so that a hiccup does not let a burst through.
const failuresToFallBack = 3

// role names what a link serves, for its metrics and log lines.
type role struct {
	metric string // portico_gateway_<metric>_fallback, …_<metric>_redis_errors_total
	what   string // "rate-limit and quota counters", …
}

// link is one use of Redis — the counters or the cache — with its client,
// key prefix and call timeout, and the circuit breaker both share: callers
// ask usable before a call and report ok or fail after it; after
// failuresToFallBack failures in a row the link answers locally for the
// Retry period, logs the switch and sets portico_gateway_<role>_fallback.
type link struct {
	client  *redis.Client
	owned   bool                   // Close closes client
	suffix  string                 // what the role adds to Options.Prefix ("k:" for the cache)
	prefix  atomic.Pointer[string] // Options.Prefix + suffix, see SetPrefix
	timeout time.Duration
	retry   time.Duration
	log     *slog.Logger
	role    role

	mu        sync.Mutex
	downUntil time.Time
	failures  int // consecutive failed calls
	down      atomic.Bool

	mFallback prometheus.Gauge
	mErrors   prometheus.Counter
}

// SetPrefix replaces Options.Prefix, the start of every key, for the calls
// that follow (calls under way keep the old one). Gateways set it from their
// configuration's installation id when they load it, before any request
// counts.
func (l *link) SetPrefix(p string) {
	if p == "" {
		p = DefaultPrefix
	}
	p += l.suffix
	l.prefix.Store(&p)
}

// keyPrefix is the current start of every key.
func (l *link) keyPrefix() string { return *l.prefix.Load() }

// newLink connects (or reuses o.Client), registers the link's metrics and
// checks Redis with a PING; an unreachable Redis is not an error: the link
// starts local.
func newLink(ctx context.Context, o *Options, prefix string, r role) (*link, error) {
	opts, err := redisOptions(o)
	if err != nil {
		return nil, err
	}
	l := &link{client: o.Client, suffix: prefix, timeout: o.Timeout, retry: o.Retry, log: o.Logger, role: r,
		mFallback: prometheus.NewGauge(prometheus.GaugeOpts{Name: "portico_gateway_" + r.metric + "_fallback", Help: "1 while the " + r.what + " are kept locally because Redis is unreachable."}),
		mErrors:   prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_gateway_" + r.metric + "_redis_errors_total", Help: "Failed calls to Redis for the " + r.what + "."}),
	}
	l.SetPrefix(o.Prefix)
	if l.client == nil {
		l.client, l.owned = redis.NewClient(opts), true
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{l.mFallback, l.mErrors} {
			if err := o.Registerer.Register(c); err != nil {
				l.Close()
				return nil, err
			}
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := l.client.Ping(pctx).Err(); err != nil {
		l.mu.Lock()
		l.failures = failuresToFallBack - 1 // unreachable at start: fall back at once
		l.mu.Unlock()
		l.fail(err)
	} else {
		l.log.Info("the "+r.what+" are shared through Redis", "redis", opts.Addr)
	}
	return l, nil
}

// Close closes the Redis connections the link opened (not a shared client).
func (l *link) Close() error {
	if l.owned {
		return l.client.Close()
	}
	return nil
}

// Fallback reports whether the link answers locally because Redis failed.
func (l *link) Fallback() bool { return l.down.Load() }

// call runs f, one Redis call, under ctx (the request's context) bounded
// by the link's timeout. It returns f's error, or ctx's as soon as ctx ends:
// f then finishes on its own within the timeout (its connection is not
// reused half-read) and its results must not be read. The request's
// deadline also bounds the socket reads and writes (the client has
// ContextTimeoutEnabled). A ctx that cannot end (context.WithoutCancel)
// runs f on the caller's goroutine.
func (l *link) call(ctx context.Context, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, l.timeout)
	if ctx.Done() == nil {
		defer cancel()
		return f(cctx)
	}
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- f(cctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished as ctx ended: keep the answer
			return err
		default:
			return ctx.Err()
		}
	}
}

// ended reports whether err came from the end of the request's context
// rather than from Redis: such a call is not a Redis failure and does not
// count towards the fallback.
func ended(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil
}

// usable reports whether to try Redis now: always, unless the link fell
// back and its Retry period has not passed.
func (l *link) usable(now time.Time) bool {
	if !l.down.Load() {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !now.Before(l.downUntil)
}

func (l *link) fail(err error) {
	l.mErrors.Inc()
	l.mu.Lock()
	l.failures++
	trip := l.failures >= failuresToFallBack
	if trip {
		l.downUntil = time.Now().Add(l.retry)
	}
	l.mu.Unlock()
	if trip && !l.down.Swap(true) {
		l.mFallback.Set(1)
		l.log.Error("Redis is unreachable: the "+l.role.what+" are local to this replica until it answers", "err", err)
	}
}

func (l *link) ok() {
	l.mu.Lock()
	l.failures = 0
	l.mu.Unlock()
	if l.down.Swap(false) {
		l.mFallback.Set(0)
		l.log.Info("Redis answers again: the " + l.role.what + " are shared again")
	}
}
