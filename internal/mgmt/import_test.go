package mgmt_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "openapi", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func opIDs(e *env, api string) []string {
	r := e.must(200, "GET", "/api/v1/apis/"+api+"/operations?top=1000", nil)
	var ids []string
	for _, v := range r.get("value").([]any) {
		ids = append(ids, v.(map[string]any)["name"].(string))
	}
	return ids
}

func TestImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tests := []struct {
			name, format, file, path string
			wantOps                  int
			wantOp                   string // an operation id that must exist
			wantTemplate             string // its URL template
			wantServiceURL           string
		}{
			{"swagger 2 json", "swagger-json", "petstore-swagger2.json", "petstore", 8, "get-pet-by-id", "/pet/{petId}", ""},
			{"swagger 2 yaml", "swagger-yaml", "bookstore-swagger2.yaml", "books", 6, "get-book", "", ""},
			{"openapi 3.0 yaml with refs", "openapi", "orders-openapi30.yaml", "orders", 5, "list-orders", "/orders", "https://eu.orders.example.com/v1"},
			{"openapi 3.1 json", "openapi+json", "tasks-openapi31.json", "tasks", 4, "", "", ""},
			{"no operation ids", "openapi", "blog-noids-openapi30.yaml", "blog", 0, "", "", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				r := e.must(201, "PUT", "/api/v1/apis/"+tc.path, map[string]any{"format": tc.format, "value": fixture(t, tc.file), "path": tc.path})
				if r.str("path") != tc.path || r.str("displayName") == "" {
					t.Fatalf("imported API = %s", r.raw)
				}
				if tc.wantServiceURL != "" && r.str("serviceUrl") != tc.wantServiceURL {
					t.Fatalf("serviceUrl = %q, want %q", r.str("serviceUrl"), tc.wantServiceURL)
				}
				ids := opIDs(e, tc.path)
				if tc.wantOps > 0 && len(ids) != tc.wantOps {
					t.Fatalf("imported %d operations %v, want %d", len(ids), ids, tc.wantOps)
				}
				if len(ids) == 0 {
					t.Fatal("no operations imported")
				}
				if tc.wantOp != "" {
					op := e.must(200, "GET", "/api/v1/apis/"+tc.path+"/operations/"+tc.wantOp, nil)
					if tc.wantTemplate != "" && op.str("urlTemplate") != tc.wantTemplate {
						t.Fatalf("template = %q", op.str("urlTemplate"))
					}
				}
				// export is a valid OpenAPI 3 document that re-imports to the same operations
				exp := e.must(200, "GET", "/api/v1/apis/"+tc.path+"?export=openapi+json", nil)
				if !strings.HasPrefix(exp.str("openapi"), "3.") {
					t.Fatalf("export = %.300s", exp.raw)
				}
				e.must(201, "PUT", "/api/v1/apis/"+tc.path+"-copy", map[string]any{"format": "openapi+json", "value": string(exp.raw), "path": tc.path + "-copy"})
				if got := opIDs(e, tc.path+"-copy"); strings.Join(got, ",") != strings.Join(ids, ",") {
					t.Fatalf("round trip: %v != %v", got, ids)
				}
				yaml := e.must(200, "GET", "/api/v1/apis/"+tc.path+"?export=openapi", nil)
				if !strings.Contains(string(yaml.raw), "openapi: 3.") {
					t.Fatalf("yaml export = %.200s", yaml.raw)
				}
				if orig := e.must(200, "GET", "/api/v1/apis/"+tc.path+"?export=original", nil); string(orig.raw) != fixture(t, tc.file) {
					t.Fatal("the original document was not kept as is")
				}
			})
		}
		e.t = t
		// The Swagger 2 petstore path parameter came through with its type.
		op := e.must(200, "GET", "/api/v1/apis/petstore/operations/get-pet-by-id", nil)
		if op.str("templateParameters.0.name") != "petId" || op.str("templateParameters.0.type") != "integer" {
			t.Fatalf("petstore operation = %s", op.raw)
		}
	})
}

func TestReimportReplacesAndRemoves(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		v1 := `openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /items:
    get: {operationId: listItems, summary: List items, responses: {"200": {description: ok}}}
    post: {operationId: createItem, responses: {"201": {description: created}}}
  /items/{id}:
    get:
      operationId: getItem
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
`
		e.must(201, "PUT", "/api/v1/apis/shop", map[string]any{"format": "openapi", "value": v1, "path": "shop", "serviceUrl": "https://shop.example"})
		e.must(201, "PUT", "/api/v1/apis/shop/operations/get-item/policy", `<policies><inbound><base/></inbound></policies>`, "Content-Type", "application/xml")
		e.must(201, "PUT", "/api/v1/apis/shop/operations/list-items/policy", `<policies><inbound><base/></inbound></policies>`, "Content-Type", "application/xml")
		v2 := strings.Replace(v1, "summary: List items", "summary: List all items", 1)
		v2 = strings.Replace(v2, "    post: {operationId: createItem, responses: {\"201\": {description: created}}}\n", "", 1)
		v2 = strings.Replace(v2, "getItem", "fetchItem", 1)
		r := e.must(200, "PUT", "/api/v1/apis/shop", map[string]any{"format": "openapi", "value": v2})
		if r.str("path") != "shop" || r.str("serviceUrl") != "https://shop.example" && r.str("serviceUrl") != "" {
			t.Fatalf("re-import lost the path: %s", r.raw)
		}
		if got := strings.Join(opIDs(e, "shop"), ","); got != "fetch-item,list-items" {
			t.Fatalf("operations after re-import = %s", got)
		}
		if op := e.must(200, "GET", "/api/v1/apis/shop/operations/list-items", nil); op.str("displayName") != "List all items" {
			t.Fatalf("list-items not replaced: %s", op.raw)
		}
		e.must(200, "GET", "/api/v1/apis/shop/operations/list-items/policy", nil) // kept: same operation id
		e.must(404, "GET", "/api/v1/apis/shop/operations/get-item/policy", nil)   // removed with its operation
	})
}

func TestImportRefusals(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		big := "openapi: 3.0.3\ninfo: {title: Big, version: '1'}\npaths: {}\n# " + strings.Repeat("x", 4<<20)
		bad := `{"openapi": "3.0.3", "info": {"title": "Bad", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Missing"}}}}}}`
		e.run(t, []call{
			{name: "unknown format", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "wadl", "value": "x", "path": "x"}, wantStatus: 400, wantField: "format"},
			{name: "new API needs a path", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": fixture(t, "orders-openapi30.yaml")}, wantStatus: 400, wantField: "path"},
			{name: "not a document", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": "%%% not yaml {", "path": "x"}, wantStatus: 400, wantIn: "value"},
			{name: "empty document", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": "", "path": "x"}, wantStatus: 400},
			{name: "bad ref", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi+json", "value": bad, "path": "x"}, wantStatus: 400},
			{name: "too large", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": big, "path": "x"}, wantStatus: 413},
			{name: "unknown property", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": "x", "path": "x", "link": "http://x"}, wantStatus: 400, wantField: "link"},
			{name: "path taken", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"format": "openapi", "value": fixture(t, "orders-openapi30.yaml"), "path": "echo"}, wantStatus: 409, wantField: "path"},
		})
		e.must(404, "GET", "/api/v1/apis/x", nil)
	})
}

// FuzzImportEndpoint sends arbitrary documents through the import endpoint:
// the answer is never a 5xx, and a refused import changes nothing.
func FuzzImportEndpoint(f *testing.F) {
	for _, name := range []string{"petstore-swagger2.json", "orders-openapi30.yaml", "tasks-openapi31.json"} {
		f.Add("openapi", fixture(f, name))
	}
	f.Add("swagger-json", `{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/a/{b}":{"get":{"responses":{"200":{"description":"x"}}}}}}`)
	f.Add("openapi", "openapi: 3.0.0\npaths:\n  /x:\n    get: {}\n")
	f.Add("openapi", "{")
	f.Fuzz(func(t *testing.T, format, doc string) {
		e := fuzzEnv(t)
		defer func() { e.t = nil }()
		before := e.revision()
		body, _ := json.Marshal(map[string]any{"format": format, "value": doc, "path": "fz"})
		r := e.do("PUT", "/api/v1/apis/fz", body)
		switch {
		case r.status >= 500:
			t.Fatalf("import answered %d: %s", r.status, r.raw)
		case r.status >= 400 && e.revision() != before:
			t.Fatalf("refused import (%d) changed the store", r.status)
		case r.status < 300:
			e.must(204, "DELETE", "/api/v1/apis/fz", nil)
		}
	})
}
