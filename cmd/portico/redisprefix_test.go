package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/counter"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/testenv"
)

// TestRedisPrefixPerInstallation: each store gets its own installation id,
// the same on every start; the configurations of its built-in and
// self-hosted gateways carry it; gateways of one installation on one Redis
// share a rate-limit counter, gateways of another installation do not, and
// --redis-prefix overrides the installation's prefix.
func TestRedisPrefixPerInstallation(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dirA, dirB := t.TempDir(), t.TempDir()

	// installation opens the store of dir as serve does, and returns its
	// id and the configurations of the built-in gateway and of a
	// self-hosted one.
	installation := func(dir string) (string, *snapshot.Config, *snapshot.Config) {
		t.Helper()
		st, err := openStore(ctx, &options{dataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		id, err := fromstore.EnsureInstallationID(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		builtin, err := fromstore.Load(ctx, st, model.ManagedGatewayID)
		if err != nil {
			t.Fatal(err)
		}
		selfHosted, err := fromstore.Load(ctx, st, "gw-1")
		if err != nil {
			t.Fatal(err)
		}
		return id, builtin, selfHosted
	}
	idA, builtinA, selfHostedA := installation(dirA)
	idB, builtinB, _ := installation(dirB)
	if idA == "" || idB == "" || idA == idB {
		t.Fatalf("installation ids %q and %q: want two different non-empty ids", idA, idB)
	}
	if again, _, _ := installation(dirA); again != idA {
		t.Fatalf("installation id changed on restart: %q, then %q", idA, again)
	}
	for name, cfg := range map[string]*snapshot.Config{"built-in A": builtinA, "self-hosted A": selfHostedA, "built-in B": builtinB} {
		want := idA
		if cfg == builtinB {
			want = idB
		}
		if cfg.InstallationID != want {
			t.Errorf("%s configuration: installationId %q, want %q", name, cfg.InstallationID, want)
		}
	}

	url, testPrefix := testenv.Redis(t)
	// gateway wires the counters of one gateway from o, as setupGateway
	// does, and loads cfg (nil: none).
	gateway := func(o *options, cfg *snapshot.Config) policy.Counters {
		t.Helper()
		o.redis = url
		counters, cache, closeAll, err := newCounters(ctx, o, log, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closeAll)
		newRedisPrefixer(o, log, counters, cache).config(cfg)
		return counters
	}
	// Each case takes from the same counter key with a limit of 1 a minute.
	key := "redis-prefix-test"
	take := func(c policy.Counters) bool {
		t.Helper()
		ok, _, _, err := c.Take(ctx, key, 1, 1, time.Minute, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r, isRedis := c.(*counter.Redis); !isRedis || r.Fallback() {
			t.Fatalf("counters %T are not Redis's", c)
		}
		return ok
	}
	if !take(gateway(&options{}, builtinA)) {
		t.Fatal("first call of installation A refused")
	}
	if take(gateway(&options{}, selfHostedA)) {
		t.Error("a self-hosted gateway of installation A did not see the built-in gateway's call: the limit of 1 let a second call through")
	}
	if !take(gateway(&options{}, builtinB)) {
		t.Error("installation B was refused: it shares installation A's counter")
	}
	// --redis-prefix wins over the installation's id, and gateways given
	// the same one share.
	if !take(gateway(&options{redisPrefix: testPrefix}, builtinA)) {
		t.Error("with --redis-prefix the gateway still used installation A's counter")
	}
	if take(gateway(&options{redisPrefix: testPrefix}, builtinB)) {
		t.Error("two gateways with the same --redis-prefix do not share the counter")
	}
}
