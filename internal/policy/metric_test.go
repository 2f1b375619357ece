package policy

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEmitMetric(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "defaults", doc: `<emit-metric name="calls"/>`, want: `API Management/calls=1 []`},
		{name: "value, namespace and dimensions", doc: `<emit-metric name="@(&quot;size&quot;)" namespace="shop" value="@(2.5 * 2)">
			<dimension name="API ID"/><dimension name="Subscription ID"/><dimension name="Client" value="@(context.Request.Method)"/></emit-metric>`,
			want: `shop/size=5 [{API ID orders} {Subscription ID sub1} {Client GET}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustExprPipeline(t, `<policies><inbound>`+tc.doc+`</inbound></policies>`)
			c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, nil, time.Now())
			c.API.ID = "orders"
			var got []string
			c.Metric = func(m Metric) {
				got = append(got, fmt.Sprintf("%s/%s=%g %v", m.Namespace, m.Name, m.Value, m.Dimensions))
			}
			p.Run(c)
			if c.LastError != nil {
				t.Fatalf("LastError = %+v", c.LastError)
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("metrics = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("a non-number value fails", func(t *testing.T) {
		p := mustExprPipeline(t, `<policies><inbound><emit-metric name="m" value="@(&quot;x&quot;)"/></inbound></policies>`)
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), &fakeBackend{}, nil, time.Now())
		c.Metric = func(Metric) {}
		p.Run(c)
		if c.LastError == nil || c.LastError.Reason != ReasonExpressionValueEvaluation {
			t.Fatalf("LastError = %+v", c.LastError)
		}
	})
}

func TestEmitMetricCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "name required", doc: `<emit-metric/>`, want: `attribute "name" is required`},
		{name: "literal value a number", doc: `<emit-metric name="m" value="many"/>`, want: `attribute "value" must be a number`},
		{name: "custom dimension needs a value", doc: `<emit-metric name="m"><dimension name="Client"/></emit-metric>`, want: `dimension "Client" needs a value`},
		{name: "duplicate dimension", doc: `<emit-metric name="m"><dimension name="API ID"/><dimension name="api id" value="x"/></emit-metric>`, want: `appears twice`},
		{name: "too many dimensions", doc: `<emit-metric name="m"><dimension name="a" value="1"/><dimension name="b" value="1"/><dimension name="c" value="1"/><dimension name="d" value="1"/><dimension name="e" value="1"/><dimension name="f" value="1"/></emit-metric>`, want: `at most 5 dimensions`},
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
