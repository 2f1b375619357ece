package gateway

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

const (
	bodyMissing = `{"statusCode":401,"message":"Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}`
	bodyInvalid = `{"statusCode":401,"message":"Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}`
	bodyNoRoute = `{"statusCode":404,"message":"Resource not found"}`
)

func TestSubscriptionKeys(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{PublicURL: "https://gw.example"}, testConfig(be.URL))

	tests := []struct {
		name        string
		path        string
		hdr         []string
		wantStatus  int
		wantBody    string // exact, when set
		wantProduct string // product label recorded for a 2xx
		wantAPI     string
	}{
		// Where the key is read from.
		{name: "header key", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyP1}, wantStatus: 200, wantProduct: "p1"},
		{name: "header name is case-insensitive", path: "/echo/resource", hdr: []string{"ocp-apim-subscription-key", keyP1}, wantStatus: 200, wantProduct: "p1"},
		{name: "query key", path: "/echo/resource?subscription-key=" + keyP1, wantStatus: 200, wantProduct: "p1"},
		{name: "escaped query key", path: "/echo/resource?subscription%2Dkey=" + url.QueryEscape(keyP1), wantStatus: 200, wantProduct: "p1"},
		{name: "secondary key", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyP1Second}, wantStatus: 200, wantProduct: "p1"},
		{name: "header wins over query", path: "/echo/resource?subscription-key=wrong-key-000000000", hdr: []string{"Ocp-Apim-Subscription-Key", keyP1}, wantStatus: 200, wantProduct: "p1"},
		{name: "empty header falls back to query", path: "/echo/resource?subscription-key=" + keyP1, hdr: []string{"Ocp-Apim-Subscription-Key", ""}, wantStatus: 200, wantProduct: "p1"},
		{name: "custom header name", path: "/custom/resource", hdr: []string{"X-Api-Key", keyP1}, wantStatus: 200, wantProduct: "p1"},
		{name: "custom query name", path: "/custom/resource?apikey=" + keyP1, wantStatus: 200, wantProduct: "p1"},
		{name: "default header ignored when renamed", path: "/custom/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyP1}, wantStatus: 401, wantBody: bodyMissing},

		// Scopes.
		{name: "scope all apis", path: "/other/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyAll}, wantStatus: 200, wantProduct: ""},
		{name: "scope this api", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyEcho}, wantStatus: 200, wantProduct: ""},
		{name: "scope another api", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyOther}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "scope product containing the api", path: "/custom/resource", hdr: []string{"X-Api-Key", keyP1}, wantStatus: 200, wantProduct: "p1"},
		{name: "scope product not containing the api", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyOtherProd}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "scope notPublished product", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyUnpub}, wantStatus: 401, wantBody: bodyInvalid},

		// States: only active passes.
		{name: "state suspended", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keySuspended}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "state submitted", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keySubmitted}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "state cancelled", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyCancelled}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "state expired", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyExpired}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "state rejected", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyRejected}, wantStatus: 401, wantBody: bodyInvalid},

		// Missing and unknown keys.
		{name: "missing key", path: "/echo/resource", wantStatus: 401, wantBody: bodyMissing},
		{name: "unknown key", path: "/echo/resource", hdr: []string{"Ocp-Apim-Subscription-Key", "no-such-key-0000000000"}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "unknown query key", path: "/echo/resource?subscription-key=nope", wantStatus: 401, wantBody: bodyInvalid},

		// Keyless access.
		{name: "api without subscription", path: "/open/resource", wantStatus: 200, wantProduct: ""},
		{name: "published open product", path: "/free/resource", wantStatus: 200, wantProduct: "openp"},
		{name: "notPublished open product", path: "/closed/resource", wantStatus: 401, wantBody: bodyMissing},
		{name: "open api with a valid key", path: "/open/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyAll}, wantStatus: 200, wantProduct: ""},
		{name: "open api with an invalid key", path: "/open/resource", hdr: []string{"Ocp-Apim-Subscription-Key", "no-such-key-0000000000"}, wantStatus: 401, wantBody: bodyInvalid},
		{name: "open product with a key of another product", path: "/free/resource", hdr: []string{"Ocp-Apim-Subscription-Key", keyP1}, wantStatus: 401, wantBody: bodyInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := strings.Split(tc.path, "/")[1]
			before := be.received()
			r := e.do("GET", tc.path, nil, tc.hdr...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantBody != "" && r.body != tc.wantBody {
				t.Fatalf("body %s\nwant %s", r.body, tc.wantBody)
			}
			if r.status >= 400 {
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				if be.received() != before {
					t.Errorf("a refused request reached the backend")
				}
				wantChallenge := ""
				if tc.wantBody == bodyMissing {
					wantChallenge = `AzureApiManagementKey realm="https://gw.example",name="Ocp-Apim-Subscription-Key",type="header"`
					if api == "custom" {
						wantChallenge = `AzureApiManagementKey realm="https://gw.example",name="X-Api-Key",type="header"`
					}
				}
				if got := r.header.Get("WWW-Authenticate"); got != wantChallenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, wantChallenge)
				}
				return
			}
			got := be.last(t)
			for _, h := range []string{"Ocp-Apim-Subscription-Key", "X-Api-Key"} {
				if v := got.header.Get(h); v != "" {
					t.Errorf("backend received key header %s: %q", h, v)
				}
			}
			q, _ := url.ParseQuery(got.rawQuery)
			for _, p := range []string{"subscription-key", "apikey"} {
				if q.Has(p) {
					t.Errorf("backend received key query parameter %s: %q", p, got.rawQuery)
				}
			}
			if got.path != "/base/resource" {
				t.Errorf("backend path %q", got.path)
			}
			if n := e.count(api, "get-resource", tc.wantProduct, "2xx"); n < 1 {
				t.Errorf("no request counted for api %q product %q", api, tc.wantProduct)
			}
		})
	}
}

// TestQueryKeyRemovedOthersKept checks that only the key parameter leaves
// the query the backend sees, byte for byte otherwise.
func TestQueryKeyRemovedOthersKept(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, testConfig(be.URL))
	tests := []struct {
		name, query, want string
	}{
		{name: "key first", query: "subscription-key=" + keyP1 + "&a=1&b=%2F", want: "a=1&b=%2F"},
		{name: "key last", query: "a=1&subscription-key=" + keyP1, want: "a=1"},
		{name: "key twice", query: "subscription-key=" + keyP1 + "&x=y&subscription-key=other", want: "x=y"},
		{name: "key alone", query: "subscription-key=" + keyP1, want: ""},
		{name: "header key, query key also dropped", query: "subscription-key=junk&z=1", want: "z=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{}
			if strings.Contains(tc.query, "junk") {
				hdr = []string{"Ocp-Apim-Subscription-Key", keyP1}
			}
			if r := e.do("GET", "/echo/resource?"+tc.query, nil, hdr...); r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := be.last(t).rawQuery; got != tc.want {
				t.Fatalf("backend query %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRoutingNotFound(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, testConfig(be.URL))
	key := []string{"Ocp-Apim-Subscription-Key", keyAll}
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantPath           string // path the backend saw, for 200
		wantOp             string
	}{
		{name: "no api", method: "GET", path: "/nope/resource", wantStatus: 404},
		{name: "root without api", method: "GET", path: "/", wantStatus: 404},
		{name: "no operation", method: "GET", path: "/echo/nope", wantStatus: 404},
		{name: "wrong method", method: "DELETE", path: "/echo/resource", wantStatus: 404},
		{name: "HEAD does not fall back to GET", method: "HEAD", path: "/echo/resource", wantStatus: 404},
		{name: "template parameter", method: "GET", path: "/echo/users/42", wantStatus: 200, wantPath: "/base/users/42", wantOp: "get-user"},
		{name: "wildcard any method", method: "PUT", path: "/echo/files/a/b.txt", wantStatus: 200, wantPath: "/base/files/a/b.txt", wantOp: "files"},
		{name: "case-insensitive literals", method: "GET", path: "/ECHO/Resource", wantStatus: 200, wantPath: "/base/Resource", wantOp: "get-resource"},
		{name: "trailing slash kept", method: "GET", path: "/echo/resource/", wantStatus: 200, wantPath: "/base/resource/", wantOp: "get-resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, nil, key...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == 404 {
				if tc.method != "HEAD" && r.body != bodyNoRoute {
					t.Fatalf("body %s", r.body)
				}
				if r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
				}
				return
			}
			if got := be.last(t); got.path != tc.wantPath || got.method != tc.method {
				t.Fatalf("backend got %s %s, want %s %s", got.method, got.path, tc.method, tc.wantPath)
			}
			if e.count("echo", tc.wantOp, "", "2xx") < 1 {
				t.Fatalf("operation %q not counted", tc.wantOp)
			}
		})
	}
	if n := e.count("", "", "", "4xx"); n != 2 {
		t.Errorf("requests without an API counted %v times under api=\"\", want 2", n)
	}
	if n := e.count("echo", "", "", "4xx"); n != 3 {
		t.Errorf("requests without an operation counted %v times, want 3", n)
	}
}

func TestStatusEndpoint(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, nil)
	if r := e.do("GET", StatusPath, nil); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"statusCode":503`) {
		t.Fatalf("before a snapshot: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/echo/resource", nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("api call before a snapshot: %d %s", r.status, r.body)
	}
	e.publish(testConfig(be.URL))
	for _, m := range []string{"GET", "HEAD"} {
		if r := e.do(m, StatusPath, nil); r.status != 200 {
			t.Fatalf("%s after a snapshot: %d %s", m, r.status, r.body)
		}
	}
}
