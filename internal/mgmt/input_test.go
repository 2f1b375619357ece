package mgmt_test

import (
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/testenv"
)

// TestBadInputStatuses is issue 11's "bad input gets the right status" on
// both stores: a body of another media type is 415, a repeated JSON member
// and the NUL character are 400 naming the JSON path, and none of them
// writes anything (call.run checks the revision did not move).
func TestBadInputStatuses(t *testing.T) {
	const pol = `<policies><inbound><base/></inbound></policies>`
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/apis/shop", map[string]any{"displayName": "Shop", "path": "shop", "serviceUrl": "http://backend.example"})
		e.run(t, []call{
			// media types
			{name: "text/plain", method: "PUT", path: "/api/v1/products/p", body: `{"displayName": "P"}`, hdr: []string{"Content-Type", "text/plain"}, wantStatus: 415, wantIn: "application/json"},
			{name: "form", method: "PUT", path: "/api/v1/products/p", body: `{"displayName": "P"}`, hdr: []string{"Content-Type", "application/x-www-form-urlencoded"}, wantStatus: 415},
			{name: "no content type", method: "PUT", path: "/api/v1/products/p", body: `{"displayName": "P"}`, hdr: []string{"Content-Type", ""}, wantStatus: 415},
			{name: "xml is not for resources", method: "PUT", path: "/api/v1/products/p", body: `<displayName>P</displayName>`, hdr: []string{"Content-Type", "application/xml"}, wantStatus: 415},
			{name: "not utf-8", method: "PUT", path: "/api/v1/products/p", body: `{"displayName": "P"}`, hdr: []string{"Content-Type", "application/json; charset=iso-8859-1"}, wantStatus: 415},
			{name: "json with charset", method: "PUT", path: "/api/v1/products/p", body: `{"displayName": "P"}`, hdr: []string{"Content-Type", "application/json; charset=UTF-8"}, wantStatus: 201},
			{name: "merge patch type", method: "PATCH", path: "/api/v1/products/p", body: `{"description": "d"}`, hdr: []string{"Content-Type", "application/merge-patch+json"}, wantStatus: 200},
			{name: "action body of another type", method: "POST", path: "/api/v1/gateways/managed/listDebugCredentials", body: `{"apiId": "shop"}`, hdr: []string{"Content-Type", "text/plain"}, wantStatus: 415},
			{name: "action without a body needs no type", method: "POST", path: "/api/v1/subscriptions/admin-starter/listSecrets", wantStatus: 200},
			{name: "policy as text/plain", method: "PUT", path: "/api/v1/apis/shop/policy", body: pol, hdr: []string{"Content-Type", "text/plain"}, wantStatus: 415, wantIn: "application/xml"},
			{name: "policy without a type", method: "PUT", path: "/api/v1/apis/shop/policy", body: pol, hdr: []string{"Content-Type", ""}, wantStatus: 415},
			{name: "policy as APIM's type", method: "PUT", path: "/api/v1/apis/shop/policy", body: pol, hdr: []string{"Content-Type", "application/vnd.ms-azure-apim.policy+xml"}, wantStatus: 201},
			{name: "policy as text/xml", method: "PUT", path: "/api/v1/apis/shop/policy", body: pol, hdr: []string{"Content-Type", "text/xml; charset=utf-8"}, wantStatus: 200},
			{name: "policy in APIM's envelope", method: "PUT", path: "/api/v1/apis/shop/policy", body: map[string]any{"properties": map[string]any{"format": "rawxml", "value": pol}}, wantStatus: 200, wantIn: `"format": "rawxml"`},

			// repeated members, at any depth, named by their path
			{name: "repeated member", method: "PUT", path: "/api/v1/products/q", body: `{"displayName": "A", "displayName": "B"}`, wantStatus: 400, wantField: "displayName"},
			{name: "repeated nested member", method: "PUT", path: "/api/v1/apis/shop", body: `{"displayName": "Shop", "path": "shop", "serviceUrl": "http://backend.example",
				"subscriptionKeyParameterNames": {"header": "X-A", "query": "a", "header": "X-B"}}`, wantStatus: 400, wantField: "subscriptionKeyParameterNames.header"},
			{name: "repeated member in an array", method: "PUT", path: "/api/v1/apis/shop/operations/get", body: `{"displayName": "Get", "method": "GET", "urlTemplate": "/u/{id}",
				"templateParameters": [{"name": "id", "type": "string", "type": "integer"}]}`, wantStatus: 400, wantField: "templateParameters[0].type"},
			{name: "repeated member in the envelope", method: "PUT", path: "/api/v1/products/q", body: `{"properties": {"displayName": "A", "displayName": "A"}}`, wantStatus: 400, wantField: "properties.displayName"},
			{name: "repeated member in a patch", method: "PATCH", path: "/api/v1/products/p", body: `{"state": "published", "state": "notPublished"}`, wantStatus: 400, wantField: "state"},
			{name: "repeated member in a JSON policy", method: "PUT", path: "/api/v1/apis/shop/policy", body: `{"format": "rawxml", "value": "<policies/>", "value": "<policies></policies>"}`, wantStatus: 400, wantField: "value"},
			{name: "same name in two objects is fine", method: "PUT", path: "/api/v1/apis/shop/operations/get", body: `{"displayName": "Get", "method": "GET", "urlTemplate": "/u/{id}",
				"templateParameters": [{"name": "id", "type": "string"}], "request": {"description": "x"}, "description": "y"}`, wantStatus: 201},

			// NUL, refused before it reaches the store, on both stores
			{name: "NUL in a string", method: "PUT", path: "/api/v1/products/q", body: `{"displayName": "A\u0000B"}`, wantStatus: 400, wantField: "displayName"},
			{name: "NUL in an array", method: "PUT", path: "/api/v1/apis/shop", body: `{"displayName": "Shop", "path": "shop", "serviceUrl": "http://backend.example", "tags": ["ok", "b\u0000d"]}`, wantStatus: 400, wantField: "tags[1]"},
			{name: "NUL in a member name", method: "PUT", path: "/api/v1/products/q", body: `{"displayName": "A", "x\u0000": 1}`, wantStatus: 400, wantField: "x\x00"},
			{name: "NUL in a patch", method: "PATCH", path: "/api/v1/products/p", body: `{"description": "\u0000"}`, wantStatus: 400, wantField: "description"},
			{name: "NUL in a user", method: "PUT", path: "/api/v1/users/u1", body: `{"email": "a@example.com", "firstName": "A\u0000", "lastName": "B"}`, wantStatus: 400, wantField: "firstName"},
			{name: "NUL in an import", method: "PUT", path: "/api/v1/apis/imp", body: `{"format": "openapi", "path": "imp", "value": "openapi: 3.0.3\ninfo: {title: \"T\u0000\", version: '1'}\npaths: {}\n"}`, wantStatus: 400, wantField: "value"},
			{name: "NUL in a JSON policy", method: "PUT", path: "/api/v1/apis/shop/policy", body: map[string]any{"format": "rawxml", "value": "<policies>\x00</policies>"}, wantStatus: 400, wantField: "value"},
			{name: "NUL in an XML policy", method: "PUT", path: "/api/v1/apis/shop/policy", body: "<policies>\x00</policies>", hdr: []string{"Content-Type", "application/xml"}, wantStatus: 400, wantField: "value"},
			{name: "NUL in a query parameter", method: "GET", path: "/api/v1/products?filter=name%20eq%20%27a%00%27", wantStatus: 400, wantField: "filter"},
		})
		if r := e.must(200, "GET", "/api/v1/products/p", nil); r.str("description") != "d" || r.str("state") != "notPublished" {
			t.Fatalf("product changed by a refused request: %s", r.raw)
		}
	})
}

// TestStoreUnreachable: a write or a read while PostgreSQL cannot be
// reached is 503 with Retry-After and a problem document, not 500, and the
// API serves again once the database is back. On SQLite, the same for a
// store that was closed (as during shutdown).
func TestStoreUnreachable(t *testing.T) {
	check := func(t *testing.T, r resp) {
		t.Helper()
		if r.status != 503 || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/problem+json" || r.str("code") != "ServiceUnavailable" {
			t.Fatalf("= %d Retry-After %q %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.raw)
		}
	}
	t.Run("postgres", func(t *testing.T) {
		dsn, proxy := testenv.PostgresBehindProxy(t)
		e := newEnv(t, dsn)
		e.must(201, "PUT", "/api/v1/products/before", map[string]any{"displayName": "Before"})

		proxy.Cut()
		check(t, e.do("PUT", "/api/v1/products/during", map[string]any{"displayName": "During"}))
		check(t, e.do("PATCH", "/api/v1/products/before", map[string]any{"description": "x"}))
		check(t, e.do("POST", "/api/v1/subscriptions/admin-starter/regeneratePrimaryKey", nil))
		check(t, e.do("PUT", "/api/v1/apis/echo-api/policy", `<policies/>`, "Content-Type", "application/xml"))
		check(t, e.do("GET", "/api/v1/products", nil))

		proxy.Restore()
		e.must(201, "PUT", "/api/v1/products/after", map[string]any{"displayName": "After"})
		if r := e.must(200, "GET", "/api/v1/products?filter=name%20eq%20'during'", nil); r.num("count") != 0 {
			t.Fatalf("the refused write was stored: %s", r.raw)
		}
	})
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t, testenv.SQLite(t))
		e.store.Close()
		r := e.do("PUT", "/api/v1/products/during", map[string]any{"displayName": "During"})
		check(t, r)
		if strings.Contains(string(r.raw), "sql:") {
			t.Fatalf("the problem shows internals: %s", r.raw)
		}
	})
}
