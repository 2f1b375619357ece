package mgmtclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

const token = "mgmtclient-test-admin-token-0123456789"

// newClient is a typed client of a seeded management API over SQLite.
func newClient(t *testing.T) *mgmtclient.Client {
	t.Helper()
	st, err := store.Open(context.Background(), testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := mgmt.New(mgmt.Config{Store: st, AdminToken: token})
	if _, err := m.Seed(context.Background(), "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	return mgmtclient.New(m.Handler(), token)
}

func TestErrorsAreTyped(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
		field  string // a field the problem names
		detail string // a substring of the message (detail and field errors)
	}{
		{"missing API", func() error { _, err := c.GetAPI(ctx, "nope"); return err }, 404, "ResourceNotFound", "", `API "nope" was not found`},
		{"invalid API", func() error { return c.PutAPI(ctx, "bad", model.API{Path: "bad", Protocols: []string{"ftp"}}) }, 400, "ValidationError", "protocols[0]", "the API is invalid"},
		{"invalid id", func() error { return c.PutBackend(ctx, "Not An Id", model.Backend{URL: "https://b.example"}) }, 400, "ValidationError", "backendId", "must be 1 to 80"},
		{"subscription to a missing product", func() error {
			return c.PutSubscription(ctx, "s1", model.Subscription{Scope: "/products/nope", DisplayName: "S"})
		}, 400, "ValidationError", "scope", `product "nope" does not exist`},
		{"policy that does not compile", func() error {
			return c.PutPolicy(ctx, "apis/echo-api", `<policies><inbound><set-header name="X" exists-action="sometimes"><value>v</value></set-header></inbound></policies>`)
		}, 400, "ValidationError", "value", "exists-action"},
		{"product with subscriptions", func() error { return c.DeleteProduct(ctx, "starter", false) }, 409, "Conflict", "", "subscription(s)"},
		{"built-in group", func() error { return c.DeleteGroup(ctx, model.GroupAdministrators) }, 409, "Conflict", "", "built-in"},
		{"missing policy", func() error { _, err := c.GetPolicy(ctx, "apis/echo-api/operations/create-resource"); return err }, 404, "ResourceNotFound", "", "policy at scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var e *mgmtclient.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *mgmtclient.Error", err, err)
			}
			if e.Status != tc.status || e.Code != tc.code || !strings.Contains(e.Error(), tc.detail) {
				t.Fatalf("error = %+v, want status %d, code %s, message with %q", e, tc.status, tc.code, tc.detail)
			}
			if !mgmtclient.IsStatus(err, tc.status) || mgmtclient.IsStatus(err, tc.status+1) {
				t.Fatalf("IsStatus(%d) disagrees with %+v", tc.status, e)
			}
			if tc.field != "" {
				found := false
				for _, f := range e.Errors {
					found = found || f.Field == tc.field
				}
				if !found {
					t.Fatalf("error %+v does not name field %q", e, tc.field)
				}
			}
		})
	}
	if mgmtclient.IsStatus(errors.New("plain"), 404) || mgmtclient.IsStatus(nil, 404) {
		t.Fatal("IsStatus holds for an error that is not a refusal")
	}
}

func TestTypedRoundTrips(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// An API with an operation, in a product visible to a group.
	yes := true
	must(c.PutAPI(ctx, "orders", model.API{DisplayName: "Orders", Path: "orders", ServiceURL: "https://orders.example", Protocols: []string{"https"}, SubscriptionRequired: &yes, Tags: []string{"shop"}}))
	must(c.PutOperation(ctx, "orders", "list", model.Operation{DisplayName: "List", Method: "GET", URLTemplate: "/orders"}))
	a, err := c.GetAPI(ctx, "orders")
	must(err)
	if a.Name != "orders" || a.DisplayName != "Orders" || a.ServiceURL != "https://orders.example" || len(a.Tags) != 1 {
		t.Fatalf("GetAPI = %+v", a)
	}
	ops, err := c.ListOperations(ctx, "orders")
	must(err)
	if len(ops) != 1 || ops[0].Name != "list" || ops[0].URLTemplate != "/orders" {
		t.Fatalf("ListOperations = %+v", ops)
	}
	limit := 1
	must(c.PutProduct(ctx, "shop", model.Product{DisplayName: "Shop", State: model.ProductPublished, SubscriptionsLimit: &limit}))
	must(c.AddProductAPI(ctx, "shop", "orders"))
	must(c.AddProductGroup(ctx, "shop", model.GroupDevelopers))
	published, err := c.ListProducts(ctx, mgmtclient.Eq("state", model.ProductPublished))
	must(err)
	found := false
	for _, p := range published {
		found = found || p.Name == "shop"
		if p.State != model.ProductPublished {
			t.Fatalf("filtered list holds %+v", p)
		}
	}
	if apis, err := c.ProductAPIs(ctx, "shop"); err != nil || !found || len(apis) != 1 || apis[0].Name != "orders" {
		t.Fatalf("ProductAPIs = %+v %v (listed: %v)", apis, err, found)
	}

	// A merge patch changes what it sets, removes what it nulls and leaves
	// the rest.
	must(c.UpdateAPI(ctx, "orders", mgmtclient.APIPatch{Description: mgmtclient.Set("All orders"), Tags: mgmtclient.Set([]string{})}))
	a, err = c.GetAPI(ctx, "orders")
	must(err)
	if a.Description != "All orders" || len(a.Tags) != 0 || a.DisplayName != "Orders" || a.ServiceURL != "https://orders.example" {
		t.Fatalf("after patch: %+v", a)
	}
	must(c.UpdateProduct(ctx, "shop", mgmtclient.ProductPatch{SubscriptionsLimit: mgmtclient.Null[int]()}))
	p, err := c.GetProduct(ctx, "shop")
	must(err)
	if p.SubscriptionsLimit != nil || p.DisplayName != "Shop" || p.State != model.ProductPublished {
		t.Fatalf("after removing the limit: %+v", p)
	}
	raw, _ := json.Marshal(mgmtclient.UserPatch{State: mgmtclient.Set(model.UserBlocked), Note: mgmtclient.Null[string]()})
	if string(raw) != `{"state":"blocked","note":null}` {
		t.Fatalf("UserPatch JSON = %s", raw)
	}

	// A user and a subscription with keys.
	must(c.PutUser(ctx, "ann", model.User{Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Password: "long enough password"}))
	u, err := c.GetUser(ctx, "ann")
	must(err)
	if u.Name != "ann" || u.Email != "ann@example.com" || u.Password != "" || u.PasswordHash != "" {
		t.Fatalf("GetUser = %+v", u)
	}
	must(c.PutSubscription(ctx, "ann-shop", model.Subscription{Scope: "/products/shop", OwnerID: "/users/ann", DisplayName: "Ann's"}))
	keys, err := c.SubscriptionSecrets(ctx, "ann-shop")
	must(err)
	must(c.RegenerateSubscriptionKey(ctx, "ann-shop", mgmtclient.Secondary))
	again, err := c.SubscriptionSecrets(ctx, "ann-shop")
	must(err)
	if len(keys.PrimaryKey) != 32 || again.PrimaryKey != keys.PrimaryKey || again.SecondaryKey == keys.SecondaryKey {
		t.Fatalf("keys %+v, after regenerating the secondary %+v", keys, again)
	}
	must(c.UpdateSubscription(ctx, "ann-shop", mgmtclient.SubscriptionPatch{State: mgmtclient.Set(model.SubSuspended), StateComment: mgmtclient.Set("paused")}))
	subs, err := c.UserSubscriptions(ctx, "ann")
	must(err)
	if len(subs) != 1 || subs[0].State != model.SubSuspended || subs[0].StateComment != "paused" || subs[0].PrimaryKey != "" {
		t.Fatalf("UserSubscriptions = %+v", subs)
	}
	if n, err := c.CountSubscriptions(ctx, mgmtclient.Eq("state", model.SubSuspended)); err != nil || n != 1 {
		t.Fatalf("CountSubscriptions = %d %v", n, err)
	}

	// A gateway token.
	must(c.PutGateway(ctx, "edge", model.Gateway{LocationData: model.GatewayLocation{Name: "Edge"}}))
	tok, err := c.GenerateGatewayToken(ctx, "edge", mgmtclient.Primary, time.Now().Add(time.Hour))
	must(err)
	if !strings.HasPrefix(tok.Value, "GatewayKey edge&") || tok.Expiry == "" {
		t.Fatalf("token = %+v", tok)
	}

	// Every change above is in the audit log, as the admin token's; the
	// oldest entry is the seeding, the system's.
	entries, err := c.AuditLog(ctx, 1000, 0)
	must(err)
	if len(entries) < 10 {
		t.Fatalf("audit log holds %d entries", len(entries))
	}
	if seed := entries[len(entries)-1]; seed.Action != "seed" || seed.ActorKind != string(mgmt.ActorSystem) || seed.Actor != "system" {
		t.Fatalf("seed entry = %+v", seed)
	}
	for _, e := range entries[:len(entries)-1] {
		if e.ActorKind != string(mgmt.ActorAdminToken) || e.Actor != "admin-token" || len(e.ActorID) != 12 {
			t.Fatalf("entry %+v is not the admin token's", e)
		}
	}
}

func TestActorFromContext(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := mgmt.WithActor(context.Background(), mgmt.Actor{Kind: mgmt.ActorDeveloper, ID: "ann"})
	if err := c.PutBackend(ctx, "b1", model.Backend{URL: "https://b1.example"}); err != nil {
		t.Fatal(err)
	}
	entries, err := c.AuditLog(context.Background(), 1, 0)
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit log = %+v %v", entries, err)
	}
	if e := entries[0]; e.Path != "/backends/b1" || e.ActorKind != "developer" || e.ActorID != "ann" || e.Actor != "developer:ann" {
		t.Fatalf("entry = %+v", e)
	}
}

func TestRawReachesAnyEndpoint(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	res := c.Raw(context.Background(), http.MethodGet, "/api/v1/openapi.json", "", nil)
	if res.Status != http.StatusOK || res.Err() != nil || !strings.Contains(string(res.Body), `"openapi"`) {
		t.Fatalf("GET openapi.json = %d %.200s", res.Status, res.Body)
	}
	if err := c.Raw(context.Background(), http.MethodGet, "/api/v1/nothing-here", "", nil).Err(); !mgmtclient.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("unknown endpoint: %v", err)
	}
}
