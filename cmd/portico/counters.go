package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/counter"
	"github.com/portico-gw/portico/internal/policy"
)

// newCounters returns the rate-limit and quota counters of a gateway: shared
// through Redis with --redis, otherwise local to this process, which it says
// at start because several replicas then each enforce limits alone.
func newCounters(ctx context.Context, o *options, log *slog.Logger, reg prometheus.Registerer) (policy.Counters, func(), error) {
	if o.redis == "" {
		log.Warn("rate-limit and quota counters are local to this gateway process (no --redis): with several replicas, each enforces every limit on its own")
		return policy.NewMemoryCounters(), func() {}, nil
	}
	r, err := counter.NewRedis(ctx, counter.Options{URL: o.redis, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
}

// newCache returns the cache of the cache-* policies: shared through Redis
// with --redis (same options as the counters, falling back to memory while
// Redis is unreachable), otherwise nil, which lets the gateway keep its own
// in-memory cache.
func newCache(ctx context.Context, o *options, log *slog.Logger, reg prometheus.Registerer) (policy.Cache, func(), error) {
	if o.redis == "" {
		return nil, func() {}, nil
	}
	c, err := counter.NewCache(ctx, counter.CacheOptions{Options: counter.Options{URL: o.redis, Logger: log, Registerer: reg}})
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}
