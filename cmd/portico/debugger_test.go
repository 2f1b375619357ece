package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/trace"
)

// do sends a management request and fails unless it succeeded (2xx).
func (s *stack) do(method, path string, body any) []byte {
	s.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.mgmtURL+path, strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		s.t.Fatalf("%s %s = %d: %s", method, path, res.StatusCode, out)
	}
	return out
}

// send sends a GET through the gateway with headers.
func (s *stack) send(path string, h map[string]string) gwResult {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.gwURL+path, nil)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return gwResult{status: res.StatusCode, header: res.Header, body: string(raw)}
}

// traceAt reads the trace at a trace location, waiting for it: it is
// stored once the response is complete, which may be after the client
// read it.
func (s *stack) traceAt(loc string) []byte {
	s.t.Helper()
	var raw []byte
	s.poll("the trace at "+loc, func() bool {
		req, _ := http.NewRequest("GET", loc, nil)
		req.Header.Set("Authorization", "Bearer "+e2eToken)
		res, err := s.client.Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		raw, _ = io.ReadAll(res.Body)
		return res.StatusCode == 200
	})
	return raw
}

// Policy documents of the four scopes of the debugger test.
const (
	dbgGlobal = `<policies>
  <inbound><set-header name="X-Global" exists-action="override"><value>g</value></set-header></inbound>
  <backend><forward-request/></backend>
  <outbound><set-header name="X-Out-Global" exists-action="override"><value>og</value></set-header></outbound>
  <on-error/>
</policies>`
	dbgProduct = `<policies>
  <inbound><base/><set-query-parameter name="p" exists-action="override"><value>prod</value></set-query-parameter></inbound>
  <backend><base/></backend>
  <outbound><base/></outbound>
</policies>`
	dbgAPI = `<policies>
  <inbound>
    <base/>
    <set-variable name="v" value="api"/>
    <set-header name="X-Secret" exists-action="override"><value>{{backend-secret}}</value></set-header>
    <trace source="api-policy" severity="information"><message>hello from the API</message></trace>
  </inbound>
  <backend><base/></backend>
  <outbound><base/><set-header name="X-Out-Api" exists-action="override"><value>oa</value></set-header></outbound>
</policies>`
	dbgOperation = `<policies>
  <inbound>
    <base/>
    <choose>
      <when condition="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;v&quot;) == &quot;api&quot;)">
        <rewrite-uri template="/rewritten"/>
      </when>
    </choose>
  </inbound>
  <backend><base/></backend>
  <outbound><base/><set-header name="X-Out-Op" exists-action="override"><value>oo</value></set-header></outbound>
</policies>`
)

const dbgSecret = "s3cr3t-named-value-42"

// TestServePolicyDebugger is issue 7's policy debugger through the wiring
// of portico serve: a document in each of the four scopes, traced with a
// subscription that allows tracing and with a debug token; refused
// without either; secrets redacted.
func TestServePolicyDebugger(t *testing.T) {
	s := startServe(t)
	s.do("PUT", "/api/v1/namedValues/backend-secret", map[string]any{"displayName": "backend-secret", "value": dbgSecret, "secret": true})
	s.do("PUT", "/api/v1/products/traced", map[string]any{"displayName": "Traced", "state": "published", "subscriptionRequired": true})
	s.do("PUT", "/api/v1/products/traced/apis/echo-api", nil)
	s.do("PUT", "/api/v1/subscriptions/tracing", map[string]any{"scope": "/products/traced", "displayName": "Tracing", "allowTracing": true})
	s.do("PUT", "/api/v1/subscriptions/no-tracing", map[string]any{"scope": "/products/traced", "displayName": "No tracing"})
	// In this order: once the operation's policy is live, so are the others.
	for _, p := range [][2]string{
		{"/api/v1/policy", dbgGlobal},
		{"/api/v1/products/traced/policy", dbgProduct},
		{"/api/v1/apis/echo-api/policy", dbgAPI},
		{"/api/v1/apis/echo-api/operations/retrieve-resource/policy", dbgOperation},
	} {
		if st, body := s.putXML(p[0], p[1]); st >= 300 {
			t.Fatalf("PUT %s: %d %s", p[0], st, body)
		}
	}
	keyT, keyN := s.key("tracing"), s.key("no-tracing")
	s.poll("the policies to apply", func() bool {
		r, err := s.call("/echo/resource", keyN)
		return err == nil && r.header.Get("X-Out-Op") == "oo"
	})

	const clientAuth = "Bearer client-credential-xyz"
	r := s.send("/echo/resource?param1=a", map[string]string{"Ocp-Apim-Subscription-Key": keyT, "Ocp-Apim-Trace": "true", "Authorization": clientAuth})
	loc := r.header.Get("Ocp-Apim-Trace-Location")
	if r.status != 200 || !strings.HasPrefix(loc, s.mgmtURL+"/api/v1/traces/") {
		t.Fatalf("traced call: %d location %q %s", r.status, loc, r.body)
	}
	if !strings.Contains(r.body, `"/rewritten`) {
		t.Errorf("the backend did not get the rewritten path: %s", r.body)
	}
	raw := s.traceAt(loc)
	for _, secret := range []string{keyT, "client-credential-xyz", dbgSecret} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("trace holds the secret %q:\n%s", secret, raw)
		}
	}
	var tr trace.Trace
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.APIID != "echo-api" || tr.OperationID != "retrieve-resource" || tr.ProductID != "traced" || tr.SubscriptionID != "tracing" ||
		tr.Authorized != "subscription" || tr.Response.Status != 200 || tr.LastError != nil || tr.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("trace header: %+v", tr)
	}

	const (
		op  = "apis/echo-api/operations/retrieve-resource"
		api = "apis/echo-api"
	)
	want := []struct {
		section, scope, policy, path string
		depth                        int
		changes                      []trace.Change
	}{
		{"inbound", "global", "set-header", "inbound/set-header", 0, []trace.Change{{Field: "request.header.X-Global", After: []any{"g"}}}},
		{"inbound", "products/traced", "set-query-parameter", "inbound/set-query-parameter", 0, nil},
		{"inbound", api, "set-variable", "inbound/set-variable", 0, []trace.Change{{Field: "variable.v", After: "api"}}},
		{"inbound", api, "set-header", "inbound/set-header", 0, []trace.Change{{Field: "request.header.X-Secret", After: []any{"***"}}}},
		{"inbound", api, "trace", "inbound/trace", 0, nil},
		{"inbound", op, "choose", "inbound/choose", 0, nil},
		{"inbound", op, "rewrite-uri", "inbound/choose/when/rewrite-uri", 1, nil},
		{"backend", "global", "forward-request", "backend/forward-request", 0, nil},
		{"outbound", "global", "set-header", "outbound/set-header", 0, []trace.Change{{Field: "response.header.X-Out-Global", After: []any{"og"}}}},
		{"outbound", api, "set-header", "outbound/set-header", 0, []trace.Change{{Field: "response.header.X-Out-Api", After: []any{"oa"}}}},
		{"outbound", op, "set-header", "outbound/set-header", 0, []trace.Change{{Field: "response.header.X-Out-Op", After: []any{"oo"}}}},
	}
	if len(tr.Steps) != len(want) {
		t.Fatalf("%d steps, want %d:\n%s", len(tr.Steps), len(want), raw)
	}
	for i, w := range want {
		got := tr.Steps[i]
		if got.Section != w.section || got.Scope != w.scope || got.Policy != w.policy || got.Path != w.path || got.Depth != w.depth || got.Error != nil {
			t.Errorf("step %d = %+v, want %+v", i, got, w)
		}
		if i > 0 && got.Start < tr.Steps[i-1].Start || got.Elapsed < 0 {
			t.Errorf("step %d: start %v elapsed %v out of order", i, got.Start, got.Elapsed)
		}
		if w.changes != nil {
			gotJSON, _ := json.Marshal(got.Changes)
			wantJSON, _ := json.Marshal(w.changes)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("step %d (%s %s) changes = %s, want %s", i, w.scope, w.path, gotJSON, wantJSON)
			}
		}
	}
	// Changes of the URL: query parameter and rewrite.
	if c := tr.Steps[1].Changes; len(c) != 1 || c[0].Field != "request.url" || !strings.HasSuffix(c[0].After.(string), "/resource?p=prod&param1=a") {
		t.Errorf("set-query-parameter changes: %+v", c)
	}
	if c := tr.Steps[6].Changes; len(c) != 1 || c[0].Field != "request.url" || !strings.Contains(c[0].After.(string), "/rewritten?") {
		t.Errorf("rewrite-uri changes: %+v", c)
	}
	if len(tr.Messages) != 1 || tr.Messages[0] != (trace.Output{Section: "inbound", Source: "api-policy", Severity: "information", Message: "hello from the API"}) {
		t.Errorf("messages: %+v", tr.Messages)
	}
	b := tr.Backend
	if b == nil || b.Request.Method != "GET" || !strings.HasSuffix(b.Request.URL, "/rewritten?p=prod&param1=a") || b.Response.Status != 200 || b.Error != "" {
		t.Fatalf("backend: %+v", b)
	}
	if got := b.Request.Headers["Authorization"]; len(got) != 1 || got[0] != "***" {
		t.Errorf("backend Authorization = %v, want ***", got)
	}
	if got := b.Request.Headers["X-Secret"]; len(got) != 1 || got[0] != "***" {
		t.Errorf("backend X-Secret = %v, want ***", got)
	}
	if got := tr.Request.Headers["Ocp-Apim-Subscription-Key"]; len(got) != 1 || got[0] != "***" {
		t.Errorf("inbound key header = %v, want ***", got)
	}
	if tr.Response.Headers["X-Out-Op"][0] != "oo" {
		t.Errorf("response headers: %v", tr.Response.Headers)
	}

	t.Run("refused without allowTracing", func(t *testing.T) {
		r := s.send("/echo/resource", map[string]string{"Ocp-Apim-Subscription-Key": keyN, "Ocp-Apim-Trace": "true"})
		if r.status != 200 || r.header.Get("Ocp-Apim-Trace-Location") != "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
	t.Run("not asked", func(t *testing.T) {
		r := s.send("/echo/resource", map[string]string{"Ocp-Apim-Subscription-Key": keyT})
		if r.status != 200 || r.header.Get("Ocp-Apim-Trace-Location") != "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})

	var cred struct{ Token string }
	if err := json.Unmarshal(s.do("POST", "/api/v1/gateways/managed/listDebugCredentials",
		map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}, "credentialsExpireAfter": "PT10M"}), &cred); err != nil || cred.Token == "" {
		t.Fatalf("listDebugCredentials: %v %+v", err, cred)
	}
	t.Run("debug token", func(t *testing.T) {
		r := s.send("/echo/resource", map[string]string{"Ocp-Apim-Subscription-Key": keyN, "Ocp-Apim-Trace": "true", "Apim-Debug-Authorization": cred.Token})
		loc := r.header.Get("Ocp-Apim-Trace-Location")
		if r.status != 200 || loc == "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
		if strings.Contains(strings.ToLower(r.body), "apim-debug-authorization") {
			t.Errorf("the debug token reached the backend: %s", r.body)
		}
		raw := s.traceAt(loc)
		if strings.Contains(string(raw), cred.Token) || strings.Contains(string(raw), keyN) {
			t.Errorf("trace holds the token or the key: %s", raw)
		}
		var tr trace.Trace
		if err := json.Unmarshal(raw, &tr); err != nil || tr.Authorized != "debugToken" || tr.SubscriptionID != "no-tracing" || len(tr.Steps) != len(want) {
			t.Errorf("%v %s", err, raw)
		}
	})
	t.Run("tampered debug token", func(t *testing.T) {
		bad := strings.Replace(cred.Token, "v1.", "v1.x", 1)
		r := s.send("/echo/resource", map[string]string{"Ocp-Apim-Subscription-Key": keyN, "Ocp-Apim-Trace": "true", "Apim-Debug-Authorization": bad})
		if r.status != 200 || r.header.Get("Ocp-Apim-Trace-Location") != "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
	t.Run("credential errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, gw string
			body     map[string]any
			want     int
		}{
			{name: "unknown api", gw: "managed", body: map[string]any{"apiId": "nope", "purposes": []string{"tracing"}}, want: 404},
			{name: "bad purpose", gw: "managed", body: map[string]any{"apiId": "echo-api", "purposes": []string{"other"}}, want: 400},
			{name: "too long", gw: "managed", body: map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}, "credentialsExpireAfter": "PT2H"}, want: 400},
			{name: "unknown gateway", gw: "nope", body: map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}}, want: 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s.admin(tc.want, "POST", "/api/v1/gateways/"+tc.gw+"/listDebugCredentials", tc.body)
			})
		}
		s.admin(404, "GET", "/api/v1/traces/0123456789abcdef0123456789abcdef", nil)
	})
}

// TestServeOTLP checks --otlp-endpoint through the wiring of portico
// serve: a call with a traceparent yields its spans at the collector, in
// the caller's trace, and the backend's traceparent names the client span.
func TestServeOTLP(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+string(raw))
		mu.Unlock()
	}))
	defer collector.Close()
	s := startServeWith(t, func(o *options) { o.otlpEndpoint = collector.URL })
	key := s.key("admin-starter")
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := s.send("/echo/resource", map[string]string{"Ocp-Apim-Subscription-Key": key, "Traceparent": "00-" + tid + "-00f067aa0ba902b7-01"})
	if r.status != 200 || !strings.Contains(r.body, "00-"+tid+"-") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	s.poll("spans at the collector", func() bool {
		mu.Lock()
		defer mu.Unlock()
		all := strings.Join(bodies, "\n")
		return strings.Contains(all, `"traceId":"`+tid+`"`) && strings.Contains(all, `"name":"GET /echo/resource"`) &&
			strings.Contains(all, `"name":"inbound"`) && strings.Contains(all, `"parentSpanId":"00f067aa0ba902b7"`)
	})
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(bodies[0], "/v1/traces {") || strings.Contains(strings.Join(bodies, ""), key) {
		t.Fatalf("%s", bodies[0])
	}
}
