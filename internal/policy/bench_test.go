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

// BenchmarkCachedResponse measures a GET answered by cache-lookup.
func BenchmarkCachedResponse(b *testing.B) {
	p := mustExprPipeline(b, `<policies><inbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
		<vary-by-query-parameter>a</vary-by-query-parameter></cache-lookup></inbound><outbound><cache-store duration="60"/></outbound></policies>`)
	cache := NewMemoryCache(1 << 20)
	req := httptest.NewRequest("GET", "/api/users/42?a=1", nil)
	be := &fakeBackend{}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		c := newCtx(req, be, nil, now)
		c.Cache = cache
		p.Run(c)
		if c.Response.StatusCode != 200 {
			b.Fatal(c.Response.StatusCode)
		}
	}
	if be.calls != 1 {
		b.Fatalf("backend called %d times", be.calls)
	}
}

// BenchmarkConvert measures json-to-xml and xml-to-json on a small document.
func BenchmarkConvert(b *testing.B) {
	js := []byte(`{"order":{"id":7,"customer":{"name":"Ann","vip":true},"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}`)
	x, err := JSONToXML(js)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("json-to-xml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			JSONToXML(js)
		}
	})
	b.Run("xml-to-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			XMLToJSON(x, false, false)
		}
	})
}
