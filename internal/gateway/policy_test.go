package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/snapshot"
)

// policyConfig is testConfig with policy documents at every scope.
func policyConfig(backendURL string, policies map[string]string) *snapshot.Config {
	c := testConfig(backendURL)
	for scope, doc := range policies {
		c.Policies = append(c.Policies, snapshot.Policy{Scope: scope, Format: "rawxml", Value: doc})
	}
	c.NamedValues = []snapshot.NamedValue{{ID: "nv1", DisplayName: "Tenant", Value: "acme"}, {ID: "nv2", DisplayName: "pass", Value: "s3cret", Secret: true}}
	c.Backends = []snapshot.Backend{{ID: "alt"}}
	c.Backends[0].URL = backendURL + "/alt"
	c.PolicyFragments = []snapshot.PolicyFragment{{ID: "stamp", Format: "rawxml", Value: `<fragment><set-header name="X-Fragment" exists-action="override"><value>yes</value></set-header></fragment>`}}
	return c
}

func TestPolicies(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/base/fail" {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Server", "backend")
		w.Header().Set("Content-Type", "text/plain")
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.RequestURI(), body)
	})
	cfg := policyConfig(be.URL, map[string]string{
		"global": `<policies><inbound><set-header name="X-Global" exists-action="override"><value>g</value></set-header></inbound>
			<backend><forward-request/></backend>
			<outbound><set-header name="Server" exists-action="delete"/></outbound>
			<on-error><set-header name="X-Error-Reason" exists-action="override"><value>failed</value></set-header></on-error></policies>`,
		"products/p1": `<policies><inbound><base/><rate-limit calls="3" renewal-period="60"/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
		"apis/echo": `<policies><inbound><base/><set-header name="X-Tenant" exists-action="override"><value>{{Tenant}}</value></set-header>
			<include-fragment fragment-id="stamp"/></inbound><outbound><base/><set-header name="X-Out" exists-action="override"><value>o</value></set-header></outbound></policies>`,
		"apis/echo/operations/get-user": `<policies><inbound><base/><rewrite-uri template="/people/{id}?v=2"/>
			<set-query-parameter name="extra" exists-action="override"><value>1</value></set-query-parameter></inbound></policies>`,
		"apis/echo/operations/post-resource": `<policies><inbound><base/><set-body>replaced body</set-body><set-method>PUT</set-method></inbound>
			<outbound><base/><set-status code="201"/><set-body>created</set-body></outbound></policies>`,
		"apis/open/operations/get-resource": `<policies><inbound><return-response><set-status code="418"/><set-header name="X-R" exists-action="override"><value>r</value></set-header><set-body>teapot</set-body></return-response></inbound></policies>`,
		"apis/open/operations/get-user":     `<policies><inbound><set-backend-service backend-id="alt"/><authentication-basic username="u" password="{{pass}}"/></inbound></policies>`,
		"apis/free/operations/get-resource": `<policies><inbound><set-backend-service base-url="http://127.0.0.1:1"/></inbound></policies>`,
		"apis/other":                        `<policies><inbound><set-header name="X-Bad" exists-action="override"><value>{{missing}}</value></set-header></inbound></policies>`,
	})
	s, errs := snapshot.Compile(cfg)
	if len(errs) != 1 || errs[0].Kind != snapshot.KindPolicy || errs[0].ID != "apis/other" || !strings.Contains(errs[0].Error(), `named value "missing" does not exist`) {
		t.Fatalf("object errors %v", errs)
	}
	e := newEnv(t, Config{}, nil)
	e.gw.Publish(s)

	t.Run("composed inbound and outbound", func(t *testing.T) {
		r := e.do("GET", "/echo/users/ann%20b?q=1", nil, "Ocp-Apim-Subscription-Key", keyP1, "X-Forwarded-For", "1.2.3.4")
		if r.status != 200 || r.body != "GET /base/people/ann%20b?extra=1&q=1&v=2 " {
			t.Fatalf("%d %q", r.status, r.body)
		}
		got := be.last(t)
		for k, v := range map[string]string{"X-Global": "g", "X-Tenant": "acme", "X-Fragment": "yes", "Ocp-Apim-Subscription-Key": "", "X-Request-Id": r.header.Get("X-Request-Id")} {
			if got.header.Get(k) != v {
				t.Errorf("backend header %s = %q, want %q", k, got.header.Get(k), v)
			}
		}
		if xff := got.header.Get("X-Forwarded-For"); !strings.HasPrefix(xff, "1.2.3.4, 127.0.0.1") {
			t.Errorf("X-Forwarded-For %q", xff)
		}
		if r.header.Get("Server") != "" || r.header.Get("X-Out") != "o" {
			t.Errorf("response headers %v", r.header)
		}
	})
	t.Run("bodies and method", func(t *testing.T) {
		r := e.do("POST", "/echo/resource", strings.NewReader("original"), "Ocp-Apim-Subscription-Key", keyAll)
		if r.status != 201 || r.body != "created" || r.header.Get("Content-Length") != "7" {
			t.Fatalf("%d %q %v", r.status, r.body, r.header)
		}
		if got := be.last(t); got.method != "PUT" || string(got.body) != "replaced body" {
			t.Fatalf("backend saw %s %q", got.method, got.body)
		}
	})
	t.Run("return-response does not reach the backend", func(t *testing.T) {
		n := be.received()
		r := e.do("GET", "/open/resource", nil)
		if r.status != 418 || r.body != "teapot" || r.header.Get("X-R") != "r" || be.received() != n {
			t.Fatalf("%d %q %v", r.status, r.body, r.header)
		}
	})
	t.Run("named backend and basic auth", func(t *testing.T) {
		r := e.do("GET", "/open/users/7", nil)
		if r.status != 200 || r.body != "GET /alt/users/7 " {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if u, p, ok := (&http.Request{Header: be.last(t).header}).BasicAuth(); !ok || u != "u" || p != "s3cret" {
			t.Fatalf("basic auth %q %q", u, p)
		}
	})
	t.Run("unreachable backend goes to on-error", func(t *testing.T) {
		r := e.do("GET", "/free/resource", nil)
		if r.status != 502 || r.header.Get("X-Error-Reason") != "failed" || !strings.Contains(r.body, `"statusCode":502`) {
			t.Fatalf("%d %q %v", r.status, r.body, r.header)
		}
	})
	t.Run("a broken policy isolates its api", func(t *testing.T) {
		r := e.do("GET", "/other/resource", nil, "Ocp-Apim-Subscription-Key", keyOther)
		if r.status != 500 || r.body != `{"statusCode":500,"message":"Internal server error"}` {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if r := e.do("GET", "/open/users/1", nil); r.status != 200 {
			t.Fatalf("another api: %d", r.status)
		}
	})
	t.Run("product rate limit survives a reload", func(t *testing.T) {
		// The first subtest made one call with this key (same product policy).
		for i := range 2 {
			if r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyP1); r.status != 200 {
				t.Fatalf("call %d: %d %s", i+1, r.status, r.body)
			}
		}
		cfg2 := policyConfig(be.URL, map[string]string{"products/p1": `<policies><inbound><base/><rate-limit calls="3" renewal-period="60"/></inbound></policies>`})
		cfg2.Revision = 2
		e.publish(cfg2)
		r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyP1)
		if r.status != 429 || r.header.Get("Retry-After") == "" ||
			!strings.HasPrefix(r.body, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in `) {
			t.Fatalf("%d %q %v", r.status, r.body, r.header)
		}
		if r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll); r.status != 200 {
			t.Fatalf("a key not in the product was limited: %d", r.status)
		}
	})
}

// TestPolicyStreaming checks that a body no policy reads is streamed.
func TestPolicyStreaming(t *testing.T) {
	release := make(chan struct{})
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second")
	})
	e := newEnv(t, Config{}, policyConfig(be.URL, map[string]string{
		"apis/open": `<policies><outbound><set-header name="X-Out" exists-action="override"><value>o</value></set-header></outbound></policies>`,
	}))
	res, err := e.client.Get(e.url + "/open/resource")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "first;" || res.Header.Get("X-Out") != "o" {
		t.Fatalf("%q %v %v", buf, err, res.Header)
	}
	close(release)
	rest, _ := io.ReadAll(res.Body)
	if string(rest) != "second" {
		t.Fatalf("rest %q", rest)
	}
}

// BenchmarkPolicies compares the in-process request path of an operation
// without policies with one running a typical document (headers, a query
// parameter, a rewrite, a rate limit and an outbound header).
func BenchmarkPolicies(b *testing.B) {
	typical := `<policies><inbound><base/>
		<set-header name="X-Tenant" exists-action="override"><value>{{Tenant}}</value></set-header>
		<set-header name="X-Remove" exists-action="delete"/>
		<set-query-parameter name="api-version" exists-action="skip"><value>2024-01-01</value></set-query-parameter>
		<rewrite-uri template="/users/{id}"/>
		<rate-limit calls="1000000000" renewal-period="60"/>
		</inbound><outbound><set-header name="X-Powered-By" exists-action="delete"/></outbound></policies>`
	for _, bc := range []struct {
		name string
		docs map[string]string
	}{
		{name: "empty", docs: nil},
		{name: "typical", docs: map[string]string{"apis/echo/operations/get-user": typical}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			gw, err := New(Config{Logger: discardLogger(), Transport: func(string, string) http.RoundTripper { return staticBackend{} }})
			if err != nil {
				b.Fatal(err)
			}
			e := &env{t: b, gw: gw}
			e.publish(policyConfig("http://backend.invalid", bc.docs))
			req := httptest.NewRequest("GET", "http://gw.example/echo/users/42?a=1&subscription-key="+keyP1, nil)
			w := &nullWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.status = 0
				gw.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}
