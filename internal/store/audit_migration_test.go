package store

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/portico-gw/portico/internal/testenv"
)

// TestAuditActorMigration opens a store whose audit log was written before
// migration 5, which names the actor's kind of the older entries (all made
// with the admin token or by the system).
func TestAuditActorMigration(t *testing.T) {
	for _, sc := range testenv.Stores() {
		t.Run(sc.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := sc.DSN(t)
			driver, d, raw := "sqlite", sqliteDialect, "file:"+dsn
			if strings.HasPrefix(dsn, "postgres") {
				driver, d, raw = "pgx", postgresDialect, dsn
			}
			db, err := sql.Open(driver, raw)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := fs.Sub(migrations, "migrations/"+d.name)
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(d.goose, db, sub, goose.WithVerbose(false))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 4); err != nil {
				t.Fatal(err)
			}
			for i, actor := range []string{"system", "admin-token"} {
				if _, err := db.ExecContext(ctx, d.rebind("INSERT INTO audit_log (at, actor, action, kind, path, revision) VALUES (?, ?, 'create', 'api', '/apis/a', ?)"), int64(i), actor, int64(i+1)); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			s, err := Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			entries, _, err := s.AuditLog(ctx, 10, 0)
			if err != nil || len(entries) != 2 {
				t.Fatalf("audit log = %+v, %v", entries, err)
			}
			if e := entries[0]; e.Actor != "admin-token" || e.ActorKind != "adminToken" || e.ActorID != "" {
				t.Errorf("newest entry = %+v", e)
			}
			if e := entries[1]; e.Actor != "system" || e.ActorKind != "system" || e.ActorID != "" {
				t.Errorf("oldest entry = %+v", e)
			}
			if _, err := s.Update(ctx, func(tx Tx) error {
				return tx.Audit(ctx, AuditEntry{Actor: "developer:u1", ActorKind: "developer", ActorID: "u1", Action: "create", Kind: "subscription", Path: "/subscriptions/s1"})
			}); err != nil {
				t.Fatal(err)
			}
			entries, total, err := s.AuditLog(ctx, 1, 0)
			if err != nil || total != 3 || entries[0].ActorKind != "developer" || entries[0].ActorID != "u1" || entries[0].Actor != "developer:u1" {
				t.Fatalf("audit log = %+v (%d), %v", entries, total, err)
			}
		})
	}
}
