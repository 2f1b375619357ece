package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

func openStores(t *testing.T, fn func(t *testing.T, s store.Store)) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			s, err := store.Open(context.Background(), st.DSN(t))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			fn(t, s)
		})
	}
}

func put(t *testing.T, s store.Store, recs ...store.Record) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, r := range recs {
			if _, err := tx.Put(context.Background(), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return rev
}

func TestCRUDAndRevisions(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		r0, _ := s.Revision(ctx)
		r1 := put(t, s, store.Record{Kind: "api", ID: "a", DisplayName: "Alpha", Doc: []byte(`{"x":1}`)})
		if r1 != r0+1 {
			t.Fatalf("revision %d after %d", r1, r0)
		}
		got, err := s.Get(ctx, "api", "", "a")
		if err != nil || string(got.Doc) != `{"x":1}` || got.ETag != fmt.Sprintf(`"%d"`, r1) {
			t.Fatalf("get = %+v, %v", got, err)
		}
		r2 := put(t, s, store.Record{Kind: "api", ID: "a", DisplayName: "Alpha 2", Doc: []byte(`{"x":2}`)})
		got2, _ := s.Get(ctx, "api", "", "a")
		if got2.ETag == got.ETag || !got2.Created.Equal(got.Created) || got2.Revision != r2 {
			t.Fatalf("replace: %+v vs %+v", got2, got)
		}
		if _, err := s.Get(ctx, "api", "", "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		// A failed update writes nothing and does not move the revision.
		boom := errors.New("boom")
		_, err = s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, store.Record{Kind: "api", ID: "b", Doc: []byte(`{}`)}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if _, err := s.Get(ctx, "api", "", "b"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled back record visible: %v", err)
		}
		if rev, _ := s.Revision(ctx); rev != r2 {
			t.Fatalf("revision moved on rollback: %d != %d", rev, r2)
		}
	})
}

func TestListFiltersAndPaging(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var recs []store.Record
		for i := 0; i < 25; i++ {
			state := "active"
			if i%5 == 0 {
				state = "suspended"
			}
			recs = append(recs, store.Record{Kind: "sub", ID: fmt.Sprintf("s%02d", i), DisplayName: fmt.Sprintf("Sub_%d%%", i), Doc: []byte(fmt.Sprintf(`{"state":%q}`, state)), Attrs: map[string]string{"state": state}})
		}
		put(t, s, recs...)
		tests := []struct {
			name      string
			opt       store.ListOptions
			wantN     int
			wantTotal int
			first     string
		}{
			{"all", store.ListOptions{}, 25, 25, "s00"},
			{"page", store.ListOptions{Top: 10, Skip: 20}, 5, 25, "s20"},
			{"skip only", store.ListOptions{Skip: 24}, 1, 25, "s24"},
			{"contains is case-insensitive and escapes LIKE", store.ListOptions{Filters: []store.Filter{{"displayName", "contains", "sub_1"}}}, 11, 11, "s01"},
			{"percent literal", store.ListOptions{Filters: []store.Filter{{"displayName", "contains", "3%"}}}, 3, 3, "s03"},
			{"doc property", store.ListOptions{Filters: []store.Filter{{"state", "eq", "suspended"}}}, 5, 5, "s00"},
			{"id startswith", store.ListOptions{Filters: []store.Filter{{"id", "startswith", "S1"}}}, 10, 10, "s10"},
			{"ne", store.ListOptions{Filters: []store.Filter{{"state", "ne", "suspended"}}}, 20, 20, "s01"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.List(ctx, "sub", "", tc.opt)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.wantN || total != tc.wantTotal || got[0].ID != tc.first {
					t.Fatalf("got %d records (total %d, first %q), want %d (total %d, first %q)", len(got), total, got[0].ID, tc.wantN, tc.wantTotal, tc.first)
				}
			})
		}
		if got, n, err := s.List(ctx, "sub", "", store.ListOptions{Filters: []store.Filter{{"x') OR 1=1 --", "eq", "a"}}}); err != nil || n != 0 || len(got) != 0 {
			t.Fatalf("injection-shaped field: %d records, %v", n, err)
		}
		if _, _, err := s.List(ctx, "sub", "", store.ListOptions{Filters: []store.Filter{{"state", "like", "a"}}}); err == nil {
			t.Fatal("unknown operator accepted")
		}
		// Replacing a record replaces its attributes; deleting removes them.
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Put(ctx, store.Record{Kind: "sub", ID: "s00", Doc: []byte(`{}`), Attrs: map[string]string{"state": "active"}}); err != nil {
				return err
			}
			return tx.Delete(ctx, "sub", "", "s05")
		}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := s.List(ctx, "sub", "", store.ListOptions{Filters: []store.Filter{{"state", "eq", "suspended"}}}); n != 3 {
			t.Fatalf("suspended after changes = %d, want 3", n)
		}
	})
}

func TestLinksUniquesKeysAudit(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, err := s.Update(ctx, func(tx store.Tx) error {
			for _, l := range [][2]string{{"p1", "a1"}, {"p1", "a2"}, {"p2", "a1"}} {
				if err := tx.Link(ctx, "productApi", l[0], l[1]); err != nil {
					return err
				}
			}
			if err := tx.Link(ctx, "productApi", "p1", "a1"); err != nil { // idempotent
				return err
			}
			if err := tx.ClaimUnique(ctx, "api", "path", "echo", "a1"); err != nil {
				return err
			}
			if err := tx.SetKeyHashes(ctx, "sub1", map[string]string{"primary": "h1", "secondary": "h2"}); err != nil {
				return err
			}
			return tx.Audit(ctx, store.AuditEntry{Actor: "admin", Action: "put", Kind: "api", Path: "/apis/a1"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Links(ctx, "productApi", "p1", false); fmt.Sprint(got) != "[a1 a2]" {
			t.Fatalf("links = %v", got)
		}
		if got, _ := s.Links(ctx, "productApi", "a1", true); fmt.Sprint(got) != "[p1 p2]" {
			t.Fatalf("reverse links = %v", got)
		}
		_, err = s.Update(ctx, func(tx store.Tx) error { return tx.ClaimUnique(ctx, "api", "path", "echo", "a2") })
		var ue *store.UniqueError
		if !errors.As(err, &ue) || ue.Owner != "a1" {
			t.Fatalf("claim by other owner: %v", err)
		}
		// Re-claiming another value releases the old one.
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.ClaimUnique(ctx, "api", "path", "echo2", "a1") }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.ClaimUnique(ctx, "api", "path", "echo", "a2") }); err != nil {
			t.Fatalf("released value not claimable: %v", err)
		}
		if id, which, err := s.SubscriptionByKeyHash(ctx, "h2"); err != nil || id != "sub1" || which != "secondary" {
			t.Fatalf("key lookup = %q %q %v", id, which, err)
		}
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			n, err := tx.Unlink(ctx, "productApi", "", "a1")
			if n != 2 {
				return fmt.Errorf("unlinked %d", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		entries, total, err := s.AuditLog(ctx, 10, 0)
		if err != nil || total != 1 || entries[0].Path != "/apis/a1" || entries[0].Revision == 0 {
			t.Fatalf("audit = %+v %d %v", entries, total, err)
		}
	})
}

func TestConcurrentWritersGetDistinctOrderedRevisions(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		const n = 40
		var wg sync.WaitGroup
		revs := make(chan int64, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				rev, err := s.Update(ctx, func(tx store.Tx) error {
					// read-modify-write of one counter record
					cur, err := tx.Get(ctx, "counter", "", "c")
					v := 0
					if err == nil {
						fmt.Sscanf(string(cur.Doc), "%d", &v)
					} else if !errors.Is(err, store.ErrNotFound) {
						return err
					}
					_, err = tx.Put(ctx, store.Record{Kind: "counter", ID: "c", Doc: []byte(fmt.Sprint(v + 1))})
					return err
				})
				if err != nil {
					t.Error(err)
				}
				revs <- rev
			}(i)
		}
		wg.Wait()
		close(revs)
		seen := map[int64]bool{}
		for r := range revs {
			if seen[r] {
				t.Fatalf("revision %d handed out twice", r)
			}
			seen[r] = true
		}
		got, _ := s.Get(ctx, "counter", "", "c")
		if string(got.Doc) != fmt.Sprint(n) {
			t.Fatalf("counter = %s, want %d: lost updates", got.Doc, n)
		}
	})
}

func TestGatewayInstances(t *testing.T) {
	openStores(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		rev, _ := s.Revision(ctx)
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, in := range []store.Instance{
			{GatewayID: "gw", InstanceID: "b", Doc: []byte(`{"n":1}`), LastSeen: now},
			{GatewayID: "gw", InstanceID: "a", Doc: []byte(`{"n":2}`), LastSeen: now},
			{GatewayID: "gw", InstanceID: "b", Doc: []byte(`{"n":3}`), LastSeen: now.Add(time.Second)},
			{GatewayID: "other", InstanceID: "a", Doc: []byte(`{}`), LastSeen: now},
		} {
			if err := s.RecordInstance(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Instances(ctx, "gw")
		if err != nil || len(got) != 2 || got[0].InstanceID != "a" || string(got[1].Doc) != `{"n":3}` || !got[1].LastSeen.Equal(now.Add(time.Second)) {
			t.Fatalf("instances = %+v, %v", got, err)
		}
		if r, _ := s.Revision(ctx); r != rev {
			t.Fatal("a heartbeat moved the config revision")
		}
		if err := s.DeleteInstances(ctx, "gw"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Instances(ctx, "gw"); len(got) != 0 {
			t.Fatalf("instances after delete = %+v", got)
		}
	})
}

// TestWatchRevisionsAcrossProcesses: a commit through one store handle is
// notified to a watcher on another handle of the same PostgreSQL database.
func TestWatchRevisionsAcrossProcesses(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan int64, 16)
	go b.WatchRevisions(ctx, func(rev int64) { got <- rev })
	deadline := time.After(20 * time.Second)
	first := int64(-1)
	for {
		rev := put(t, a, store.Record{Kind: "api", ID: "w", Doc: []byte(`{}`)})
		if first < 0 {
			first = rev
		}
		select {
		case r := <-got:
			if r < first || r > rev {
				t.Fatalf("notified revision %d, committed %d", r, rev)
			}
			return
		case <-time.After(200 * time.Millisecond): // the listener may not be connected yet: commit again
		case <-deadline:
			t.Fatal("no revision notification")
		}
	}
}
