package portal_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/store"
)

// auditEntry finds the newest audit entry of action on path.
func (s *stack) auditEntry(action, path string) store.AuditEntry {
	s.t.Helper()
	entries, err := s.api.AuditLog(context.Background(), 1000, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action == action && e.Path == path {
			return e
		}
	}
	s.t.Fatalf("no audit entry %s %s in %+v", action, path, entries)
	return store.AuditEntry{}
}

// TestAuditNamesTheDeveloper: what a developer does on the portal is
// audited as that developer, from signing up to cancelling a subscription.
func TestAuditNamesTheDeveloper(t *testing.T) {
	s := newStack(t)
	b, sub := s.developer(t, "audited@example.com")
	users, err := s.api.ListUsers(context.Background(), mgmtclient.Eq("email", "audited@example.com"))
	if err != nil || len(users) != 1 {
		t.Fatalf("users = %+v %v", users, err)
	}
	id := users[0].Name
	tok := b.csrf("/profile")
	b.post("/subscriptions/"+sub+"/regenerate", tok, url.Values{"key": {"secondary"}})
	b.post("/subscriptions/"+sub+"/cancel", tok, nil)

	for _, want := range []struct{ action, path string }{
		{"create", "/users/" + id},                          // sign-up
		{"update", "/users/" + id},                          // the confirmation link
		{"create", "/subscriptions/" + sub},                 // subscribe
		{"regeneratesecondaryKey", "/subscriptions/" + sub}, // regenerate a key
	} {
		e := s.auditEntry(want.action, want.path)
		if e.ActorKind != "developer" || e.ActorID != id || e.Actor != "developer:"+id {
			t.Errorf("%s %s audited as %q (%s %s), want developer %s", want.action, want.path, e.Actor, e.ActorKind, e.ActorID, id)
		}
	}
	entries, err := s.api.AuditLog(context.Background(), 1, 0)
	if err != nil || len(entries) != 1 {
		t.Fatal(err)
	}
	if e := entries[0]; e.Action != "update" || e.Path != "/subscriptions/"+sub || e.ActorKind != "developer" || e.ActorID != id {
		t.Errorf("the cancellation is audited as %+v", e)
	}

	// The same change over the REST API is the admin token's.
	if err := s.api.Call(context.Background(), "PATCH", "/api/v1/subscriptions/"+sub, map[string]any{"displayName": "Renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	if e := s.auditEntry("update", "/subscriptions/"+sub); e.ActorKind != "adminToken" || e.Actor != "admin-token" {
		t.Errorf("an admin-token change is audited as %+v", e)
	}
}
