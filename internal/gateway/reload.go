package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
)

// Source returns the current configuration. have is the revision of the
// snapshot being served (-1 when there is none); a Source that can tell
// cheaply that nothing changed since returns (nil, nil).
type Source func(ctx context.Context, have int64) (*snapshot.Config, error)

// DefaultReloadInterval is how often a Reloader rebuilds without being told
// to, as a safety net against lost notifications.
const DefaultReloadInterval = 30 * time.Second

// Reloader keeps a Gateway's snapshot current: it rebuilds after Notify,
// coalescing bursts into one build from the latest configuration, and every
// Interval. A build that fails (the Source errs) never replaces the snapshot
// being served; it is logged and counted in
// portico_gateway_snapshot_build_failures_total. Objects that fail to
// compile are skipped, logged and exposed in
// portico_gateway_snapshot_object_errors while the rest goes live.
type Reloader struct {
	g        *Gateway
	src      Source
	interval time.Duration
	log      *slog.Logger
	kick     chan struct{}
	mu       sync.Mutex // serialises Reload
}

// NewReloader returns a Reloader that feeds g from src, rebuilding every
// interval (DefaultReloadInterval when <= 0).
func NewReloader(g *Gateway, src Source, interval time.Duration) *Reloader {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	return &Reloader{g: g, src: src, interval: interval, log: g.log, kick: make(chan struct{}, 1)}
}

// Notify tells the Reloader that revision rev was committed. It never
// blocks: notifications that arrive while a build is pending are merged
// into it. It may be called before Run.
func (r *Reloader) Notify(rev int64) {
	if s := r.g.Snapshot(); s != nil && rev <= s.Revision() {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run builds a first snapshot at once and then on every notification and
// timer tick, until ctx ends. While no snapshot could be built yet it
// retries with a backoff from 100 ms up to the interval.
func (r *Reloader) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-timer.C:
		}
		err := r.Reload(ctx)
		next := r.interval
		if err != nil && r.g.Snapshot() == nil {
			next = backoff
			backoff = min(2*backoff, r.interval)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// Reload builds and publishes a snapshot now when the configuration changed
// (or when none is served yet). It returns the Source's error, after
// counting it as a build failure. Calls are serialised, so snapshots are
// published in revision order.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := int64(-1)
	cur := r.g.Snapshot()
	if cur != nil {
		have = cur.Revision()
	}
	cfg, err := r.src(ctx, have)
	if err == nil && cfg == nil && cur == nil {
		err = errors.New("source returned no configuration")
	}
	if err != nil {
		if ctx.Err() != nil {
			return err // shutting down: not a build failure
		}
		r.g.metrics.buildFailures.Inc()
		r.log.Error("snapshot build failed; keeping the previous snapshot", "revision", have, "err", err)
		return err
	}
	if cfg == nil {
		return nil // unchanged
	}
	if cur != nil && cfg.Revision < cur.Revision() {
		return nil // older than what is served; never go back
	}
	start := time.Now()
	s, errs := snapshot.CompileWith(cfg, snapshot.CompileOptions{Keys: r.g.keys})
	if s == nil {
		r.g.metrics.buildFailures.Inc()
		err := fmt.Errorf("compile snapshot: %w", errors.Join(objectErrs(errs)...))
		r.log.Error("snapshot build failed; keeping the previous snapshot", "revision", cfg.Revision, "err", err)
		return err
	}
	for _, e := range errs {
		r.log.Warn("configuration object skipped", "kind", e.Kind, "id", e.ID, "revision", cfg.Revision, "err", e.Err)
	}
	r.g.Publish(s)
	r.log.Info("snapshot published", "revision", cfg.Revision, "apis", len(cfg.APIs), "skipped", len(errs), "took", time.Since(start))
	return nil
}

func objectErrs(errs []snapshot.ObjectError) []error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return out
}
