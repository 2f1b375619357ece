package policy

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestExpressionViewFollowsChanges: context.Request is built once per
// request, but an expression still sees the query and method as earlier
// policies left them.
func TestExpressionViewFollowsChanges(t *testing.T) {
	env := testEnv("t")
	env.Expressions = ExprExpressions
	doc, err := CompileDocument(`<policies><inbound>
		<set-header name="X-Before" exists-action="override"><value>@(context.Request.Method + " " + context.Request.Url.Query.GetValueOrDefault("a", "none"))</value></set-header>
		<set-query-parameter name="a" exists-action="override"><value>2</value></set-query-parameter>
		<set-method>PUT</set-method>
		<set-header name="X-After" exists-action="override"><value>@(context.Request.Method + " " + context.Request.Url.Query.GetValueOrDefault("a", "none") + " " + context.Request.OriginalUrl.Query.GetValueOrDefault("a", "none"))</value></set-header>
	</inbound></policies>`, env)
	if err != nil {
		t.Fatal(err)
	}
	p := Compose(doc)
	be := &fakeBackend{}
	c := newCtx(httptest.NewRequest("GET", "/api/r?a=1", nil), be, NewMemoryCounters(), time.Now())
	p.Run(c)
	if got := be.header.Get("X-Before"); got != "GET 1" {
		t.Fatalf("X-Before = %q", got)
	}
	if got := be.header.Get("X-After"); got != "PUT 2 1" {
		t.Fatalf("X-After = %q, want the changed method and query and the original URL", got)
	}
}

// BenchmarkExpressionsReadRequest: a document whose three expressions read
// context.Request (headers, query, method) — the per-request cost of the
// expression context.
func BenchmarkExpressionsReadRequest(b *testing.B) {
	env := testEnv("t")
	env.Expressions = ExprExpressions
	doc, err := CompileDocument(`<policies><inbound>
		<set-variable name="tenant" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;, &quot;none&quot;))" />
		<set-header name="X-Q" exists-action="override"><value>@(context.Request.Url.Query.GetValueOrDefault("a", ""))</value></set-header>
		<set-header name="X-M" exists-action="override"><value>@(context.Request.Method + " " + context.Request.OriginalUrl.Path)</value></set-header>
	</inbound></policies>`, env)
	if err != nil {
		b.Fatal(err)
	}
	p := Compose(doc)
	req := httptest.NewRequest("GET", "/api/r?a=1&b=2", nil)
	req.Header.Set("X-Tenant", "contoso")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		c := newCtx(req, &fakeBackend{}, nil, now)
		p.Run(c)
	}
}
