package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/testenv"
)

// recordSink keeps the records the gateway hands it, by request id.
type recordSink struct {
	mu   sync.Mutex
	recs map[string]telemetry.Record
}

func (s *recordSink) Record(r *telemetry.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs[r.RequestID] = *r
	telemetry.Release(r)
}

// wait returns the record of request id, polling until it arrives (the
// gateway records after the response went out).
func (s *recordSink) wait(t *testing.T, id string) telemetry.Record {
	t.Helper()
	var r telemetry.Record
	testenv.Eventually(t, "the record of request "+id, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		var ok bool
		r, ok = s.recs[id]
		return ok
	})
	return r
}

// deadURL is an http URL where nothing listens.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestTelemetryRecords(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "backend broke", http.StatusInternalServerError)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ok %s %d", r.URL.Path, len(body))
	})
	sc := testConfig(be.URL)
	sc.APIs = append(sc.APIs, snapshot.API{ID: "dead", DisplayName: "dead", Path: "dead", ServiceURL: deadURL(t),
		Operations: []snapshot.Operation{{ID: "get", Method: "GET", URLTemplate: "/r"}}})
	sink := &recordSink{recs: map[string]telemetry.Record{}}
	e := newEnv(t, Config{Telemetry: sink, InstanceID: "inst-1"}, sc)

	tests := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		want                     telemetry.Record // fields compared: ids, codes, sizes, error
		outcome                  telemetry.Outcome
		wantURL                  string
		forwarded                bool
	}{
		{name: "success with query key", method: "GET", path: "/echo/resource?a=1&subscription-key=" + keyP1, status: 200,
			want:    telemetry.Record{APIID: "echo", OperationID: "get-resource", ProductID: "p1", SubscriptionID: "s-p1", UserID: "u3", BackendResponseCode: 200},
			outcome: telemetry.OutcomeSuccess, wantURL: "/echo/resource?a=1&subscription-key=***", forwarded: true},
		{name: "post body counted", method: "POST", path: "/echo/resource", body: "hello world", hdr: []string{"Ocp-Apim-Subscription-Key", keyAll}, status: 200,
			want:    telemetry.Record{APIID: "echo", OperationID: "post-resource", SubscriptionID: "s-all", UserID: "u1", BackendResponseCode: 200, RequestSize: 11},
			outcome: telemetry.OutcomeSuccess, wantURL: "/echo/resource", forwarded: true},
		{name: "missing key", method: "GET", path: "/echo/resource", status: 401,
			want:    telemetry.Record{APIID: "echo", OperationID: "get-resource", LastErrorSource: "authorization", LastErrorSection: "inbound", LastErrorReason: "SubscriptionKeyNotFound"},
			outcome: telemetry.OutcomeBlocked, wantURL: "/echo/resource"},
		{name: "no api", method: "GET", path: "/nowhere?subscription-key=secret", status: 404,
			want:    telemetry.Record{LastErrorSource: "configuration", LastErrorSection: "inbound", LastErrorReason: "ApiNotFound"},
			outcome: telemetry.OutcomeOther, wantURL: "/nowhere?subscription-key=***"},
		{name: "backend 500", method: "GET", path: "/open/files/fail", status: 500,
			want:    telemetry.Record{APIID: "open", OperationID: "files", BackendResponseCode: 500},
			outcome: telemetry.OutcomeFailed, wantURL: "/open/files/fail", forwarded: true},
		{name: "backend down", method: "GET", path: "/dead/r", status: 502,
			want:    telemetry.Record{APIID: "dead", OperationID: "get", LastErrorSource: "forward-request", LastErrorSection: "backend", LastErrorReason: "BackendConnectionFailure"},
			outcome: telemetry.OutcomeFailed, wantURL: "/dead/r", forwarded: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("telemetry-test-%d", i)
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := e.do(tc.method, tc.path, body, append([]string{"X-Request-Id", id}, tc.hdr...)...)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			r := sink.wait(t, id)
			got := telemetry.Record{APIID: r.APIID, OperationID: r.OperationID, ProductID: r.ProductID, SubscriptionID: r.SubscriptionID, UserID: r.UserID,
				BackendResponseCode: r.BackendResponseCode, RequestSize: r.RequestSize,
				LastErrorSource: r.LastErrorSource, LastErrorSection: r.LastErrorSection, LastErrorReason: r.LastErrorReason}
			if got != tc.want {
				t.Fatalf("record\n got %+v\nwant %+v", got, tc.want)
			}
			if r.ResponseSize != int64(len(res.body)) {
				t.Fatalf("response size %d, body %d bytes", r.ResponseSize, len(res.body))
			}
			if r.ResponseCode != tc.status || r.Outcome() != tc.outcome || r.Method != tc.method || r.GatewayID != DefaultGatewayID || r.InstanceID != "inst-1" {
				t.Fatalf("record %+v: outcome %v", r, r.Outcome())
			}
			if r.URL != e.url+tc.wantURL || r.ClientIP != "127.0.0.1" || r.Cache != telemetry.CacheNone {
				t.Fatalf("url %q client %q cache %q", r.URL, r.ClientIP, r.Cache)
			}
			if time.Since(r.Time) > time.Minute || r.TotalTime <= 0 || r.TotalTime < r.BackendTime || r.TotalTime < r.ClientTime {
				t.Fatalf("times: at %v total %v backend %v client %v", r.Time, r.TotalTime, r.BackendTime, r.ClientTime)
			}
			if tc.forwarded != (r.BackendURL != "") || tc.forwarded != (r.BackendTime > 0) {
				t.Fatalf("forwarded %v: backend url %q time %v", tc.forwarded, r.BackendURL, r.BackendTime)
			}
			if tc.status >= 500 && r.BackendResponseCode == 0 && !strings.Contains(r.LastErrorMessage, "Bad gateway") {
				t.Fatalf("error message %q", r.LastErrorMessage)
			}
		})
	}
}

// BenchmarkServeHTTPTelemetry is BenchmarkServeHTTP with a telemetry queue
// drained by its goroutine: the cost of building and queueing a record.
func BenchmarkServeHTTPTelemetry(b *testing.B) {
	q, err := telemetry.NewQueue(telemetry.QueueConfig{Capacity: 1 << 16, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	cfg := Config{Logger: discardLogger(), Transport: func(string, string) http.RoundTripper { return staticBackend{} }, Telemetry: q, InstanceID: "bench"}
	gw, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, gw: gw}
	e.publish(testConfig("http://backend.invalid"))
	req := httptest.NewRequest("GET", "http://gw.example/echo/users/42?a=1&subscription-key="+keyP1, nil)
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		gw.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}
