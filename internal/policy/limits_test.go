package policy

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// limitCall is one call of a limits test: the API and operation it
// matched, its subscription, its request body and the status it must get.
type limitCall struct {
	api, apiName, op, sub string
	reqBody               string
	want                  int
}

// runLimitCalls runs calls in order through the policy document doc with
// shared counters, sending each response body as the gateway does (read,
// then closed), and returns the last context and response body.
func runLimitCalls(t *testing.T, doc string, calls []limitCall) (*Context, string) {
	t.Helper()
	p := mustExprPipeline(t, doc)
	counters := NewMemoryCounters()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var c *Context
	var last []byte
	for i, lc := range calls {
		c = newCtx(httptest.NewRequest("POST", "/api/r", strings.NewReader(lc.reqBody)), &fakeBackend{}, counters, now)
		c.API = APIInfo{ID: lc.api, Name: lc.apiName}
		c.Operation.ID = lc.op
		if lc.sub != "" {
			c.Subscription.ID = lc.sub
		}
		p.Run(c)
		r, _ := c.Response.Body.Reader()
		last, _ = io.ReadAll(r)
		r.Close()
		if c.Response.StatusCode != lc.want {
			t.Fatalf("call %d (%+v): status %d, want %d", i+1, lc, c.Response.StatusCode, lc.want)
		}
	}
	return c, string(last)
}

func TestNestedLimits(t *testing.T) {
	tests := []struct {
		name     string
		doc      string
		calls    []limitCall
		wantBody string // of the last call
		wantHdr  map[string]string
	}{
		{name: "rate-limit api and operation limits apply on top of the outer one",
			doc: `<policies><inbound><rate-limit calls="5" renewal-period="60" remaining-calls-header-name="X-Remaining">
				<api id="a1" calls="3" renewal-period="60"><operation id="o1" calls="2" renewal-period="30"/></api>
			</rate-limit></inbound></policies>`,
			calls: []limitCall{
				{api: "a1", op: "o1", want: 200},
				{api: "a1", op: "o1", want: 200},
				{api: "a1", op: "o1", want: 429}, // operation limit; not counted by the others
				{api: "a1", op: "o2", want: 200},
				{api: "a1", op: "o2", want: 429}, // API limit
				{api: "a2", op: "o1", want: 200}, // o1 of another API is not limited
				{api: "a2", op: "x", want: 200},
				{api: "a2", op: "x", want: 429}, // outer limit
				{api: "a1", op: "o1", sub: "s2", want: 200},
			},
			wantHdr: map[string]string{"X-Remaining": "1"}},
		{name: "rate-limit refusal by an operation limit has its own retry",
			doc: `<policies><inbound><rate-limit calls="50" renewal-period="600">
				<api id="a1" calls="10" renewal-period="60"><operation id="o1" calls="1" renewal-period="30"/></api>
			</rate-limit></inbound></policies>`,
			calls:    []limitCall{{api: "a1", op: "o1", want: 200}, {api: "a1", op: "o1", want: 429}},
			wantBody: `{"statusCode":429,"message":"Rate limit is exceeded. Try again in 30 seconds."}`,
			wantHdr:  map[string]string{"Retry-After": "30"}},
		{name: "api matched by name",
			doc: `<policies><inbound><rate-limit calls="50" renewal-period="60"><api name="Echo" calls="1" renewal-period="60"/></rate-limit></inbound></policies>`,
			calls: []limitCall{
				{api: "a1", apiName: "Echo", want: 200},
				{api: "a1", apiName: "Echo", want: 429},
				{api: "a2", apiName: "Other", want: 200},
			}},
		{name: "quota api limit",
			doc:      `<policies><inbound><quota calls="100" renewal-period="3600"><api id="a1" calls="1" renewal-period="3600"/></quota></inbound></policies>`,
			calls:    []limitCall{{api: "a1", want: 200}, {api: "a2", want: 200}, {api: "a1", want: 403}},
			wantBody: `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 01:00:00."}`},
		{name: "quota bandwidth counts request and response bodies",
			// 510 + 12 ("backend body") bytes a call: the second call ends
			// above 1 KB only when the response is counted too.
			doc: `<policies><inbound><quota bandwidth="1" renewal-period="7200"/></inbound></policies>`,
			calls: []limitCall{
				{reqBody: strings.Repeat("x", 510), want: 200},
				{reqBody: strings.Repeat("x", 510), want: 200},
				{reqBody: "", want: 403},
				{reqBody: "", sub: "s2", want: 200},
			},
			wantBody: ""},
		{name: "quota calls and bandwidth, the first exhausted refuses",
			doc: `<policies><inbound><quota calls="10" bandwidth="1" renewal-period="7200"/></inbound></policies>`,
			calls: []limitCall{
				{reqBody: strings.Repeat("x", 1100), want: 200},
				{want: 403},
			},
			wantBody: `{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in 02:00:00."}`},
		{name: "quota-by-key bandwidth from an expression",
			doc: `<policies><inbound><quota-by-key bandwidth="@(1)" renewal-period="60" counter-key="k"/></inbound></policies>`,
			calls: []limitCall{
				{reqBody: strings.Repeat("x", 1024), sub: "s1", want: 200},
				{sub: "s2", want: 403}, // one key for every subscription
			}},
		{name: "quota-by-key bandwidth counts only when increment-condition holds",
			doc: `<policies><inbound><quota-by-key bandwidth="1" renewal-period="60" counter-key="k" increment-condition="@(context.Response.StatusCode >= 500)"/></inbound></policies>`,
			calls: []limitCall{
				{reqBody: strings.Repeat("x", 2048), want: 200},
				{reqBody: strings.Repeat("x", 2048), want: 200},
			}},
		{name: "bandwidth of a nested api limit",
			doc: `<policies><inbound><quota calls="100" renewal-period="60"><api id="a1" bandwidth="1" renewal-period="60"/></quota></inbound></policies>`,
			calls: []limitCall{
				{api: "a1", reqBody: strings.Repeat("x", 1024), want: 200},
				{api: "a1", want: 403},
				{api: "a2", reqBody: strings.Repeat("x", 4096), want: 200},
				{api: "a2", want: 200},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, got := runLimitCalls(t, tc.doc, tc.calls)
			if tc.wantBody != "" {
				if got != tc.wantBody {
					t.Errorf("body = %s, want %s", got, tc.wantBody)
				}
			}
			for k, v := range tc.wantHdr {
				if got := c.Response.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestLimitCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "api needs id or name", doc: `<rate-limit calls="5" renewal-period="60"><api calls="1" renewal-period="60"/></rate-limit>`,
			want: `inbound/rate-limit/api: attribute "id" or "name" is required`},
		{name: "api needs calls in rate-limit", doc: `<rate-limit calls="5" renewal-period="60"><api id="a" renewal-period="60"/></rate-limit>`,
			want: `attribute "calls" is required`},
		{name: "operation needs renewal-period", doc: `<rate-limit calls="5" renewal-period="60"><api id="a" calls="1" renewal-period="60"><operation id="o" calls="1"/></api></rate-limit>`,
			want: `inbound/rate-limit/api/operation: attribute "renewal-period" is required`},
		{name: "unknown attribute on api", doc: `<rate-limit calls="5" renewal-period="60"><api id="a" calls="1" renewal-period="60" bandwidth="1"/></rate-limit>`,
			want: `attribute "bandwidth" is not allowed on <api>`},
		{name: "operation outside api", doc: `<rate-limit calls="5" renewal-period="60"><operation id="o" calls="1" renewal-period="60"/></rate-limit>`,
			want: `unexpected element <operation> in <rate-limit> (allowed: api)`},
		{name: "operation takes no children", doc: `<quota calls="5" renewal-period="60"><api id="a" calls="1" renewal-period="60"><operation id="o" calls="1" renewal-period="60"><api id="b"/></operation></api></quota>`,
			want: `<operation> takes no child elements`},
		{name: "by-key takes no children", doc: `<rate-limit-by-key calls="5" renewal-period="60" counter-key="k"><api id="a" calls="1" renewal-period="60"/></rate-limit-by-key>`,
			want: `<rate-limit-by-key> takes no child elements`},
		{name: "quota needs calls or bandwidth", doc: `<quota renewal-period="60"/>`,
			want: `attribute "calls" or "bandwidth" is required`},
		{name: "nested quota needs calls or bandwidth", doc: `<quota calls="1" renewal-period="60"><api id="a" renewal-period="60"/></quota>`,
			want: `attribute "calls" or "bandwidth" is required`},
		{name: "bandwidth must be positive", doc: `<quota bandwidth="0" renewal-period="60"/>`,
			want: `attribute "bandwidth" must be an integer of at least 1`},
		{name: "literal by-key bandwidth must be positive", doc: `<quota-by-key bandwidth="-1" renewal-period="60" counter-key="k"/>`,
			want: `attribute "bandwidth" must be a positive integer`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileDocument(`<policies><inbound>`+tc.doc+`</inbound></policies>`, &Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// BenchmarkNestedRateLimit is a call held to an outer, an API and an
// operation limit with in-memory counters.
func BenchmarkNestedRateLimit(b *testing.B) {
	p := mustExprPipeline(b, `<policies><inbound><rate-limit calls="1000000000" renewal-period="60">
		<api id="a1" calls="1000000000" renewal-period="60"><operation id="o1" calls="1000000000" renewal-period="60"/></api>
	</rate-limit></inbound></policies>`)
	counters := NewMemoryCounters()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, counters, now)
		c.API.ID, c.Operation.ID = "a1", "o1"
		p.Run(c)
	}
}
