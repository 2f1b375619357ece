package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/counter"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/testenv"
)

// TestRedisSharesCountersAndCache: --redis gives the gateway both shared
// counters and a shared cache; without it the cache is left to the
// gateway's in-memory default.
func TestRedisSharesCountersAndCache(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("without --redis", func(t *testing.T) {
		counters, c, closeAll, err := newCounters(context.Background(), &options{}, log, prometheus.NewRegistry())
		if err != nil || c != nil {
			t.Fatalf("cache = %v, %v; want nil (the gateway's memory cache)", c, err)
		}
		if _, ok := counters.(*policy.MemoryCounters); !ok {
			t.Fatalf("counters are %T, want local memory counters", counters)
		}
		closeAll()
	})
	t.Run("with --redis", func(t *testing.T) {
		url, _ := testenv.Redis(t)
		reg := prometheus.NewRegistry()
		o := &options{redis: url}
		counters, c, closeAll, err := newCounters(context.Background(), o, log, reg)
		if err != nil {
			t.Fatal(err)
		}
		defer closeAll()
		if _, ok := counters.(*counter.Redis); !ok {
			t.Fatalf("counters are %T", counters)
		}
		rc, ok := c.(*counter.Cache)
		if !ok || rc.Fallback() {
			t.Fatalf("cache is %T (fallback %v)", c, ok && rc.Fallback())
		}
		key := "cmd-test-" + time.Now().Format(time.RFC3339Nano)
		var pc policy.Cache = rc
		ctx := context.Background()
		if err := pc.Set(ctx, key, []byte("v"), time.Minute, time.Now()); err != nil {
			t.Fatal(err)
		}
		defer pc.Delete(ctx, key) //nolint:errcheck // ctx does not end
		if v, ok, err := pc.Get(ctx, key, time.Now()); !ok || err != nil || string(v) != "v" {
			t.Fatalf("get = %q %v %v", v, ok, err)
		}
	})
}
