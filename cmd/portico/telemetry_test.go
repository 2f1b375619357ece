package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/telemetry"
)

// syncBuffer is a bytes.Buffer safe for the writer and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServeAccessLog runs serve with --access-log, its stdout captured,
// and returns a client for it and the ops URL.
func startServeAccessLog(t *testing.T) (s *stack, opsURL string, stdout *syncBuffer) {
	t.Helper()
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
		portalAddr: freeAddr(t), shutdown: 5 * time.Second, accessLog: true, telemetryRetention: defaultTelemetryRetention}
	stdout = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, slog.New(slog.DiscardHandler), stdout, true) }()
	s = &stack{t: t, mgmtURL: "http://" + o.mgmtAddr, gwURL: "http://" + o.gatewayAddr, client: &http.Client{}}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.client.CloseIdleConnections()
	})
	opsURL = "http://" + o.opsAddr
	s.poll("readyz", func() bool {
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		res, err := http.Get(opsURL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s, opsURL, stdout
}

// metric reads one sample from a Prometheus text page: the first line of
// name whose labels contain every given "k=\"v\"" pair; -1 when absent.
func metric(t *testing.T, opsURL, name string, labels ...string) float64 {
	t.Helper()
	res, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		return v
	}
	return -1
}

// TestTelemetryExactness sends n requests of each outcome through the
// built-in gateway of portico serve and checks that each shows up exactly
// n times, in the right class, in every report, and once in the access
// log.
func TestTelemetryExactness(t *testing.T) {
	const n = 3
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the backend failed", http.StatusInternalServerError)
	}))
	defer broken.Close()
	s, ops, stdout := startServeAccessLog(t)
	for _, api := range []struct{ id, url string }{{"broken", broken.URL}, {"dead", "http://" + freeAddr(t)}} {
		s.admin(201, "PUT", "/api/v1/apis/"+api.id, map[string]any{"displayName": api.id, "path": api.id, "serviceUrl": api.url, "protocols": []string{"http"}, "subscriptionRequired": false})
		s.admin(201, "PUT", "/api/v1/apis/"+api.id+"/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/r"})
	}
	rev := s.admin(200, "GET", "/api/v1/revision", nil)["revision"].(float64)
	s.poll("the gateway to serve the new APIs", func() bool { return metric(t, ops, "portico_gateway_snapshot_revision") >= rev })

	starter, unlimited := s.key("admin-starter"), s.key("admin-unlimited")
	calls := []struct {
		name, path, key string
		times, status   int
	}{
		{name: "success", path: "/echo/resource?subscription-key=" + unlimited, times: n, status: 200},
		{name: "starter within its rate limit", path: "/echo/resource", key: starter, times: 5, status: 200},
		{name: "starter over its rate limit", path: "/echo/resource", key: starter, times: n, status: 429},
		{name: "missing key", path: "/echo/resource", times: n, status: 401},
		{name: "no api", path: "/nope", key: starter, times: n, status: 404},
		{name: "dead backend", path: "/dead/r", times: n, status: 502},
		{name: "backend 500", path: "/broken/r", times: n, status: 500},
	}
	total := 0
	for _, c := range calls {
		for i := range c.times {
			if r := s.mustCall(c.path, c.key); r.status != c.status {
				t.Fatalf("%s, call %d: %d, want %d: %s", c.name, i+1, r.status, c.status, r.body)
			}
			total++
		}
	}

	from, to := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	rng := "from=" + from + "&to=" + to
	s.poll("every record to be stored", func() bool {
		return s.admin(200, "GET", "/api/v1/reports/byRequest?top=1&"+rng, nil)["count"].(float64) >= float64(total)
	})
	if got := metric(t, ops, "portico_telemetry_shipped_records_total"); got != float64(total) {
		t.Fatalf("shipped %v records, want %d", got, total)
	}
	if got := metric(t, ops, "portico_telemetry_dropped_records_total", `reason="queue_full"`); got != 0 {
		t.Fatalf("dropped %v records", got)
	}

	// rows fetches a report and renders its rows as name -> "success/blocked/failed/other/total".
	rows := func(report, extra string) map[string]string {
		t.Helper()
		out := map[string]string{}
		res := s.admin(200, "GET", "/api/v1/reports/"+report+"?"+rng+extra, nil)
		for _, v := range res["value"].([]any) {
			r := v.(map[string]any)
			c := func(k string) int { return int(r[k].(float64)) }
			out[r["name"].(string)] = fmt.Sprintf("%d/%d/%d/%d/%d", c("callCountSuccess"), c("callCountBlocked"), c("callCountFailed"), c("callCountOther"), c("callCountTotal"))
		}
		return out
	}
	tests := []struct {
		name, report, extra string
		want                map[string]string
	}{
		{name: "byApi", report: "byApi", want: map[string]string{
			"echo-api": fmt.Sprintf("%d/%d/0/0/%d", n+5, 2*n, 3*n+5), "": fmt.Sprintf("0/0/0/%d/%d", n, n),
			"dead": fmt.Sprintf("0/0/%d/0/%d", n, n), "broken": fmt.Sprintf("0/0/%d/0/%d", n, n)}},
		{name: "byProduct", report: "byProduct", want: map[string]string{
			"starter": fmt.Sprintf("5/%d/0/0/%d", n, n+5), "unlimited": fmt.Sprintf("%d/0/0/0/%d", n, n),
			"": fmt.Sprintf("0/%d/%d/%d/%d", n, 2*n, n, 4*n)}},
		{name: "bySubscription", report: "bySubscription", want: map[string]string{
			"admin-starter": fmt.Sprintf("5/%d/0/0/%d", n, n+5), "admin-unlimited": fmt.Sprintf("%d/0/0/0/%d", n, n),
			"": fmt.Sprintf("0/%d/%d/%d/%d", n, 2*n, n, 4*n)}},
		{name: "byUser", report: "byUser", want: map[string]string{
			"1": fmt.Sprintf("%d/%d/0/0/%d", n+5, n, 2*n+5), "": fmt.Sprintf("0/%d/%d/%d/%d", n, 2*n, n, 4*n)}},
		{name: "byOperation of echo-api", report: "byOperation", extra: "&filter=" + url.QueryEscape("apiId eq 'echo-api'"), want: map[string]string{
			"retrieve-resource": fmt.Sprintf("%d/%d/0/0/%d", n+5, 2*n, 3*n+5)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := rows(tc.report, tc.extra); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("rows %v\nwant %v", got, tc.want)
			}
		})
	}

	t.Run("byTime adds up", func(t *testing.T) {
		sum := 0
		res := s.admin(200, "GET", "/api/v1/reports/byTime?interval=PT1M&"+rng, nil)
		for _, v := range res["value"].([]any) {
			sum += int(v.(map[string]any)["callCountTotal"].(float64))
		}
		if sum != total {
			t.Fatalf("byTime totals %d, want %d", sum, total)
		}
	})

	t.Run("byRequest", func(t *testing.T) {
		res := s.admin(200, "GET", "/api/v1/reports/byRequest?filter="+url.QueryEscape("responseCode eq '429'")+"&"+rng, nil)
		if res["count"].(float64) != n {
			t.Fatalf("%v 429s", res["count"])
		}
		r := res["value"].([]any)[0].(map[string]any)
		if r["lastErrorReason"] != "RateLimitExceeded" || r["lastErrorSource"] != "rate-limit" || r["subscriptionId"] != "admin-starter" ||
			r["productId"] != "starter" || r["gatewayId"] != "managed" || r["instanceId"] == "" || r["backendResponseCode"].(float64) != 0 {
			t.Fatalf("429 record %v", r)
		}
		res = s.admin(200, "GET", "/api/v1/reports/byRequest?filter="+url.QueryEscape("subscriptionId eq 'admin-unlimited'")+"&"+rng, nil)
		r = res["value"].([]any)[0].(map[string]any)
		if u := r["url"].(string); !strings.HasSuffix(u, "/echo/resource?subscription-key=***") || r["backendUrl"] == "" || r["responseSize"].(float64) == 0 {
			t.Fatalf("success record %v", r)
		}
	})

	t.Run("access log", func(t *testing.T) {
		var lines []string
		s.poll("every access log line", func() bool {
			lines = nil
			for _, l := range strings.Split(stdout.String(), "\n") {
				if strings.HasPrefix(l, "{") {
					lines = append(lines, l)
				}
			}
			return len(lines) >= total
		})
		if len(lines) != total {
			t.Fatalf("%d access log lines, want %d", len(lines), total)
		}
		statuses := map[int]int{}
		for _, l := range lines {
			var r telemetry.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			statuses[r.ResponseCode]++
		}
		if want := map[int]int{200: n + 5, 429: n, 401: n, 404: n, 502: n, 500: n}; fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
		if out := stdout.String(); strings.Contains(out, starter) || strings.Contains(out, unlimited) {
			t.Fatal("a subscription key reached the access log")
		}
	})

	if got := metric(t, ops, "portico_gateway_client_duration_seconds_count", `api="echo-api"`); got != float64(3*n+5) {
		t.Fatalf("client duration observations %v, want %d", got, 3*n+5)
	}
	// Nothing else arrives later: the counts are final.
	if res := s.admin(200, "GET", "/api/v1/reports/byRequest?top=1&"+rng, nil); res["count"].(float64) != float64(total) {
		t.Fatalf("%v records, want %d", res["count"], total)
	}
}

func TestTelemetryFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       string
		want      time.Duration
		accessLog bool
		wantErr   bool
	}{
		{name: "default", want: 30 * 24 * time.Hour},
		{name: "days", args: []string{"--telemetry-retention", "7d"}, want: 7 * 24 * time.Hour},
		{name: "duration", args: []string{"--telemetry-retention=72h"}, want: 72 * time.Hour},
		{name: "keep everything", args: []string{"--telemetry-retention=0"}, want: 0},
		{name: "from the environment", env: "2d", want: 48 * time.Hour},
		{name: "access log", args: []string{"--access-log"}, want: 30 * 24 * time.Hour, accessLog: true},
		{name: "negative", args: []string{"--telemetry-retention=-1d"}, wantErr: true},
		{name: "garbage", args: []string{"--telemetry-retention=soon"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("PORTICO_TELEMETRY_RETENTION", tc.env)
			}
			var o options
			err := parse(newFlagSet("serve", &o, io.Discard), tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if !tc.wantErr && (o.telemetryRetention != tc.want || o.accessLog != tc.accessLog) {
				t.Fatalf("retention %v access log %v", o.telemetryRetention, o.accessLog)
			}
		})
	}
}
