package gateway

import (
	"net/http"
	"testing"
)

// TestEmitMetricReachesPrometheus: emit-metric values are added to
// portico_policy_emitted_total with their dimensions.
func TestEmitMetricReachesPrometheus(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	cfg := policyConfig(be.URL, map[string]string{"apis/echo": `<policies><inbound><base/>
		<emit-metric name="orders" namespace="shop" value="2"><dimension name="Region" value="eu"/></emit-metric>
	</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`})
	e := newEnv(t, Config{}, cfg)
	for range 3 {
		if r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if got := metricValue(e.gw.metrics.emitted.WithLabelValues("shop", "orders", "Region=eu")); got != 6 {
		t.Fatalf("portico_policy_emitted_total = %v, want 6", got)
	}
}
