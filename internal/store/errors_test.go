package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

// TestPostgresUnreachable cuts the network between the store and a real
// PostgreSQL: reads and writes fail with ErrUnavailable (not an anonymous
// error), and the store works again once PostgreSQL is reachable.
func TestPostgresUnreachable(t *testing.T) {
	dsn, proxy := testenv.PostgresBehindProxy(t)
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	put(t, s, store.Record{Kind: "api", ID: "a", Doc: []byte(`{}`)})

	proxy.Cut()
	_, err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, store.Record{Kind: "api", ID: "b", Doc: []byte(`{}`)})
		return err
	})
	t.Logf("write error: %v", err)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while unreachable: %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(ctx, "api", "", "a"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("read while unreachable: %v, want ErrUnavailable", err)
	}
	if err := s.View(ctx, func(rd store.Reader) error { _, _, err := rd.List(ctx, "api", "", store.ListOptions{}); return err }); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("view while unreachable: %v, want ErrUnavailable", err)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("revision while unreachable: %v, want ErrUnavailable", err)
	}

	proxy.Restore()
	put(t, s, store.Record{Kind: "api", ID: "b", Doc: []byte(`{}`)})
	if _, err := s.Get(ctx, "api", "", "b"); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

// TestSQLiteUnavailable: a database locked by another process beyond the
// busy timeout, and a closed store, are ErrUnavailable; other errors are
// not classified.
func TestSQLiteUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.db")
	// Two handles on one file with no busy timeout, as two processes: the
	// second cannot write while the first holds the write lock.
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if _, err := a.ExecContext(ctx, "CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	_, err = b.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if err == nil {
		t.Fatal("write under another writer's lock succeeded")
	}
	if !errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("locked database: %v not classified as unavailable", err)
	}
	_, err = b.ExecContext(ctx, "INSERT INTO nowhere VALUES (1)")
	if err == nil || errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("a missing table is not an outage: %v", err)
	}

	s, err := store.Open(ctx, testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write to a closed store: %v, want ErrUnavailable", err)
	}
}

// TestPostgresRefusesNUL: PostgreSQL text cannot hold NUL; the store says
// so with ErrInvalidText instead of an anonymous failure (the management
// API refuses NUL before it gets there).
func TestPostgresRefusesNUL(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Put(ctx, store.Record{Kind: "api", ID: "a", DisplayName: "a\x00b", Doc: []byte(`{}`)})
		return err
	})
	if !errors.Is(err, store.ErrInvalidText) {
		t.Fatalf("NUL in a display name: %v, want ErrInvalidText", err)
	}
}
