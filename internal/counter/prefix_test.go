package counter

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

// TestPrefixSeparatesInstallations: counters and caches with the same key
// prefix (the gateways of one installation) share counts and entries;
// with different prefixes (two installations on one Redis) they do not,
// whether the prefix comes from Options or from SetPrefix.
func TestPrefixSeparatesInstallations(t *testing.T) {
	url, prefix := testenv.Redis(t)
	ctx, now := context.Background(), time.Now()
	a, sameAsA := newTestRedis(t, url, prefix+"one:"), newTestRedis(t, url, prefix+"one:")
	other := newTestRedis(t, url, prefix+"zero:")
	other.SetPrefix(prefix + "two:")

	take := func(r *Redis) bool {
		t.Helper()
		ok, _, _, err := r.Take(ctx, "rate limit key", 1, 1, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take(a) {
		t.Fatal("first call of installation one refused")
	}
	if take(sameAsA) {
		t.Error("a gateway of the same installation (same prefix) did not see the first call: limit 1 let a second call through")
	}
	if !take(other) {
		t.Error("another installation (different prefix) was refused: it shares the counter of installation one")
	}

	acquire := func(r *Redis) bool {
		t.Helper()
		ok, err := r.Acquire(ctx, "concurrency key", 1)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire(a) {
		t.Fatal("first concurrency slot of installation one refused")
	}
	if acquire(sameAsA) {
		t.Error("same prefix: a second slot of a limit of 1 was granted")
	}
	if !acquire(other) {
		t.Error("different prefix: the slot of installation one was counted")
	}

	ca, caSame, cOther := newTestCache(t, url, prefix+"one:"), newTestCache(t, url, prefix+"one:"), newTestCache(t, url, prefix+"zero:")
	cOther.SetPrefix(prefix + "two:")
	if err := ca.Set(ctx, "entry", []byte("v1"), time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := caSame.Get(ctx, "entry", now); err != nil || !ok || string(v) != "v1" {
		t.Errorf("same prefix: cache entry %q, %v, %v; want v1", v, ok, err)
	}
	if v, ok, err := cOther.Get(ctx, "entry", now); err != nil || ok {
		t.Errorf("different prefix: found installation one's cache entry %q (%v)", v, err)
	}
}
