package counter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/portico-gw/portico/internal/policy"
)

// DefaultMaxCacheValue bounds one cached value (1 MiB) unless
// CacheOptions.MaxValueBytes says otherwise.
const DefaultMaxCacheValue = 1 << 20

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Options are those of the counters: URL, key prefix, timeouts, pool
	// size, retry period, logger and metrics registerer.
	Options
	// MaxValueBytes bounds one value; a larger one is not stored (and an
	// older value under its key is removed), as MemoryCache does.
	MaxValueBytes int
	// Local is the fallback used while Redis is unreachable (an in-memory
	// cache of 64 MiB by default).
	Local policy.Cache
}

// Cache implements policy.Cache over Redis, so that the gateway replicas
// share the entries of cache-store-value and cache-store. Each entry is one
// Redis string stored with its TTL (SET PX), so Redis expires it.
//
// While Redis is unreachable the cache falls back to Local, exactly like
// the counters: one failed call is answered locally, 3 in a row switch to
// local for the Retry period, the switch is logged and
// portico_gateway_cache_fallback is 1. Entries written locally are not
// copied to Redis when it answers again; they only serve lookups during a
// later fallback until they expire (a store or remove through Redis also
// removes the local copy of its key).
type Cache struct {
	*link
	maxValue int
	local    policy.Cache
}

var _ policy.Cache = (*Cache)(nil)

// NewCache connects to Redis, or shares o.Client (checking it with a PING,
// without failing when it does not answer: caching starts locally then).
// Close it when done.
func NewCache(ctx context.Context, o CacheOptions) (*Cache, error) {
	if o.MaxValueBytes <= 0 {
		o.MaxValueBytes = DefaultMaxCacheValue
	}
	if o.Local == nil {
		o.Local = policy.NewMemoryCache(64 << 20)
	}
	l, err := newLink(ctx, &o.Options, "k:", role{metric: "cache", what: "entries of the cache-* policies"})
	if err != nil {
		return nil, err
	}
	return &Cache{link: l, maxValue: o.MaxValueBytes, local: o.Local}, nil
}

// redisOptions fills the defaults of o and returns the client options.
func redisOptions(o *Options) (*redis.Options, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("--redis: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.PoolSize <= 0 {
		o.PoolSize = 64
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	opts.ReadTimeout, opts.WriteTimeout, opts.DialTimeout, opts.PoolTimeout = o.Timeout, o.Timeout, 2*o.Timeout, o.Timeout
	opts.PoolSize = o.PoolSize
	opts.MaxRetries = 0
	opts.ContextTimeoutEnabled = true // the request's deadline bounds socket I/O too
	return opts, nil
}

// Get implements policy.Cache. Expiry is Redis's (the entry's TTL); now
// only matters for the local fallback. When ctx ends before Redis answers
// it returns ctx's error at once.
func (c *Cache) Get(ctx context.Context, key string, now time.Time) ([]byte, bool, error) {
	if c.usable(time.Now()) {
		var b []byte
		err := c.call(ctx, func(ctx context.Context) (err error) {
			b, err = c.client.Get(ctx, c.keyPrefix()+key).Bytes()
			return err
		})
		switch {
		case err == nil:
			c.ok()
			return b, true, nil
		case errors.Is(err, redis.Nil):
			c.ok()
			return nil, false, nil
		case ended(ctx, err):
			return nil, false, ctx.Err()
		}
		c.fail(err)
	}
	return c.local.Get(ctx, key, now)
}

// Set implements policy.Cache: the value is stored with ttl (rounded up to
// a millisecond); a value over MaxValueBytes or a ttl <= 0 removes key.
// Like Get it returns ctx's error when ctx ends first.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration, now time.Time) error {
	if ttl <= 0 || len(value) > c.maxValue {
		return c.Delete(ctx, key)
	}
	if c.usable(time.Now()) {
		err := c.call(ctx, func(ctx context.Context) error {
			return c.client.Set(ctx, c.keyPrefix()+key, value, max(ttl.Round(time.Millisecond), time.Millisecond)).Err()
		})
		if err == nil {
			c.ok()
			return c.local.Delete(ctx, key)
		}
		if ended(ctx, err) {
			return ctx.Err()
		}
		c.fail(err)
	}
	return c.local.Set(ctx, key, value, ttl, now)
}

// Delete implements policy.Cache; like Get it returns ctx's error when ctx
// ends first (the local copy of key is removed already).
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.local.Delete(ctx, key); err != nil {
		return err
	}
	if !c.usable(time.Now()) {
		return nil
	}
	err := c.call(ctx, func(ctx context.Context) error {
		return c.client.Del(ctx, c.keyPrefix()+key).Err()
	})
	switch {
	case err == nil:
		c.ok()
	case ended(ctx, err):
		return ctx.Err()
	default:
		c.fail(err)
	}
	return nil
}
