package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync/agent"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/testenv"
)

// telemetryNode is a self-hosted gateway whose request records go through
// a telemetry queue to its agent, as portico gateway wires them.
type telemetryNode struct {
	url  string
	stop func()
}

func startTelemetryNode(t *testing.T, p *plane, token, backupDir string) *telemetryNode {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var ag *agent.Agent
	q, err := telemetry.NewQueue(telemetry.QueueConfig{GatewayID: "edge", BatchSize: 5, FlushInterval: 20 * time.Millisecond, Logger: log,
		Shipper: telemetry.ShipperFunc(func(ctx context.Context, b *telemetry.Batch) error { return ag.Ship(ctx, b) })})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Logger: log, Telemetry: q})
	if err != nil {
		t.Fatal(err)
	}
	ag, err = agent.New(agent.Config{MgmtURL: p.gwURL, Token: token, BackupDir: backupDir, Gateway: gw, Logger: log,
		Wait: 2 * time.Second, MaxBackoff: 100 * time.Millisecond, HeartbeatInterval: time.Second, Hostname: "test", TelemetryMetrics: q.Metrics()})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	qctx, qcancel := context.WithCancel(context.Background())
	qdone := make(chan struct{})
	go func() { defer close(qdone); q.Run(qctx) }()
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan struct{})
	go func() { defer close(adone); ag.Run(actx) }()
	srv := httptest.NewServer(gw)
	stopped := false
	n := &telemetryNode{url: srv.URL, stop: func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close() // no more requests
		qcancel()   // the last records go to the buffer
		<-qdone
		acancel()
		<-adone
		gw.Close()
	}}
	t.Cleanup(n.stop)
	return n
}

// buffered sums the records of the batch files in a backup dir's buffer.
func buffered(t *testing.T, backupDir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(backupDir, "telemetry"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range entries {
		parts := strings.SplitN(e.Name(), "-", 3)
		if len(parts) == 3 {
			n, _ := strconv.Atoi(parts[1])
			total += n
		}
	}
	return total
}

// requestCount asks the management plane how many records of the edge
// gateway's operation op it holds.
func requestCount(p *plane, op string) int {
	var page struct{ Count int }
	filter := strings.ReplaceAll(fmt.Sprintf("gatewayId eq 'edge' and operationId eq '%s'", op), " ", "%20")
	json.Unmarshal(p.call("GET", "/reports/byRequest?filter="+filter, nil, 200), &page)
	return page.Count
}

// TestTelemetryThroughDisconnection: records made while the management plane
// is unreachable wait in the agent's on-disk buffer, survive a restart of
// the gateway, and are counted exactly once when the plane is back.
func TestTelemetryThroughDisconnection(t *testing.T) {
	p := newPlane(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	p.call("PUT", "/gateways/edge", map[string]any{"locationData": map[string]string{"name": "edge"}}, 201)
	p.call("PUT", "/apis/api-edge", map[string]any{"displayName": "edge", "path": "edge", "protocols": []string{"http"}, "serviceUrl": backend.URL, "subscriptionRequired": false}, 201)
	for _, op := range []string{"probe", "r"} {
		p.call("PUT", "/apis/api-edge/operations/"+op, map[string]any{"displayName": op, "method": "GET", "urlTemplate": "/" + op}, 201)
	}
	p.call("PUT", "/gateways/edge/apis/api-edge", nil, 201)
	token := p.token("edge", "primary", time.Now().Add(24*time.Hour))
	dir := t.TempDir()
	n := startTelemetryNode(t, p, token, dir)
	testenv.Eventually(t, "the gateway to serve its API", func() bool { return get(n.url+"/edge/probe", "") == 200 })

	call := func(url string, times int) {
		t.Helper()
		for i := range times {
			if c := get(url+"/edge/r", ""); c != 200 {
				t.Fatalf("call %d: %d", i, c)
			}
		}
	}
	call(n.url, 7)
	testenv.Eventually(t, "the first records at the management plane", func() bool { return requestCount(p, "r") == 7 })

	p.front.set("reset")
	call(n.url, 11)
	testenv.Eventually(t, "the records of the outage in the on-disk buffer", func() bool { return buffered(t, dir) == 11 })
	n.stop()
	if got := buffered(t, dir); got != 11 {
		t.Fatalf("%d records buffered after the restart, want 11", got)
	}

	n = startTelemetryNode(t, p, token, dir)
	call(n.url, 2)
	testenv.Eventually(t, "the new records in the on-disk buffer", func() bool { return buffered(t, dir) == 13 })
	if got := requestCount(p, "r"); got != 7 {
		t.Fatalf("%d records at the management plane during the outage", got)
	}
	p.front.set("ok")
	testenv.Eventually(t, "every record at the management plane", func() bool { return requestCount(p, "r") == 20 })
	testenv.Eventually(t, "the buffer to empty", func() bool { return buffered(t, dir) == 0 })
	if got := requestCount(p, "r"); got != 20 {
		t.Fatalf("%d records, want 20", got)
	}
}

// TestTelemetryEndpoint checks POST /gateway/v1/telemetry: a batch is
// attributed to the token's gateway, a replay is acknowledged as a
// duplicate and not counted again, and invalid batches are refused.
func TestTelemetryEndpoint(t *testing.T) {
	p := newPlane(t)
	p.call("PUT", "/gateways/edge", map[string]any{"locationData": map[string]string{"name": "edge"}}, 201)
	// a gateway reports only its own APIs (see TestTelemetryOnlyForOwnAPIs)
	p.call("PUT", "/apis/x", map[string]any{"displayName": "x", "path": "x", "serviceUrl": "http://127.0.0.1:9"}, 201)
	p.call("PUT", "/gateways/edge/apis/x", nil, 201)
	token := p.token("edge", "primary", time.Now().Add(24*time.Hour))
	batch := telemetry.Batch{ID: "replayed-batch", GatewayID: "someone-else", InstanceID: "inst-9", Records: []telemetry.Record{
		{Time: time.Now().UTC(), RequestID: "a", GatewayID: "forged", APIID: "x", OperationID: "r", ResponseCode: 200, BackendResponseCode: 200},
		{Time: time.Now().UTC(), RequestID: "b", APIID: "x", OperationID: "r", ResponseCode: 429, LastErrorReason: "RateLimitExceeded"},
	}}
	body, _ := json.Marshal(batch)
	post := func(auth string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.gwURL+"/gateway/v1/telemetry", bytes.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth) // the token reads "GatewayKey …"
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	tests := []struct {
		name    string
		auth    string
		body    []byte
		status  int
		contain string
		count   int
	}{
		{name: "first delivery", auth: token, body: body, status: 200, contain: `"duplicate":false`, count: 2},
		{name: "replay", auth: token, body: body, status: 200, contain: `"duplicate":true`, count: 2},
		{name: "no token", body: body, status: 401, contain: "TokenMissing", count: 2},
		{name: "bad id", auth: token, body: []byte(`{"id":"a b","records":[]}`), status: 400, contain: "id must be", count: 2},
		{name: "not json", auth: token, body: []byte(`{"id":`), status: 400, contain: "invalid telemetry batch", count: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := post(tc.auth, tc.body)
			if status != tc.status || !strings.Contains(raw, tc.contain) {
				t.Fatalf("%d %s", status, raw)
			}
			if got := requestCount(p, "r"); got != tc.count {
				t.Fatalf("%d records stored, want %d", got, tc.count)
			}
		})
	}
	var page struct{ Value []telemetry.Record }
	json.Unmarshal(p.call("GET", "/reports/byRequest?filter=requestId%20eq%20'a'", nil, 200), &page)
	if len(page.Value) != 1 || page.Value[0].GatewayID != "edge" || page.Value[0].InstanceID != "inst-9" {
		t.Fatalf("stored record %+v", page.Value)
	}
}
