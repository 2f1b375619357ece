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

// Options configure Redis counters.
type Options struct {
	// URL is redis://[user:password@]host:port/db (rediss:// for TLS).
	URL string
	// Prefix starts every key ("portico:" by default).
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
	return r.prefix + strings.ReplaceAll(k, " ", "_")
}

// Take implements policy.Counters.
func (r *Redis) Take(key string, n, limit int64, period time.Duration, now time.Time) (bool, int64, time.Time) {
	if r.usable(now) {
		ctx, cancel := r.call()
		defer cancel()
		res, err := takeScript.Run(ctx, r.client, []string{r.key("c:" + key)}, n, limit, max(period.Milliseconds(), 1)).Int64Slice()
		if err == nil && len(res) == 3 {
			r.ok()
			return res[0] == 1, res[1], now.Add(time.Duration(res[2]) * time.Millisecond)
		}
		if err == nil {
			err = fmt.Errorf("unexpected script result %v", res)
		}
		r.fail(err)
	}
	return r.local.Take(key, n, limit, period, now)
}

// Peek implements policy.Counters.
func (r *Redis) Peek(key string, period time.Duration, now time.Time) (int64, time.Time) {
	if r.usable(now) {
		ctx, cancel := r.call()
		defer cancel()
		k := r.key("c:" + key)
		pipe := r.client.Pipeline()
		get := pipe.Get(ctx, k)
		ttl := pipe.PTTL(ctx, k)
		_, err := pipe.Exec(ctx)
		if err == nil || err == redis.Nil {
			r.ok()
			n, _ := get.Int64()
			left := ttl.Val()
			if left < 0 {
				return 0, now.Add(period)
			}
			return n, now.Add(left)
		}
		r.fail(err)
	}
	return r.local.Peek(key, period, now)
}

// slotTTL bounds how long a concurrency slot outlives its request.
const slotTTL = 10 * time.Minute

// Acquire implements policy.Counters.
func (r *Redis) Acquire(key string, max int64) bool {
	if r.usable(time.Now()) {
		ctx, cancel := r.call()
		defer cancel()
		n, err := acquireScript.Run(ctx, r.client, []string{r.key("s:" + key)}, max, slotTTL.Milliseconds()).Int64()
		if err == nil {
			r.ok()
			return n == 1
		}
		r.fail(err)
	}
	if r.local.Acquire(key, max) {
		r.heldMu.Lock()
		if r.held == nil {
			r.held = map[string]int{}
		}
		r.held[key]++
		r.heldMu.Unlock()
		return true
	}
	return false
}

// Release implements policy.Counters.
func (r *Redis) Release(key string) {
	r.heldMu.Lock()
	local := r.held[key] > 0
	if local {
		if r.held[key]--; r.held[key] == 0 {
			delete(r.held, key)
		}
	}
	r.heldMu.Unlock()
	if local {
		r.local.Release(key)
		return
	}
	ctx, cancel := r.call()
	defer cancel()
	if err := releaseScript.Run(ctx, r.client, []string{r.key("s:" + key)}).Err(); err != nil {
		r.fail(err)
	}
}
