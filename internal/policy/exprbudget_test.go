package policy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestExpressionStopsWithRequestContext: an expression that would loop
// for minutes stops when the request's context ends, and the pipeline
// goes to on-error: 504 Timeout when the request's time ran out, 499 (not
// sent) when the client went away; an exceeded budget stays APIM's 500
// ExpressionValueEvaluationFailure.
func TestExpressionStopsWithRequestContext(t *testing.T) {
	p := mustExprPipeline(t, `<policies>
		<inbound>
			<set-variable name="n" value="@{ long i = 0; while (true) { i++; } }" />
		</inbound>
		<on-error>
			<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
		</on-error>
	</policies>`)
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for _, tc := range []struct {
		name       string
		ctx        context.Context
		wantStatus int
		wantReason string
		wantErr    error
	}{
		{"deadline", expired, http.StatusGatewayTimeout, ReasonTimeout, context.DeadlineExceeded},
		{"cancelled", cancelled, 499, ReasonClientConnectionFailure, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := &fakeBackend{}
			c := newCtx(httptest.NewRequest("GET", "/api/x", nil), be, nil, time.Now())
			c.Ctx = tc.ctx
			p.Run(c)
			le := c.LastError
			if le == nil || le.Status != tc.wantStatus || le.Reason != tc.wantReason || !errors.Is(le.Err, tc.wantErr) {
				t.Fatalf("LastError = %+v", le)
			}
			if !strings.Contains(le.Err.Error(), "OperationCanceledException") {
				t.Fatalf("the error does not name the cancellation: %v", le.Err)
			}
			if be.calls != 0 {
				t.Fatal("the request was forwarded")
			}
			// on-error's short expression still ran.
			if got := c.Response.Header.Get("X-Reason"); got != tc.wantReason {
				t.Fatalf("on-error saw reason %q, want %q", got, tc.wantReason)
			}
		})
	}

	t.Run("budget", func(t *testing.T) {
		c := newCtx(httptest.NewRequest("GET", "/api/x", nil), &fakeBackend{}, nil, time.Now())
		p.Run(c)
		le := c.LastError
		if le == nil || le.Status != http.StatusInternalServerError || le.Reason != ReasonExpressionValueEvaluation ||
			!strings.Contains(le.Message, "StepBudgetExceeded") {
			t.Fatalf("LastError = %+v", le)
		}
	})
}

// TestExpressionUsesInboundContext: without Ctx, the inbound request's
// context stops expressions (a client that went away).
func TestExpressionUsesInboundContext(t *testing.T) {
	p := mustExprPipeline(t, `<policies><inbound>
		<set-variable name="n" value="@{ long i = 0; while (true) { i++; } }" />
	</inbound></policies>`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := newCtx(httptest.NewRequest("GET", "/api/x", nil).WithContext(ctx), &fakeBackend{}, nil, time.Now())
	p.Run(c)
	if le := c.LastError; le == nil || le.Status != 499 || !errors.Is(le.Err, context.Canceled) {
		t.Fatalf("LastError = %+v", le)
	}
}

// TestRequestExpressionBudget: the expressions of one request share a
// budget, so a document of many expressions that each stay within their
// own budget cannot add up to more than RequestExpressionSteps.
func TestRequestExpressionBudget(t *testing.T) {
	// Each evaluation spends about half its own budget (two steps an iteration).
	const one = `<set-variable name="v" value="@{ long i = 0; while (i &lt; 240000) { i++; } return i; }" />`
	n := RequestExpressionSteps/400000 + 1 // each takes about 480,000 steps
	p := mustExprPipeline(t, "<policies><inbound>"+strings.Repeat(one, n)+"</inbound></policies>")
	be := &fakeBackend{}
	c := newCtx(httptest.NewRequest("GET", "/api/x", nil), be, nil, time.Now())
	p.Run(c)
	le := c.LastError
	if le == nil || le.Reason != ReasonExpressionValueEvaluation || !strings.Contains(le.Message, "shared budget") {
		t.Fatalf("LastError = %+v", le)
	}
	if be.calls != 0 {
		t.Fatal("the request was forwarded")
	}
	// Fewer of them pass.
	p = mustExprPipeline(t, "<policies><inbound>"+strings.Repeat(one, 3)+"</inbound></policies>")
	c = newCtx(httptest.NewRequest("GET", "/api/x", nil), &fakeBackend{}, nil, time.Now())
	if p.Run(c); c.LastError != nil {
		t.Fatalf("LastError = %+v", c.LastError)
	}
}
