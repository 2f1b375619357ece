package gwsync_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

var (
	syncAPIs = flag.Int("sync.apis", 1000, "APIs (10 operations each) in BenchmarkSyncAtScale")
	syncSubs = flag.Int("sync.subs", 20000, "subscriptions in BenchmarkSyncAtScale")
)

// BenchmarkSyncAtScale measures what a self-hosted gateway's sync costs
// with a large configuration: building and encoding the full configuration
// (first sync), the bytes of that and of a delta after one subscription
// change, and the memory a gateway holds once it compiled the snapshot.
// docs/performance.md gives the full-size command.
func BenchmarkSyncAtScale(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.SQLite(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	batch := func(n int, put func(tx store.Tx, i int) error) {
		for lo := 0; lo < n; lo += 5000 {
			if _, err := st.Update(ctx, func(tx store.Tx) error {
				for i := lo; i < min(lo+5000, n); i++ {
					if err := put(tx, i); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	batch(*syncAPIs, func(tx store.Tx, i int) error {
		id := fmt.Sprintf("api-%06d", i)
		doc := fmt.Sprintf(`{"displayName":"API %d","path":"svc/%d","serviceUrl":"https://backend.example/%d","protocols":["https"],"subscriptionRequired":true}`, i, i, i)
		if _, err := tx.Put(ctx, store.Record{Kind: "api", ID: id, Doc: []byte(doc)}); err != nil {
			return err
		}
		for j := 0; j < 10; j++ {
			op := fmt.Sprintf(`{"displayName":"Op %d","method":"GET","urlTemplate":"/r%d/{id}"}`, j, j)
			if _, err := tx.Put(ctx, store.Record{Kind: "operation", Parent: id, ID: fmt.Sprintf("op-%d", j), Doc: []byte(op)}); err != nil {
				return err
			}
		}
		return nil
	})
	batch(*syncSubs, func(tx store.Tx, i int) error {
		doc := fmt.Sprintf(`{"scope":"/apis/api-%06d","displayName":"Sub %d","state":"active","primaryKey":"%032x","secondaryKey":"%032x"}`, i%*syncAPIs, i, 2*i, 2*i+1)
		_, err := tx.Put(ctx, store.Record{Kind: "subscription", ID: fmt.Sprintf("sub-%07d", i), Doc: []byte(doc)})
		return err
	})
	start := time.Now()
	full, err := fromstore.Load(ctx, st, model.ManagedGatewayID)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(full)
	firstSync := time.Since(start)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var decoded snapshot.Config
	if err := json.Unmarshal(body, &decoded); err != nil {
		b.Fatal(err)
	}
	snap, errs := snapshot.Compile(&decoded)
	if len(errs) != 0 {
		b.Fatalf("compile: %v", errs[0])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := after.HeapAlloc - before.HeapAlloc
	body = nil

	// one subscription suspended
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		doc := fmt.Sprintf(`{"scope":"/apis/api-%06d","displayName":"Sub 7","state":"suspended","primaryKey":"%032x","secondaryKey":"%032x"}`, 7%*syncAPIs, 14, 15)
		_, err := tx.Put(ctx, store.Record{Kind: "subscription", ID: "sub-0000007", Doc: []byte(doc)})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	next, err := fromstore.Load(ctx, st, model.ManagedGatewayID)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	delta, _ := json.Marshal(snapshot.Diff(full, next))
	deltaTime := time.Since(start)
	fullBytes, _ := json.Marshal(next)
	b.Logf("%d APIs x 10 operations, %d subscriptions (%d keys): first sync built and encoded in %v, %d bytes; one subscription change: delta %d bytes (diff %v); gateway heap for the compiled snapshot ~%d MiB",
		*syncAPIs, *syncSubs, len(full.Subscriptions), firstSync.Round(time.Millisecond), len(fullBytes), len(delta), deltaTime.Round(time.Millisecond), held>>20)
	b.ReportMetric(float64(len(fullBytes)), "full-bytes")
	b.ReportMetric(float64(len(delta)), "delta-bytes")
	runtime.KeepAlive(snap)
	for b.Loop() { // the per-change cost of tagging the new configuration
		_ = snapshot.ContentTag(next)
	}
}
