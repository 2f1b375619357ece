package policy

import (
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkRun measures the runner alone (no network): an empty pipeline
// against a typical document.
func BenchmarkRun(b *testing.B) {
	typical := `<policies><inbound><base/>
		<set-header name="X-Tenant" exists-action="override"><value>{{host}}</value></set-header>
		<set-header name="X-Remove" exists-action="delete"/>
		<set-query-parameter name="api-version" exists-action="skip"><value>2024-01-01</value></set-query-parameter>
		<rewrite-uri template="/users/{id}"/>
		<rate-limit calls="1000000000" renewal-period="60"/>
		</inbound><outbound><set-header name="X-Powered-By" exists-action="delete"/></outbound></policies>`
	for _, bc := range []struct{ name, doc string }{{"empty", `<policies/>`}, {"typical", typical}} {
		b.Run(bc.name, func(b *testing.B) {
			p := mustPipeline(b, bc.doc)
			counters := NewMemoryCounters()
			req := httptest.NewRequest("GET", "/api/users/42?a=1", nil)
			be := &fakeBackend{}
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				c := newCtx(req, be, counters, now)
				p.Run(c)
				if c.Response.StatusCode != 200 {
					b.Fatal(c.Response.StatusCode)
				}
			}
		})
	}
}
