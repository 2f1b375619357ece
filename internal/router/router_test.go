package router

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // canonical String()
		params  []string
		qparams []string
	}{
		{name: "root", in: "/", want: "/"},
		{name: "empty is root", in: "", want: "/"},
		{name: "literal", in: "/resource", want: "/resource"},
		{name: "no leading slash", in: "resource", want: "/resource"},
		{name: "trailing slash", in: "/resource/", want: "/resource"},
		{name: "param", in: "/users/{id}", want: "/users/{id}", params: []string{"id"}},
		{name: "wildcard", in: "/users/{id}/files/{*rest}", want: "/users/{id}/files/{*rest}", params: []string{"id", "rest"}},
		{name: "wildcard trailing slash", in: "/files/{*rest}/", want: "/files/{*rest}", params: []string{"rest"}},
		{name: "suffix", in: "/items/{id}.json", want: "/items/{id}.json", params: []string{"id"}},
		{name: "prefix", in: "/v{version}/x", want: "/v{version}/x", params: []string{"version"}},
		{name: "prefix and suffix", in: "/a-{n}-z", want: "/a-{n}-z", params: []string{"n"}},
		{name: "name chars", in: "/{a_b-c.d9}", want: "/{a_b-c.d9}", params: []string{"a_b-c.d9"}},
		{name: "query", in: "/search?q={q}&page={page}", want: "/search?q={q}&page={page}", qparams: []string{"q", "page"}},
		{name: "query only", in: "?q={q}", want: "/?q={q}", qparams: []string{"q"}},
		{name: "empty query dropped", in: "/a?", want: "/a"},
		{name: "query free text", in: "/a?x=1&y&z=?", want: "/a?x=1&y&z=?"},
		{name: "case kept", in: "/Users/{ID}", want: "/Users/{ID}", params: []string{"ID"}},
		{name: "percent and star literal", in: "/a%20b/*", want: "/a%20b/*"},
		{name: "max params", in: "/" + manyParams(MaxParams), want: "/" + manyParams(MaxParams), params: paramNames(MaxParams)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.in)
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tt.in, err)
			}
			if got := tp.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tp.Params(); !reflect.DeepEqual(got, tt.params) {
				t.Errorf("Params() = %q, want %q", got, tt.params)
			}
			if got := tp.QueryParams(); !reflect.DeepEqual(got, tt.qparams) {
				t.Errorf("QueryParams() = %q, want %q", got, tt.qparams)
			}
			again, err := ParseTemplate(tp.String())
			if err != nil || !reflect.DeepEqual(again, tp) {
				t.Errorf("re-parse of %q = %#v, %v; want %#v", tp.String(), again, err, tp)
			}
		})
	}
}

func manyParams(n int) string {
	return "{" + strings.Join(paramNames(n), "}/{") + "}"
}

func paramNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%d", i)
	}
	return names
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // substring of the error message
	}{
		{name: "empty segment", in: "/a//b", want: "empty segment at column 4"},
		{name: "double slash root", in: "//", want: "empty segment at column 2"},
		{name: "trailing double slash", in: "/a//", want: "empty segment at column 4"},
		{name: "unclosed brace", in: "/users/{id", want: "unclosed '{' at column 8"},
		{name: "unclosed before slash", in: "/users/{id/x}", want: "unclosed '{' at column 8"},
		{name: "nested brace", in: "/{a{b}}", want: "unclosed '{' at column 2"},
		{name: "unexpected close", in: "/users/id}", want: "unexpected '}' at column 10"},
		{name: "close in suffix", in: "/{id}}", want: "unexpected '}' at column 6"},
		{name: "empty name", in: "/users/{}", want: "empty parameter name at column 8"},
		{name: "empty wildcard name", in: "/users/{*}", want: "empty parameter name at column 8"},
		{name: "bad name char", in: "/users/{i d}", want: `invalid character ' ' in parameter name "i d" at column 10`},
		{name: "bad name colon", in: "/{id:int}", want: "invalid character ':' in parameter name"},
		{name: "duplicate", in: "/users/{id}/x/{id}", want: `duplicate parameter name "id" at column 15`},
		{name: "duplicate case-insensitive", in: "/{id}/{ID}", want: `duplicate parameter name "ID"`},
		{name: "duplicate with query", in: "/{q}?q={q}", want: `duplicate parameter name "q" at column 8`},
		{name: "wildcard not last", in: "/files/{*rest}/x", want: "wildcard parameter must be the last segment at column 8"},
		{name: "wildcard with prefix", in: "/files/x{*rest}", want: "wildcard parameter must be a whole segment at column 9"},
		{name: "two params in segment", in: "/{a}-{b}", want: "only one parameter per segment is allowed at column 6"},
		{name: "space", in: "/a b", want: "invalid character ' ' at column 3"},
		{name: "hash", in: "/a#b", want: "invalid character '#' at column 3"},
		{name: "control", in: "/a\x01", want: `invalid character '\x01' at column 3`},
		{name: "query unclosed", in: "/a?q={q", want: "unclosed '{' at column 6"},
		{name: "query unexpected close", in: "/a?q=}", want: "unexpected '}' at column 6"},
		{name: "query wildcard", in: "/a?q={*q}", want: "wildcard parameter not allowed in query at column 6"},
		{name: "query bad name", in: "/a?q={a&b}", want: "unclosed '{' at column 6"},
		{name: "too many params", in: "/" + manyParams(MaxParams+1), want: "too many parameters (max 16)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplate(tt.in)
			if err == nil {
				t.Fatalf("ParseTemplate(%q) succeeded, want error containing %q", tt.in, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if !strings.Contains(msg, fmt.Sprintf("template %q", tt.in)) {
				t.Errorf("error %q does not name the template", msg)
			}
			if msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("error %q should start lowercase", msg)
			}
			var te *TemplateError
			if !errors.As(err, &te) || te.Column < 1 || te.Column > len(tt.in)+1 {
				t.Errorf("error %#v is not a *TemplateError with a valid column", err)
			}
		})
	}
}

// want describes the expected outcome of one Match call.
type want struct {
	api, op string // IDs; "" means not found
	params  string // "name=value,..." in order
	rest    string // checked when api != ""
}

type matchCase struct {
	name               string
	host, method, path string
	want               want
}

func runMatchCases(t *testing.T, r *Router, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			var m Match
			apiOK, opOK := r.Match(tt.host, method, tt.path, &m)
			got := describe(&m, apiOK, opOK)
			w := tt.want
			if w.api == "" {
				w.rest = ""
			}
			if got != w {
				t.Errorf("Match(%q, %q, %q) = %+v, want %+v", tt.host, method, tt.path, got, w)
			}
			checkSubstrings(t, tt.path, &m)
		})
	}
}

func describe(m *Match, apiOK, opOK bool) want {
	var w want
	if apiOK != (m.API != nil) || opOK != (m.Operation != nil) {
		w.api = "inconsistent"
		return w
	}
	if apiOK {
		w.api, w.rest = m.API.ID, m.Rest
	}
	if opOK {
		w.op = m.Operation.ID
		var ps []string
		for _, p := range m.Params[:m.NParams] {
			ps = append(ps, p.Name+"="+p.Value)
		}
		w.params = strings.Join(ps, ",")
	}
	return w
}

// checkSubstrings verifies that every captured value aliases the path.
func checkSubstrings(t *testing.T, path string, m *Match) {
	t.Helper()
	inPath := func(s string) bool {
		if s == "" {
			return true
		}
		base := uintptr(unsafe.Pointer(unsafe.StringData(path)))
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= base && p+uintptr(len(s)) <= base+uintptr(len(path))
	}
	for i := 0; i < m.NParams; i++ {
		if !inPath(m.Params[i].Value) {
			t.Errorf("param %q = %q is not a substring of %q", m.Params[i].Name, m.Params[i].Value, path)
		}
	}
	if m.Rest != "/" && !inPath(m.Rest) {
		t.Errorf("rest %q is not a substring of %q", m.Rest, path)
	}
}

func ops(specs ...string) []Operation {
	out := make([]Operation, len(specs))
	for i, s := range specs {
		method, tmpl, _ := strings.Cut(s, " ")
		out[i] = Operation{ID: s, Method: method, Template: tmpl}
	}
	return out
}

func mustBuild(t testing.TB, apis []API) *Router {
	t.Helper()
	r, errs := Build(apis)
	for _, e := range errs {
		t.Errorf("unexpected build error: %v", e)
	}
	return r
}

func TestMatchAPI(t *testing.T) {
	r := mustBuild(t, []API{
		{ID: "root", Path: "", Operations: ops("GET /", "GET /status")},
		{ID: "echo", Path: "echo", Operations: ops("* /{*rest}")},
		{ID: "v1", Path: "/v1/", Operations: ops("GET /ping")},
		{ID: "v1-orders", Path: "v1/orders", Operations: ops("GET /{id}")},
		{ID: "v1-orders-deep", Path: "v1/orders/archive/old", Operations: ops("GET /")},
		{ID: "Mixed", Path: "Mixed/Case", Operations: ops("GET /")},
		{ID: "echo-contoso", Host: "Contoso.COM:8443", Path: "echo", Operations: ops("GET /x")},
		{ID: "only-contoso", Host: "contoso.com", Path: "private", Operations: ops("GET /")},
		{ID: "ipv6", Host: "[::1]:8080", Path: "six", Operations: ops("GET /")},
	})
	runMatchCases(t, r, []matchCase{
		{name: "empty api path root", path: "/", want: want{api: "root", op: "GET /", rest: "/"}},
		{name: "empty api path empty request", path: "", want: want{api: "root", op: "GET /", rest: "/"}},
		{name: "empty api path op", path: "/status", want: want{api: "root", op: "GET /status", rest: "/status"}},
		{name: "empty api path no op", path: "/nothing", want: want{api: "root", rest: "/nothing"}},
		{name: "exact api path", path: "/echo", want: want{api: "echo", op: "* /{*rest}", params: "rest=", rest: "/"}},
		{name: "api path trailing slash", path: "/echo/", want: want{api: "echo", op: "* /{*rest}", params: "rest=", rest: "/"}},
		{name: "api path below", path: "/echo/a/b", want: want{api: "echo", op: "* /{*rest}", params: "rest=a/b", rest: "/a/b"}},
		{name: "segment boundary", path: "/echoes", want: want{api: "root", rest: "/echoes"}},
		{name: "segment boundary deeper", path: "/v1/ordersx/1", want: want{api: "v1", rest: "/ordersx/1"}},
		{name: "longest path wins", path: "/v1/orders/42", want: want{api: "v1-orders", op: "GET /{id}", params: "id=42", rest: "/42"}},
		{name: "shorter path", path: "/v1/ping", want: want{api: "v1", op: "GET /ping", rest: "/ping"}},
		{name: "partial deep path falls back", path: "/v1/orders/archive", want: want{api: "v1-orders", op: "GET /{id}", params: "id=archive", rest: "/archive"}},
		{name: "deepest path", path: "/v1/orders/archive/old/", want: want{api: "v1-orders-deep", op: "GET /", rest: "/"}},
		{name: "api path case-insensitive", path: "/V1/ORDERS/7", want: want{api: "v1-orders", op: "GET /{id}", params: "id=7", rest: "/7"}},
		{name: "configured mixed case", path: "/mixed/case", want: want{api: "Mixed", op: "GET /", rest: "/"}},
		{name: "query string ignored", path: "/v1/orders/42?x=/y", want: want{api: "v1-orders", op: "GET /{id}", params: "id=42", rest: "/42"}},
		{name: "host beats host-less", host: "contoso.com", path: "/echo/x", want: want{api: "echo-contoso", op: "GET /x", rest: "/x"}},
		{name: "host case and port ignored", host: "CONTOSO.com:443", path: "/echo/x", want: want{api: "echo-contoso", op: "GET /x", rest: "/x"}},
		{name: "host trailing dot", host: "contoso.com.", path: "/echo/x", want: want{api: "echo-contoso", op: "GET /x", rest: "/x"}},
		{name: "host api without op does not fall back", host: "contoso.com", path: "/echo/y", want: want{api: "echo-contoso", rest: "/y"}},
		{name: "other host gets host-less", host: "fabrikam.com", path: "/echo/x", want: want{api: "echo", op: "* /{*rest}", params: "rest=x", rest: "/x"}},
		{name: "no host gets host-less", path: "/echo/x", want: want{api: "echo", op: "* /{*rest}", params: "rest=x", rest: "/x"}},
		{name: "host-only api", host: "contoso.com", path: "/private", want: want{api: "only-contoso", op: "GET /", rest: "/"}},
		{name: "host-only api other host", host: "fabrikam.com", path: "/private", want: want{api: "root", rest: "/private"}},
		{name: "longer host-less beats shorter host", host: "contoso.com", path: "/v1/ping", want: want{api: "v1", op: "GET /ping", rest: "/ping"}},
		{name: "ipv6 host", host: "[::1]:9999", path: "/six", want: want{api: "ipv6", op: "GET /", rest: "/"}},
		{name: "double slash is empty segment", path: "//echo", want: want{api: "root", rest: "//echo"}},
	})

	t.Run("no api", func(t *testing.T) {
		r := mustBuild(t, []API{{ID: "a", Path: "a", Operations: ops("GET /")}})
		runMatchCases(t, r, []matchCase{
			{name: "miss", path: "/b", want: want{}},
			{name: "root miss", path: "/", want: want{}},
		})
	})
}

func TestMatchOperation(t *testing.T) {
	r := mustBuild(t, []API{{ID: "api", Path: "api", Operations: ops(
		"GET /",
		"GET /resource",
		"GET /users/me",
		"GET /users/{id}",
		"DELETE /users/{id}",
		"GET /users/{id}/files/{*rest}",
		"GET /users/{id}/files/readme",
		"* /users/{id}/avatar",
		"PUT /users/{id}/avatar",
		"GET /files/{*path}",
		"GET /files",
		"GET /items/{id}.json",
		"GET /items/{id}",
		"GET /items/new",
		"GET /items/{id}.tar.gz",
		"GET /docs/v{version}",
		"GET /docs/{page}",
		"GET /a/{x}/c",
		"GET /a/b/d",
		"GET /search?q={q}",
		"* /any",
		"POST /only-post",
	)}})
	runMatchCases(t, r, []matchCase{
		{name: "root op", path: "/api", want: want{api: "api", op: "GET /", rest: "/"}},
		{name: "literal", path: "/api/resource", want: want{api: "api", op: "GET /resource", rest: "/resource"}},
		{name: "trailing slash tolerated", path: "/api/resource/", want: want{api: "api", op: "GET /resource", rest: "/resource/"}},
		{name: "literal case-insensitive", path: "/api/RESOURCE", want: want{api: "api", op: "GET /resource", rest: "/RESOURCE"}},
		{name: "literal beats param", path: "/api/users/me", want: want{api: "api", op: "GET /users/me", rest: "/users/me"}},
		{name: "literal beats param any case", path: "/api/users/ME", want: want{api: "api", op: "GET /users/me", rest: "/users/ME"}},
		{name: "param", path: "/api/users/42", want: want{api: "api", op: "GET /users/{id}", params: "id=42", rest: "/users/42"}},
		{name: "param keeps case and encoding", path: "/api/users/J%C3%B6rg", want: want{api: "api", op: "GET /users/{id}", params: "id=J%C3%B6rg", rest: "/users/J%C3%B6rg"}},
		{name: "method picks op", method: "DELETE", path: "/api/users/42", want: want{api: "api", op: "DELETE /users/{id}", params: "id=42", rest: "/users/42"}},
		{name: "method case-insensitive", method: "delete", path: "/api/users/42", want: want{api: "api", op: "DELETE /users/{id}", params: "id=42", rest: "/users/42"}},
		{name: "backtrack to param for method", method: "DELETE", path: "/api/users/me", want: want{api: "api", op: "DELETE /users/{id}", params: "id=me", rest: "/users/me"}},
		{name: "no method", method: "PATCH", path: "/api/users/42", want: want{api: "api", rest: "/users/42"}},
		{name: "literal beats wildcard", path: "/api/users/1/files/readme", want: want{api: "api", op: "GET /users/{id}/files/readme", params: "id=1", rest: "/users/1/files/readme"}},
		{name: "wildcard one segment", path: "/api/users/1/files/a", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=a", rest: "/users/1/files/a"}},
		{name: "wildcard many segments", path: "/api/users/1/files/a/b/c.txt", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=a/b/c.txt", rest: "/users/1/files/a/b/c.txt"}},
		{name: "wildcard many trailing slash", path: "/api/users/1/files/a/b/", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=a/b", rest: "/users/1/files/a/b/"}},
		{name: "wildcard zero segments", path: "/api/users/1/files", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=", rest: "/users/1/files"}},
		{name: "wildcard zero trailing slash", path: "/api/users/1/files/", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=", rest: "/users/1/files/"}},
		{name: "wildcard keeps literal-looking rest", path: "/api/users/1/files/readme/x", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=readme/x", rest: "/users/1/files/readme/x"}},
		{name: "wildcard with empty segments", path: "/api/users/1/files/a//b", want: want{api: "api", op: "GET /users/{id}/files/{*rest}", params: "id=1,rest=a//b", rest: "/users/1/files/a//b"}},
		{name: "exact beats zero-segment wildcard", path: "/api/files", want: want{api: "api", op: "GET /files", rest: "/files"}},
		{name: "wildcard at files", path: "/api/files/x/y", want: want{api: "api", op: "GET /files/{*path}", params: "path=x/y", rest: "/files/x/y"}},
		{name: "explicit beats star", method: "PUT", path: "/api/users/1/avatar", want: want{api: "api", op: "PUT /users/{id}/avatar", params: "id=1", rest: "/users/1/avatar"}},
		{name: "star fallback", method: "POST", path: "/api/users/1/avatar", want: want{api: "api", op: "* /users/{id}/avatar", params: "id=1", rest: "/users/1/avatar"}},
		{name: "star any method", method: "OPTIONS", path: "/api/any", want: want{api: "api", op: "* /any", rest: "/any"}},
		{name: "only post with get", path: "/api/only-post", want: want{api: "api", rest: "/only-post"}},
		{name: "suffix param", path: "/api/items/7.json", want: want{api: "api", op: "GET /items/{id}.json", params: "id=7", rest: "/items/7.json"}},
		{name: "suffix param case-insensitive", path: "/api/items/7.JSON", want: want{api: "api", op: "GET /items/{id}.json", params: "id=7", rest: "/items/7.JSON"}},
		{name: "longer suffix first", path: "/api/items/7.tar.gz", want: want{api: "api", op: "GET /items/{id}.tar.gz", params: "id=7", rest: "/items/7.tar.gz"}},
		{name: "suffix needs non-empty capture", path: "/api/items/.json", want: want{api: "api", op: "GET /items/{id}", params: "id=.json", rest: "/items/.json"}},
		{name: "literal beats suffix param", path: "/api/items/new", want: want{api: "api", op: "GET /items/new", rest: "/items/new"}},
		{name: "plain param", path: "/api/items/7", want: want{api: "api", op: "GET /items/{id}", params: "id=7", rest: "/items/7"}},
		{name: "prefix param", path: "/api/docs/v2", want: want{api: "api", op: "GET /docs/v{version}", params: "version=2", rest: "/docs/v2"}},
		{name: "prefix param falls to plain", path: "/api/docs/intro", want: want{api: "api", op: "GET /docs/{page}", params: "page=intro", rest: "/docs/intro"}},
		{name: "prefix alone is plain", path: "/api/docs/v", want: want{api: "api", op: "GET /docs/{page}", params: "page=v", rest: "/docs/v"}},
		{name: "backtrack from literal", path: "/api/a/b/c", want: want{api: "api", op: "GET /a/{x}/c", params: "x=b", rest: "/a/b/c"}},
		{name: "literal path", path: "/api/a/b/d", want: want{api: "api", op: "GET /a/b/d", rest: "/a/b/d"}},
		{name: "query in template ignored", path: "/api/search?q=go", want: want{api: "api", op: "GET /search?q={q}", rest: "/search"}},
		{name: "param no empty segment", path: "/api/users//", want: want{api: "api", rest: "/users//"}},
		{name: "too deep", path: "/api/users/1/x", want: want{api: "api", rest: "/users/1/x"}},
	})
}

func TestMatchPrecedenceIndependentOfOrder(t *testing.T) {
	specs := []string{"GET /x/{id}", "GET /x/me", "GET /x/{*rest}", "GET /x/{id}.json", "GET /x/v{n}"}
	paths := map[string]string{
		"/x/me":     "GET /x/me",
		"/x/1":      "GET /x/{id}",
		"/x/1.json": "GET /x/{id}.json",
		"/x/v1":     "GET /x/v{n}",
		"/x/1/2":    "GET /x/{*rest}",
		"/x":        "GET /x/{*rest}",
	}
	for rot := range specs {
		rotated := append(append([]string{}, specs[rot:]...), specs[:rot]...)
		t.Run(fmt.Sprint("rotation=", rot), func(t *testing.T) {
			r := mustBuild(t, []API{{ID: "a", Operations: ops(rotated...)}})
			for path, wantOp := range paths {
				var m Match
				if _, ok := r.Match("", "GET", path, &m); !ok || m.Operation.ID != wantOp {
					t.Errorf("%s: got %+v, want %s", path, m.Operation, wantOp)
				}
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	type wantErr struct{ api, op, msg string }
	tests := []struct {
		name    string
		apis    []API
		errs    []wantErr
		matches []matchCase
	}{
		{
			name: "broken operation isolated",
			apis: []API{{ID: "a", Path: "a", Operations: []Operation{
				{ID: "good", Method: "GET", Template: "/x"},
				{ID: "bad-template", Method: "GET", Template: "/y/{"},
				{ID: "bad-method", Method: "GE T", Template: "/z"},
				{ID: "no-method", Method: "", Template: "/w"},
				{ID: "good2", Method: "get", Template: "/y/{id}"},
			}}},
			errs: []wantErr{
				{"a", "bad-template", `template "/y/{": unclosed '{' at column 4`},
				{"a", "bad-method", `invalid method "GE T"`},
				{"a", "no-method", "empty method"},
			},
			matches: []matchCase{
				{name: "good", path: "/a/x", want: want{api: "a", op: "good", rest: "/x"}},
				{name: "good2", path: "/a/y/1", want: want{api: "a", op: "good2", params: "id=1", rest: "/y/1"}},
				{name: "skipped", path: "/a/z", want: want{api: "a", rest: "/z"}},
			},
		},
		{
			name: "broken api isolated",
			apis: []API{
				{ID: "bad-path", Path: "a//b", Operations: ops("GET /")},
				{ID: "bad-char", Path: "a/{b}", Operations: ops("GET /")},
				{ID: "bad-host", Host: "a/b", Path: "h", Operations: ops("GET /")},
				{ID: "empty-host", Host: ":80", Path: "h", Operations: ops("GET /")},
				{ID: "good", Path: "a", Operations: ops("GET /b")},
			},
			errs: []wantErr{
				{"bad-path", "", `invalid api path "a//b": empty segment`},
				{"bad-char", "", `invalid api path "a/{b}": invalid character '{'`},
				{"bad-host", "", `invalid host "a/b"`},
				{"empty-host", "", `invalid host ":80"`},
			},
			matches: []matchCase{
				{name: "good", path: "/a/b", want: want{api: "good", op: "GET /b", rest: "/b"}},
				{name: "bad host not routed", path: "/h", want: want{}},
			},
		},
		{
			name: "duplicate api",
			apis: []API{
				{ID: "first", Path: "/orders/", Operations: ops("GET /")},
				{ID: "second", Path: "Orders", Operations: ops("GET /x")},
				{ID: "host", Host: "contoso.com", Path: "orders", Operations: ops("GET /h")},
				{ID: "host-dup", Host: "CONTOSO.com:80", Path: "orders", Operations: ops("GET /h")},
			},
			errs: []wantErr{
				{"second", "", `duplicate api path "Orders" for any host (already used by api "first")`},
				{"host-dup", "", `duplicate api path "orders" for host "contoso.com" (already used by api "host")`},
			},
			matches: []matchCase{
				{name: "first kept", path: "/orders", want: want{api: "first", op: "GET /", rest: "/"}},
				{name: "host kept", host: "contoso.com", path: "/orders/h", want: want{api: "host", op: "GET /h", rest: "/h"}},
			},
		},
		{
			name: "duplicate operations",
			apis: []API{{ID: "a", Operations: []Operation{
				{ID: "u1", Method: "GET", Template: "/users/{id}"},
				{ID: "u2", Method: "get", Template: "/Users/{userId}/"},
				{ID: "u3", Method: "POST", Template: "/users/{id}"},
				{ID: "s1", Method: "*", Template: "/users/{id}"},
				{ID: "s2", Method: "*", Template: "users/{x}"},
				{ID: "w1", Method: "GET", Template: "/f/{*a}"},
				{ID: "w2", Method: "GET", Template: "/f/{*b}"},
				{ID: "j1", Method: "GET", Template: "/j/{a}.json"},
				{ID: "j2", Method: "GET", Template: "/j/{b}.JSON"},
				{ID: "j3", Method: "GET", Template: "/j/{b}.xml"},
				{ID: "q1", Method: "GET", Template: "/q?a={a}"},
				{ID: "q2", Method: "GET", Template: "/q?b={b}"},
			}}},
			errs: []wantErr{
				{"a", "u2", `duplicate operation GET /Users/{userId} (equivalent to operation "u1")`},
				{"a", "s2", `duplicate operation * /users/{x} (equivalent to operation "s1")`},
				{"a", "w2", `(equivalent to operation "w1")`},
				{"a", "j2", `(equivalent to operation "j1")`},
				{"a", "q2", `(equivalent to operation "q1")`},
			},
			matches: []matchCase{
				{name: "first kept", path: "/users/1", want: want{api: "a", op: "u1", params: "id=1", rest: "/users/1"}},
				{name: "post kept", method: "POST", path: "/users/1", want: want{api: "a", op: "u3", params: "id=1", rest: "/users/1"}},
				{name: "star kept", method: "PATCH", path: "/users/1", want: want{api: "a", op: "s1", params: "id=1", rest: "/users/1"}},
				{name: "xml kept", path: "/j/1.xml", want: want{api: "a", op: "j3", params: "b=1", rest: "/j/1.xml"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, errs := Build(tt.apis)
			if len(errs) != len(tt.errs) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tt.errs))
			}
			for i, e := range errs {
				w := tt.errs[i]
				if e.APIID != w.api || e.OperationID != w.op || !strings.Contains(e.Error(), w.msg) {
					t.Errorf("error %d = {%q %q %q}, want api %q op %q containing %q", i, e.APIID, e.OperationID, e.Error(), w.api, w.op, w.msg)
				}
				if !strings.HasPrefix(e.Error(), "router: api ") || e.Unwrap() == nil {
					t.Errorf("error %d = %q: bad format or no cause", i, e.Error())
				}
			}
			runMatchCases(t, r, tt.matches)
		})
	}

	t.Run("template error unwraps", func(t *testing.T) {
		_, errs := Build([]API{{ID: "a", Operations: ops("GET /{")}})
		var te *TemplateError
		if len(errs) != 1 || !errors.As(errs[0], &te) || te.Column != 2 {
			t.Fatalf("errs = %v, want one wrapping *TemplateError at column 2", errs)
		}
	})
}

func TestBuildCopiesInput(t *testing.T) {
	apis := []API{{ID: "a", Host: "Example.com:80", Path: "/a/", Value: 1, Operations: []Operation{
		{ID: "x", Method: "get", Template: "/x", Value: "vx"},
		{ID: "broken", Method: "GET", Template: "/{"},
	}}}
	r, errs := Build(apis)
	if len(errs) != 1 {
		t.Fatalf("errs = %v", errs)
	}
	apis[0].Path = "b"
	apis[0].Operations[0].Template = "/y"
	apis[0].Operations[0].ID = "changed"

	var m Match
	if _, ok := r.Match("example.com", "GET", "/a/x", &m); !ok {
		t.Fatal("no match after mutating input")
	}
	want := API{ID: "a", Host: "example.com", Path: "a", Value: 1, Operations: []Operation{
		{ID: "x", Method: "GET", Template: "/x", Value: "vx"},
	}}
	if !reflect.DeepEqual(*m.API, want) {
		t.Errorf("API copy = %+v, want %+v", *m.API, want)
	}
	if m.Operation != &m.API.Operations[0] {
		t.Error("Operation does not point into API.Operations")
	}
	if v, ok := m.Param("nope"); ok || v != "" {
		t.Error("Param of unknown name should report false")
	}
}

func TestMatchReusesMatch(t *testing.T) {
	r := mustBuild(t, []API{{ID: "a", Operations: ops("GET /u/{id}/{x}", "GET /v")}})
	var m Match
	r.Match("", "GET", "/u/1/2", &m)
	if v, ok := m.Param("x"); !ok || v != "2" {
		t.Fatalf("Param(x) = %q, %v", v, ok)
	}
	r.Match("", "GET", "/v", &m)
	if m.NParams != 0 || m.Params[0] != (Param{}) {
		t.Errorf("stale params after reuse: %+v", m)
	}
	r.Match("", "GET", "/u/1/2/3", &m) // API found, op not found after partial captures
	if m.Operation != nil || m.NParams != 0 || m.Params[0] != (Param{}) {
		t.Errorf("stale params after miss: %+v", m)
	}
	var nilRouter *Router
	if a, o := nilRouter.Match("", "GET", "/", &m); a || o {
		t.Error("nil router matched")
	}
}

func TestMatchConcurrent(t *testing.T) {
	r := mustBuild(t, []API{{ID: "a", Path: "a", Operations: ops("GET /u/{id}")}})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m Match
			for i := 0; i < 1000; i++ {
				path := fmt.Sprintf("/a/u/%d", i)
				if _, ok := r.Match("", "GET", path, &m); !ok || m.Params[0].Value != fmt.Sprint(i) {
					t.Errorf("%s: %+v", path, m)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMatchAllocs(t *testing.T) {
	apis := benchAPIs(200)
	apis = append(apis, API{ID: "host", Host: "contoso.com", Path: "api0", Operations: ops("GET /h/{id}")})
	r := mustBuild(t, apis)
	tests := []struct {
		name, host, method, path string
		api, op                  bool
	}{
		{name: "literal hit", method: "GET", path: "/api7/orders", api: true, op: true},
		{name: "param hit", method: "GET", path: "/api150/users/42/orders/7", api: true, op: true},
		{name: "mixed case hit", method: "get", path: "/API150/USERS/42/Orders/7/", api: true, op: true},
		{name: "wildcard hit", method: "GET", path: "/api3/files/a/b/c", api: true, op: true},
		{name: "host hit", host: "CONTOSO.COM:443", method: "GET", path: "/api0/h/1", api: true, op: true},
		{name: "op miss", method: "GET", path: "/api7/nothing/here", api: true},
		{name: "method miss", method: "PATCH", path: "/api7/orders", api: true},
		{name: "api miss", method: "GET", path: "/nope/orders"},
		{name: "long segment miss", method: "GET", path: "/" + strings.Repeat("X", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Match
			var apiOK, opOK bool
			allocs := testing.AllocsPerRun(100, func() {
				apiOK, opOK = r.Match(tt.host, tt.method, tt.path, &m)
			})
			if apiOK != tt.api || opOK != tt.op {
				t.Fatalf("Match = %v, %v; want %v, %v", apiOK, opOK, tt.api, tt.op)
			}
			if allocs != 0 {
				t.Errorf("Match allocated %v times per run, want 0", allocs)
			}
		})
	}
}

// FuzzParseTemplate checks that ParseTemplate never panics and that every
// template it accepts round-trips through String.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{
		"", "/", "/resource", "/users/{id}", "/users/{id}/files/{*rest}", "/items/{id}.json",
		"/v{version}/x", "/search?q={q}&p={p}", "/a//b", "/{", "/}", "/{a}{b}", "/{*a}/b",
		"users/", "//", "/{id}?id={id}", "/a?", "/ä/{ö}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := ParseTemplate(s)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Column < 1 || te.Column > len(s)+1 {
				t.Fatalf("ParseTemplate(%q): bad error %#v", s, err)
			}
			return
		}
		str := tp.String()
		again, err := ParseTemplate(str)
		if err != nil {
			t.Fatalf("ParseTemplate(%q) ok but its String %q fails: %v", s, str, err)
		}
		if !reflect.DeepEqual(again, tp) || again.String() != str {
			t.Fatalf("round trip of %q via %q: got %#v, want %#v", s, str, again, tp)
		}
		if len(tp.Params()) > MaxParams {
			t.Fatalf("%q: %d params", s, len(tp.Params()))
		}
	})
}

// FuzzMatch builds a router from a fuzzed API path and template, matches a
// fuzzed request and a request synthesized from the template, and checks that
// Match never panics, captures only substrings of the path, and finds the
// operation for the synthesized request.
func FuzzMatch(f *testing.F) {
	f.Add("api", "/users/{id}/files/{*rest}", "GET", "/api/users/1/files/a/b")
	f.Add("", "/{id}.json", "*", "/x.json/")
	f.Add("v1/orders", "/v{n}/{*r}", "POST", "//v1//orders")
	f.Add("a", "/", "GET", "/A?x=1")
	f.Fuzz(func(t *testing.T, apiPath, tmpl, method, path string) {
		r, _ := Build([]API{
			{ID: "fuzz", Path: apiPath, Operations: []Operation{
				{ID: "f", Method: method, Template: tmpl},
				{ID: "fixed", Method: "GET", Template: "/fixed/{id}"},
			}},
			{ID: "other", Path: "other", Operations: ops("* /{*rest}")},
		})
		var m Match
		apiOK, opOK := r.Match("example.com", method, path, &m)
		checkSubstrings(t, path, &m)
		if apiOK != (m.API != nil) || opOK != (m.Operation != nil) || m.NParams > MaxParams {
			t.Fatalf("inconsistent match %+v (%v, %v)", m, apiOK, opOK)
		}

		// A request built from the template must reach this operation
		// when it is the API's only operation.
		tp, err := ParseTemplate(tmpl)
		if err != nil {
			return
		}
		r, errs := Build([]API{{ID: "solo", Path: apiPath, Operations: []Operation{{ID: "f", Method: method, Template: tmpl}}}})
		if len(errs) != 0 {
			return
		}
		req, values := synthesize(strings.Trim(apiPath, "/"), tp)
		apiOK, opOK = r.Match("", method, req, &m)
		if !apiOK || !opOK {
			t.Fatalf("template %q under api %q: %q did not match (%v, %v)", tmpl, apiPath, req, apiOK, opOK)
		}
		if m.NParams != len(values) {
			t.Fatalf("%q: got %d params, want %d", req, m.NParams, len(values))
		}
		for i, v := range values {
			if m.Params[i].Value != v || m.Params[i].Name != tp.params[i] {
				t.Fatalf("%q: param %d = %+v, want %s=%q", req, i, m.Params[i], tp.params[i], v)
			}
		}
		checkSubstrings(t, req, &m)
	})
}

// synthesize builds a request path for template tp under apiPath and returns
// the values its parameters should capture.
func synthesize(apiPath string, tp Template) (string, []string) {
	var b strings.Builder
	var values []string
	if apiPath != "" {
		b.WriteString("/" + apiPath)
	}
	for i, s := range tp.segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(s.prefix)
		case segParam:
			v := fmt.Sprintf("p%d", i)
			b.WriteString(s.prefix + v + s.suffix)
			values = append(values, v)
		case segWildcard:
			b.WriteString("w/x")
			values = append(values, "w/x")
		}
	}
	if b.Len() == 0 {
		b.WriteByte('/')
	}
	return b.String(), values
}
