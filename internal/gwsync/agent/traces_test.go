package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/gwsync/agent"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/testenv"
	"github.com/portico-gw/portico/internal/trace"
)

// startTracingNode is startNode wired as portico gateway wires it for the
// policy debugger: traces go to the agent, locations to the management
// plane.
func startTracingNode(t *testing.T, p *plane, gatewayID, token, backupDir string) *node {
	t.Helper()
	var ag *agent.Agent
	gw, err := gateway.New(gateway.Config{GatewayID: gatewayID, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Traces: sinkFunc(func(tr *trace.Trace) { ag.Put(tr) }), TraceLocation: agent.TraceLocation(p.gwURL)})
	if err != nil {
		t.Fatal(err)
	}
	ag, err = agent.New(agent.Config{MgmtURL: p.gwURL, Token: token, BackupDir: backupDir, Gateway: gw,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Wait: 2 * time.Second, MaxBackoff: 200 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond, Hostname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{gw: gw, ag: ag, cancel: cancel, done: make(chan struct{}), srv: httptest.NewServer(gw)}
	n.url = n.srv.URL
	go func() { defer close(n.done); ag.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

type sinkFunc func(*trace.Trace)

func (f sinkFunc) Put(t *trace.Trace) { f(t) }

const tracedPolicy = `<policies>
  <inbound><base/><set-header name="X-Traced" exists-action="override"><value>yes</value></set-header></inbound>
  <backend><base/></backend>
  <outbound><base/></outbound>
</policies>`

// TestSelfHostedPolicyDebugger is the policy debugger on a self-hosted
// gateway, driven through the management API: a debug token from
// listDebugCredentials makes the gateway record a trace, which the
// management API serves at the location the gateway returned; a token of
// another gateway, an expired one or a forged one is ignored.
func TestSelfHostedPolicyDebugger(t *testing.T) {
	p := newPlane(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("X-Traced")) }))
	defer backend.Close()
	for _, gw := range []string{"gw1", "gw2"} {
		p.call("PUT", "/gateways/"+gw, map[string]any{"locationData": map[string]string{"name": gw}}, 201)
	}
	p.call("PUT", "/apis/dbg", map[string]any{"displayName": "dbg", "path": "dbg", "protocols": []string{"http"}, "serviceUrl": backend.URL}, 201)
	p.call("PUT", "/apis/dbg/operations/all", map[string]any{"displayName": "all", "method": "GET", "urlTemplate": "/x"}, 201)
	p.call("PUT", "/gateways/gw1/apis/dbg", nil, 201)
	req, _ := http.NewRequest("PUT", p.admin+"/api/v1/apis/dbg/policy", strings.NewReader(tracedPolicy))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/xml")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode >= 300 {
		t.Fatalf("PUT policy: %v %v", err, res)
	}
	p.call("PUT", "/subscriptions/all", map[string]any{"scope": "/apis", "displayName": "all"}, 201)
	var keys struct{ PrimaryKey string }
	json.Unmarshal(p.call("POST", "/subscriptions/all/listSecrets", nil, 200), &keys)

	tok := p.token("gw1", "primary", time.Now().Add(24*time.Hour))
	dir := t.TempDir()
	n := startTracingNode(t, p, "gw1", tok, dir)
	send := func(debugToken string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", n.url+"/dbg/x", nil)
		req.Header.Set("Ocp-Apim-Subscription-Key", keys.PrimaryKey)
		req.Header.Set("Ocp-Apim-Trace", "true")
		req.Header.Set("Apim-Debug-Authorization", debugToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	testenv.Eventually(t, "the gateway serves the API with its policy", func() bool {
		res := send("")
		return res.StatusCode == 200 && res.Header.Get("Ocp-Apim-Trace-Location") == ""
	})
	credentials := func(gw, ttl string) string {
		var c struct{ Token string }
		json.Unmarshal(p.call("POST", "/gateways/"+gw+"/listDebugCredentials",
			map[string]any{"apiId": "dbg", "purposes": []string{"tracing"}, "credentialsExpireAfter": ttl}, 200), &c)
		return c.Token
	}

	t.Run("traced with a debug token", func(t *testing.T) {
		res := send(credentials("gw1", "PT10M"))
		loc := res.Header.Get("Ocp-Apim-Trace-Location")
		if res.StatusCode != 200 || !strings.HasPrefix(loc, p.gwURL+"/api/v1/traces/") {
			t.Fatalf("%d location %q", res.StatusCode, loc)
		}
		path := strings.TrimPrefix(loc, p.gwURL+"/api/v1")
		var raw []byte
		testenv.Eventually(t, "the trace at the management API", func() bool {
			req, _ := http.NewRequest("GET", p.admin+"/api/v1"+path, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			raw, _ = io.ReadAll(res.Body)
			return res.StatusCode == 200
		})
		var tr trace.Trace
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatal(err)
		}
		if tr.GatewayID != "gw1" || tr.APIID != "dbg" || tr.Authorized != "debugToken" || tr.Response.Status != 200 || tr.Backend == nil {
			t.Fatalf("trace: %s", raw)
		}
		found := false
		for _, st := range tr.Steps {
			if st.Section == "inbound" && st.Policy == "set-header" && st.Scope == "apis/dbg" && len(st.Changes) == 1 && st.Changes[0].Field == "request.header.X-Traced" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no set-header step of the API's policy: %s", raw)
		}
		if strings.Contains(string(raw), keys.PrimaryKey) {
			t.Fatalf("the trace holds the subscription key: %s", raw)
		}
	})

	t.Run("debug-token key encrypted in the backup", func(t *testing.T) {
		var raw []byte
		testenv.Eventually(t, "the backup", func() bool {
			var err error
			raw, err = os.ReadFile(filepath.Join(dir, "config.json"))
			return err == nil
		})
		var cfg snapshot.Config
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(cfg.DebugTokenKey, "enc:v1:") {
			t.Fatalf("debug-token key in the backup: %q", cfg.DebugTokenKey)
		}
	})

	t.Run("traces endpoint", func(t *testing.T) {
		for _, tc := range []struct {
			name, auth, body string
			want             int
		}{
			{name: "no token", body: `{"id":"0123456789abcdef0123456789abcdef"}`, want: 401},
			{name: "bad id", auth: tok, body: `{"id":"../x"}`, want: 400},
			{name: "too large", auth: tok, body: `{"id":"0123456789abcdef0123456789abcdef","steps":[` +
				strings.Repeat(`{"policy":"x"},`, gwsync.MaxTraceBytes/15) + `{}]}`, want: 413},
			{name: "stored for its gateway", auth: tok, body: `{"id":"0123456789abcdef0123456789abcdef","gatewayId":"gw2"}`, want: 204},
			{name: "never replaced", auth: tok, body: `{"id":"0123456789abcdef0123456789abcdef","apiId":"other"}`, want: 409},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", p.gwURL+"/gateway/v1/traces", strings.NewReader(tc.body))
				req.Header.Set("Authorization", tc.auth)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != tc.want {
					t.Fatalf("%d, want %d", res.StatusCode, tc.want)
				}
			})
		}
		if tr := p.traces.Get("0123456789abcdef0123456789abcdef"); tr == nil || tr.GatewayID != "gw1" || tr.APIID != "" {
			t.Fatalf("stored trace: %+v", tr)
		}
	})

	t.Run("refused tokens are ignored", func(t *testing.T) {
		tok := credentials("gw1", "PT1S")
		time.Sleep(1100 * time.Millisecond) // the token's expiry has a one-second resolution
		for _, tc := range []struct{ name, token string }{
			{name: "another gateway", token: credentials("gw2", "PT10M")},
			{name: "expired", token: tok},
			{name: "forged", token: strings.Replace(credentials("gw1", "PT10M"), "v1.", "v1.x", 1)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if res := send(tc.token); res.StatusCode != 200 || res.Header.Get("Ocp-Apim-Trace-Location") != "" {
					t.Fatalf("%d location %q", res.StatusCode, res.Header.Get("Ocp-Apim-Trace-Location"))
				}
			})
		}
	})
}
