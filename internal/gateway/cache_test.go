package gateway

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/telemetry"
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

// TestCacheLookupRecorded: the request record's cache field says what
// cache-lookup did: miss on the first GET, hit on the second, none where
// no lookup ran (a POST).
func TestCacheLookupRecorded(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "answer")
	})
	doc := `<policies><inbound><base/><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/></inbound>
		<backend><base/></backend><outbound><base/><cache-store duration="60"/></outbound><on-error><base/></on-error></policies>`
	sink := &recordSink{recs: map[string]telemetry.Record{}}
	e := newEnv(t, Config{Telemetry: sink}, policyConfig(be.URL, map[string]string{"apis/echo": doc}))
	for i, tc := range []struct{ method, id, want string }{
		{"GET", "cache-1", telemetry.CacheMiss},
		{"GET", "cache-2", telemetry.CacheHit},
		{"POST", "cache-3", telemetry.CacheNone},
	} {
		res := e.do(tc.method, "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll, "X-Request-Id", tc.id)
		if res.status != 200 {
			t.Fatalf("call %d: %d %q", i, res.status, res.body)
		}
		if got := sink.wait(t, tc.id).Cache; got != tc.want {
			t.Errorf("call %d (%s): cache = %q, want %q", i, tc.method, got, tc.want)
		}
	}
}
