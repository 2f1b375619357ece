package counter

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

func newTestRedis(t *testing.T, url, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(context.Background(), Options{URL: url, Prefix: prefix, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Retry: 50 * time.Millisecond, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestSharedLimitIsExact: three gateways, each with its own Redis client,
// take from one counter concurrently; exactly the limit is admitted.
func TestSharedLimitIsExact(t *testing.T) {
	url, prefix := testenv.Redis(t)
	gateways := []*Redis{newTestRedis(t, url, prefix), newTestRedis(t, url, prefix), newTestRedis(t, url, prefix)}
	tests := []struct {
		name     string
		limit    int64
		attempts int
		n        int64
	}{
		{"calls", 50, 300, 1},
		{"increment-count 3", 30, 90, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var admitted atomic.Int64
			var wg sync.WaitGroup
			now := time.Now()
			for i := 0; i < tc.attempts; i++ {
				wg.Add(1)
				go func(g *Redis) {
					defer wg.Done()
					if ok, _, _, _ := g.Take(context.Background(), "limit:"+tc.name, tc.n, tc.limit, time.Minute, now); ok {
						admitted.Add(tc.n)
					}
				}(gateways[i%3])
			}
			wg.Wait()
			if got := admitted.Load(); got != tc.limit {
				t.Fatalf("admitted %d across 3 gateways, want exactly %d", got, tc.limit)
			}
			for _, g := range gateways {
				if g.Fallback() {
					t.Fatal("a gateway fell back to local counting")
				}
			}
			t.Logf("%d concurrent attempts on 3 gateways admitted exactly %d", tc.attempts, tc.limit)
		})
	}
	t.Run("window and peek", func(t *testing.T) {
		g := gateways[0]
		now := time.Now()
		ok, count, reset, _ := g.Take(context.Background(), "window", 1, 1, 200*time.Millisecond, now)
		if !ok || count != 1 || reset.Sub(now) > 200*time.Millisecond {
			t.Fatalf("take = %v %d %v", ok, count, reset.Sub(now))
		}
		if ok, _, _, _ := gateways[1].Take(context.Background(), "window", 1, 1, 200*time.Millisecond, now); ok {
			t.Fatal("second call within the window admitted")
		}
		if n, _, _ := gateways[2].Peek(context.Background(), "window", 200*time.Millisecond, now); n != 1 {
			t.Fatalf("peek = %d", n)
		}
		testenv.Eventually(t, "a new window to begin", func() bool {
			ok, _, _, _ := g.Take(context.Background(), "window", 1, 1, 200*time.Millisecond, time.Now())
			return ok
		})
	})
	t.Run("concurrency slots", func(t *testing.T) {
		if !acquire(gateways[0], "slots", 2) || !acquire(gateways[1], "slots", 2) {
			t.Fatal("first two slots refused")
		}
		if acquire(gateways[2], "slots", 2) {
			t.Fatal("third slot granted")
		}
		gateways[0].Release(context.Background(), "slots")
		if !acquire(gateways[2], "slots", 2) {
			t.Fatal("released slot not reusable")
		}
	})
}

func TestFallbackWhenRedisIsDown(t *testing.T) {
	r := newTestRedis(t, "redis://127.0.0.1:1/0", "x:") // nothing listens on port 1
	if !r.Fallback() {
		t.Fatal("an unreachable Redis is not reported")
	}
	now := time.Now()
	admitted := 0
	for i := 0; i < 10; i++ {
		if ok, _, _, _ := r.Take(context.Background(), "k", 1, 5, time.Minute, now); ok {
			admitted++
		}
	}
	if admitted != 5 {
		t.Fatalf("local fallback admitted %d of limit 5", admitted)
	}
	if !acquire(r, "s", 1) || acquire(r, "s", 1) {
		t.Fatal("local concurrency slots wrong")
	}
	r.Release(context.Background(), "s")
	if !acquire(r, "s", 1) {
		t.Fatal("local slot not released")
	}
}

// acquire takes a concurrency slot of g under a context that does not end.
func acquire(g *Redis, key string, max int64) bool {
	ok, err := g.Acquire(context.Background(), key, max)
	return ok && err == nil
}
