package fromstore_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

const token = "fromstore-test-admin-token"

// call sends one management request and fails the test on an unexpected
// status; body is JSON unless it is a string starting with '<'.
func call(t *testing.T, base, method, path string, body any, want int) []byte {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/xml"
	default:
		raw, _ := json.Marshal(b)
		rd = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, out)
	}
	return out
}

func TestLoad(t *testing.T) {
	for _, sc := range testenv.Stores() {
		t.Run(sc.Name, func(t *testing.T) { testLoad(t, sc.DSN(t)) })
	}
}

func testLoad(t *testing.T, dsn string) {
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := mgmt.New(mgmt.Config{Store: st, AdminToken: token})
	if _, err := m.Seed(ctx, "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	u := srv.URL

	call(t, u, "PUT", "/api/v1/apis/second", map[string]any{"displayName": "Second", "path": "second", "serviceUrl": "http://backend.example", "subscriptionRequired": false,
		"subscriptionKeyParameterNames": map[string]string{"header": "X-Key", "query": "key"}}, 201)
	call(t, u, "PUT", "/api/v1/apis/second/operations/get-x", map[string]any{"displayName": "Get X", "method": "GET", "urlTemplate": "/x/{id}"}, 201)
	call(t, u, "PUT", "/api/v1/apis/second/policy", "<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>", 201)
	call(t, u, "PUT", "/api/v1/apis/echo-api/policy", "<policies><inbound><base/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>", 201)
	call(t, u, "PUT", "/api/v1/gateways/gw1", map[string]any{"locationData": map[string]string{"name": "Office"}}, 201)
	call(t, u, "PUT", "/api/v1/backends/b1", map[string]any{"url": "https://b1.example", "protocol": "http"}, 201)
	call(t, u, "PUT", "/api/v1/namedValues/nv1", map[string]any{"displayName": "Secret1", "value": "shh", "secret": true}, 201)
	call(t, u, "PUT", "/api/v1/subscriptions/all", map[string]any{"scope": "/apis", "displayName": "All", "state": "suspended"}, 201)
	var keys struct{ PrimaryKey, SecondaryKey string }
	json.Unmarshal(call(t, u, "POST", "/api/v1/subscriptions/admin-starter/listSecrets", nil, 200), &keys)

	t.Run("managed", func(t *testing.T) {
		before, _ := st.Revision(ctx)
		cfg, err := fromstore.Load(ctx, st, model.ManagedGatewayID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Revision != before || cfg.GatewayID != "managed" {
			t.Fatalf("revision %d (store %d), gateway %q", cfg.Revision, before, cfg.GatewayID)
		}
		var apis []string
		for _, a := range cfg.APIs {
			apis = append(apis, a.ID)
		}
		if !slices.Equal(apis, []string{"echo-api", "second"}) {
			t.Fatalf("apis %v", apis)
		}
		second := cfg.APIs[1]
		if second.SubscriptionRequired || second.SubscriptionKeyParameterNames.Header != "X-Key" || len(second.Operations) != 1 || second.Operations[0].URLTemplate != "/x/{id}" {
			t.Fatalf("second api %+v", second)
		}
		if !cfg.APIs[0].SubscriptionRequired || len(cfg.APIs[0].Operations) < 5 {
			t.Fatalf("echo api %+v", cfg.APIs[0])
		}
		k, ok := cfg.Subscriptions[secret.KeyHash(keys.PrimaryKey)]
		if !ok || k.SubscriptionID != "admin-starter" || k.Key != "primary" || k.Scope != "/products/starter" || k.ProductID != "starter" || k.State != "active" || k.OwnerID != "1" {
			t.Fatalf("starter primary key entry %+v (found %v)", k, ok)
		}
		if k := cfg.Subscriptions[secret.KeyHash(keys.SecondaryKey)]; k.Key != "secondary" {
			t.Fatalf("starter secondary key entry %+v", k)
		}
		var states []string
		for _, k := range cfg.Subscriptions {
			if k.SubscriptionID == "all" {
				states = append(states, k.State)
			}
		}
		if !slices.Equal(states, []string{"suspended", "suspended"}) {
			t.Fatalf("suspended subscription keys %v", states)
		}
		var scopes []string
		for _, p := range cfg.Policies {
			scopes = append(scopes, p.Scope)
		}
		if !slices.Equal(scopes, []string{"apis/echo-api", "apis/second", "products/starter"}) {
			t.Fatalf("policy scopes %v", scopes)
		}
		if len(cfg.Backends) != 1 || cfg.Backends[0].URL != "https://b1.example" || len(cfg.NamedValues) != 1 || cfg.NamedValues[0].Value != "shh" {
			t.Fatalf("backends %+v named values %+v", cfg.Backends, cfg.NamedValues)
		}
		for _, p := range cfg.Products {
			if p.ID == "starter" && (!slices.Equal(p.APIs, []string{"echo-api"}) || p.State != "published" || !p.SubscriptionRequired) {
				t.Fatalf("starter %+v", p)
			}
		}
		raw, _ := json.Marshal(cfg)
		if strings.Contains(string(raw), keys.PrimaryKey) || strings.Contains(string(raw), keys.SecondaryKey) {
			t.Fatal("the encoded config holds a subscription key")
		}
		if _, errs := snapshot.Compile(cfg); len(errs) != 0 {
			t.Fatalf("compile: %v", errs)
		}
	})

	t.Run("self-hosted gateway", func(t *testing.T) {
		call(t, u, "PUT", "/api/v1/gateways/gw1/apis/second", nil, 201)
		managed, err := fromstore.Load(ctx, st, model.ManagedGatewayID)
		if err != nil {
			t.Fatal(err)
		}
		if len(managed.APIs) != 1 || managed.APIs[0].ID != "echo-api" {
			t.Fatalf("the built-in gateway still serves an API assigned to a self-hosted one: %+v", managed.APIs)
		}
		cfg, err := fromstore.Load(ctx, st, "gw1")
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.APIs) != 1 || cfg.APIs[0].ID != "second" {
			t.Fatalf("apis %+v", cfg.APIs)
		}
		for _, p := range cfg.Products {
			if len(p.APIs) != 0 {
				t.Fatalf("product %s lists apis %v not assigned to the gateway", p.ID, p.APIs)
			}
		}
		for _, p := range cfg.Policies {
			if p.Scope == "apis/echo-api" {
				t.Fatal("policy of an unassigned api included")
			}
		}
	})
}
