package policy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fakeBackend records forwarded requests and answers status with body.
type fakeBackend struct {
	calls  int
	method string
	url    string
	header http.Header
	body   string
	status int
	err    error
}

func (f *fakeBackend) Forward(c *Context, timeout time.Duration) error {
	f.calls++
	if f.err != nil {
		return f.err
	}
	f.method, f.url, f.header = c.Request.Method, c.Request.URL().String(), c.Request.Header.Clone()
	r, _ := c.Request.Body.Reader()
	b, _ := io.ReadAll(r)
	f.body = string(b)
	st := f.status
	if st == 0 {
		st = 200
	}
	c.Response.StatusCode = st
	c.Response.Header = http.Header{"Content-Type": {"text/plain"}, "Server": {"fake"}}
	c.Response.Body.SetStream(io.NopCloser(strings.NewReader("backend body")), 12)
	return nil
}

// newCtx builds the Context the gateway would for req.
func newCtx(req *http.Request, be Backend, counters Counters, now time.Time) *Context {
	base, _ := url.Parse("http://backend.example/base")
	c := &Context{
		RequestID: "rid", In: req, Backend: be, Counters: counters, Now: func() time.Time { return now },
		ClientIP: netip.MustParseAddr("10.0.0.1"),
		Request: Request{Method: req.Method, Backend: base, Path: strings.TrimPrefix(req.URL.Path, "/api"),
			RawQuery: req.URL.RawQuery, Header: req.Header.Clone()},
		Subscription: SubscriptionInfo{ID: "sub1"},
		Operation:    OperationInfo{ID: "op", Params: []Param{{Name: "id", Value: "42/x"}}},
	}
	c.Request.Body.SetStream(req.Body, req.ContentLength)
	return c
}

func mustPipeline(t testing.TB, docs ...string) *Pipeline {
	t.Helper()
	var ds []*Document
	for i, src := range docs {
		d, err := CompileDocument(src, testEnv(fmt.Sprintf("scope%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	return Compose(ds...)
}

func body(t testing.TB, b *Body) string {
	t.Helper()
	r, _ := b.Reader()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestRun(t *testing.T) {
	type want struct {
		status      int
		body        string
		backendURL  string
		backendHdr  map[string]string
		backendBody string
		respHdr     map[string]string
		calls       int
		lastReason  string
		lastPath    string
		lastSection string
		lastID      string
	}
	tests := []struct {
		name    string
		doc     string
		method  string
		target  string
		header  map[string]string
		reqBody string
		be      fakeBackend
		want    want
	}{
		{name: "empty pipeline forwards", doc: `<policies/>`,
			want: want{status: 200, body: "backend body", backendURL: "http://backend.example/base/r?a=1", calls: 1}},
		{name: "set-header inbound and outbound", doc: `<policies><inbound>
			<set-header name="X-Add" exists-action="override"><value>v1</value><value>v2</value></set-header>
			<set-header name="X-Keep" exists-action="skip"><value>new</value></set-header>
			<set-header name="X-App" exists-action="append"><value>b</value></set-header>
			<set-header name="X-Del" exists-action="delete"/></inbound>
			<outbound><set-header name="Server" exists-action="delete"/><set-header name="X-Out" exists-action="override"><value>o</value></set-header></outbound></policies>`,
			header: map[string]string{"X-Keep": "old", "X-App": "a", "X-Del": "gone"},
			want: want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1",
				backendHdr: map[string]string{"X-Add": "v1,v2", "X-Keep": "old", "X-App": "a,b", "X-Del": ""},
				respHdr:    map[string]string{"Server": "", "X-Out": "o"}}},
		{name: "set-query-parameter", doc: `<policies><inbound>
			<set-query-parameter name="a" exists-action="append"><value>2</value></set-query-parameter>
			<set-query-parameter name="b" exists-action="skip"><value>x</value></set-query-parameter>
			<set-query-parameter name="c" exists-action="delete"/></inbound></policies>`,
			target: "/api/r?a=1&c=3",
			want:   want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1&a=2&b=x"}},
		{name: "choose picks the matching when", doc: `<policies><inbound><set-variable name="kind" value="@(kind)"/>
			<choose><when condition="@(kind == a)"><set-header name="X-B" exists-action="override"><value>a</value></set-header></when>
			<otherwise><set-header name="X-B" exists-action="override"><value>other</value></set-header></otherwise></choose></inbound></policies>`,
			header: map[string]string{"X-Kind": "a"},
			want:   want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1", backendHdr: map[string]string{"X-B": "a"}}},
		{name: "choose otherwise", doc: `<policies><inbound><set-variable name="kind" value="@(kind)"/>
			<choose><when condition="@(kind == a)"><set-header name="X-B" exists-action="override"><value>a</value></set-header></when>
			<otherwise><set-header name="X-B" exists-action="override"><value>other</value></set-header></otherwise></choose></inbound></policies>`,
			want: want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1", backendHdr: map[string]string{"X-B": "other"}}},
		{name: "return-response stops before the backend", doc: `<policies><inbound><return-response>
			<set-status code="418" reason="teapot"/><set-header name="X-R" exists-action="override"><value>r</value></set-header>
			<set-body>short</set-body></return-response><set-header name="X-Never" exists-action="override"><value>n</value></set-header></inbound>
			<outbound><set-header name="X-Out" exists-action="override"><value>o</value></set-header></outbound></policies>`,
			want: want{status: 418, body: "short", respHdr: map[string]string{"X-R": "r", "X-Out": ""}}},
		{name: "expression failure goes to on-error", doc: `<policies><inbound><set-header name="X-F" exists-action="override" id="bad"><value>@(boom)</value></set-header></inbound>
			<on-error><set-header name="X-Reason" exists-action="override"><value>@(lasterror.reason)</value></set-header></on-error></policies>`,
			want: want{status: 500, body: `{"statusCode":500,"message":"Internal server error"}`, respHdr: map[string]string{"X-Reason": "ExpressionValueEvaluationFailure"},
				lastReason: ReasonExpressionValueEvaluation, lastPath: "inbound/set-header", lastSection: "inbound", lastID: "bad"}},
		{name: "on-error may answer", doc: `<policies><inbound><check-header name="X-Need" failed-check-httpcode="401" failed-check-error-message="need it" ignore-case="false"/></inbound>
			<on-error><return-response><set-status code="400"/><set-body>custom</set-body></return-response></on-error></policies>`,
			want: want{status: 400, body: "custom", lastReason: ReasonHeaderNotFound, lastPath: "inbound/check-header", lastSection: "inbound"}},
		{name: "check-header value not allowed", doc: `<policies><inbound><check-header name="X-Need" failed-check-httpcode="403" failed-check-error-message="bad value" ignore-case="true"><value>Good</value></check-header></inbound></policies>`,
			header: map[string]string{"X-Need": "bad"},
			want:   want{status: 403, body: `{"statusCode":403,"message":"bad value"}`, lastReason: ReasonHeaderValueNotAllowed, lastPath: "inbound/check-header", lastSection: "inbound"}},
		{name: "check-header ignore-case passes", doc: `<policies><inbound><check-header name="X-Need" failed-check-httpcode="403" failed-check-error-message="bad value" ignore-case="true"><value>Good</value></check-header></inbound></policies>`,
			header: map[string]string{"X-Need": "other, gOOd"},
			want:   want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1"}},
		{name: "routing", doc: `<policies><inbound><set-method>PUT</set-method>
			<rewrite-uri template="/v2/items/{id}?view={view}&amp;fixed=1"/><set-backend-service backend-id="orders"/>
			<authentication-basic username="svc" password="{{secret-pass}}"/></inbound></policies>`,
			target: "/api/r?view=full&extra=e",
			want: want{status: 200, body: "backend body", calls: 1, backendURL: "http://orders.internal:8080/api/v2/items/42%2Fx?extra=e&fixed=1&view=full",
				backendHdr: map[string]string{"Authorization": "Basic c3ZjOnMzY3IzdC1QQVNTV09SRA=="}}},
		{name: "rewrite-uri without copying", doc: `<policies><inbound><rewrite-uri template="plain" copy-unmatched-params="false"/><set-backend-service base-url="https://{{host}}/b/"/></inbound></policies>`,
			target: "/api/r?x=1",
			want:   want{status: 200, body: "backend body", calls: 1, backendURL: "https://api.example.org/b/plain"}},
		{name: "set-body in both directions", doc: `<policies><inbound><set-body>@(body)</set-body></inbound><outbound><set-status code="201"/><set-body>replaced</set-body></outbound></policies>`,
			method: "POST", reqBody: "payload",
			want: want{status: 201, body: "replaced", calls: 1, backendURL: "http://backend.example/base/r?a=1", backendBody: "got payload"}},
		{name: "mock-response", doc: `<policies><inbound><mock-response status-code="202" content-type="text/plain"/></inbound></policies>`,
			want: want{status: 202, body: "", respHdr: map[string]string{"Content-Type": "text/plain"}}},
		{name: "ip-filter forbids", doc: `<policies><inbound><ip-filter action="forbid"><address-range from="10.0.0.0" to="10.0.0.9"/></ip-filter></inbound></policies>`,
			want: want{status: 403, body: `{"statusCode":403,"message":"Caller IP address 10.0.0.1 is not allowed. Access denied."}`, lastReason: ReasonCallerIPNotAllowed, lastPath: "inbound/ip-filter", lastSection: "inbound"}},
		{name: "ip-filter allows", doc: `<policies><inbound><ip-filter action="allow"><address>10.0.0.0/8</address></ip-filter></inbound></policies>`,
			want: want{status: 200, body: "backend body", calls: 1, backendURL: "http://backend.example/base/r?a=1"}},
		{name: "backend failure goes to on-error", doc: `<policies><on-error><set-header name="X-E" exists-action="override"><value>@(lasterror.reason)</value></set-header></on-error></policies>`,
			be:   fakeBackend{err: &Error{Status: 502, Reason: ReasonBackendConnectionFailure, Message: "Bad gateway"}},
			want: want{status: 502, body: `{"statusCode":502,"message":"Bad gateway"}`, calls: 1, respHdr: map[string]string{"X-E": "BackendConnectionFailure"}, lastReason: ReasonBackendConnectionFailure, lastPath: "backend/forward-request", lastSection: "backend"}},
		{name: "fail-on-error-status-code", doc: `<policies><backend><forward-request fail-on-error-status-code="true"/></backend></policies>`,
			be:   fakeBackend{status: 503},
			want: want{status: 503, body: `{"statusCode":503,"message":"The backend answered with status 503."}`, calls: 1, backendURL: "http://backend.example/base/r?a=1", lastReason: "BackendErrorStatusCode", lastPath: "backend/forward-request", lastSection: "backend"}},
		{name: "empty backend section sends nothing", doc: `<policies><backend/></policies>`, want: want{status: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPipeline(t, tc.doc)
			method, target := tc.method, tc.target
			if method == "" {
				method = "GET"
			}
			if target == "" {
				target = "/api/r?a=1"
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tc.reqBody))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			be := tc.be
			c := newCtx(req, &be, NewMemoryCounters(), time.Now())
			p.Run(c)
			w := tc.want
			if c.Response.StatusCode != w.status {
				t.Fatalf("status %d, want %d (last error %+v)", c.Response.StatusCode, w.status, c.LastError)
			}
			if got := body(t, &c.Response.Body); got != w.body {
				t.Errorf("body %q, want %q", got, w.body)
			}
			if be.calls != w.calls {
				t.Errorf("backend called %d times, want %d", be.calls, w.calls)
			}
			if w.backendURL != "" && be.url != w.backendURL {
				t.Errorf("backend url %s, want %s", be.url, w.backendURL)
			}
			if w.backendBody != "" && be.body != w.backendBody {
				t.Errorf("backend body %q, want %q", be.body, w.backendBody)
			}
			for k, v := range w.backendHdr {
				if got := strings.Join(be.header[k], ","); got != v {
					t.Errorf("backend header %s = %q, want %q", k, got, v)
				}
			}
			for k, v := range w.respHdr {
				if got := strings.Join(c.Response.Header[k], ","); got != v {
					t.Errorf("response header %s = %q, want %q", k, got, v)
				}
			}
			le := c.LastError
			if w.lastReason == "" {
				if le != nil {
					t.Fatalf("unexpected LastError %+v", le)
				}
				return
			}
			if le == nil || le.Reason != w.lastReason || le.Path != w.lastPath || le.Section != w.lastSection || le.PolicyID != w.lastID {
				t.Fatalf("LastError %+v, want reason %s path %s section %s id %q", le, w.lastReason, w.lastPath, w.lastSection, w.lastID)
			}
		})
	}
}

// TestLimits checks rate-limit and quota responses and that counters,
// keyed by scope and path, survive recompiling the document (a reload).
func TestLimits(t *testing.T) {
	const starter = `<policies><inbound><base/><rate-limit calls="5" renewal-period="60"/><quota calls="100" renewal-period="604800"/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
	counters := NewMemoryCounters()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	call := func(p *Pipeline, sub string, at time.Time) *Context {
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, counters, at)
		c.Subscription.ID = sub
		p.Run(c)
		return c
	}
	p := mustPipeline(t, starter)
	for i := range 5 {
		if c := call(p, "s1", now.Add(time.Duration(i)*time.Second)); c.Response.StatusCode != 200 {
			t.Fatalf("call %d: %d", i+1, c.Response.StatusCode)
		}
	}
	p = mustPipeline(t, starter) // a reload compiles the document again
	c := call(p, "s1", now.Add(10*time.Second))
	if c.Response.StatusCode != 429 || c.Response.Header.Get("Retry-After") != "50" ||
		body(t, &c.Response.Body) != `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 50 seconds."}` {
		t.Fatalf("6th call: %d %v", c.Response.StatusCode, c.Response.Header)
	}
	if c.LastError == nil || c.LastError.Reason != ReasonRateLimitExceeded || c.LastError.Source != "rate-limit" {
		t.Fatalf("LastError %+v", c.LastError)
	}
	if c := call(p, "s2", now.Add(10*time.Second)); c.Response.StatusCode != 200 {
		t.Fatalf("another subscription is limited: %d", c.Response.StatusCode)
	}
	if c := call(p, "s1", now.Add(61*time.Second)); c.Response.StatusCode != 200 {
		t.Fatalf("after the window: %d", c.Response.StatusCode)
	}

	q := mustPipeline(t, `<policies><inbound><quota calls="2" renewal-period="90000"/></inbound></policies>`)
	call(q, "s3", now)
	call(q, "s3", now)
	c = call(q, "s3", now.Add(time.Hour))
	if c.Response.StatusCode != 403 || body(t, &c.Response.Body) != `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 1.00:00:00."}` {
		t.Fatalf("quota: %d", c.Response.StatusCode)
	}

	byKey := mustPipeline(t, `<policies><inbound><rate-limit-by-key calls="1" renewal-period="10" counter-key="@(ip)" retry-after-header-name="X-Retry"/></inbound></policies>`)
	call(byKey, "a", now)
	c = call(byKey, "b", now.Add(3*time.Second))
	if c.Response.StatusCode != 429 || c.Response.Header.Get("X-Retry") != "7" {
		t.Fatalf("by key: %d %v", c.Response.StatusCode, c.Response.Header)
	}

	cond := mustPipeline(t, `<policies><inbound><rate-limit-by-key calls="1" renewal-period="10" counter-key="cond" increment-condition="@(ok)"/></inbound></policies>`)
	be := &fakeBackend{status: 500}
	for range 3 { // failures do not count
		cc := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, counters, now)
		cond.Run(cc)
		if cc.Response.StatusCode != 500 {
			t.Fatalf("conditional: %d", cc.Response.StatusCode)
		}
	}
	be.status = 200
	for i, want := range []int{200, 429} {
		cc := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, counters, now)
		cond.Run(cc)
		if cc.Response.StatusCode != want {
			t.Fatalf("conditional call %d: %d, want %d", i, cc.Response.StatusCode, want)
		}
	}
}

func TestLimitConcurrency(t *testing.T) {
	counters := NewMemoryCounters()
	p := mustPipeline(t, `<policies><backend><limit-concurrency key="k" max-count="1"><forward-request/></limit-concurrency></backend></policies>`)
	if ok, _ := counters.Acquire(context.Background(), "limit-concurrency\x00k", 1); !ok {
		t.Fatal("acquire")
	}
	c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, counters, time.Now())
	p.Run(c)
	if c.Response.StatusCode != 429 || c.LastError.Reason != ReasonConcurrencyLimitExceeded {
		t.Fatalf("%d %+v", c.Response.StatusCode, c.LastError)
	}
	counters.Release(context.Background(), "limit-concurrency\x00k")
	c = newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, counters, time.Now())
	p.Run(c)
	if c.Response.StatusCode != 200 {
		t.Fatalf("%d", c.Response.StatusCode)
	}
	if ok, _ := counters.Acquire(context.Background(), "limit-concurrency\x00k", 1); !ok {
		t.Fatal("the slot was not released")
	}
}

func TestCORS(t *testing.T) {
	const doc = `<policies><inbound><cors allow-credentials="true">
		<allowed-origins><origin>https://app.example.com</origin></allowed-origins>
		<allowed-methods preflight-result-max-age="300"><method>GET</method><method>POST</method></allowed-methods>
		<allowed-headers><header>Content-Type</header></allowed-headers>
		<expose-headers><header>X-Trace</header></expose-headers></cors></inbound></policies>`
	p := mustPipeline(t, doc)
	tests := []struct {
		name    string
		method  string
		hdr     map[string]string
		status  int
		backend int
		wantHdr map[string]string
	}{
		{name: "preflight", method: "OPTIONS", hdr: map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
			status: 200, wantHdr: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "300"}},
		{name: "preflight unmatched is terminated", method: "OPTIONS", hdr: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
			status: 200, wantHdr: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "actual request", method: "GET", hdr: map[string]string{"Origin": "https://app.example.com"}, status: 200, backend: 1,
			wantHdr: map[string]string{"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Expose-Headers": "X-Trace"}},
		{name: "no origin", method: "GET", status: 200, backend: 1, wantHdr: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "unmatched actual request is terminated", method: "GET", hdr: map[string]string{"Origin": "https://evil.example"}, status: 200, wantHdr: map[string]string{"Access-Control-Allow-Origin": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/api/r", nil)
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			be := &fakeBackend{}
			c := newCtx(req, be, nil, time.Now())
			p.Run(c)
			if c.Response.StatusCode != tc.status || be.calls != tc.backend {
				t.Fatalf("status %d backend %d", c.Response.StatusCode, be.calls)
			}
			for k, v := range tc.wantHdr {
				if got := c.Response.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestTrace(t *testing.T) {
	p := mustPipeline(t, `<policies><inbound><trace source="me" severity="error"><message>hello</message><metadata name="k" value="v"/></trace></inbound></policies>`)
	c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, nil, time.Now())
	var got string
	c.Trace = func(source, sev, msg string) { got = source + "|" + sev + "|" + msg }
	p.Run(c)
	if got != "me|error|hello k=v" {
		t.Fatalf("trace %q", got)
	}
}

func TestTimeSpan(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{name: "seconds", d: 51 * time.Second, want: "00:00:51"},
		{name: "rounds up", d: 1500 * time.Millisecond, want: "00:00:02"},
		{name: "days", d: 7*24*time.Hour - time.Second, want: "6.23:59:59"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := timeSpan(tc.d); got != tc.want {
				t.Fatalf("%s", got)
			}
		})
	}
}
