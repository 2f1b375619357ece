// Package counter holds the rate-limit, quota and concurrency counters that
// several gateway replicas share through Redis, so that a limit of N calls
// admits exactly N calls across all of them: every check-and-increment is
// one atomic Lua script on the Redis server, never a local estimate synced
// later.
//
// When Redis cannot be reached the gateway keeps serving: counting falls
// back to the replica's own memory (each replica then enforces the limit
// alone), the switch is logged, and portico_gateway_counters_fallback is 1
// until Redis answers again (retried every few seconds).
//
// Cache (cache.go) shares the cache of the cache-* policies through the
// same Redis, with the same kind of local fallback.
package counter

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/portico-gw/portico/internal/policy"
)

// takeScript adds ARGV[1] to the counter KEYS[1] if that keeps it within
// ARGV[2]; the counter's window (ARGV[3] ms) starts at its first call.
// It returns {taken (0/1), count, milliseconds left in the window}.
var takeScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  count = 0
  ttl = period
end
if count + n > limit then
  return {0, count, ttl}
end
count = redis.call('INCRBY', KEYS[1], n)
if count == n then
  redis.call('PEXPIRE', KEYS[1], period)
  ttl = period
end
return {1, count, ttl}
`)

// acquireScript takes one of ARGV[1] slots of KEYS[1]; slots expire after
// ARGV[2] ms so that a crashed replica cannot hold them forever.
var acquireScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return 0
end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

var releaseScript = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then
  redis.call('DECR', KEYS[1])
end
return 1
`)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "portico:"

// Options configure Redis counters.
type Options struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS).
	URL string
	// Prefix starts every key (DefaultPrefix when empty); SetPrefix
	// changes it later.
	Prefix string
	// Timeout bounds one Redis call, waiting for a pooled connection
	// included (500 ms by default): a slow Redis costs a request at most
	// this before the local fallback answers that request.
	Timeout time.Duration
	// PoolSize is the number of Redis connections (64 by default).
	PoolSize int
	// Retry is how long to count locally after a failure before trying
	// Redis again (5 s by default).
	Retry      time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Client, when set, is used instead of connecting to URL (and is not
	// closed by Close), so that the counters and the cache share one pool.
	Client *redis.Client
}

// Redis implements policy.Counters over Redis with a local fallback.
type Redis struct {
	*link
	local  *policy.MemoryCounters
	heldMu sync.Mutex
	held   map[string]int // concurrency slots taken locally while Redis was down
}

var _ policy.Counters = (*Redis)(nil)

// NewRedis connects to Redis (checking it with a PING, without failing when
// it does not answer: counting starts locally then). Close it when done.
func NewRedis(ctx context.Context, o Options) (*Redis, error) {
	l, err := newLink(ctx, &o, "", role{metric: "counters", what: "rate-limit and quota counters"})
	if err != nil {
		return nil, err
	}
	return &Redis{link: l, local: policy.NewMemoryCounters()}, nil
}

// Client is the Redis client, for the cache to share (Options.Client).
func (r *Redis) Client() *redis.Client { return r.client }

func (r *Redis) key(k string) string {
	return r.keyPrefix() + strings.ReplaceAll(k, " ", "_")
}

// Take implements policy.Counters. When ctx ends before Redis answers it
// returns ctx's error at once, without counting locally (the script may
// still have run on the server).
func (r *Redis) Take(ctx context.Context, key string, n, limit int64, period time.Duration, now time.Time) (bool, int64, time.Time, error) {
	if r.usable(now) {
		var res []int64
		err := r.call(ctx, func(ctx context.Context) (err error) {
			res, err = takeScript.Run(ctx, r.client, []string{r.key("c:" + key)}, n, limit, max(period.Milliseconds(), 1)).Int64Slice()
			return err
		})
		if err == nil && len(res) == 3 {
			r.ok()
			return res[0] == 1, res[1], now.Add(time.Duration(res[2]) * time.Millisecond), nil
		}
		if ended(ctx, err) {
			return false, 0, time.Time{}, ctx.Err()
		}
		if err == nil {
			err = fmt.Errorf("unexpected script result %v", res)
		}
		r.fail(err)
	}
	return r.local.Take(ctx, key, n, limit, period, now)
}

// Peek implements policy.Counters; like Take it returns ctx's error when
// ctx ends first.
func (r *Redis) Peek(ctx context.Context, key string, period time.Duration, now time.Time) (int64, time.Time, error) {
	if r.usable(now) {
		var n int64
		var left time.Duration
		err := r.call(ctx, func(ctx context.Context) error {
			k := r.key("c:" + key)
			pipe := r.client.Pipeline()
			get := pipe.Get(ctx, k)
			ttl := pipe.PTTL(ctx, k)
			if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
				return err
			}
			n, _ = get.Int64()
			left = ttl.Val()
			return nil
		})
		if err == nil {
			r.ok()
			if left < 0 {
				return 0, now.Add(period), nil
			}
			return n, now.Add(left), nil
		}
		if ended(ctx, err) {
			return 0, time.Time{}, ctx.Err()
		}
		r.fail(err)
	}
	return r.local.Peek(ctx, key, period, now)
}

// slotTTL bounds how long a concurrency slot outlives its request.
const slotTTL = 10 * time.Minute

// Acquire implements policy.Counters; like Take it returns ctx's error
// when ctx ends first.
func (r *Redis) Acquire(ctx context.Context, key string, max int64) (bool, error) {
	if r.usable(time.Now()) {
		var n int64
		err := r.call(ctx, func(ctx context.Context) (err error) {
			n, err = acquireScript.Run(ctx, r.client, []string{r.key("s:" + key)}, max, slotTTL.Milliseconds()).Int64()
			return err
		})
		if err == nil {
			r.ok()
			return n == 1, nil
		}
		if ended(ctx, err) {
			return false, ctx.Err()
		}
		r.fail(err)
	}
	if ok, _ := r.local.Acquire(ctx, key, max); ok {
		r.heldMu.Lock()
		if r.held == nil {
			r.held = map[string]int{}
		}
		r.held[key]++
		r.heldMu.Unlock()
		return true, nil
	}
	return false, nil
}

// Release implements policy.Counters. It runs to its end (within the
// timeout) even when ctx has ended, so that the slot comes back.
func (r *Redis) Release(ctx context.Context, key string) {
	r.heldMu.Lock()
	local := r.held[key] > 0
	if local {
		if r.held[key]--; r.held[key] == 0 {
			delete(r.held, key)
		}
	}
	r.heldMu.Unlock()
	if local {
		r.local.Release(ctx, key)
		return
	}
	err := r.call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return releaseScript.Run(ctx, r.client, []string{r.key("s:" + key)}).Err()
	})
	if err != nil {
		r.fail(err)
	}
}
