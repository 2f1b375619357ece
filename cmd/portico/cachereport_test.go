package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheHitsReported: an API with cache-lookup and cache-store called
// twice through serve's gateway records one miss and one hit, and the
// reports count them (cacheHitCount, cacheMissCount) as APIM's do.
func TestCacheHitsReported(t *testing.T) {
	var calls atomic.Int64
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "answer %d", calls.Add(1))
	}))
	defer be.Close()
	s, ops, _ := startServeAccessLog(t)
	s.admin(201, "PUT", "/api/v1/apis/cached", map[string]any{"displayName": "cached", "path": "cached", "serviceUrl": be.URL, "protocols": []string{"http"}, "subscriptionRequired": false})
	s.admin(201, "PUT", "/api/v1/apis/cached/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/r"})
	doc := `<policies><inbound><base/><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/></inbound>
		<backend><base/></backend><outbound><base/><cache-store duration="60"/></outbound><on-error><base/></on-error></policies>`
	if status, body := s.putXML("/api/v1/apis/cached/policy", doc); status != 201 {
		t.Fatalf("put policy: %d %s", status, body)
	}
	rev := s.admin(200, "GET", "/api/v1/revision", nil)["revision"].(float64)
	s.poll("the gateway to serve the policy", func() bool { return metric(t, ops, "portico_gateway_snapshot_revision") >= rev })
	if r := s.mustCall("/cached/r", ""); r.status != 200 || r.body != "answer 1" {
		t.Fatalf("first call: %d %q", r.status, r.body)
	}
	if r := s.mustCall("/cached/r", ""); r.status != 200 || calls.Load() != 1 {
		t.Fatalf("second call: %d %q, backend called %d times; want an answer from the cache", r.status, r.body, calls.Load())
	}

	from, to := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	rng := "from=" + from + "&to=" + to
	filter := "&filter=" + url.QueryEscape("apiId eq 'cached'")
	s.poll("both records to be stored", func() bool {
		return s.admin(200, "GET", "/api/v1/reports/byRequest?"+rng+filter, nil)["count"].(float64) >= 2
	})
	var caches []string
	for _, v := range s.admin(200, "GET", "/api/v1/reports/byRequest?"+rng+filter, nil)["value"].([]any) {
		caches = append(caches, v.(map[string]any)["cache"].(string))
	}
	if fmt.Sprint(caches) != "[hit miss]" { // newest first
		t.Errorf("records' cache fields %v, want [hit miss]", caches)
	}
	for _, report := range []string{"byApi", "byOperation", "byProduct", "byTime?interval=PT1H"} {
		sep := "?"
		if report == "byTime?interval=PT1H" {
			sep = "&"
		}
		rows := s.admin(200, "GET", "/api/v1/reports/"+report+sep+rng+filter, nil)["value"].([]any)
		if len(rows) != 1 {
			t.Errorf("%s: %d rows, want 1: %v", report, len(rows), rows)
			continue
		}
		r := rows[0].(map[string]any)
		if r["cacheHitCount"] != 1.0 || r["cacheMissCount"] != 1.0 {
			t.Errorf("%s: cacheHitCount %v, cacheMissCount %v; want 1 and 1", report, r["cacheHitCount"], r["cacheMissCount"])
		}
	}
}
