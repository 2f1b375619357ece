package mgmt_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/telemetry"
)

// reportBase is a whole minute in the past.
var reportBase = time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)

// seedTelemetry ingests, at reportBase: on echo-api, 20 successes taking
// 1..20 ms (backend 1 ms less), 3 blocked (401) and 2 failed (502); one
// 404 without an API; and one success on echo-api a minute later.
func seedTelemetry(t *testing.T, e *env) {
	t.Helper()
	var recs []telemetry.Record
	add := func(sec int, api, sub string, status, backendStatus int, total time.Duration, reason string) {
		r := telemetry.Record{Time: reportBase.Add(time.Duration(sec) * time.Second), RequestID: fmt.Sprintf("r%02d", len(recs)), GatewayID: "managed",
			APIID: api, SubscriptionID: sub, Method: "GET", URL: "http://gw/echo/resource", ResponseCode: status, BackendResponseCode: backendStatus,
			RequestSize: 1, ResponseSize: 9, TotalTime: total, LastErrorReason: reason}
		if api != "" {
			r.OperationID, r.ProductID, r.UserID = "retrieve-resource", "starter", "1"
		}
		if backendStatus != 0 {
			r.BackendTime = total - time.Millisecond
		}
		recs = append(recs, r)
	}
	for i := 1; i <= 20; i++ {
		add(i, "echo-api", "admin-starter", 200, 200, time.Duration(i)*time.Millisecond, "")
	}
	for range 3 {
		add(30, "echo-api", "", 401, 0, time.Millisecond/2, "SubscriptionKeyNotFound")
	}
	for range 2 {
		add(31, "echo-api", "admin-starter", 502, 0, 3*time.Millisecond, "BackendConnectionFailure")
	}
	add(32, "", "", 404, 0, time.Millisecond/4, "ApiNotFound")
	add(61, "echo-api", "admin-starter", 200, 200, 40*time.Millisecond, "")
	if _, err := e.store.IngestBatch(context.Background(), &telemetry.Batch{ID: "mgmt-test", GatewayID: "managed", Records: recs}); err != nil {
		t.Fatal(err)
	}
}

func TestReports(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		seedTelemetry(t, e)
		rng := "from=" + url.QueryEscape(reportBase.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(reportBase.Add(time.Hour).Format(time.RFC3339))

		t.Run("byApi", func(t *testing.T) {
			r := e.must(200, "GET", "/api/v1/reports/byApi?"+rng, nil)
			if r.num("count") != 2 || r.str("value.0.name") != "" || r.str("value.1.name") != "echo-api" {
				t.Fatalf("%s", r.raw)
			}
			want := map[string]int{"callCountSuccess": 21, "callCountBlocked": 3, "callCountFailed": 2, "callCountOther": 0, "callCountTotal": 26, "bandwidth": 260}
			for k, v := range want {
				if got := r.num("value.1." + k); got != v {
					t.Errorf("%s = %d, want %d", k, got, v)
				}
			}
			num := func(k string) float64 { f, _ := r.get("value.1." + k).(float64); return f }
			if num("apiTimeMin") != 0.5 || num("apiTimeMax") != 40 || num("serviceTimeMin") != 0 || num("serviceTimeMax") != 39 {
				t.Errorf("min/max: %s", r.raw)
			}
			// 21 backend calls: 0..19 ms and 39 ms.
			if got := num("serviceTimeAvg"); got < 10.9 || got > 10.91 {
				t.Errorf("serviceTimeAvg %v", got)
			}
			// p50 of 26 calls (0.5 ×3, 1..20, 3 ×2, 40) is the 13th: 8 ms,
			// within the histogram's resolution.
			if p50 := num("apiTimeP50"); p50 < 8/1.45 || p50 > 8*1.45 {
				t.Errorf("apiTimeP50 %v", p50)
			}
			if p99 := num("apiTimeP99"); p99 > 40 || p99 < 20 {
				t.Errorf("apiTimeP99 %v", p99)
			}
			if p50, p95 := num("apiTimeP50"), num("apiTimeP95"); p50 > p95 {
				t.Errorf("p50 %v > p95 %v", p50, p95)
			}
		})

		e.run(t, []call{
			{name: "byOperation", method: "GET", path: "/api/v1/reports/byOperation?" + rng + "&filter=apiId%20eq%20'echo-api'", wantStatus: 200,
				wantIn: `"name": "retrieve-resource",`},
			{name: "byProduct", method: "GET", path: "/api/v1/reports/byProduct?" + rng, wantStatus: 200, wantIn: `"productId": "starter"`},
			{name: "bySubscription", method: "GET", path: "/api/v1/reports/bySubscription?" + rng + "&filter=subscriptionId%20ne%20''", wantStatus: 200,
				wantIn: `"callCountTotal": 23`},
			{name: "byUser", method: "GET", path: "/api/v1/reports/byUser?" + rng, wantStatus: 200, wantIn: `"userId": "1"`},
			{name: "byTime per minute", method: "GET", path: "/api/v1/reports/byTime?" + rng + "&interval=PT1M&filter=apiId%20eq%20'echo-api'", wantStatus: 200,
				wantIn: `"timestamp": "2025-07-01T12:01:00Z",`},
			{name: "byTime per day", method: "GET", path: "/api/v1/reports/byTime?" + rng + "&interval=P1D", wantStatus: 200, wantIn: `"interval": "P1D"`},
			{name: "APIM timestamp filter", method: "GET", path: "/api/v1/reports/byApi?filter=" + url.QueryEscape("timestamp ge datetime'2025-07-01T12:01:00' and timestamp le datetime'2025-07-01T12:02:00'"),
				wantStatus: 200, wantIn: `"callCountTotal": 1,`},
			{name: "byRequest newest first", method: "GET", path: "/api/v1/reports/byRequest?" + rng + "&top=1", wantStatus: 200,
				wantIn: `"requestId": "r26"`},
			{name: "byRequest filtered", method: "GET", path: "/api/v1/reports/byRequest?" + rng + "&filter=responseCode%20eq%20'502'", wantStatus: 200,
				wantIn: `"count": 2`},
			{name: "unknown report", method: "GET", path: "/api/v1/reports/byCountry", wantStatus: 404, wantIn: "byRequest"},
			{name: "bad from", method: "GET", path: "/api/v1/reports/byApi?from=yesterday", wantStatus: 400, wantField: "from"},
			{name: "bad to", method: "GET", path: "/api/v1/reports/byApi?to=2025-13-01", wantStatus: 400, wantField: "to"},
			{name: "to before from", method: "GET", path: "/api/v1/reports/byApi?from=2025-07-02&to=2025-07-01", wantStatus: 400, wantField: "to"},
			{name: "byTime without interval", method: "GET", path: "/api/v1/reports/byTime?" + rng, wantStatus: 400, wantField: "interval"},
			{name: "interval not whole minutes", method: "GET", path: "/api/v1/reports/byTime?" + rng + "&interval=PT90S", wantStatus: 400, wantField: "interval"},
			{name: "interval not a duration", method: "GET", path: "/api/v1/reports/byTime?" + rng + "&interval=5m", wantStatus: 400, wantField: "interval"},
			{name: "filter field", method: "GET", path: "/api/v1/reports/byApi?filter=country%20eq%20'NO'", wantStatus: 400, wantField: "filter"},
			{name: "request-only filter on a rollup", method: "GET", path: "/api/v1/reports/byApi?filter=requestId%20eq%20'x'", wantStatus: 400, wantField: "filter"},
			{name: "filter syntax", method: "GET", path: "/api/v1/reports/byApi?filter=apiId%3D%3D1", wantStatus: 400, wantField: "filter"},
			{name: "bad top", method: "GET", path: "/api/v1/reports/byApi?top=0", wantStatus: 400, wantField: "top"},
		})

		t.Run("paging", func(t *testing.T) {
			r := e.must(200, "GET", "/api/v1/reports/byRequest?"+rng+"&top=10", nil)
			next := r.str("nextLink")
			if r.num("count") != 27 || len(r.get("value").([]any)) != 10 || next == "" {
				t.Fatalf("first page: %s", r.raw)
			}
			seen := map[string]bool{}
			for page := 0; next != ""; page++ {
				if page > 5 {
					t.Fatal("too many pages")
				}
				r = e.must(200, "GET", next, nil)
				for _, v := range r.get("value").([]any) {
					seen[v.(map[string]any)["requestId"].(string)] = true
				}
				next = r.str("nextLink")
			}
			if len(seen) != 17 {
				t.Fatalf("%d distinct records after the first page, want 17", len(seen))
			}
		})

		t.Run("documented", func(t *testing.T) {
			r := e.must(200, "GET", "/api/v1/openapi.json", nil)
			if r.get("paths./api/v1/reports/byTime") == nil {
				t.Fatal("reports missing from openapi.json")
			}
		})
	})
}
