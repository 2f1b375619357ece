package console_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// TestAuditNamesTheAdministrator: a change made in the console is audited as
// the administrator user who signed in, or as the admin token.
func TestAuditNamesTheAdministrator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.api.Call(ctx, "PUT", "/api/v1/users/ops", map[string]any{"email": "ops@example.com", "firstName": "Op", "lastName": "S", "password": "admin password"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Call(ctx, "PUT", "/api/v1/groups/administrators/users/ops", nil, nil); err != nil {
		t.Fatal(err)
	}
	last := func() (kind, id, actor, path string) {
		t.Helper()
		entries, err := e.api.AuditLog(ctx, 1, 0)
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit log = %+v %v", entries, err)
		}
		a := entries[0]
		return a.ActorKind, a.ActorID, a.Actor, a.Path
	}

	ops := e.client()
	if p := ops.post("/signin", ops.token("/signin"), url.Values{"email": {"ops@example.com"}, "password": {"admin password"}}); !strings.Contains(p.body, "Dashboard") {
		t.Fatalf("sign in as ops: %d %.1000s", p.status, p.body)
	}
	tok := ops.token("/")
	if p := ops.post("/backends", tok, url.Values{"id": {"b1"}, "url": {"https://b1.example"}}); !strings.Contains(p.body, "Backend b1 saved") {
		t.Fatalf("save backend: %.2000s", p.body)
	}
	if kind, id, actor, path := last(); kind != "adminUser" || id != "ops" || actor != "adminUser:ops" || path != "/backends/b1" {
		t.Fatalf("backend saved by ops audited as %s %s (%s) on %s", kind, id, actor, path)
	}
	ops.post("/products/starter/links", tok, url.Values{"kind": {"groups"}, "target": {"administrators"}, "action": {"remove"}})
	if kind, id, _, path := last(); kind != "adminUser" || id != "ops" || path != "/products/starter/groups/administrators" {
		t.Fatalf("unlink by ops audited as %s %s on %s", kind, id, path)
	}

	admin := e.client()
	admin.signIn()
	if p := admin.post("/backends/b1/delete", admin.token("/backends"), nil); !strings.Contains(p.body, "Backend deleted") {
		t.Fatalf("delete backend: %.2000s", p.body)
	}
	if kind, id, actor, path := last(); kind != "adminToken" || len(id) != 12 || actor != "admin-token" || path != "/backends/b1" {
		t.Fatalf("backend deleted with the token audited as %s %s (%s) on %s", kind, id, actor, path)
	}
}
