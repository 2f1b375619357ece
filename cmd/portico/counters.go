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
//
// With --redis it also returns the cache of the cache-* policies, sharing the
// counters' connection pool; otherwise the cache is nil, which lets the
// gateway keep its own in-memory cache. closeAll closes both.
func newCounters(ctx context.Context, o *options, log *slog.Logger, reg prometheus.Registerer) (counters policy.Counters, cache policy.Cache, closeAll func(), err error) {
	if o.redis == "" {
		log.Warn("rate-limit and quota counters are local to this gateway process (no --redis): with several replicas, each enforces every limit on its own")
		return policy.NewMemoryCounters(), nil, func() {}, nil
	}
	r, err := counter.NewRedis(ctx, counter.Options{URL: o.redis, Logger: log, Registerer: reg})
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := counter.NewCache(ctx, counter.CacheOptions{Options: counter.Options{URL: o.redis, Client: r.Client(), Logger: log, Registerer: reg}})
	if err != nil {
		r.Close()
		return nil, nil, nil, err
	}
	return r, c, func() { c.Close(); r.Close() }, nil
}
