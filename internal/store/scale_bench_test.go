package store_test

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

// Scale benchmarks: a store holding -scale.apis APIs with 10 operations each
// and -scale.subs subscriptions. The defaults keep `go test -bench .` quick;
// docs/performance.md gives the full-size command (10,000 APIs, 1,000,000
// subscriptions).
var (
	scaleAPIs = flag.Int("scale.apis", 1000, "APIs in the scale benchmarks (10 operations each)")
	scaleSubs = flag.Int("scale.subs", 20000, "subscriptions in the scale benchmarks")
)

const scaleBatch = 5000

// fillScale creates the data set through Store.Update in batches and
// returns how long it took.
func fillScale(b *testing.B, s *store.SQLStore) time.Duration {
	ctx := context.Background()
	start := time.Now()
	batch := func(n int, put func(tx store.Tx, i int) error) {
		for lo := 0; lo < n; lo += scaleBatch {
			hi := min(lo+scaleBatch, n)
			if _, err := s.Update(ctx, func(tx store.Tx) error {
				for i := lo; i < hi; i++ {
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
	batch(*scaleAPIs, func(tx store.Tx, i int) error {
		id := fmt.Sprintf("api-%06d", i)
		doc := fmt.Sprintf(`{"displayName":"API %d","path":"svc/%d","serviceUrl":"https://backend.example/%d","protocols":["https"],"subscriptionRequired":true}`, i, i, i)
		if _, err := tx.Put(ctx, store.Record{Kind: "api", ID: id, DisplayName: fmt.Sprintf("API %d", i), Doc: []byte(doc)}); err != nil {
			return err
		}
		if err := tx.ClaimUnique(ctx, "api", "path", fmt.Sprintf("svc/%d|", i), id); err != nil {
			return err
		}
		for j := 0; j < 10; j++ {
			op := fmt.Sprintf(`{"displayName":"Op %d","method":"GET","urlTemplate":"/r%d/{id}","templateParameters":[{"name":"id","type":"string","required":true}]}`, j, j)
			if _, err := tx.Put(ctx, store.Record{Kind: "operation", Parent: id, ID: fmt.Sprintf("op-%d", j), DisplayName: fmt.Sprintf("Op %d", j), Doc: []byte(op)}); err != nil {
				return err
			}
		}
		return nil
	})
	batch(*scaleSubs, func(tx store.Tx, i int) error {
		id := fmt.Sprintf("sub-%07d", i)
		doc := fmt.Sprintf(`{"scope":"/apis/api-%06d","displayName":"Sub %d","state":"active","primaryKey":"%032x","secondaryKey":"%032x"}`, i%*scaleAPIs, i, 2*i, 2*i+1)
		attrs := map[string]string{"scope": fmt.Sprintf("/apis/api-%06d", i%*scaleAPIs), "state": "active", "ownerId": ""}
		if _, err := tx.Put(ctx, store.Record{Kind: "subscription", ID: id, DisplayName: fmt.Sprintf("Sub %d", i), Doc: []byte(doc), Attrs: attrs}); err != nil {
			return err
		}
		return tx.SetKeyHashes(ctx, id, map[string]string{"primary": secret.KeyHash(fmt.Sprintf("%032x", 2*i)), "secondary": secret.KeyHash(fmt.Sprintf("%032x", 2*i+1))})
	})
	took := time.Since(start)
	if err := s.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	return took
}

func BenchmarkScale(b *testing.B) {
	for _, st := range testenv.Stores() {
		b.Run(st.Name, func(b *testing.B) {
			s, err := store.Open(context.Background(), st.DSN(b))
			var _ store.Store = s
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			took := fillScale(b, s)
			b.Logf("%s: created %d APIs x 10 operations and %d subscriptions in %v", st.Name, *scaleAPIs, *scaleSubs, took.Round(time.Millisecond))
			ctx := context.Background()
			b.Run("list-page-apis", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					recs, total, err := s.List(ctx, "api", "", store.ListOptions{Top: 100, Skip: (i * 100) % *scaleAPIs})
					if err != nil || total != *scaleAPIs || len(recs) == 0 {
						b.Fatalf("list: %d %d %v", len(recs), total, err)
					}
				}
			})
			b.Run("list-page-subscriptions-filtered", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					_, _, err := s.List(ctx, "subscription", "", store.ListOptions{Top: 100, Filters: []store.Filter{{Field: "scope", Op: "eq", Value: fmt.Sprintf("/apis/api-%06d", i%*scaleAPIs)}}})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("key-lookup-by-hash", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					n := (i * 7919) % *scaleSubs
					id, _, err := s.SubscriptionByKeyHash(ctx, secret.KeyHash(fmt.Sprintf("%032x", 2*n)))
					if err != nil || id != fmt.Sprintf("sub-%07d", n) {
						b.Fatalf("lookup %d: %q %v", n, id, err)
					}
				}
			})
			b.Run("get-api", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(ctx, "api", "", fmt.Sprintf("api-%06d", i%*scaleAPIs)); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
