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
