package mgmt_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

func TestReferencedObjectsRevalidatePolicies(t *testing.T) {
	for _, sc := range testenv.Stores() {
		t.Run(sc.Name, func(t *testing.T) {
			st, err := store.Open(context.Background(), sc.DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			m := mgmt.New(mgmt.Config{Store: st, AdminToken: testToken})
			if _, err := m.Seed(context.Background(), "http://127.0.0.1:9"); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(m.Handler())
			defer srv.Close()
			e := &env{t: t, url: srv.URL, store: st}
			xml := func(s string) []string { return []string{"Content-Type", "application/xml"} }
			e.must(201, "PUT", "/api/v1/namedValues/key", map[string]any{"displayName": "backendKey", "value": "v1", "secret": true})
			e.must(201, "PUT", "/api/v1/backends/b1", map[string]any{"url": "https://b1.example"})
			e.must(201, "PUT", "/api/v1/policyFragments/stamp", map[string]any{"value": `<fragment><set-header name="X-Stamp" exists-action="override"><value>1</value></set-header></fragment>`})
			e.must(201, "PUT", "/api/v1/apis/echo-api/policy", `<policies>
  <inbound>
    <base />
    <set-header name="X-Key" exists-action="override"><value>{{backendKey}}</value></set-header>
    <include-fragment fragment-id="stamp" />
    <set-backend-service backend-id="b1" />
  </inbound>
  <backend><base /></backend>
  <outbound><base /></outbound>
  <on-error><base /></on-error>
</policies>`, xml("")...)
			e.run(t, []call{
				{name: "unknown named value refused on save", method: "PUT", path: "/api/v1/policy", body: `<policies><inbound><set-header name="X" exists-action="override"><value>{{nope}}</value></set-header></inbound></policies>`, hdr: xml(""), wantStatus: 400, wantIn: "nope"},
				{name: "deleting a used named value", method: "DELETE", path: "/api/v1/namedValues/key", wantStatus: 409, wantIn: "apis/echo-api"},
				{name: "renaming a used named value", method: "PATCH", path: "/api/v1/namedValues/key", body: map[string]any{"displayName": "otherKey"}, wantStatus: 409, wantIn: "backendKey"},
				{name: "changing its value is fine", method: "PATCH", path: "/api/v1/namedValues/key", body: map[string]any{"value": "v2"}, wantStatus: 200, wantNotIn: "v2"},
				{name: "deleting a used fragment", method: "DELETE", path: "/api/v1/policyFragments/stamp", wantStatus: 409, wantIn: "apis/echo-api"},
				{name: "a fragment with an unknown policy", method: "PUT", path: "/api/v1/policyFragments/stamp", body: map[string]any{"value": `<fragment><frobnicate/></fragment>`}, wantStatus: 400, wantIn: "frobnicate"},
				{name: "deleting a used backend", method: "DELETE", path: "/api/v1/backends/b1", wantStatus: 409, wantIn: "backend b1"},
				{name: "an unused named value can go", method: "PUT", path: "/api/v1/namedValues/spare", body: map[string]any{"displayName": "spare", "value": "x"}, wantStatus: 201},
				{name: "and be deleted", method: "DELETE", path: "/api/v1/namedValues/spare", wantStatus: 204},
			})
		})
	}
}
