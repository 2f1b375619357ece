package gateway

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
)

// TestResponseCacheThroughGateway: cache-lookup/cache-store answer the
// second identical GET from the cache, across a snapshot reload.
func TestResponseCacheThroughGateway(t *testing.T) {
	var calls atomic.Int64
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "answer %d", n)
	})
	doc := `<policies><inbound><base/><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-query-parameter>q</vary-by-query-parameter></cache-lookup></inbound>
		<backend><base/></backend><outbound><base/><cache-store duration="60"/></outbound><on-error><base/></on-error></policies>`
	cfg := policyConfig(be.URL, map[string]string{"apis/echo": doc})
	e := newEnv(t, Config{}, cfg)
	first := e.do("GET", "/echo/resource?q=1", nil, "Ocp-Apim-Subscription-Key", keyAll)
	if first.status != 200 || first.body != "answer 1" {
		t.Fatalf("first call: %d %q", first.status, first.body)
	}
	cfg2 := policyConfig(be.URL, map[string]string{"apis/echo": doc})
	cfg2.Revision = 2
	e.publish(cfg2)
	second := e.do("GET", "/echo/resource?q=1", nil, "Ocp-Apim-Subscription-Key", keyAll)
	if second.status != 200 || second.body != "answer 1" || calls.Load() != 1 {
		t.Fatalf("second call: %d %q, backend called %d times", second.status, second.body, calls.Load())
	}
	other := e.do("GET", "/echo/resource?q=2", nil, "Ocp-Apim-Subscription-Key", keyAll)
	if other.body != "answer 2" {
		t.Fatalf("a different query parameter was served from the cache: %q", other.body)
	}
}
