package mgmt_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/mgmt"
)

// inProcess sends one request straight to the management handler with ctx,
// as the portal and the console do; token "" sends none.
func (e *env) inProcess(ctx context.Context, token, method, path, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequestWithContext(ctx, method, "http://portico.internal"+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// lastAudit returns the newest audit entry.
func (e *env) lastAudit() map[string]any {
	e.t.Helper()
	r := e.must(200, "GET", "/api/v1/auditLog?top=1", nil)
	v, _ := r.get("value").([]any)
	if len(v) != 1 {
		e.t.Fatalf("audit log = %s", r.raw)
	}
	return v[0].(map[string]any)
}

func TestAuditActor(t *testing.T) {
	sum := sha256.Sum256([]byte(testToken))
	fingerprint := hex.EncodeToString(sum[:])[:12]
	forEachStore(t, func(t *testing.T, e *env) {
		check := func(path, actor, kind, id string) {
			t.Helper()
			a := e.lastAudit()
			if a["path"] != path || a["actor"] != actor || a["actorKind"] != kind || a["actorId"] != id {
				raw, _ := json.Marshal(a)
				t.Fatalf("audit entry = %s, want path %s, actor %q, actorKind %q, actorId %q", raw, path, actor, kind, id)
			}
		}
		body := `{"url": "https://a.example"}`

		// Over the network: the admin token, named by its fingerprint.
		e.must(201, "PUT", "/api/v1/backends/b1", map[string]any{"url": "https://a.example"})
		check("/backends/b1", "admin-token", "adminToken", fingerprint)

		// In process, on behalf of a signed-in user.
		for _, c := range []struct {
			actor      mgmt.Actor
			id         string
			legacy, ak string
		}{
			{mgmt.Actor{Kind: mgmt.ActorDeveloper, ID: "u1"}, "b2", "developer:u1", "developer"},
			{mgmt.Actor{Kind: mgmt.ActorAdminUser, ID: "1"}, "b3", "adminUser:1", "adminUser"},
			{mgmt.Actor{Kind: mgmt.ActorGateway, ID: "edge"}, "b4", "gateway:edge", "gateway"},
		} {
			ctx := mgmt.WithActor(context.Background(), c.actor)
			if rec := e.inProcess(ctx, testToken, "PUT", "/api/v1/backends/"+c.id, body); rec.Code != http.StatusCreated {
				t.Fatalf("PUT as %v = %d: %s", c.actor, rec.Code, rec.Body)
			}
			check("/backends/"+c.id, c.legacy, c.ak, c.actor.ID)
		}

		// Acting as the admin token always names the token presented.
		ctx := mgmt.WithActor(context.Background(), mgmt.Actor{Kind: mgmt.ActorAdminToken, ID: "someone-else"})
		if rec := e.inProcess(ctx, testToken, "DELETE", "/api/v1/backends/b1", ""); rec.Code != http.StatusNoContent {
			t.Fatalf("DELETE = %d: %s", rec.Code, rec.Body)
		}
		check("/backends/b1", "admin-token", "adminToken", fingerprint)

		// An actor does not replace the token, and a malformed one is refused
		// without changing anything.
		before := e.revision()
		dev := mgmt.WithActor(context.Background(), mgmt.Actor{Kind: mgmt.ActorDeveloper, ID: "u1"})
		if rec := e.inProcess(dev, "", "PUT", "/api/v1/backends/b5", body); rec.Code != http.StatusUnauthorized {
			t.Fatalf("PUT with an actor and no token = %d, want 401", rec.Code)
		}
		for _, bad := range []mgmt.Actor{{Kind: mgmt.ActorDeveloper}, {Kind: "robot", ID: "r2"}} {
			ctx := mgmt.WithActor(context.Background(), bad)
			if rec := e.inProcess(ctx, testToken, "PUT", "/api/v1/backends/b5", body); rec.Code != http.StatusInternalServerError {
				t.Fatalf("PUT as %+v = %d, want 500", bad, rec.Code)
			}
		}
		if e.revision() != before {
			t.Fatal("a refused request changed the store")
		}
	})
}

func TestActorContext(t *testing.T) {
	if _, ok := mgmt.ActorFrom(context.Background()); ok {
		t.Fatal("an empty context carries an actor")
	}
	a := mgmt.Actor{Kind: mgmt.ActorDeveloper, ID: "u7"}
	if got, ok := mgmt.ActorFrom(mgmt.WithActor(context.Background(), a)); !ok || got != a {
		t.Fatalf("ActorFrom = %+v %v", got, ok)
	}
	for a, want := range map[mgmt.Actor]string{
		{Kind: mgmt.ActorAdminToken, ID: "abc"}: "admin-token",
		{Kind: mgmt.ActorSystem}:                "system",
		{Kind: mgmt.ActorAdminUser, ID: "1"}:    "adminUser:1",
		{Kind: mgmt.ActorGateway, ID: "edge"}:   "gateway:edge",
	} {
		if a.String() != want {
			t.Errorf("%+v.String() = %q, want %q", a, a.String(), want)
		}
	}
}
