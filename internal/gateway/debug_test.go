package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/testenv"
	"github.com/portico-gw/portico/internal/trace"
)

// debugEnv is a gateway with the policy debugger on, and a token for api.
func debugEnv(t *testing.T, sc *snapshot.Config, api string) (*env, *trace.Store, string) {
	t.Helper()
	signer, err := trace.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	store := trace.NewStore(10, time.Minute)
	e := newEnv(t, Config{GatewayID: "test", Traces: store, DebugTokens: signer, TraceLocation: "http://mgmt/api/v1/traces/"}, sc)
	tok := signer.Issue(trace.Claims{GatewayID: "test", APIID: api, Purposes: []string{trace.PurposeTracing}, Expires: time.Now().Add(time.Minute)})
	return e, store, tok
}

// traceOf returns the trace a response points to.
func traceOf(t *testing.T, store *trace.Store, r result) *trace.Trace {
	t.Helper()
	loc := r.header.Get(HeaderTraceLocation)
	id, ok := strings.CutPrefix(loc, "http://mgmt/api/v1/traces/")
	if !ok {
		t.Fatalf("no trace location: %d %v %s", r.status, r.header, r.body)
	}
	// The trace is stored once the response is complete, which may be
	// after the client read it.
	var tr *trace.Trace
	testenv.Eventually(t, "trace "+id+" to be stored", func() bool { tr = store.Get(id); return tr != nil })
	return tr
}

func TestDebuggerErrorsAndSecrets(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	cfg := policyConfig(be.URL, map[string]string{
		"global": `<policies><inbound/><backend><forward-request/></backend><outbound/>
			<on-error><set-header name="X-Error-Reason" exists-action="override"><value>failed</value></set-header></on-error></policies>`,
		"apis/open/operations/get-user":     `<policies><inbound><base/><authentication-basic username="u" password="{{pass}}"/></inbound></policies>`,
		"apis/open/operations/get-resource": `<policies><inbound><base/><set-backend-service base-url="http://127.0.0.1:1"/></inbound></policies>`,
	})
	e, store, tok := debugEnv(t, cfg, "open")

	t.Run("secret named value", func(t *testing.T) {
		r := e.do("GET", "/open/users/7", nil, HeaderTrace, "true", HeaderDebugAuthorization, tok)
		tr := traceOf(t, store, r)
		raw, _ := json.Marshal(tr)
		if r.status != 204 || strings.Contains(string(raw), "s3cret") || strings.Contains(string(raw), tok) {
			t.Fatalf("%d %s", r.status, raw)
		}
		if got := tr.Backend.Request.Headers["Authorization"]; len(got) != 1 || got[0] != "***" {
			t.Errorf("backend Authorization %v", got)
		}
		if len(tr.Steps) != 2 || tr.Steps[0].Policy != "authentication-basic" || tr.Steps[1].Policy != "forward-request" ||
			tr.Steps[0].Changes[0].Field != "request.header.Authorization" {
			t.Errorf("steps %+v", tr.Steps)
		}
		if be.last(t).header.Get(HeaderDebugAuthorization) != "" {
			t.Error("debug token forwarded")
		}
	})
	t.Run("backend failure and on-error", func(t *testing.T) {
		r := e.do("GET", "/open/resource", nil, HeaderTrace, "true", HeaderDebugAuthorization, tok)
		tr := traceOf(t, store, r)
		if r.status != 502 || tr.Response.Status != 502 {
			t.Fatalf("%d %+v", r.status, tr.Response)
		}
		if len(tr.Steps) != 3 {
			t.Fatalf("steps %+v", tr.Steps)
		}
		fw, oe := tr.Steps[1], tr.Steps[2]
		if fw.Policy != "forward-request" || fw.Error == nil || fw.Error.Reason != "BackendConnectionFailure" || fw.Error.Section != "backend" {
			t.Errorf("forward-request step %+v %+v", fw, fw.Error)
		}
		if oe.Section != "on-error" || oe.Policy != "set-header" || len(oe.Changes) != 1 || oe.Changes[0].Field != "response.header.X-Error-Reason" {
			t.Errorf("on-error step %+v", oe)
		}
		le := tr.LastError
		if le == nil || le.Reason != "BackendConnectionFailure" || le.Section != "backend" || le.Path != "backend/forward-request" {
			t.Errorf("last error %+v", le)
		}
		if tr.Backend == nil || tr.Backend.Error == "" || !strings.HasPrefix(tr.Backend.Request.URL, "http://127.0.0.1:1/") {
			t.Errorf("backend %+v", tr.Backend)
		}
	})
	t.Run("token for another api", func(t *testing.T) {
		r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyAll, HeaderTrace, "true", HeaderDebugAuthorization, tok)
		if r.status != 204 || r.header.Get(HeaderTraceLocation) != "" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
}

func TestDebuggerPlainProxyAndAllowTracing(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-B", "b") })
	cfg := testConfig(be.URL)
	k := cfg.Subscriptions
	for h, v := range k {
		if v.SubscriptionID == "s-all" {
			v.AllowTracing = true
			k[h] = v
		}
	}
	e, store, _ := debugEnv(t, cfg, "echo")
	r := e.do("GET", "/echo/resource?subscription-key="+keyAll+"&a=1", nil, HeaderTrace, "TRUE")
	tr := traceOf(t, store, r)
	raw, _ := json.Marshal(tr)
	if r.status != 200 || strings.Contains(string(raw), keyAll) || tr.Authorized != "subscription" || len(tr.Steps) != 0 {
		t.Fatalf("%d %s", r.status, raw)
	}
	if tr.Backend == nil || tr.Backend.Response.Status != 200 || tr.Backend.Response.Headers["X-B"][0] != "b" || !strings.HasSuffix(tr.Backend.Request.URL, "/base/resource?a=1") {
		t.Errorf("backend %+v", tr.Backend)
	}
	if !strings.Contains(tr.Request.URL, "subscription-key=***") {
		t.Errorf("request url %s", tr.Request.URL)
	}
	if r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyEcho, HeaderTrace, "true"); r.header.Get(HeaderTraceLocation) != "" {
		t.Errorf("traced without allowTracing: %v", r.header)
	}
}
