// Package testenv finds the real services that Portico's tests run against
// (PostgreSQL, Redis, Chromium) and gives each test an isolated piece of them.
//
// A service is found at its usual local address or through an environment
// variable (PORTICO_TEST_POSTGRES, PORTICO_TEST_REDIS). When it is absent the
// test is skipped with a message saying how to provide it, except when CI=true,
// where the test fails: CI must never pass by skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// DefaultPostgres is the PostgreSQL used when PORTICO_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// InCI reports whether tests run under CI (CI=true), where missing services fail.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t, or fails it under CI, explaining which service is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required service is missing: "+format, args...)
	}
	t.Skipf("skipping: "+format, args...)
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Postgres returns the DSN of a fresh, empty schema in the test PostgreSQL,
// dropped when t ends. Concurrent runs never see each other's data.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PORTICO_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("PORTICO_TEST_POSTGRES: %v", err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
		Unavailable(t, "PostgreSQL is not reachable at %s (set PORTICO_TEST_POSTGRES): %v", u.Host, err)
	} else {
		c.Close()
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := randomName("portico_test_")
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		Unavailable(t, "cannot create a schema in PostgreSQL at %s: %v", u.Host, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SQLite returns the path of a fresh SQLite database file in t's temp dir.
func SQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "portico.db")
}

// Store names one store configuration a test suite runs against.
type Store struct {
	Name string
	DSN  func(t testing.TB) string
}

// Stores lists the store dialects every store-backed suite must pass on.
func Stores() []Store {
	return []Store{{Name: "sqlite", DSN: SQLite}, {Name: "postgres", DSN: Postgres}}
}

// Redis returns the address of the test Redis and a key prefix unique to t.
func Redis(t testing.TB) (addr, prefix string) {
	t.Helper()
	addr = os.Getenv("PORTICO_TEST_REDIS")
	if addr == "" {
		addr = "redis://127.0.0.1:6379/0"
	}
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatalf("PORTICO_TEST_REDIS: %v", err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 2*time.Second); err != nil {
		Unavailable(t, "Redis is not reachable at %s (set PORTICO_TEST_REDIS): %v", u.Host, err)
	} else {
		c.Close()
	}
	return addr, randomName("portico-test-") + ":"
}
