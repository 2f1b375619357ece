package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/counter"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/snapshot"
)

// newCounters returns the rate-limit and quota counters of a gateway: shared
// through Redis with --redis, otherwise local to this process, which it says
// at start because several replicas then each enforce limits alone.
//
// With --redis it also returns the cache of the cache-* policies, sharing the
// counters' connection pool; otherwise the cache is nil, which lets the
// gateway keep its own in-memory cache. closeAll closes both.
func newCounters(ctx context.Context, o *options, log *slog.Logger, reg prometheus.Registerer) (counters policy.Counters, cache policy.Cache, closeAll func(), err error) {
	if o.redis == "" {
		log.Warn("rate-limit and quota counters are local to this gateway process (no --redis): with several replicas, each enforces every limit on its own")
		return policy.NewMemoryCounters(), nil, func() {}, nil
	}
	r, err := counter.NewRedis(ctx, counter.Options{URL: o.redis, Prefix: o.redisPrefix, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := counter.NewCache(ctx, counter.CacheOptions{Options: counter.Options{URL: o.redis, Prefix: o.redisPrefix, Client: r.Client(), Logger: log, Registerer: reg}})
	if err != nil {
		r.Close()
		return nil, nil, nil, err
	}
	return r, c, func() { c.Close(); r.Close() }, nil
}

// installationPrefix is the Redis key prefix of the gateways of the
// installation id: portico:<id>: ("portico:" for a configuration without an
// id, from an older management plane).
func installationPrefix(id string) string {
	if id == "" {
		return counter.DefaultPrefix
	}
	return counter.DefaultPrefix + id + ":"
}

// redisPrefixer sets the Redis key prefix of a gateway's counters and cache
// from the installation id of each configuration the gateway loads, so
// that every gateway of one installation (serve's built-in gateway and the
// self-hosted ones, which get the id in their configuration) shares
// counters and cache entries on a Redis, and another installation on the
// same Redis does not. With --redis-prefix, or without --redis, it does
// nothing.
type redisPrefixer struct {
	log     *slog.Logger
	targets []interface{ SetPrefix(string) }

	mu  sync.Mutex
	cur string
	set bool
}

// newRedisPrefixer returns the prefixer of counters and cache (as
// newCounters returned them).
func newRedisPrefixer(o *options, log *slog.Logger, counters policy.Counters, cache policy.Cache) *redisPrefixer {
	p := &redisPrefixer{log: log}
	if o.redis == "" || o.redisPrefix != "" {
		return p
	}
	for _, x := range []any{counters, cache} {
		if t, ok := x.(interface{ SetPrefix(string) }); ok {
			p.targets = append(p.targets, t)
		}
	}
	return p
}

// config sets the prefix of cfg's installation id before the gateway loads
// cfg (nil: nothing to load). It is the hook of the snapshot sources.
func (p *redisPrefixer) config(cfg *snapshot.Config) {
	if cfg == nil || len(p.targets) == 0 {
		return
	}
	prefix := installationPrefix(cfg.InstallationID)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.set && p.cur == prefix {
		return
	}
	for _, t := range p.targets {
		t.SetPrefix(prefix)
	}
	p.cur, p.set = prefix, true
	p.log.Info("Redis keys of the rate-limit counters and the cache start with the installation's prefix", "prefix", prefix)
}

// source wraps a snapshot source so that each configuration it returns
// sets the prefix first.
func (p *redisPrefixer) source(src func(context.Context, int64) (*snapshot.Config, error)) func(context.Context, int64) (*snapshot.Config, error) {
	return func(ctx context.Context, have int64) (*snapshot.Config, error) {
		cfg, err := src(ctx, have)
		if err == nil {
			p.config(cfg)
		}
		return cfg, err
	}
}
