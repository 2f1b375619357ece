package mgmt_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/secret"
)

func TestSeededDefaults(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		apis := e.must(200, "GET", "/api/v1/apis", nil)
		if apis.num("count") != 1 || apis.str("value.0.name") != "echo-api" || apis.str("value.0.path") != "echo" || apis.str("value.0.id") != "/apis/echo-api" {
			t.Fatalf("apis = %s", apis.raw)
		}
		ops := e.must(200, "GET", "/api/v1/apis/echo-api/operations", nil)
		if ops.num("count") != 7 {
			t.Fatalf("echo operations = %d", ops.num("count"))
		}
		methods := map[string]bool{}
		for _, v := range ops.get("value").([]any) {
			methods[v.(map[string]any)["method"].(string)] = true
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} {
			if !methods[m] {
				t.Errorf("echo API lacks a %s operation", m)
			}
		}
		starter := e.must(200, "GET", "/api/v1/products/starter", nil)
		if starter.str("state") != "published" || starter.get("approvalRequired") != false || starter.num("subscriptionsLimit") != 1 {
			t.Fatalf("starter = %s", starter.raw)
		}
		unlimited := e.must(200, "GET", "/api/v1/products/unlimited", nil)
		if unlimited.get("approvalRequired") != true || unlimited.str("state") != "published" {
			t.Fatalf("unlimited = %s", unlimited.raw)
		}
		pol := e.must(200, "GET", "/api/v1/products/starter/policy", nil)
		if !strings.Contains(string(pol.raw), `<rate-limit calls="5" renewal-period="60" />`) || !strings.Contains(string(pol.raw), `<quota calls="100" renewal-period="604800" />`) {
			t.Fatalf("starter policy = %s", pol.raw)
		}
		groups := e.must(200, "GET", "/api/v1/groups", nil)
		if groups.num("count") != 3 {
			t.Fatalf("groups = %s", groups.raw)
		}
		subs := e.must(200, "GET", "/api/v1/subscriptions", nil)
		if subs.num("count") != 2 || strings.Contains(string(subs.raw), "primaryKey") {
			t.Fatalf("subscriptions = %s", subs.raw)
		}
		admins := e.must(200, "GET", "/api/v1/groups/administrators/users", nil)
		if admins.num("count") != 1 || admins.str("value.0.name") != "1" {
			t.Fatalf("administrators = %s", admins.raw)
		}
		if e.must(200, "GET", "/api/v1/products/starter/apis", nil).str("value.0.name") != "echo-api" {
			t.Fatal("starter does not hold the Echo API")
		}
	})
}

func TestAdminAuth(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.run(t, []call{
			{name: "no token", method: "GET", path: "/api/v1/apis", hdr: []string{"Authorization", ""}, wantStatus: 401, wantIn: "admin token"},
			{name: "wrong token", method: "GET", path: "/api/v1/apis", hdr: []string{"Authorization", "Bearer nope"}, wantStatus: 401},
			{name: "wrong scheme", method: "GET", path: "/api/v1/apis", hdr: []string{"Authorization", "Basic " + testToken}, wantStatus: 401},
			{name: "write without token", method: "PUT", path: "/api/v1/apis/x", body: map[string]any{"displayName": "X", "path": "x"}, hdr: []string{"Authorization", ""}, wantStatus: 401},
			{name: "openapi description is public", method: "GET", path: "/api/v1/openapi.json", hdr: []string{"Authorization", ""}, wantStatus: 200, wantIn: `"openapi": "3.0.3"`},
			{name: "unknown endpoint", method: "GET", path: "/api/v1/nothing", wantStatus: 404},
		})
	})
}

func TestAPICrudAndValidation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		good := map[string]any{"displayName": "Orders", "path": "/orders/v1/", "serviceUrl": "https://backend.example/orders"}
		created := e.must(201, "PUT", "/api/v1/apis/orders", good)
		if created.str("path") != "orders/v1" || created.get("subscriptionRequired") != true ||
			created.str("subscriptionKeyParameterNames.header") != "Ocp-Apim-Subscription-Key" || created.header.Get("ETag") == "" ||
			created.header.Get("Location") != "/api/v1/apis/orders" {
			t.Fatalf("created = %s %v", created.raw, created.header)
		}
		replaced := e.must(200, "PUT", "/api/v1/apis/orders", map[string]any{"displayName": "Orders 2", "path": "orders/v1"})
		if replaced.str("serviceUrl") != "" || replaced.header.Get("ETag") == created.header.Get("ETag") {
			t.Fatalf("replace did not replace: %s", replaced.raw)
		}
		patched := e.must(200, "PATCH", "/api/v1/apis/orders", map[string]any{"description": "All orders", "subscriptionKeyParameterNames": map[string]any{"query": "key"}})
		if patched.str("displayName") != "Orders 2" || patched.str("description") != "All orders" ||
			patched.str("subscriptionKeyParameterNames.query") != "key" || patched.str("subscriptionKeyParameterNames.header") != "Ocp-Apim-Subscription-Key" {
			t.Fatalf("patch = %s", patched.raw)
		}
		// GET echoes what was stored; a GET body PUT back is accepted.
		got := e.must(200, "GET", "/api/v1/apis/orders", nil)
		e.must(200, "PUT", "/api/v1/apis/orders", got.raw)
		e.run(t, []call{
			{name: "missing displayName", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"path": "bad"}, wantStatus: 400, wantField: "displayName"},
			{name: "template in path", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"displayName": "B", "path": "a/{b}"}, wantStatus: 400, wantField: "path"},
			{name: "relative serviceUrl", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"displayName": "B", "path": "b", "serviceUrl": "/x"}, wantStatus: 400, wantField: "serviceUrl"},
			{name: "bad protocol", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"displayName": "B", "path": "b", "protocols": []string{"ftp"}}, wantStatus: 400, wantField: "protocols[0]"},
			{name: "bad header name", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"displayName": "B", "path": "b", "subscriptionKeyParameterNames": map[string]any{"header": "bad header"}}, wantStatus: 400, wantField: "subscriptionKeyParameterNames.header"},
			{name: "unknown field", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"displayName": "B", "path": "b", "colour": "red"}, wantStatus: 400, wantField: "colour"},
			{name: "wrong type", method: "PUT", path: "/api/v1/apis/bad", body: `{"displayName": 5, "path": "b"}`, wantStatus: 400, wantField: "displayName"},
			{name: "syntax error has line and column", method: "PUT", path: "/api/v1/apis/bad", body: "{\n  \"displayName\": \"B\",,\n}", wantStatus: 400, wantIn: "line 2, column"},
			{name: "empty body", method: "PUT", path: "/api/v1/apis/bad", body: "", wantStatus: 400},
			{name: "array body", method: "PUT", path: "/api/v1/apis/bad", body: "[]", wantStatus: 400},
			{name: "invalid id", method: "PUT", path: "/api/v1/apis/Bad%20Id", body: map[string]any{"displayName": "B", "path": "b"}, wantStatus: 400, wantField: "apiId"},
			{name: "too long id", method: "PUT", path: "/api/v1/apis/" + strings.Repeat("a", 81), body: map[string]any{"displayName": "B", "path": "b"}, wantStatus: 400, wantField: "apiId"},
			{name: "name must match", method: "PUT", path: "/api/v1/apis/bad", body: map[string]any{"name": "other", "displayName": "B", "path": "b"}, wantStatus: 400, wantField: "name"},
			{name: "duplicate path", method: "PUT", path: "/api/v1/apis/dup", body: map[string]any{"displayName": "D", "path": "ECHO"}, wantStatus: 409, wantField: "path"},
			{name: "same path other version", method: "PUT", path: "/api/v1/apis/echo-v2", body: map[string]any{"displayName": "D", "path": "echo", "apiVersion": "v2", "apiVersionSetId": "echo"}, wantStatus: 409, wantField: "path"},
			{name: "APIM envelope", method: "PUT", path: "/api/v1/apis/env", body: map[string]any{"properties": map[string]any{"displayName": "E", "path": "env"}}, wantStatus: 201, wantIn: `"path": "env"`},
			{name: "patch missing", method: "PATCH", path: "/api/v1/apis/missing", body: map[string]any{"description": "x"}, wantStatus: 404},
			{name: "patch invalid leaves it", method: "PATCH", path: "/api/v1/apis/orders", body: map[string]any{"displayName": ""}, wantStatus: 400, wantField: "displayName"},
			{name: "get missing", method: "GET", path: "/api/v1/apis/missing", wantStatus: 404, wantIn: "ResourceNotFound"},
			{name: "top out of range", method: "GET", path: "/api/v1/apis?top=0", wantStatus: 400, wantField: "top"},
			{name: "bad filter", method: "GET", path: "/api/v1/apis?filter=" + "nonsense", wantStatus: 400, wantField: "filter"},
			{name: "filter on unknown field", method: "GET", path: "/api/v1/apis?filter=color%20eq%20'x'", wantStatus: 400, wantField: "filter"},
		})
		if got := e.must(200, "GET", "/api/v1/apis/orders", nil); got.str("displayName") != "Orders 2" {
			t.Fatalf("refused patch changed the API: %s", got.raw)
		}
		e.must(204, "DELETE", "/api/v1/apis/orders", nil)
		e.must(404, "GET", "/api/v1/apis/orders", nil)
		e.must(404, "DELETE", "/api/v1/apis/orders", nil)
		// The path is free again once the API is gone.
		e.must(201, "PUT", "/api/v1/apis/orders2", map[string]any{"displayName": "O", "path": "orders/v1"})
	})
}

func TestListPagingAndFilter(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for i := 0; i < 12; i++ {
			e.must(201, "PUT", fmt.Sprintf("/api/v1/apis/p%02d", i), map[string]any{"displayName": fmt.Sprintf("Paged %d", i), "path": fmt.Sprintf("p%d", i)})
		}
		page := e.must(200, "GET", "/api/v1/apis?top=5&skip=5", nil)
		if page.num("count") != 13 || len(page.get("value").([]any)) != 5 || page.str("value.0.name") != "p04" {
			t.Fatalf("page = %s", page.raw)
		}
		next := page.str("nextLink")
		if !strings.Contains(next, "skip=10") || !strings.Contains(next, "top=5") {
			t.Fatalf("nextLink = %q", next)
		}
		last := e.must(200, "GET", next, nil)
		if len(last.get("value").([]any)) != 3 || last.str("nextLink") != "" {
			t.Fatalf("last page = %s", last.raw)
		}
		f := e.must(200, "GET", "/api/v1/apis?$filter="+url.QueryEscape("contains(properties/displayName,'paged 1')"), nil)
		if f.num("count") != 3 { // 1, 10, 11
			t.Fatalf("filter = %s", f.raw)
		}
		f = e.must(200, "GET", "/api/v1/apis?filter=name%20eq%20'p03'", nil)
		if f.num("count") != 1 {
			t.Fatalf("filter name = %s", f.raw)
		}
		f = e.must(200, "GET", "/api/v1/apis?filter=startswith(name,'p0')%20and%20path%20eq%20'p7'", nil)
		if f.num("count") != 1 || f.str("value.0.name") != "p07" {
			t.Fatalf("filter and = %s", f.raw)
		}
	})
}

func TestETags(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		r := e.must(201, "PUT", "/api/v1/backends/b1", map[string]any{"url": "https://b1.example"})
		etag := r.header.Get("ETag")
		e.run(t, []call{
			{name: "if-match mismatch", method: "PUT", path: "/api/v1/backends/b1", body: map[string]any{"url": "https://b2.example"}, hdr: []string{"If-Match", `"999999"`}, wantStatus: 412},
			{name: "if-match on missing", method: "PUT", path: "/api/v1/backends/b9", body: map[string]any{"url": "https://b2.example"}, hdr: []string{"If-Match", "*"}, wantStatus: 412},
			{name: "if-none-match star refuses overwrite", method: "PUT", path: "/api/v1/backends/b1", body: map[string]any{"url": "https://b2.example"}, hdr: []string{"If-None-Match", "*"}, wantStatus: 412},
			{name: "if-none-match star creates", method: "PUT", path: "/api/v1/backends/b2", body: map[string]any{"url": "https://b2.example"}, hdr: []string{"If-None-Match", "*"}, wantStatus: 201},
			{name: "delete with stale etag", method: "DELETE", path: "/api/v1/backends/b1", hdr: []string{"If-Match", `"1"`}, wantStatus: 412},
			{name: "patch with stale etag", method: "PATCH", path: "/api/v1/backends/b1", body: map[string]any{"title": "x"}, hdr: []string{"If-Match", `"1"`}, wantStatus: 412},
			{name: "not modified", method: "GET", path: "/api/v1/backends/b1", hdr: []string{"If-None-Match", etag}, wantStatus: 304},
			{name: "if-match ok", method: "PUT", path: "/api/v1/backends/b1", body: map[string]any{"url": "https://b3.example"}, hdr: []string{"If-Match", etag}, wantStatus: 200},
		})
	})
}

func TestConcurrentIfMatchWritersLoseNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/products/counter", map[string]any{"displayName": "Counter", "description": "0"})
		const writers = 50
		var wg sync.WaitGroup
		var mu sync.Mutex
		conflicts := 0
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					cur := e.do("GET", "/api/v1/products/counter", nil)
					var n int
					fmt.Sscanf(cur.str("description"), "%d", &n)
					r := e.do("PATCH", "/api/v1/products/counter", map[string]any{"description": fmt.Sprint(n + 1)}, "If-Match", cur.header.Get("ETag"))
					if r.status == http.StatusOK {
						return
					}
					if r.status != http.StatusPreconditionFailed {
						t.Errorf("PATCH = %d: %s", r.status, r.raw)
						return
					}
					mu.Lock()
					conflicts++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		got := e.must(200, "GET", "/api/v1/products/counter", nil).str("description")
		if got != fmt.Sprint(writers) {
			t.Fatalf("counter = %s after %d successful writers: an update was lost", got, writers)
		}
		t.Logf("%d writers, %d precondition failures retried", writers, conflicts)
	})
}

func TestOperations(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/apis/users", map[string]any{"displayName": "Users", "path": "users"})
		op := e.must(201, "PUT", "/api/v1/apis/users/operations/get-user", map[string]any{"displayName": "Get user", "method": "get", "urlTemplate": "/users/{id}/files/{*rest}"})
		if op.str("method") != "GET" || op.str("templateParameters.0.name") != "id" || op.str("templateParameters.1.name") != "rest" || op.str("id") != "/apis/users/operations/get-user" {
			t.Fatalf("operation = %s", op.raw)
		}
		e.run(t, []call{
			{name: "api missing", method: "PUT", path: "/api/v1/apis/nope/operations/x", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/x"}, wantStatus: 404},
			{name: "bad template", method: "PUT", path: "/api/v1/apis/users/operations/x", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/x/{id"}, wantStatus: 400, wantField: "urlTemplate"},
			{name: "wildcard not last", method: "PUT", path: "/api/v1/apis/users/operations/x", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/{*rest}/x"}, wantStatus: 400, wantField: "urlTemplate"},
			{name: "undeclared parameter", method: "PUT", path: "/api/v1/apis/users/operations/x", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/x", "templateParameters": []any{map[string]any{"name": "id"}}}, wantStatus: 400, wantField: "templateParameters[0].name"},
			{name: "bad method", method: "PUT", path: "/api/v1/apis/users/operations/x", body: map[string]any{"displayName": "X", "method": "GE T", "urlTemplate": "/x"}, wantStatus: 400, wantField: "method"},
			{name: "same route other param name", method: "PUT", path: "/api/v1/apis/users/operations/dup", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/Users/{userId}/files/{*path}"}, wantStatus: 409, wantField: "urlTemplate"},
			{name: "bad response code", method: "PUT", path: "/api/v1/apis/users/operations/x", body: map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/x", "responses": []any{map[string]any{"statusCode": 99}}}, wantStatus: 400, wantField: "responses[0].statusCode"},
			{name: "other method same template", method: "PUT", path: "/api/v1/apis/users/operations/del", body: map[string]any{"displayName": "X", "method": "DELETE", "urlTemplate": "/users/{id}/files/{*rest}"}, wantStatus: 201},
		})
		e.must(201, "PUT", "/api/v1/apis/users/operations/get-user/policy", `<policies><inbound><base/></inbound></policies>`, "Content-Type", "application/xml")
		e.must(204, "DELETE", "/api/v1/apis/users/operations/get-user", nil)
		e.must(404, "GET", "/api/v1/apis/users/operations/get-user/policy", nil)
		// the route is free again
		e.must(201, "PUT", "/api/v1/apis/users/operations/again", map[string]any{"displayName": "X", "method": "GET", "urlTemplate": "/users/{x}/files/{*y}"})
	})
}

func TestDeleteAPICascades(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/apis/tmp", map[string]any{"displayName": "Tmp", "path": "tmp"})
		e.must(201, "PUT", "/api/v1/apis/tmp/operations/op", map[string]any{"displayName": "Op", "method": "GET", "urlTemplate": "/"})
		e.must(201, "PUT", "/api/v1/apis/tmp/policy", `<policies><inbound><base/></inbound></policies>`, "Content-Type", "application/xml")
		e.must(201, "PUT", "/api/v1/products/starter/apis/tmp", nil)
		e.must(201, "PUT", "/api/v1/subscriptions/tmp-sub", map[string]any{"scope": "/apis/tmp", "displayName": "Tmp"})
		e.must(204, "DELETE", "/api/v1/apis/tmp", nil)
		if r := e.must(200, "GET", "/api/v1/products/starter/apis", nil); strings.Contains(string(r.raw), `"tmp"`) {
			t.Fatalf("product still links the deleted API: %s", r.raw)
		}
		e.must(404, "GET", "/api/v1/subscriptions/tmp-sub", nil)
		// recreating finds no leftovers
		e.must(201, "PUT", "/api/v1/apis/tmp", map[string]any{"displayName": "Tmp", "path": "tmp"})
		if r := e.must(200, "GET", "/api/v1/apis/tmp/operations", nil); r.num("count") != 0 {
			t.Fatalf("operations survived: %s", r.raw)
		}
		e.must(404, "GET", "/api/v1/apis/tmp/policy", nil)
		// the operation's route was released with it
		e.must(201, "PUT", "/api/v1/apis/tmp/operations/op2", map[string]any{"displayName": "Op", "method": "GET", "urlTemplate": "/"})
	})
}

var keyPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestSubscriptionsAndKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/users/dev1", map[string]any{"email": "Dev1@Example.com", "firstName": "Dev", "lastName": "One", "password": "s3cret-password"})
		sub := e.must(201, "PUT", "/api/v1/subscriptions/s1", map[string]any{"scope": "/products/unlimited", "ownerId": "/users/dev1", "displayName": "Mine"})
		if strings.Contains(string(sub.raw), "Key\"") || sub.str("state") != "active" || sub.str("createdDate") == "" {
			t.Fatalf("subscription = %s", sub.raw)
		}
		keys := e.must(200, "POST", "/api/v1/subscriptions/s1/listSecrets", nil)
		pk, sk := keys.str("primaryKey"), keys.str("secondaryKey")
		if !keyPattern.MatchString(pk) || !keyPattern.MatchString(sk) || pk == sk {
			t.Fatalf("keys = %s", keys.raw)
		}
		for _, path := range []string{"/api/v1/subscriptions/s1", "/api/v1/subscriptions", "/api/v1/users/dev1/subscriptions", "/api/v1/products/unlimited/subscriptions"} {
			if r := e.must(200, "GET", path, nil); strings.Contains(string(r.raw), pk) || strings.Contains(string(r.raw), sk) {
				t.Fatalf("GET %s reveals a key: %s", path, r.raw)
			}
		}
		if id, which, err := e.store.SubscriptionByKeyHash(context.Background(), secret.KeyHash(pk)); err != nil || id != "s1" || which != "primary" {
			t.Fatalf("hash lookup = %q %q %v", id, which, err)
		}
		e.must(204, "POST", "/api/v1/subscriptions/s1/regeneratePrimaryKey", nil)
		keys2 := e.must(200, "POST", "/api/v1/subscriptions/s1/listSecrets", nil)
		if keys2.str("primaryKey") == pk || keys2.str("secondaryKey") != sk {
			t.Fatalf("regenerate primary: %s", keys2.raw)
		}
		if _, _, err := e.store.SubscriptionByKeyHash(context.Background(), secret.KeyHash(pk)); err == nil {
			t.Fatal("the old key still resolves")
		}
		e.must(204, "POST", "/api/v1/subscriptions/s1/regenerateSecondaryKey", nil)
		if k := e.must(200, "POST", "/api/v1/subscriptions/s1/listSecrets", nil); k.str("secondaryKey") == sk {
			t.Fatal("secondary key not regenerated")
		}
		// A PATCH keeps the keys.
		before := e.must(200, "POST", "/api/v1/subscriptions/s1/listSecrets", nil)
		e.must(200, "PATCH", "/api/v1/subscriptions/s1", map[string]any{"state": "suspended"})
		if after := e.must(200, "POST", "/api/v1/subscriptions/s1/listSecrets", nil); after.str("primaryKey") != before.str("primaryKey") {
			t.Fatal("PATCH changed the keys")
		}
		e.run(t, []call{
			{name: "settable keys", method: "PUT", path: "/api/v1/subscriptions/s2", body: map[string]any{"scope": "/apis", "displayName": "All", "primaryKey": "my-own-primary-key-1", "secondaryKey": "my-own-secondary-key-1"}, wantStatus: 201, wantNotIn: "my-own"},
			{name: "key used elsewhere", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/apis", "displayName": "All", "primaryKey": "my-own-primary-key-1"}, wantStatus: 409, wantField: "primaryKey"},
			{name: "scope product missing", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/products/nope", "displayName": "X"}, wantStatus: 400, wantField: "scope"},
			{name: "scope api missing", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/apis/nope", "displayName": "X"}, wantStatus: 400, wantField: "scope"},
			{name: "malformed scope", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/tenants/x", "displayName": "X"}, wantStatus: 400, wantField: "scope"},
			{name: "owner missing", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/apis", "ownerId": "/users/ghost", "displayName": "X"}, wantStatus: 400, wantField: "ownerId"},
			{name: "bad state", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/apis", "displayName": "X", "state": "paused"}, wantStatus: 400, wantField: "state"},
			{name: "short key", method: "PUT", path: "/api/v1/subscriptions/s3", body: map[string]any{"scope": "/apis", "displayName": "X", "primaryKey": "short"}, wantStatus: 400, wantField: "primaryKey"},
			{name: "subscriptionsLimit", method: "PUT", path: "/api/v1/subscriptions/s4", body: map[string]any{"scope": "/products/unlimited", "ownerId": "/users/dev1", "displayName": "Second"}, wantStatus: 409, wantField: "scope"},
			{name: "cancelled ones do not count", method: "PUT", path: "/api/v1/subscriptions/s5", body: map[string]any{"scope": "/products/unlimited", "ownerId": "/users/dev1", "displayName": "Old", "state": "cancelled"}, wantStatus: 201},
			{name: "regenerate missing", method: "POST", path: "/api/v1/subscriptions/nope/regeneratePrimaryKey", wantStatus: 404},
			{name: "product with subscriptions", method: "DELETE", path: "/api/v1/products/unlimited", wantStatus: 409, wantIn: "deleteSubscriptions=true"},
			{name: "user with subscriptions", method: "DELETE", path: "/api/v1/users/dev1", wantStatus: 409},
			{name: "product with deleteSubscriptions", method: "DELETE", path: "/api/v1/products/unlimited?deleteSubscriptions=true", wantStatus: 204},
			{name: "its subscriptions are gone", method: "GET", path: "/api/v1/subscriptions/s1", wantStatus: 404},
			{name: "admin user cannot be deleted", method: "DELETE", path: "/api/v1/users/1?deleteSubscriptions=true", wantStatus: 409},
		})
		if _, _, err := e.store.SubscriptionByKeyHash(context.Background(), secret.KeyHash(keys2.str("primaryKey"))); err == nil {
			t.Fatal("a deleted subscription's key still resolves")
		}
	})
}

func TestUsersGroupsAndSecrets(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		u := e.must(201, "PUT", "/api/v1/users/ann", map[string]any{"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "password": "correct horse battery"})
		if strings.Contains(string(u.raw), "password") || strings.Contains(string(u.raw), "argon2") {
			t.Fatalf("user response reveals the password: %s", u.raw)
		}
		rec, err := e.store.Get(context.Background(), "user", "", "ann")
		if err != nil || !strings.Contains(string(rec.Doc), "$argon2id$") || strings.Contains(string(rec.Doc), "correct horse") {
			t.Fatalf("stored user = %s, %v", rec.Doc, err)
		}
		// Replacing without a password keeps the hash.
		e.must(200, "PUT", "/api/v1/users/ann", map[string]any{"email": "ann@example.com", "firstName": "Ann", "lastName": "Lee-Smith"})
		rec2, _ := e.store.Get(context.Background(), "user", "", "ann")
		if !strings.Contains(string(rec2.Doc), "$argon2id$") {
			t.Fatal("password hash lost on replace")
		}
		if r := e.must(200, "GET", "/api/v1/users/ann/groups", nil); !strings.Contains(string(r.raw), `"developers"`) {
			t.Fatalf("new user is not a developer: %s", r.raw)
		}
		e.must(201, "PUT", "/api/v1/groups/partners", map[string]any{"displayName": "Partners"})
		e.must(201, "PUT", "/api/v1/groups/partners/users/ann", nil)
		e.must(200, "PUT", "/api/v1/groups/partners/users/ann", nil)
		e.must(201, "PUT", "/api/v1/products/starter/groups/partners", nil)
		e.run(t, []call{
			{name: "duplicate email", method: "PUT", path: "/api/v1/users/bob", body: map[string]any{"email": "ANN@example.com", "firstName": "B", "lastName": "B"}, wantStatus: 409, wantField: "email"},
			{name: "bad email", method: "PUT", path: "/api/v1/users/bob", body: map[string]any{"email": "not-an-email", "firstName": "B", "lastName": "B"}, wantStatus: 400, wantField: "email"},
			{name: "short password", method: "PUT", path: "/api/v1/users/bob", body: map[string]any{"email": "bob@example.com", "firstName": "B", "lastName": "B", "password": "short"}, wantStatus: 400, wantField: "password"},
			{name: "passwordHash is not settable", method: "PUT", path: "/api/v1/users/bob", body: map[string]any{"email": "bob@example.com", "firstName": "B", "lastName": "B", "passwordHash": "$argon2id$fake"}, wantStatus: 201, wantNotIn: "fake"},
			{name: "system group is read-only", method: "PUT", path: "/api/v1/groups/developers", body: map[string]any{"displayName": "Devs"}, wantStatus: 409},
			{name: "system group cannot be deleted", method: "DELETE", path: "/api/v1/groups/administrators", wantStatus: 409},
			{name: "guests membership is implicit", method: "PUT", path: "/api/v1/groups/guests/users/ann", wantStatus: 409},
			{name: "member must exist", method: "PUT", path: "/api/v1/groups/partners/users/ghost", wantStatus: 404},
			{name: "unlink missing", method: "DELETE", path: "/api/v1/groups/partners/users/bob", wantStatus: 404},
			{name: "named value", method: "PUT", path: "/api/v1/namedValues/api-secret", body: map[string]any{"displayName": "apiSecret", "value": "hunter2-value", "secret": true}, wantStatus: 201, wantNotIn: "hunter2"},
			{name: "named value list hides secret", method: "GET", path: "/api/v1/namedValues", wantStatus: 200, wantNotIn: "hunter2"},
			{name: "listValue reveals", method: "POST", path: "/api/v1/namedValues/api-secret/listValue", wantStatus: 200, wantIn: "hunter2-value"},
			{name: "named value name unique", method: "PUT", path: "/api/v1/namedValues/other", body: map[string]any{"displayName": "APISECRET", "value": "v"}, wantStatus: 409, wantField: "displayName"},
			{name: "named value bad name", method: "PUT", path: "/api/v1/namedValues/other", body: map[string]any{"displayName": "has space", "value": "v"}, wantStatus: 400, wantField: "displayName"},
			{name: "backend credentials", method: "PUT", path: "/api/v1/backends/b", body: map[string]any{"url": "https://b.example", "credentials": map[string]any{"header": map[string]any{"x-key": []string{"v"}}}}, wantStatus: 201},
			{name: "backend bad url", method: "PUT", path: "/api/v1/backends/b2", body: map[string]any{"url": "b.example"}, wantStatus: 400, wantField: "url"},
			{name: "gateway", method: "PUT", path: "/api/v1/gateways/edge", body: map[string]any{"locationData": map[string]any{"name": "Edge", "city": "Oslo"}}, wantStatus: 201},
			{name: "gateway needs a location name", method: "PUT", path: "/api/v1/gateways/edge2", body: map[string]any{"description": "x"}, wantStatus: 400, wantField: "locationData.name"},
			{name: "managed gateway id reserved", method: "PUT", path: "/api/v1/gateways/managed", body: map[string]any{"locationData": map[string]any{"name": "X"}}, wantStatus: 409},
			{name: "assign API to gateway", method: "PUT", path: "/api/v1/gateways/edge/apis/echo-api", wantStatus: 201},
			{name: "list gateway APIs", method: "GET", path: "/api/v1/gateways/edge/apis", wantStatus: 200, wantIn: `"echo-api"`},
			{name: "fragment", method: "PUT", path: "/api/v1/policyFragments/cors", body: map[string]any{"value": "<fragment><cors><allowed-origins><origin>*</origin></allowed-origins></cors></fragment>"}, wantStatus: 201},
			{name: "fragment must be a fragment", method: "PUT", path: "/api/v1/policyFragments/bad", body: map[string]any{"value": "<policies/>"}, wantStatus: 400, wantField: "value"},
			{name: "product approval needs subscription", method: "PUT", path: "/api/v1/products/open", body: map[string]any{"displayName": "Open", "subscriptionRequired": false, "approvalRequired": true}, wantStatus: 400, wantField: "approvalRequired"},
			{name: "product bad state", method: "PUT", path: "/api/v1/products/open", body: map[string]any{"displayName": "Open", "state": "live"}, wantStatus: 400, wantField: "state"},
			{name: "new product visible to administrators", method: "PUT", path: "/api/v1/products/open", body: map[string]any{"displayName": "Open"}, wantStatus: 201},
			{name: "administrators see it", method: "GET", path: "/api/v1/products/open/groups/administrators", wantStatus: 200},
		})
		e.must(204, "DELETE", "/api/v1/groups/partners", nil)
		if r := e.must(200, "GET", "/api/v1/products/starter/groups", nil); strings.Contains(string(r.raw), "partners") {
			t.Fatal("deleted group still linked to a product")
		}
	})
}

func TestPolicies(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		doc := "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n  </inbound>\n</policies>"
		e.run(t, []call{
			{name: "global xml", method: "PUT", path: "/api/v1/policy", body: doc, hdr: []string{"Content-Type", "application/xml"}, wantStatus: 201},
			{name: "global replace", method: "PUT", path: "/api/v1/policy", body: doc, hdr: []string{"Content-Type", "application/xml"}, wantStatus: 200},
			{name: "json format", method: "PUT", path: "/api/v1/apis/echo-api/policy", body: map[string]any{"format": "rawxml", "value": doc}, wantStatus: 201, wantIn: `"format": "rawxml"`},
			{name: "malformed xml names line and column", method: "PUT", path: "/api/v1/products/starter/policy", body: "<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>", hdr: []string{"Content-Type", "application/xml"}, wantStatus: 400, wantIn: "line 4, column"},
			{name: "wrong root", method: "PUT", path: "/api/v1/products/starter/policy", body: "<policy/>", hdr: []string{"Content-Type", "application/xml"}, wantStatus: 400, wantIn: "root element must be <policies>"},
			{name: "empty", method: "PUT", path: "/api/v1/policy", body: "  ", hdr: []string{"Content-Type", "application/xml"}, wantStatus: 400},
			{name: "owner missing", method: "PUT", path: "/api/v1/apis/nope/policy", body: doc, hdr: []string{"Content-Type", "application/xml"}, wantStatus: 404},
			{name: "operation policy", method: "PUT", path: "/api/v1/apis/echo-api/operations/retrieve-resource/policy", body: doc, hdr: []string{"Content-Type", "application/xml"}, wantStatus: 201},
			{name: "get xml", method: "GET", path: "/api/v1/policy", wantStatus: 200, wantIn: "<set-header"},
			{name: "get json", method: "GET", path: "/api/v1/policy?format=rawxml-json", wantStatus: 200, wantIn: `"value"`},
			{name: "delete", method: "DELETE", path: "/api/v1/policy", wantStatus: 204},
			{name: "gone", method: "GET", path: "/api/v1/policy", wantStatus: 404},
		})
		// The refused starter policy was left as it was.
		if r := e.must(200, "GET", "/api/v1/products/starter/policy", nil); !strings.Contains(string(r.raw), "rate-limit") {
			t.Fatalf("starter policy changed: %s", r.raw)
		}
	})
}

func TestAuditLog(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.must(201, "PUT", "/api/v1/backends/audited", map[string]any{"url": "https://a.example"})
		e.must(204, "DELETE", "/api/v1/backends/audited", nil)
		r := e.must(200, "GET", "/api/v1/auditLog?top=2", nil)
		if r.str("value.0.action") != "delete" || r.str("value.0.path") != "/backends/audited" || r.str("value.1.action") != "create" || r.str("value.0.actor") != "admin-token" ||
			r.str("value.0.actorKind") != "adminToken" || len(r.str("value.0.actorId")) != 12 {
			t.Fatalf("audit log = %s", r.raw)
		}
	})
}
