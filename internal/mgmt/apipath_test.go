package mgmt_test

import (
	"testing"
)

// TestAPIPathHeldByOneAPI: the gateway routes by path alone, so a path (in
// any case, with any apiVersion) belongs to one API; every way of writing an
// API that would take another's path is refused with a 409 naming the
// holder, and leaves the store as it was (run checks the revision).
func TestAPIPathHeldByOneAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/apis/orders", map[string]any{"displayName": "Orders", "path": "orders", "apiVersion": "v1"})
		e.must(201, "PUT", "/api/v1/apis/shop", map[string]any{"displayName": "Shop", "path": "shop"})
		const echoTaken = `path \"echo\" is already used by API \"echo-api\"`
		e.run(t, []call{
			{name: "create on the path", method: "PUT", path: "/api/v1/apis/dup", body: map[string]any{"displayName": "D", "path": "echo"}, wantStatus: 409, wantField: "path", wantIn: echoTaken},
			{name: "create with another apiVersion", method: "PUT", path: "/api/v1/apis/echo-v2", body: map[string]any{"displayName": "D", "path": "echo", "apiVersion": "v2", "apiVersionSetId": "echo"}, wantStatus: 409, wantField: "path", wantIn: echoTaken},
			{name: "create without the holder's apiVersion", method: "PUT", path: "/api/v1/apis/dup", body: map[string]any{"displayName": "D", "path": "Orders/"}, wantStatus: 409, wantField: "path", wantIn: `already used by API \"orders\"`},
			{name: "patch path", method: "PATCH", path: "/api/v1/apis/shop", body: map[string]any{"path": "ECHO"}, wantStatus: 409, wantField: "path", wantIn: `path \"ECHO\" is already used by API \"echo-api\"`},
			{name: "patch apiVersion onto a taken path", method: "PATCH", path: "/api/v1/apis/shop", body: map[string]any{"path": "orders", "apiVersion": "v2"}, wantStatus: 409, wantField: "path", wantIn: `already used by API \"orders\"`},
			{name: "put update", method: "PUT", path: "/api/v1/apis/shop", body: map[string]any{"displayName": "Shop", "path": "echo"}, wantStatus: 409, wantField: "path", wantIn: echoTaken},
			{name: "import a new API", method: "PUT", path: "/api/v1/apis/imported", body: map[string]any{"format": "openapi", "value": fixture(t, "orders-openapi30.yaml"), "path": "echo"}, wantStatus: 409, wantField: "path", wantIn: echoTaken},
			{name: "re-import over an API", method: "PUT", path: "/api/v1/apis/shop", body: map[string]any{"format": "openapi", "value": fixture(t, "orders-openapi30.yaml"), "path": "echo", "apiVersion": "v9"}, wantStatus: 409, wantField: "path", wantIn: echoTaken},
			// A path under another API's path is its own: the longest path wins.
			{name: "path under another", method: "PUT", path: "/api/v1/apis/orders-v2", body: map[string]any{"displayName": "O2", "path": "orders/v2"}, wantStatus: 201},
			{name: "path above another", method: "PUT", path: "/api/v1/apis/root", body: map[string]any{"displayName": "Root", "path": ""}, wantStatus: 201},
			{name: "second empty path", method: "PUT", path: "/api/v1/apis/root2", body: map[string]any{"displayName": "Root", "path": "/"}, wantStatus: 409, wantField: "path", wantIn: `already used by API \"root\"`},
			// An API keeps its own path through updates, in any case and version.
			{name: "update own path", method: "PATCH", path: "/api/v1/apis/orders", body: map[string]any{"path": "ORDERS", "apiVersion": "v3"}, wantStatus: 200},
		})
		if got := e.must(200, "GET", "/api/v1/apis/shop", nil); got.str("path") != "shop" || got.str("apiVersion") != "" {
			t.Fatalf("refused changes altered the API: %s", got.raw)
		}
		if got := e.do("GET", "/api/v1/apis/imported", nil); got.status != 404 {
			t.Fatalf("refused import created the API: %d %s", got.status, got.raw)
		}
		// Moving away frees the path, under its old spelling too.
		e.must(200, "PATCH", "/api/v1/apis/shop", map[string]any{"path": "shop2"})
		e.must(201, "PUT", "/api/v1/apis/shop-again", map[string]any{"displayName": "S", "path": "Shop"})
		e.must(204, "DELETE", "/api/v1/apis/echo-api", nil)
		e.must(201, "PUT", "/api/v1/apis/echo-v2", map[string]any{"displayName": "D", "path": "echo", "apiVersion": "v2"})
	})
}
