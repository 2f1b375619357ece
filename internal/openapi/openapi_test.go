package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/portico-gw/portico/internal/model"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustImport(t *testing.T, format string, doc []byte) *Result {
	t.Helper()
	res, err := Import(format, doc)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

func opByID(t *testing.T, res *Result, id string) model.Operation {
	t.Helper()
	for _, o := range res.Operations {
		if o.ID == id {
			return o.Operation
		}
	}
	t.Fatalf("no operation %q", id)
	return model.Operation{}
}

func paramByName(t *testing.T, ps []model.Parameter, name string) model.Parameter {
	t.Helper()
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no parameter %q in %+v", name, ps)
	return model.Parameter{}
}

func response(t *testing.T, o model.Operation, code int) model.ResponseDescription {
	t.Helper()
	for _, r := range o.Responses {
		if r.StatusCode == code {
			return r
		}
	}
	t.Fatalf("no response %d in %s %s", code, o.Method, o.URLTemplate)
	return model.ResponseDescription{}
}

func rep(t *testing.T, reps []model.Representation, ct string) model.Representation {
	t.Helper()
	for _, r := range reps {
		if r.ContentType == ct {
			return r
		}
	}
	t.Fatalf("no representation %q in %+v", ct, reps)
	return model.Representation{}
}

// jsonAt decodes raw and walks a slash-separated path of object keys and
// array indexes through it.
func jsonAt(t *testing.T, raw json.RawMessage, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", raw, err)
	}
	if path == "" {
		return v
	}
	for _, k := range strings.Split(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("no %q at %q in %s", k, path, raw)
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				t.Fatalf("no index %q at %q in %s", k, path, raw)
			}
			v = x[i]
		default:
			t.Fatalf("cannot walk %q at %q in %s", k, path, raw)
		}
	}
	return v
}

func jsonEq(t *testing.T, raw json.RawMessage, want string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("invalid JSON %s: %v", raw, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("JSON = %s, want %s", raw, want)
	}
}

// allSchemas lists every schema and example value in an operation.
func allSchemas(o model.Operation) []json.RawMessage {
	var out []json.RawMessage
	params := func(ps []model.Parameter) {
		for _, p := range ps {
			out = append(out, p.Schema)
		}
	}
	reps := func(rs []model.Representation) {
		for _, r := range rs {
			out = append(out, r.Schema)
		}
	}
	params(o.TemplateParameters)
	if o.Request != nil {
		params(o.Request.QueryParameters)
		params(o.Request.Headers)
		reps(o.Request.Representations)
	}
	for _, r := range o.Responses {
		params(r.Headers)
		reps(r.Representations)
	}
	return out
}

func hasWarning(ws []string, sub string) bool {
	return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, sub) })
}

// checkResult asserts the invariants every successful import keeps.
func checkResult(t testing.TB, res *Result, doc []byte) {
	t.Helper()
	if !bytes.Equal(res.Document, doc) {
		t.Errorf("Document was changed")
	}
	if len(res.Operations) == 0 {
		t.Errorf("no operations")
	}
	ids := map[string]bool{}
	for _, o := range res.Operations {
		if !model.ValidID(o.ID) {
			t.Errorf("invalid id %q", o.ID)
		}
		if ids[o.ID] {
			t.Errorf("duplicate id %q", o.ID)
		}
		ids[o.ID] = true
		op := o.Operation
		op.Normalize()
		if fe := op.Validate(); len(fe) > 0 {
			t.Errorf("operation %q does not validate: %v", o.ID, fe)
		}
		for _, s := range allSchemas(op) {
			if len(s) == 0 {
				continue
			}
			var sch openapi3.Schema
			if err := json.Unmarshal(s, &sch); err != nil {
				t.Errorf("operation %q: schema is not a JSON schema (%v): %s", o.ID, err, s)
			} else if ref := findSchemaRef(&sch, 0); ref != "" {
				t.Errorf("operation %q: schema still holds $ref %q: %s", o.ID, ref, s)
			}
		}
	}
	api := res.API
	api.Normalize()
	if fe := api.Validate(); len(fe) > 0 {
		t.Errorf("API does not validate: %v", fe)
	}
	if res.API.Path != "" || res.API.APIVersion != "" {
		t.Errorf("API path/version = %q/%q, want both empty", res.API.Path, res.API.APIVersion)
	}
}

// findSchemaRef returns the first $ref left in a schema's subschemas.
func findSchemaRef(s *openapi3.Schema, depth int) string {
	if s == nil || depth > 1000 {
		return ""
	}
	var refs []*openapi3.SchemaRef
	refs = append(refs, s.OneOf...)
	refs = append(refs, s.AnyOf...)
	refs = append(refs, s.AllOf...)
	refs = append(refs, s.PrefixItems...)
	refs = append(refs, s.Not, s.Items, s.AdditionalProperties.Schema, s.Contains, s.PropertyNames,
		s.UnevaluatedItems.Schema, s.UnevaluatedProperties.Schema, s.If, s.Then, s.Else, s.ContentSchema)
	for _, m := range []openapi3.Schemas{s.Properties, s.PatternProperties, s.DependentSchemas, s.Defs} {
		for _, r := range m {
			refs = append(refs, r)
		}
	}
	for _, r := range refs {
		if r == nil {
			continue
		}
		if r.Ref != "" {
			return r.Ref
		}
		if ref := findSchemaRef(r.Value, depth+1); ref != "" {
			return ref
		}
	}
	return ""
}

type wantOp struct{ id, method, template, display string }

func TestImportFixtures(t *testing.T) {
	tests := []struct {
		name       string
		format     string
		file       string
		title      string
		serviceURL string
		tags       []string
		ops        []wantOp
		warnings   []string // substrings each of which some warning holds
		noWarnings bool
		check      func(t *testing.T, res *Result)
	}{
		{
			name: "swagger 2.0 json petstore", format: FormatSwaggerJSON, file: "petstore-swagger2.json",
			title: "Swagger Petstore", serviceURL: "https://petstore.example.com/v2", tags: []string{"pet", "store", "user"},
			ops: []wantOp{
				{"update-pet", "PUT", "/pet", "Update an existing pet"},
				{"add-pet", "POST", "/pet", "Add a new pet to the store"},
				{"find-pets-by-status", "GET", "/pet/findByStatus", "Finds Pets by status"},
				{"get-pet-by-id", "GET", "/pet/{petId}", "Find pet by ID"},
				{"update-pet-with-form", "POST", "/pet/{petId}", "Updates a pet in the store with form data"},
				{"delete-pet", "DELETE", "/pet/{petId}", "Deletes a pet"},
				{"get-order-by-id", "GET", "/store/order/{orderId}", "Find purchase order by ID"},
				{"login-user", "GET", "/user/login", "Logs user into the system"},
			},
			noWarnings: true,
			check: func(t *testing.T, res *Result) {
				if res.API.Description != "A sample pet store server." {
					t.Errorf("description = %q", res.API.Description)
				}
				get := opByID(t, res, "get-pet-by-id")
				if get.Description != "Returns a single pet" || !slices.Equal(get.Tags, []string{"pet"}) {
					t.Errorf("get-pet-by-id description/tags = %q/%q", get.Description, get.Tags)
				}
				p := paramByName(t, get.TemplateParameters, "petId")
				if p.Type != "integer" || !p.Required || p.Description != "ID of pet to return" {
					t.Errorf("petId = %+v", p)
				}
				jsonEq(t, p.Schema, `{"type":"integer","format":"int64"}`)
				ok := rep(t, response(t, get, 200).Representations, "application/json")
				if got := jsonAt(t, ok.Schema, "properties/category/properties/name/type"); got != "string" {
					t.Errorf("resolved category.name type = %v", got)
				}
				if got := jsonAt(t, ok.Schema, "properties/tags/items/properties/id/format"); got != "int64" {
					t.Errorf("resolved tags[].id format = %v", got)
				}
				if r := response(t, get, 404); r.Description != "Pet not found" || len(r.Representations) != 0 {
					t.Errorf("404 = %+v", r)
				}

				find := opByID(t, res, "find-pets-by-status")
				st := paramByName(t, find.Request.QueryParameters, "status")
				if st.Type != "array" || !st.Required {
					t.Errorf("status = %+v", st)
				}
				if got := jsonAt(t, st.Schema, "items/enum/2"); got != "sold" {
					t.Errorf("status items enum = %v", got)
				}
				if got := jsonAt(t, rep(t, response(t, find, 200).Representations, "application/json").Schema, "items/required/1"); got != "photoUrls" {
					t.Errorf("array of Pet = %v", got)
				}

				add := opByID(t, res, "add-pet")
				body := rep(t, add.Request.Representations, "application/json")
				jsonEq(t, json.RawMessage(mustMarshal(t, jsonAt(t, body.Schema, "required"))), `["name","photoUrls"]`)

				form := opByID(t, res, "update-pet-with-form")
				fb := rep(t, form.Request.Representations, "application/x-www-form-urlencoded")
				if got := jsonAt(t, fb.Schema, "properties/status/type"); got != "string" {
					t.Errorf("form status = %v", got)
				}

				del := opByID(t, res, "delete-pet")
				if h := paramByName(t, del.Request.Headers, "api_key"); h.Type != "string" || h.Required {
					t.Errorf("api_key = %+v", h)
				}

				login := opByID(t, res, "login-user")
				r := response(t, login, 200)
				if h := paramByName(t, r.Headers, "X-Rate-Limit"); h.Type != "integer" || h.Description != "calls per hour allowed by the user" {
					t.Errorf("X-Rate-Limit = %+v", h)
				}
				if h := paramByName(t, r.Headers, "X-Expires-After"); h.Type != "string" {
					t.Errorf("X-Expires-After = %+v", h)
				}
				if len(login.Request.QueryParameters) != 2 {
					t.Errorf("login query = %+v", login.Request.QueryParameters)
				}
			},
		},
		{
			name: "swagger 2.0 yaml bookstore", format: FormatSwaggerYAML, file: "bookstore-swagger2.yaml",
			title: "Bookstore", serviceURL: "https://books.example.org/api", tags: []string{"books", "reviews"},
			ops: []wantOp{
				{"list-books", "GET", "/books", "List books"},
				{"create-book", "POST", "/books", "Add a book"},
				{"get-book", "GET", "/books/{isbn}", "Get a book"},
				{"delete-book", "DELETE", "/books/{isbn}", "deleteBook"},
				{"upload-cover", "PUT", "/books/{isbn}/cover", "Upload a cover image"},
				{"list-reviews", "GET", "/books/{isbn}/reviews", "List reviews of a book"},
			},
			noWarnings: true,
			check: func(t *testing.T, res *Result) {
				list := opByID(t, res, "list-books")
				limit := paramByName(t, list.Request.QueryParameters, "limit")
				if limit.Type != "integer" || limit.DefaultValue != "20" || limit.Required {
					t.Errorf("limit = %+v", limit)
				}
				sort := paramByName(t, list.Request.QueryParameters, "sort")
				if sort.DefaultValue != "title" || !slices.Equal(sort.Values, []string{"title", "author", "published"}) {
					t.Errorf("sort = %+v", sort)
				}
				if h := paramByName(t, list.Request.Headers, "X-Trace-Id"); h.Description != "Correlation id echoed in logs" {
					t.Errorf("X-Trace-Id from $ref = %+v", h)
				}
				ok := rep(t, response(t, list, 200).Representations, "application/json")
				if got := jsonAt(t, ok.Examples["default"].Value, "0/isbn"); got != "9780262033848" {
					t.Errorf("example isbn = %v", got)
				}

				get := opByID(t, res, "get-book")
				isbn := paramByName(t, get.TemplateParameters, "isbn")
				if isbn.Description != "The 13-digit ISBN" || !isbn.Required {
					t.Errorf("path-level isbn = %+v", isbn)
				}
				if got := jsonAt(t, isbn.Schema, "pattern"); got != "^[0-9]{13}$" {
					t.Errorf("isbn pattern = %v", got)
				}

				create := opByID(t, res, "create-book")
				if h := paramByName(t, response(t, create, 201).Headers, "Location"); h.Description != "URL of the new book" {
					t.Errorf("Location = %+v", h)
				}
				bad := response(t, create, 400)
				if bad.Description != "The request is malformed" {
					t.Errorf("400 from $ref = %+v", bad)
				}
				if got := jsonAt(t, rep(t, bad.Representations, "application/json").Schema, "properties/message/type"); got != "string" {
					t.Errorf("Error schema = %v", got)
				}

				up := opByID(t, res, "upload-cover")
				img := rep(t, up.Request.Representations, "multipart/form-data")
				if got := jsonAt(t, img.Schema, "properties/image/format"); got != "binary" {
					t.Errorf("file upload = %v", got)
				}

				reviews := opByID(t, res, "list-reviews")
				stars := paramByName(t, reviews.Request.QueryParameters, "stars")
				if stars.Type != "array" {
					t.Errorf("stars = %+v", stars)
				}
				if got := jsonAt(t, rep(t, response(t, reviews, 200).Representations, "application/json").Schema, "items/properties/book/required/0"); got != "isbn" {
					t.Errorf("nested Book = %v", got)
				}
			},
		},
		{
			name: "openapi 3.0 yaml with components", format: FormatOpenAPI, file: "orders-openapi30.yaml",
			title: "Orders API", serviceURL: "https://eu.orders.example.com/v1", tags: []string{"orders", "catalog"},
			ops: []wantOp{
				{"get-category", "GET", "/catalog/categories/{categoryId}", "Get a category and its subcategories"},
				{"list-orders", "GET", "/orders", "List orders"},
				{"create-order", "POST", "/orders", "Place an order"},
				{"get-order", "GET", "/orders/{orderId}", "Get an order"},
				{"update-order-status", "PATCH", "/orders/{orderId}", "Change an order's status"},
			},
			warnings: []string{
				`/paths/~1orders/get/responses/default: default response left out`,
				`/paths/~1orders/post/responses/4XX: response "4XX" left out`,
				`/paths/~1catalog~1categories~1{categoryId}/get/responses/200/content/application~1json/schema: recursive schema "#/components/schemas/Category"`,
			},
			check: func(t *testing.T, res *Result) {
				list := opByID(t, res, "list-orders")
				ps := paramByName(t, list.Request.QueryParameters, "pageSize")
				if ps.Type != "integer" || ps.DefaultValue != "50" || ps.Description != "Items per page" {
					t.Errorf("pageSize = %+v", ps)
				}
				status := paramByName(t, list.Request.QueryParameters, "status")
				if !slices.Equal(status.Values, []string{"placed", "paid", "shipped", "cancelled"}) {
					t.Errorf("status values from $ref schema = %+v", status.Values)
				}
				if len(list.Request.Headers) != 1 || list.Request.Headers[0].Name != "X-Request-Id" {
					t.Errorf("headers (Authorization must be skipped) = %+v", list.Request.Headers)
				}
				if len(list.Responses) != 1 {
					t.Errorf("responses = %+v", list.Responses)
				}
				ok := response(t, list, 200)
				if h := paramByName(t, ok.Headers, "X-Total-Count"); h.Type != "integer" {
					t.Errorf("X-Total-Count = %+v", h)
				}
				if got := jsonAt(t, rep(t, ok.Representations, "application/json").Schema, "properties/items/items/allOf/0/properties/items/items/required/0"); got != "sku" {
					t.Errorf("nested allOf resolved = %v", got)
				}

				create := opByID(t, res, "create-order")
				if create.Request.Description != "The order to place" {
					t.Errorf("request description = %q", create.Request.Description)
				}
				body := rep(t, create.Request.Representations, "application/json")
				if len(body.Examples) != 2 || body.Examples["single"].Summary != "One item" || body.Examples["bulk"].Summary != "Several items" {
					t.Errorf("examples = %+v", body.Examples)
				}
				if got := jsonAt(t, body.Examples["single"].Value, "items/0/sku"); got != "SKU-9" {
					t.Errorf("$ref example value = %v", got)
				}
				if got := jsonAt(t, body.Examples["bulk"].Value, "items/1/quantity"); got != 5.0 {
					t.Errorf("inline example value = %v", got)
				}
				created := rep(t, response(t, create, 201).Representations, "application/json")
				if got := jsonAt(t, created.Examples["default"].Value, "id"); got != "3f1c" {
					t.Errorf("example → default = %v", got)
				}
				if codes := []int{create.Responses[0].StatusCode, create.Responses[1].StatusCode}; len(create.Responses) != 2 || codes[1] != 400 {
					t.Errorf("responses = %+v", create.Responses)
				}
				problem := rep(t, response(t, create, 400).Representations, "application/problem+json")
				if got := jsonAt(t, problem.Schema, "properties/status/type"); got != "integer" {
					t.Errorf("$ref response schema = %v", got)
				}

				get := opByID(t, res, "get-order")
				id := paramByName(t, get.TemplateParameters, "orderId")
				if id.Description != "The order's id" || id.Type != "string" {
					t.Errorf("path-level $ref orderId = %+v", id)
				}
				if got := jsonAt(t, id.Schema, "pattern"); got != "^[0-9a-f]{4,32}$" {
					t.Errorf("orderId pattern = %v", got)
				}
				if r := response(t, get, 200); len(r.Representations) != 2 || r.Representations[0].ContentType != "application/json" || r.Representations[1].ContentType != "application/xml" {
					t.Errorf("representations = %+v", r.Representations)
				}
				if h := paramByName(t, get.Request.Headers, "X-Request-Id"); h.Required {
					t.Errorf("path-level header = %+v", h)
				}

				patch := opByID(t, res, "update-order-status")
				h := paramByName(t, patch.Request.Headers, "X-Request-Id")
				if !h.Required || h.Description != "Required here, overriding the path-level declaration" || len(patch.Request.Headers) != 1 {
					t.Errorf("operation-level header must override the path one: %+v", patch.Request.Headers)
				}
				mp := rep(t, patch.Request.Representations, "application/merge-patch+json")
				if got := jsonAt(t, mp.Schema, "properties/status/enum/3"); got != "cancelled" {
					t.Errorf("merge patch schema = %v", got)
				}

				cat := opByID(t, res, "get-category")
				cs := rep(t, response(t, cat, 200).Representations, "application/json").Schema
				if got := jsonAt(t, cs, "properties/children/items"); !reflect.DeepEqual(got, map[string]any{}) {
					t.Errorf("recursive children.items = %v, want {}", got)
				}
				if got := paramByName(t, cat.TemplateParameters, "categoryId"); got.Type != "integer" {
					t.Errorf("categoryId = %+v", got)
				}
			},
		},
		{
			name: "openapi 3.1 json", format: FormatOpenAPIJSON, file: "tasks-openapi31.json",
			title: "Tasks", serviceURL: "https://tasks.example.net/api",
			ops: []wantOp{
				{"tasks-list", "GET", "/tasks", "List tasks"},
				{"tasks-create", "POST", "/tasks", "Create a task"},
				{"tasks-get", "GET", "/tasks/{taskId}", "Get a task"},
				{"tasks-delete", "DELETE", "/tasks/{taskId}", "Delete a task"},
			},
			warnings: []string{"/webhooks: webhooks are not imported"},
			check: func(t *testing.T, res *Result) {
				list := opByID(t, res, "tasks-list")
				done := paramByName(t, list.Request.QueryParameters, "done")
				if done.Type != "boolean" {
					t.Errorf("type [boolean, null] → %q", done.Type)
				}
				jsonEq(t, done.Schema, `{"type":["boolean","null"]}`)
				create := opByID(t, res, "tasks-create")
				body := rep(t, create.Request.Representations, "application/json")
				if got := jsonAt(t, body.Schema, "properties/due/type/1"); got != "null" {
					t.Errorf("3.1 type array = %v", got)
				}
				if got := jsonAt(t, body.Examples["minimal"].Value, "title"); got != "Buy milk" {
					t.Errorf("example = %v", got)
				}
				get := opByID(t, res, "tasks-get")
				if got := jsonAt(t, rep(t, response(t, get, 200).Representations, "application/json").Schema, "allOf/1/properties/kind/const"); got != "task" {
					t.Errorf("const = %v", got)
				}
				if p := paramByName(t, get.TemplateParameters, "taskId"); p.Type != "string" {
					t.Errorf("taskId = %+v", p)
				}
			},
		},
		{
			name: "openapi 3.0 without operation ids", format: FormatOpenAPI, file: "blog-noids-openapi30.yaml",
			title: "Blog",
			ops: []wantOp{
				{"get", "GET", "/", "GET /"},
				{"get-users", "GET", "/users", "GET /users"},
				{"get-users-user-id-posts-post-id", "GET", "/users/{userId}/posts/{postId}", "Read a post"},
				{"put-users-user-id-posts-post-id", "PUT", "/users/{userId}/posts/{postId}", "PUT /users/{userId}/posts/{postId}"},
			},
			warnings: []string{
				`/paths/~1users~1{userId}~1posts~1{postId}/get: path parameter "postId" is not declared; added as a required string`,
				`/paths/~1users~1{userId}~1posts~1{postId}/put: path parameter "postId" is not declared`,
				`/paths/~1users~1/get/parameters/1: cookie parameter "session" is not supported`,
				`/servers/0/url: server URL "/blog/v1" is relative`,
			},
			check: func(t *testing.T, res *Result) {
				get := opByID(t, res, "get-users-user-id-posts-post-id")
				if len(get.TemplateParameters) != 2 {
					t.Fatalf("template parameters = %+v", get.TemplateParameters)
				}
				if p := get.TemplateParameters[0]; p.Name != "userId" || p.Type != "integer" || !p.Required {
					t.Errorf("userId = %+v", p)
				}
				if p := get.TemplateParameters[1]; p.Name != "postId" || p.Type != "string" || !p.Required {
					t.Errorf("added postId = %+v", p)
				}
				if got := opByID(t, res, "get").Description; got != "Service index" {
					t.Errorf("description = %q", got)
				}
				users := opByID(t, res, "get-users")
				if len(users.Request.QueryParameters) != 1 || users.Request.Headers != nil {
					t.Errorf("cookie must be left out: %+v", users.Request)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fixture(t, tt.file)
			res := mustImport(t, tt.format, doc)
			checkResult(t, res, doc)
			if res.API.DisplayName != tt.title {
				t.Errorf("title = %q, want %q", res.API.DisplayName, tt.title)
			}
			if res.API.ServiceURL != tt.serviceURL {
				t.Errorf("serviceUrl = %q, want %q", res.API.ServiceURL, tt.serviceURL)
			}
			if !slices.Equal(res.API.Tags, tt.tags) {
				t.Errorf("tags = %q, want %q", res.API.Tags, tt.tags)
			}
			var got []wantOp
			for _, o := range res.Operations {
				got = append(got, wantOp{o.ID, o.Operation.Method, o.Operation.URLTemplate, o.Operation.DisplayName})
			}
			if !reflect.DeepEqual(got, tt.ops) {
				t.Errorf("operations =\n%q\nwant\n%q", got, tt.ops)
			}
			for _, w := range tt.warnings {
				if !hasWarning(res.Warnings, w) {
					t.Errorf("no warning like %q in %q", w, res.Warnings)
				}
			}
			if tt.noWarnings && len(res.Warnings) > 0 {
				t.Errorf("warnings = %q, want none", res.Warnings)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stripSchemas removes schemas, which OpenAPI 3.1 → 3.0 export rewrites.
func stripSchemas(ops []ImportedOperation) []ImportedOperation {
	b, _ := json.Marshal(ops)
	var out []ImportedOperation
	_ = json.Unmarshal(b, &out)
	for i := range out {
		o := &out[i].Operation
		clear := func(ps []model.Parameter) {
			for j := range ps {
				ps[j].Schema = nil
			}
		}
		clearR := func(rs []model.Representation) {
			for j := range rs {
				rs[j].Schema = nil
			}
		}
		clear(o.TemplateParameters)
		if o.Request != nil {
			clear(o.Request.QueryParameters)
			clear(o.Request.Headers)
			clearR(o.Request.Representations)
		}
		for j := range o.Responses {
			clear(o.Responses[j].Headers)
			clearR(o.Responses[j].Representations)
		}
	}
	return out
}

func opsJSON(t *testing.T, ops []ImportedOperation) string {
	b, err := json.MarshalIndent(ops, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExportRoundTrip(t *testing.T) {
	tests := []struct {
		name          string
		format        string
		file          string
		schemasChange bool // OpenAPI 3.1 schemas are brought down to 3.0
	}{
		{name: "swagger 2.0 json", format: FormatSwaggerJSON, file: "petstore-swagger2.json"},
		{name: "swagger 2.0 yaml", format: FormatSwaggerYAML, file: "bookstore-swagger2.yaml"},
		{name: "openapi 3.0 components", format: FormatOpenAPI, file: "orders-openapi30.yaml"},
		{name: "openapi 3.1", format: FormatOpenAPIJSON, file: "tasks-openapi31.json", schemasChange: true},
		{name: "openapi 3.0 no ids", format: FormatOpenAPI, file: "blog-noids-openapi30.yaml"},
	}
	for _, tt := range tests {
		for _, asYAML := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " as json", true: " as yaml"}[asYAML]
			t.Run(name, func(t *testing.T) {
				first := mustImport(t, tt.format, fixture(t, tt.file))
				api := first.API
				api.APIVersion = "v2"
				out, err := Export(api, "shop", first.Operations, "https://gw.example.com/shop", asYAML)
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				if asYAML == json.Valid(out) {
					t.Errorf("yaml=%v but output JSON-ness is %v", asYAML, json.Valid(out))
				}

				// The export is a valid OpenAPI 3.0.3 document even with
				// kin-openapi's default (strict) validation.
				loader := openapi3.NewLoader()
				doc, err := loader.LoadFromData(out)
				if err != nil {
					t.Fatalf("load export: %v\n%s", err, out)
				}
				if err := doc.Validate(context.Background()); err != nil {
					t.Fatalf("export does not validate: %v\n%s", err, out)
				}
				if doc.OpenAPI != "3.0.3" || doc.Info.Title != api.DisplayName || doc.Info.Version != "v2" {
					t.Errorf("openapi/title/version = %q/%q/%q", doc.OpenAPI, doc.Info.Title, doc.Info.Version)
				}
				if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://gw.example.com/shop" {
					t.Errorf("servers = %+v", doc.Servers)
				}

				format := FormatOpenAPI
				if !asYAML {
					format = FormatOpenAPIJSON
				}
				second := mustImport(t, format, out)
				checkResult(t, second, out)
				want, got := first.Operations, second.Operations
				if tt.schemasChange {
					want, got = stripSchemas(want), stripSchemas(got)
				}
				if a, b := opsJSON(t, got), opsJSON(t, want); a != b {
					t.Errorf("round trip changed operations:\n%s\nwant\n%s", a, b)
				}
				if second.API.DisplayName != first.API.DisplayName || second.API.Description != first.API.Description ||
					!slices.Equal(second.API.Tags, first.API.Tags) || second.API.ServiceURL != "https://gw.example.com/shop" {
					t.Errorf("round trip API = %+v, first %+v", second.API, first.API)
				}
				for _, w := range second.Warnings {
					if !strings.Contains(w, "default response left out") && !strings.Contains(w, "recursive schema") {
						t.Errorf("unexpected warning on re-import: %s", w)
					}
				}
			})
		}
	}
}

func TestExportSchemaDowngrade(t *testing.T) {
	res := mustImport(t, FormatOpenAPIJSON, fixture(t, "tasks-openapi31.json"))
	out, err := Export(res.API, "", res.Operations, "", false)
	if err != nil {
		t.Fatal(err)
	}
	again := mustImport(t, FormatOpenAPIJSON, out)
	done := paramByName(t, opByID(t, again, "tasks-list").Request.QueryParameters, "done")
	jsonEq(t, done.Schema, `{"type":"boolean","nullable":true}`)
	body := rep(t, opByID(t, again, "tasks-create").Request.Representations, "application/json")
	jsonEq(t, mustMarshal(t, jsonAt(t, body.Schema, "properties/priority")), `{"type":"integer","minimum":0,"exclusiveMinimum":true,"maximum":5}`)
	jsonEq(t, mustMarshal(t, jsonAt(t, body.Schema, "properties/title")), `{"type":"string","minLength":1,"example":"Buy milk"}`)
	get := rep(t, response(t, opByID(t, again, "tasks-get"), 200).Representations, "application/json")
	jsonEq(t, mustMarshal(t, jsonAt(t, get.Schema, "allOf/1/properties/kind")), `{"enum":["task"]}`)
	if len(again.API.Tags) != 0 || again.API.ServiceURL != "" {
		t.Errorf("API = %+v", again.API)
	}
}

func TestExport(t *testing.T) {
	str := func(name string) model.Parameter { return model.Parameter{Name: name, Type: "string", Required: true} }
	op := func(method, tmpl string, params ...model.Parameter) model.Operation {
		return model.Operation{DisplayName: method + " " + tmpl, Method: method, URLTemplate: tmpl, TemplateParameters: params}
	}
	tests := []struct {
		name    string
		api     model.API
		apiPath string
		server  string
		ops     []ImportedOperation
		wantErr string
		check   func(t *testing.T, doc *openapi3.T)
	}{
		{
			name: "no operations", api: model.API{DisplayName: "Empty"},
			check: func(t *testing.T, doc *openapi3.T) {
				if doc.Paths.Len() != 0 || doc.Info.Version != "1.0" || len(doc.Servers) != 0 {
					t.Errorf("paths=%d version=%q servers=%v", doc.Paths.Len(), doc.Info.Version, doc.Servers)
				}
			},
		},
		{
			name: "relative server from api path", api: model.API{DisplayName: "A", Tags: []string{"x", "X", "y"}}, apiPath: "/shop/v1/",
			ops: []ImportedOperation{{ID: "get-root", Operation: op("GET", "/")}},
			check: func(t *testing.T, doc *openapi3.T) {
				if len(doc.Servers) != 1 || doc.Servers[0].URL != "/shop/v1" {
					t.Errorf("servers = %+v", doc.Servers)
				}
				if len(doc.Tags) != 2 {
					t.Errorf("tags = %+v", doc.Tags)
				}
				get := doc.Paths.Value("/").Get
				if get.OperationID != "get-root" || get.Responses.Value("default") == nil {
					t.Errorf("operation = %+v", get)
				}
			},
		},
		{
			name: "wildcard, query template, unsupported method, invalid id",
			api:  model.API{DisplayName: "W"},
			ops: []ImportedOperation{
				{ID: "files", Operation: op("GET", "/files/{*path}", str("path"))},
				{ID: "Search Things", Operation: op("GET", "/search?q={q}")},
				{ID: "any", Operation: op("*", "/any")},
				{ID: "files", Operation: op("DELETE", "/files/{*path}", str("path"))},
			},
			check: func(t *testing.T, doc *openapi3.T) {
				files := doc.Paths.Value("/files/{path}")
				if files == nil || files.Get.OperationID != "files" || files.Delete.OperationID != "files-2" {
					t.Fatalf("wildcard path = %+v", doc.Paths.Keys())
				}
				search := doc.Paths.Value("/search").Get
				if search.OperationID != "search-things" || search.Parameters.GetByInAndName("query", "q") == nil {
					t.Errorf("search = %+v", search)
				}
				if doc.Paths.Value("/any") != nil {
					t.Errorf("method * must be left out")
				}
			},
		},
		{
			name: "invalid stored schema falls back to the type",
			api:  model.API{DisplayName: "S"},
			ops: []ImportedOperation{{ID: "s", Operation: model.Operation{
				DisplayName: "s", Method: "GET", URLTemplate: "/s/{n}",
				TemplateParameters: []model.Parameter{{Name: "n", Type: "integer", Required: true, Schema: json.RawMessage(`{"type": 5}`), Values: []string{"1", "2", "x"}}},
				Request: &model.RequestDescription{
					QueryParameters: []model.Parameter{{Name: "tags", Type: "array"}, {Name: "ref", Type: "string", Schema: json.RawMessage(`{"$ref": "#/components/schemas/Nope"}`)}},
					Headers:         []model.Parameter{{Name: "Content-Type", Type: "string"}, {Name: "X-On", Type: "boolean", DefaultValue: "true"}},
				},
				Responses: []model.ResponseDescription{{StatusCode: 299}, {StatusCode: 200, Headers: []model.Parameter{{Name: "Content-Type"}, {Name: "X-Id", Type: "string"}},
					Representations: []model.Representation{{ContentType: "application/json", Examples: map[string]model.Example{"a": {Summary: "A", Value: json.RawMessage(`{"x":1}`)}, "bad": {Value: json.RawMessage(`{`)}}}}}},
			}}},
			check: func(t *testing.T, doc *openapi3.T) {
				get := doc.Paths.Value("/s/{n}").Get
				n := get.Parameters.GetByInAndName("path", "n")
				if !n.Schema.Value.Type.Is("integer") || !reflect.DeepEqual(n.Schema.Value.Enum, []any{1.0, 2.0}) {
					t.Errorf("n schema = %+v", n.Schema.Value)
				}
				if tags := get.Parameters.GetByInAndName("query", "tags"); tags.Schema.Value.Items == nil {
					t.Errorf("array without items")
				}
				if get.Parameters.GetByInAndName("header", "Content-Type") != nil {
					t.Errorf("Content-Type header must be left out")
				}
				if on := get.Parameters.GetByInAndName("header", "X-On"); on.Schema.Value.Default != true {
					t.Errorf("X-On default = %v", on.Schema.Value.Default)
				}
				r := get.Responses.Value("200").Value
				if *r.Description != "OK" || r.Headers["X-Id"] == nil || r.Headers["Content-Type"] != nil {
					t.Errorf("200 = %+v", r)
				}
				if exs := r.Content["application/json"].Examples; len(exs) != 1 || exs["a"].Value.Summary != "A" {
					t.Errorf("examples = %+v", exs)
				}
				if *get.Responses.Value("299").Value.Description != "response 299" {
					t.Errorf("299 description")
				}
			},
		},
		{
			name: "same method and path", api: model.API{DisplayName: "D"},
			ops:     []ImportedOperation{{ID: "a", Operation: op("GET", "/a")}, {ID: "b", Operation: op("GET", "/a/")}},
			wantErr: `operation "b": another operation is already GET /a`,
		},
		{
			name: "paths differing only in parameter names", api: model.API{DisplayName: "D"},
			ops: []ImportedOperation{{ID: "a", Operation: op("GET", "/u/{id}", str("id"))}, {ID: "b", Operation: op("DELETE", "/u/{userId}/", model.Parameter{Name: "userId", Type: "integer", Required: true})}},
			check: func(t *testing.T, doc *openapi3.T) {
				del := doc.Paths.Value("/u/{id}").Delete
				if doc.Paths.Len() != 1 || del == nil || !del.Parameters.GetByInAndName("path", "id").Schema.Value.Type.Is("integer") {
					t.Errorf("paths = %q", doc.Paths.Keys())
				}
			},
		},
		{
			name: "same method on paths differing only in parameter names", api: model.API{DisplayName: "D"},
			ops:     []ImportedOperation{{ID: "a", Operation: op("GET", "/u/{id}", str("id"))}, {ID: "b", Operation: op("GET", "/u/{userId}", str("userId"))}},
			wantErr: `operation "b": another operation is already GET /u/{id}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, asYAML := range []bool{false, true} {
				out, err := Export(tt.api, tt.apiPath, tt.ops, tt.server, asYAML)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				doc, err := openapi3.NewLoader().LoadFromData(out)
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if err := doc.Validate(context.Background()); err != nil {
					t.Fatalf("validate: %v\n%s", err, out)
				}
				tt.check(t, doc)
			}
		})
	}
}

const minimal30 = `openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {description: ok}
`

func TestImportDetails(t *testing.T) {
	tests := []struct {
		name   string
		format string
		doc    string
		check  func(t *testing.T, res *Result)
	}{
		{
			name: "swagger document given as openapi", format: FormatOpenAPI, doc: string(fixture(t, "petstore-swagger2.json")),
			check: func(t *testing.T, res *Result) {
				if !hasWarning(res.Warnings, `format "openapi" was given but the document is Swagger 2.0`) {
					t.Errorf("warnings = %q", res.Warnings)
				}
				if len(res.Operations) != 8 {
					t.Errorf("%d operations", len(res.Operations))
				}
			},
		},
		{
			name: "openapi document given as swagger", format: FormatSwaggerYAML, doc: minimal30,
			check: func(t *testing.T, res *Result) {
				if !hasWarning(res.Warnings, `format "swagger-yaml" was given but the document is OpenAPI 3.0.3`) {
					t.Errorf("warnings = %q", res.Warnings)
				}
			},
		},
		{
			name: "format is case-insensitive and json is yaml", format: " OpenAPI+JSON ", doc: minimal30,
			check: func(t *testing.T, res *Result) {
				if res.Operations[0].ID != "get-a" {
					t.Errorf("id = %q", res.Operations[0].ID)
				}
			},
		},
		{
			name: "operation ids slugged and deduplicated", format: FormatOpenAPI,
			doc: `openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get: {operationId: getUser, responses: {"200": {description: ok}}}
    post: {operationId: GetUser, responses: {"200": {description: ok}}}
    put: {operationId: "get user", responses: {"200": {description: ok}}}
    delete: {operationId: "!!!", responses: {"200": {description: ok}}}
  /b:
    get: {operationId: get-user-2, responses: {"200": {description: ok}}}
  /c:
    get: {operationId: "` + strings.Repeat("VeryLong", 20) + `", summary: "` + strings.Repeat("é", 200) + `", description: "` + strings.Repeat("d", 10005) + `", responses: {"200": {description: ok}}}
`,
			check: func(t *testing.T, res *Result) {
				var ids []string
				for _, o := range res.Operations {
					ids = append(ids, o.ID)
				}
				long := slug(strings.Repeat("VeryLong", 20))
				want := []string{"get-user", "get-user-2", "get-user-3", "delete-a", "get-user-2-2", long}
				if !slices.Equal(ids, want) {
					t.Errorf("ids = %q, want %q", ids, want)
				}
				if len(long) < 70 || len(long) > 80 || !model.ValidID(long) {
					t.Errorf("long id %q has %d characters", long, len(long))
				}
				c := res.Operations[5].Operation
				if len(c.DisplayName) > 300 || len(c.Description) != 10000 || !hasWarning(res.Warnings, "description cut to 10000 bytes") {
					t.Errorf("display name %d bytes, description %d bytes", len(c.DisplayName), len(c.Description))
				}
			},
		},
		{
			name: "same route after trailing slash removal", format: FormatOpenAPI,
			doc: `openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get: {responses: {"200": {description: ok}}}
  /a/:
    get: {responses: {"200": {description: ok}}}
    post: {responses: {"200": {description: ok}}}
`,
			check: func(t *testing.T, res *Result) {
				if len(res.Operations) != 2 || res.Operations[1].Operation.Method != "POST" {
					t.Errorf("operations = %+v", res.Operations)
				}
				if !hasWarning(res.Warnings, "/paths/~1a~1/get: GET /a is equivalent to the operation already imported from /paths/~1a/get") {
					t.Errorf("warnings = %q", res.Warnings)
				}
			},
		},
		{
			name: "swagger 2.0 with relative host and server variables", format: FormatSwaggerYAML,
			doc: `swagger: "2.0"
info: {title: "  ", version: "1"}
basePath: /v1
paths:
  /a:
    get: {responses: {200: {description: ok}}}
`,
			check: func(t *testing.T, res *Result) {
				if res.API.DisplayName != "Imported API" || res.API.ServiceURL != "" {
					t.Errorf("API = %+v", res.API)
				}
			},
		},
		{
			name: "unquoted versions are read as strings", format: FormatSwaggerYAML,
			doc: "swagger: 2.0\ninfo: {title: T, version: 1.0}\nhost: api.example.com\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n",
			check: func(t *testing.T, res *Result) {
				for _, w := range []string{`/swagger: the number 2.0 is read as the string "2.0"`, `/info/version: the number 1.0 is read as the string "1.0"`} {
					if !hasWarning(res.Warnings, w) {
						t.Errorf("no warning %q in %q", w, res.Warnings)
					}
				}
				if res.API.ServiceURL != "https://api.example.com" {
					t.Errorf("serviceUrl = %q", res.API.ServiceURL)
				}
			},
		},
		{
			name: "unquoted openapi version in json", format: FormatOpenAPIJSON,
			doc: `{"openapi": 3.0, "info": {"title": "T", "version": 2}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}`,
			check: func(t *testing.T, res *Result) {
				if !hasWarning(res.Warnings, `/info/version: the number 2 is read as the string "2"`) {
					t.Errorf("warnings = %q", res.Warnings)
				}
			},
		},
		{
			name: "json with duplicate keys falls back to json", format: FormatOpenAPIJSON,
			doc: `{"openapi": "3.0.3", "info": {"title": "X", "title": "T", "version": "1"},
			"paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}`,
			check: func(t *testing.T, res *Result) {
				if res.API.DisplayName != "T" {
					t.Errorf("title = %q", res.API.DisplayName)
				}
			},
		},
		{
			name: "strictly invalid examples are accepted with a warning", format: FormatOpenAPI,
			doc: `openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: integer}
              example: "not a number"
`,
			check: func(t *testing.T, res *Result) {
				if !hasWarning(res.Warnings, "/paths/~1a/get: accepted although strict validation (of examples, defaults and patterns) fails") {
					t.Errorf("warnings = %q", res.Warnings)
				}
				ex := res.Operations[0].Operation.Responses[0].Representations[0].Examples["default"]
				jsonEq(t, ex.Value, `"not a number"`)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(tt.doc)
			res := mustImport(t, tt.format, doc)
			checkResult(t, res, doc)
			tt.check(t, res)
		})
	}
}

func TestImportErrors(t *testing.T) {
	big := append([]byte("openapi: 3.0.3\n# "), bytes.Repeat([]byte("x"), MaxDocumentBytes)...)
	tests := []struct {
		name    string
		format  string
		doc     string
		msg     string // substring of Msg
		pointer string // exact, when not "-"
		line    int    // exact, when not -1
	}{
		{name: "empty", doc: "", msg: "document is empty", pointer: "", line: 0},
		{name: "blank", doc: " \n\t\n", msg: "document is empty", pointer: "", line: 0},
		{name: "too large", doc: string(big), msg: "the limit is 4194304 bytes", pointer: "", line: 0},
		{name: "binary garbage", doc: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", msg: "not UTF-8 text (invalid byte at offset 0)", pointer: "", line: 1},
		{name: "latin-1", doc: "openapi: 3.0.3\ninfo:\n  title: caf\xe9\n", msg: "not UTF-8 text (invalid byte at offset 33)", pointer: "", line: 3},
		{name: "nul byte", doc: "openapi: 3.0.3\n\x00", msg: "NUL byte", pointer: "", line: 2},
		{name: "truncated json", doc: "{\"openapi\": \"3.0.3\",\n \"info\": {", msg: "document is neither JSON nor YAML", pointer: "", line: -1},
		{name: "bad yaml", doc: "openapi: 3.0.3\ninfo:\n  title: [unclosed\n", msg: "document is neither JSON nor YAML", pointer: "", line: -1},
		{name: "scalar", doc: "just some words", msg: "must be a JSON or YAML object, not a string", pointer: "", line: 1},
		{name: "array", doc: "[1, 2]", msg: "must be a JSON or YAML object, not an array", pointer: "", line: 1},
		{name: "no version", doc: `{"info": {"title": "x"}, "paths": {}}`, msg: `neither an "openapi" nor a "swagger" version`, pointer: "", line: 0},
		{name: "openapi 2", doc: "info: {}\nopenapi: 2.5.0\n", msg: `unsupported openapi version "2.5.0"`, pointer: "/openapi", line: 2},
		{name: "openapi 4", doc: `{"openapi": "4.0.0"}`, msg: `unsupported openapi version "4.0.0"`, pointer: "/openapi", line: 1},
		{name: "swagger 1.2", format: FormatSwaggerJSON, doc: `{"swagger": "1.2", "apis": []}`, msg: `unsupported swagger version "1.2"`, pointer: "/swagger", line: 1},
		{name: "both versions", doc: "openapi: 3.0.3\nswagger: '2.0'\n", msg: `declares both "openapi" and "swagger"`, pointer: "", line: 0},
		{name: "unknown format", format: "wadl-xml", doc: minimal30, msg: `unknown format "wadl-xml"; expected one of openapi, openapi+json, swagger-json, swagger-yaml`, pointer: "", line: 0},
		{name: "link format", format: "openapi-link", doc: "https://example.com/openapi.yaml", msg: `format "openapi-link" is not supported`, pointer: "", line: 0},
		{name: "no paths", doc: "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\n", msg: "document has no paths", pointer: "/paths", line: 3},
		{name: "no paths 3.1", doc: `{"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "webhooks": {}}`, msg: "document has no paths", pointer: "/paths", line: 0},
		{name: "swagger no paths", format: FormatSwaggerJSON, doc: `{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}}`, msg: "document has no paths", pointer: "/paths", line: 1},
		{name: "no operations", doc: "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    description: nothing\n", msg: "no operations", pointer: "/paths", line: 3},
		{
			name: "dangling $ref",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Nope'\n",
			msg:  "cannot load document", pointer: "/paths/~1a/get/responses/200/content/application~1json/schema", line: 12,
		},
		{
			name: "external $ref",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: 'common.yaml#/responses/Ok'\n",
			msg:  "external references are not supported", pointer: "/paths/~1a/get/responses/200", line: 8,
		},
		{
			name: "swagger external $ref", format: FormatSwaggerYAML,
			doc: "swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n          schema: {$ref: 'https://example.com/defs.json#/Pet'}\n",
			msg: "external references are not supported", pointer: "/paths/~1a/get/responses/200/schema", line: 9,
		},
		{
			name: "swagger dangling $ref", format: FormatSwaggerJSON,
			doc: `{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/Nope"}}}}}}}`,
			msg: `failed to resolve "Nope"`, pointer: "/paths/~1a/get/responses/200/schema", line: 1,
		},
		{
			name: "response without description",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {}\n",
			msg:  "invalid document: invalid paths: invalid path /a: invalid operation GET:", pointer: "/paths/~1a/get", line: 5,
		},
		{
			name: "declared path parameter missing from path",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        '200': {description: ok}\n",
			msg:  "must define exactly all path parameters", pointer: "/paths/~1a/get", line: 5,
		},
		{
			name: "invalid component schema",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\ncomponents:\n  schemas:\n    Bad:\n      type: wrong\n",
			msg:  "invalid document", pointer: "/components/schemas/Bad", line: 10,
		},
		{
			name: "missing info title",
			doc:  "openapi: 3.0.3\ninfo: {version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n",
			msg:  "invalid document", pointer: "/info", line: 2,
		},
		{
			name: "path the gateway cannot route",
			doc:  "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /a//b:\n    get:\n      responses:\n        '200': {description: ok}\n",
			msg:  `path "/a//b" cannot be a gateway URL template`, pointer: "/paths/~1a~1~1b", line: 4,
		},
		{
			name: "swagger host with a path", format: FormatSwaggerYAML,
			doc: "swagger: '2.0'\ninfo: {title: T, version: '1'}\nhost: example.com/v1\npaths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n",
			msg: "cannot convert Swagger 2.0 document: invalid host", pointer: "/host", line: 3,
		},
		{
			name: "swagger wrong field type", format: FormatSwaggerJSON,
			doc: `{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {"get": {"parameters": "nope"}}}}`,
			msg: "cannot read Swagger 2.0 document", pointer: "", line: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := tt.format
			if format == "" {
				format = FormatOpenAPI
			}
			res, err := Import(format, []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error; result %+v", res.Operations)
			}
			if res != nil {
				t.Errorf("result with an error")
			}
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T %v is not an *ImportError", err, err)
			}
			t.Log(err)
			if !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", ie.Msg, tt.msg)
			}
			if tt.pointer != "-" && ie.Pointer != tt.pointer {
				t.Errorf("Pointer = %q, want %q", ie.Pointer, tt.pointer)
			}
			if tt.line >= 0 && ie.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", ie.Line, tt.line, ie)
			}
			if tt.line < 0 && tt.msg == "document is neither JSON nor YAML" && ie.Line == 0 {
				t.Errorf("no line for a syntax error: %v", ie)
			}
			if ie.Msg == "" || ie.Msg[0] < 'a' || ie.Msg[0] > 'z' {
				t.Errorf("Msg %q must start with a lowercase letter", ie.Msg)
			}
		})
	}
}

// TestImportHostile feeds documents built to exhaust memory, time or the
// stack; each must be refused or imported within the limits.
func TestImportHostile(t *testing.T) {
	laughs := "openapi: 3.0.3\ninfo: {title: T, version: '1'}\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		n := "b" + strconv.Itoa(i)
		laughs += "x-" + n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 9), ", ") + "]\n"
		prev = n
	}
	laughs += "paths:\n  /a:\n    get:\n      responses:\n        '200': {description: ok}\n"

	// 2000 operations whose schema is a 12-level DAG with 10 edges per level:
	// inlined naively that is 10^12 nodes per operation.
	var dag strings.Builder
	dag.WriteString("openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n")
	for i := 0; i < 2000; i++ {
		dag.WriteString("  /p" + strconv.Itoa(i) + ":\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/S0'}\n")
	}
	dag.WriteString("components:\n  schemas:\n")
	for i := 0; i < 12; i++ {
		dag.WriteString("    S" + strconv.Itoa(i) + ":\n      type: object\n      properties:\n")
		for j := 0; j < 10; j++ {
			dag.WriteString("        p" + strconv.Itoa(j) + ": {$ref: '#/components/schemas/S" + strconv.Itoa(i+1) + "'}\n")
		}
	}
	dag.WriteString("    S12: {type: string}\n")

	deepSchema := `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"d","content":{"a/b":{"schema":` +
		strings.Repeat(`{"type":"array","items":`, 2000) + `{}` + strings.Repeat("}", 2000) + `}}}}}}}}`

	tests := []struct {
		name    string
		format  string
		doc     string
		wantErr string // substring of the error, or "" for success
		warning string // substring of a warning on success
	}{
		{name: "billion laughs", format: FormatOpenAPI, doc: laughs, wantErr: "excessive aliasing"},
		{name: "billion laughs swagger", format: FormatSwaggerYAML, doc: strings.Replace(laughs, "openapi: 3.0.3", "swagger: '2.0'", 1), wantErr: "alias"},
		{name: "deeply nested json arrays", format: FormatOpenAPIJSON, doc: `{"openapi":"3.0.3","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}", wantErr: "exceeded max depth"},
		{name: "deeply nested json objects", format: FormatOpenAPIJSON, doc: `{"openapi":"3.0.3","x":` + strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000) + "}", wantErr: "exceeded max depth"},
		{name: "deeply nested yaml", format: FormatOpenAPI, doc: "openapi: 3.0.3\nx: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", wantErr: "exceeded max depth"},
		{name: "deep schema", format: FormatOpenAPIJSON, doc: deepSchema, warning: "schema is too large or too deep"},
		{name: "exponential schema dag", format: FormatOpenAPI, doc: dag.String(), warning: "schemas exceed 32 MiB once inlined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Import(tt.format, []byte(tt.doc))
			if tt.wantErr != "" {
				var ie *ImportError
				if !errors.As(err, &ie) || !strings.Contains(ie.Msg, tt.wantErr) {
					t.Fatalf("err = %v, want an *ImportError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !hasWarning(res.Warnings, tt.warning) {
				t.Errorf("no warning %q in %.500s", tt.warning, strings.Join(res.Warnings, "\n"))
			}
			total := 0
			for _, o := range res.Operations {
				for _, s := range allSchemas(o.Operation) {
					total += len(s)
				}
			}
			if total > maxSchemaBytes+1<<20 {
				t.Errorf("inlined schemas total %d bytes", total)
			}
		})
	}
}

func TestImportErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  ImportError
		want string
	}{
		{name: "all", err: ImportError{Pointer: "/paths/~1a/get", Line: 5, Msg: "bad"}, want: "/paths/~1a/get (line 5): bad"},
		{name: "pointer", err: ImportError{Pointer: "/paths", Msg: "bad"}, want: "/paths: bad"},
		{name: "line", err: ImportError{Line: 3, Msg: "bad"}, want: "line 3: bad"},
		{name: "message", err: ImportError{Msg: "bad"}, want: "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "camel case", in: "getUserById", want: "get-user-by-id"},
		{name: "acronym", in: "HTTPServerStatus", want: "http-server-status"},
		{name: "digits", in: "getV2Users", want: "get-v2-users"},
		{name: "snake case kept", in: "list_pets", want: "list_pets"},
		{name: "spaces and punctuation", in: "  Hello, World! ", want: "hello-world"},
		{name: "dots", in: "tasks.list", want: "tasks-list"},
		{name: "non ascii", in: "créer", want: "cr-er"},
		{name: "nothing left", in: "!!!", want: ""},
		{name: "method and path", in: "get-/users/{id}", want: "get-users-id"},
		{name: "cut to 80", in: strings.Repeat("ab-", 40), want: strings.TrimRight(strings.Repeat("ab-", 27), "-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slug(tt.in)
			if got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" && !model.ValidID(got) {
				t.Errorf("slug(%q) = %q is not a valid id", tt.in, got)
			}
		})
	}
}

func TestUniqueID(t *testing.T) {
	long := strings.Repeat("a", 80)
	used := map[string]bool{}
	tests := []struct {
		name, base, want string
	}{
		{name: "first", base: "op", want: "op"},
		{name: "second", base: "op", want: "op-2"},
		{name: "third", base: "op", want: "op-3"},
		{name: "long first", base: long, want: long},
		{name: "long second", base: long, want: long[:78] + "-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := uniqueID(tt.base, used); got != tt.want {
				t.Errorf("uniqueID(%q) = %q, want %q", tt.base, got, tt.want)
			}
		})
	}
}

// fuzzFormats are the formats FuzzImport uses, indexed by its first argument.
var fuzzFormats = []string{FormatOpenAPI, FormatOpenAPIJSON, FormatSwaggerJSON, FormatSwaggerYAML}

// FuzzImport checks that Import never panics and either fails with an
// *ImportError or returns valid operations that Export can render and
// Import can read back. Set OPENAPI_FUZZ_FAMILY=openapi or =swagger to fuzz
// one format family only.
func FuzzImport(f *testing.F) {
	seeds := []struct {
		format int
		file   string
	}{
		{2, "petstore-swagger2.json"},
		{3, "bookstore-swagger2.yaml"},
		{0, "orders-openapi30.yaml"},
		{1, "tasks-openapi31.json"},
		{0, "blog-noids-openapi30.yaml"},
	}
	for _, s := range seeds {
		doc := fixture(f, s.file)
		f.Add(uint8(s.format), doc)
		f.Add(uint8(s.format), doc[:len(doc)/2])
		flipped := bytes.Clone(doc)
		flipped[len(flipped)/3] ^= 0x20
		f.Add(uint8(s.format), flipped)
		f.Add(uint8(s.format), bytes.ReplaceAll(doc, []byte("#/"), []byte("#/x/")))
	}
	f.Add(uint8(0), []byte(minimal30))
	f.Add(uint8(0), []byte("openapi: 3.0.3\npaths:\n  /a/{b}/{c:.*}/{d*}:\n    get: {responses: {default: {description: x}}}\n"))
	f.Add(uint8(0), []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"d","content":{"a/b":{"schema":{"$ref":"#/components/schemas/A"}}}}}}}},"components":{"schemas":{"A":{"type":["object","null"],"properties":{"a":{"$ref":"#/components/schemas/A"}},"additionalProperties":{"$ref":"#/components/schemas/A"}}}}}`))
	f.Add(uint8(2), []byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /a/{id}:\n    get:\n      parameters: [{name: id, in: path, required: true, type: string}]\n      responses: {200: {description: ok}}\n"))
	f.Add(uint8(1), []byte{0xff, 0x00, 0x7b})

	family := os.Getenv("OPENAPI_FUZZ_FAMILY")
	f.Fuzz(func(t *testing.T, format uint8, doc []byte) {
		if len(doc) > 64<<10 {
			t.Skip()
		}
		fi := int(format) % len(fuzzFormats)
		switch family {
		case "openapi":
			fi %= 2
		case "swagger":
			fi = 2 + fi%2
		}
		checkImport(t, fuzzFormats[fi], doc, format%2 == 0)
	})
}

// checkImport imports doc and checks that it either fails with an
// *ImportError or gives a valid result that Export renders and Import
// reads back to as many operations. It reports whether the import worked.
func checkImport(t *testing.T, format string, doc []byte, asYAML bool) bool {
	t.Helper()
	res, err := Import(format, doc)
	if err != nil {
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("error %T is not an *ImportError: %v", err, err)
		}
		if res != nil || ie.Msg == "" {
			t.Fatalf("error %v with result %v", err, res)
		}
		return false
	}
	checkResult(t, res, doc)
	out, err := Export(res.API, "api", res.Operations, "https://gw.example.com/api", asYAML)
	if err != nil {
		t.Fatalf("Export of an imported document failed: %v\n%s", err, doc)
	}
	again, err := Import(FormatOpenAPI, out)
	if err != nil {
		t.Fatalf("re-import of the export failed: %v\n%s\nexported from\n%s", err, out, doc)
	}
	if len(again.Operations) != len(res.Operations) {
		t.Fatalf("re-import has %d operations, want %d\n%s", len(again.Operations), len(res.Operations), out)
	}
	return true
}

// interesting values the structural mutator plants in documents.
var mutationValues = []any{
	nil, "", " ", true, false, 0, -1, 1.5, 1e300, "x", "string", "integer", "array", "object", "null",
	"/", "/a", "/a/", "/a/{b}", "/a/{b}/{b}", "/{*rest}", "/a/{b}.json", "/a b", "/a//b", "/{a}{b}", "/{}",
	"#/components/schemas/Order", "#/definitions/Pet", "#/components/schemas/Category", "#/", "#",
	"http://", "https://x", "{region}", "application/json", "*/*", "path", "query", "header", "cookie", "body", "formData",
	map[string]any{}, []any{}, []any{nil}, map[string]any{"$ref": "#/components/schemas/Order"},
	map[string]any{"$ref": "#/definitions/Pet"}, map[string]any{"type": "array"}, map[string]any{"type": []any{"null"}},
	map[string]any{"description": "d"}, map[string]any{"name": "id", "in": "path", "required": true, "schema": map[string]any{"type": "string"}},
	// Swagger 2.0 shapes that its converter must cope with.
	map[string]any{"in": "body", "name": "b"}, map[string]any{"in": "body", "name": "b", "schema": map[string]any{"type": "file"}},
	map[string]any{"in": "formData", "name": "f", "type": "array"}, map[string]any{"in": "formData", "name": "f", "type": "file"},
	map[string]any{"in": "query", "name": "q", "type": "array", "collectionFormat": "pipes", "items": map[string]any{"type": "integer"}},
	map[string]any{"in": "header", "name": "h"}, map[string]any{"in": "path", "name": "isbn", "required": true, "type": "string"},
	map[string]any{"$ref": "#/parameters/TraceId"}, map[string]any{"$ref": "#/responses/BadRequest"}, map[string]any{"$ref": "#/parameters/Nope"},
	map[string]any{"schema": map[string]any{"$ref": "#/definitions/Book"}, "description": "x"},
	map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/Review"}},
	map[string]any{"allOf": []any{map[string]any{"$ref": "#/definitions/Book"}, map[string]any{"$ref": "#/definitions/Review"}}},
	map[string]any{"discriminator": "kind", "type": "object", "properties": map[string]any{"kind": map[string]any{"type": "string"}}},
	map[string]any{"examples": map[string]any{"application/json": map[string]any{"a": 1}}, "description": "x"},
	map[string]any{"headers": map[string]any{"X": map[string]any{"type": "array"}}, "description": "x"},
	[]any{"http", "https", "ws"}, []any{"application/json", "text/plain"}, []any{map[string]any{"api_key": []any{}}},
	// OpenAPI 3 shapes.
	map[string]any{"content": map[string]any{"application/json": map[string]any{}}, "description": "x"},
	map[string]any{"name": "c", "in": "query", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
	map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Category"}, "example": nil}},
	map[string]any{"url": "https://{v}.example.com", "variables": map[string]any{"v": map[string]any{"default": "api"}}},
	map[string]any{"$ref": "#/components/parameters/OrderId"}, map[string]any{"$ref": "#/components/responses/NotFound"},
	map[string]any{"$ref": "#/components/examples/SingleItemOrder"}, map[string]any{"$ref": "#/paths/~1orders/get"},
	map[string]any{"type": []any{"string", "integer"}, "const": 3}, map[string]any{"enum": []any{1, "a", nil, true, map[string]any{}}},
}

// toGeneric turns a YAML/JSON document into maps, slices and scalars.
func toGeneric(t *testing.T, doc []byte) any {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var fix func(any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = fix(e)
			}
			return x
		case map[any]any:
			m := map[string]any{}
			for k, e := range x {
				m[fmt.Sprint(k)] = fix(e)
			}
			return m
		case []any:
			for i := range x {
				x[i] = fix(x[i])
			}
			return x
		}
		return v
	}
	return fix(v)
}

// deepCopy copies a generic value.
func deepCopy(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// nodes lists every container in v with a way to replace or delete one of
// its entries.
type slot struct {
	set func(any)
	del func()
	get func() any
}

func slots(v any, out *[]slot) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			*out = append(*out, slot{
				set: func(n any) { x[k] = n },
				del: func() { delete(x, k) },
				get: func() any { return x[k] },
			})
			slots(x[k], out)
		}
	case []any:
		for i := range x {
			*out = append(*out, slot{
				set: func(n any) { x[i] = n },
				del: func() { x[i] = nil },
				get: func() any { return x[i] },
			})
			slots(x[i], out)
		}
	}
}

// TestImportStructuralMutations mutates the fixtures structurally (deleting
// fields, planting odd values, copying subtrees elsewhere) and checks every
// result the way FuzzImport does, reaching much deeper than byte-level
// fuzzing of large documents. OPENAPI_MUTATIONS sets the number of rounds.
func TestImportStructuralMutations(t *testing.T) {
	rounds := 300
	if n, err := strconv.Atoi(os.Getenv("OPENAPI_MUTATIONS")); err == nil {
		rounds = n
	}
	if testing.Short() {
		rounds = 50
	}
	files := []struct {
		format string
		file   string
	}{
		{FormatSwaggerJSON, "petstore-swagger2.json"},
		{FormatSwaggerYAML, "bookstore-swagger2.yaml"},
		{FormatOpenAPI, "orders-openapi30.yaml"},
		{FormatOpenAPIJSON, "tasks-openapi31.json"},
		{FormatOpenAPI, "blog-noids-openapi30.yaml"},
	}
	var bases []any
	for _, f := range files {
		bases = append(bases, toGeneric(t, fixture(t, f.file)))
	}
	seed := uint64(1)
	if n, err := strconv.ParseUint(os.Getenv("OPENAPI_MUTATION_SEED"), 10, 64); err == nil {
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	ok := 0
	for i := 0; i < rounds; i++ {
		fi := rng.IntN(len(files))
		doc := deepCopy(bases[fi])
		for m := 1 + rng.IntN(4); m > 0; m-- {
			var ss []slot
			slots(doc, &ss)
			if len(ss) == 0 {
				break
			}
			s := ss[rng.IntN(len(ss))]
			switch rng.IntN(4) {
			case 0:
				s.del()
			case 1, 2:
				s.set(deepCopy(mutationValues[rng.IntN(len(mutationValues))]))
			case 3:
				s.set(deepCopy(ss[rng.IntN(len(ss))].get()))
			}
		}
		var b []byte
		var err error
		if rng.IntN(2) == 0 {
			b, err = json.Marshal(doc)
		} else {
			b, err = yaml.Marshal(doc)
		}
		if err != nil {
			continue
		}
		name := fmt.Sprintf("%d-%s", i, files[fi].file)
		t.Run(name, func(t *testing.T) {
			if checkImport(t, files[fi].format, b, i%2 == 0) {
				ok++
			}
		})
	}
	t.Logf("%d of %d mutated documents imported", ok, rounds)
}
