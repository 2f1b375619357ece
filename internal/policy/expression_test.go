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
