package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/trace"
)

// TestKeyRedaction checks that a subscription key never reaches a request
// record, a policy debugger trace or an exported span, whatever the case of
// its header or query name, and that traces hide cookies and the headers of
// the redaction list.
func TestKeyRedaction(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=backend-session-cookie; HttpOnly")
		w.Header().Set("X-Internal-Token", "backend-internal-token")
	})
	// The custom API's key names are given in odd case, and its policy copies
	// the key into the backend's query, as a careless policy could.
	cfg := policyConfig(be.URL, map[string]string{
		"apis/custom": `<policies><inbound><base/><set-query-parameter name="code" exists-action="override"><value>@(context.Subscription.Key)</value></set-query-parameter></inbound></policies>`,
	})
	cfg.APIs[5].SubscriptionKeyParameterNames.Header = "x-API-key"
	cfg.APIs[5].SubscriptionKeyParameterNames.Query = "apiKey"

	signer, err := trace.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	traces := trace.NewStore(10, time.Minute)
	records := &recordSink{recs: map[string]telemetry.Record{}}
	spans := &spanSink{}
	e := newEnv(t, Config{GatewayID: "test", Telemetry: records, Spans: spans, Traces: traces, DebugTokens: signer,
		TraceLocation: "http://mgmt/api/v1/traces/", TraceRedactHeaders: []string{" x-internal-TOKEN "}}, cfg)
	tok := signer.Issue(trace.Claims{GatewayID: "test", APIID: "custom", Purposes: []string{trace.PurposeTracing}, Expires: time.Now().Add(time.Minute)})

	// leaks lists the secrets found in v's JSON form.
	leaks := func(v any) []string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, s := range []string{keyP1, "user-session-cookie", "backend-session-cookie", "client-internal-token", "backend-internal-token"} {
			if strings.Contains(string(raw), s) {
				found = append(found, s)
			}
		}
		return found
	}
	checkSpans := func(t *testing.T, n int) {
		t.Helper()
		for _, sp := range spans.next(t, n) {
			if l := leaks(sp); len(l) > 0 {
				t.Errorf("span %s holds %v: %+v", sp.Name, l, sp)
			}
		}
	}

	tests := []struct {
		name   string
		path   string
		hdr    []string
		status int
		url    string // a substring of the record's URL
		traced bool
	}{
		{name: "key in the API's query parameter", path: "/custom/resource?apiKey=" + keyP1 + "&a=1", status: 200, url: "?apiKey=***&a=1", traced: true},
		{name: "key header in odd case", path: "/custom/resource?a=2", hdr: []string{"X-API-KEY", keyP1}, status: 200, url: "?a=2", traced: true},
		{name: "query name in odd case", path: "/custom/resource?APIKEY=" + keyP1, status: 401, url: "?APIKEY=***"},
		{name: "default query name in odd case", path: "/custom/resource?Subscription-Key=" + keyP1, status: 401, url: "?Subscription-Key=***"},
		{name: "default query name on another API", path: "/echo/resource?SUBSCRIPTION-KEY=" + keyP1 + "&b=1", status: 401, url: "?SUBSCRIPTION-KEY=***&b=1"},
		{name: "no API", path: "/nowhere?subscription-Key=" + keyP1, status: 404, url: "?subscription-Key=***"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := spans.len()
			hdr := append([]string{HeaderTrace, "true", HeaderDebugAuthorization, tok,
				"Cookie", "session=user-session-cookie", "x-internal-token", "client-internal-token"}, tc.hdr...)
			r := e.do("GET", tc.path, nil, hdr...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			rec := records.wait(t, r.header.Get("X-Request-Id"))
			if l := leaks(rec); len(l) > 0 {
				t.Errorf("record holds %v: %+v", l, rec)
			}
			if !strings.Contains(rec.URL, tc.url) {
				t.Errorf("record url %q, want it to hold %q", rec.URL, tc.url)
			}
			checkSpans(t, n)
			if !tc.traced {
				return
			}
			// The backend did get the key the policy copied: masking is not
			// hiding an empty value.
			if got := be.last(t).rawQuery; !strings.Contains(got, "code="+keyP1) {
				t.Fatalf("backend query %q", got)
			}
			if !strings.Contains(rec.BackendURL, "code=***") {
				t.Errorf("record backendUrl %q", rec.BackendURL)
			}
			tr := traceOf(t, traces, r)
			if l := leaks(tr); len(l) > 0 {
				raw, _ := json.Marshal(tr)
				t.Errorf("trace holds %v: %s", l, raw)
			}
			for name, want := range map[string]string{"Cookie": "***", "X-Internal-Token": "***"} {
				if got := tr.Request.Headers[name]; len(got) != 1 || got[0] != want {
					t.Errorf("trace request header %s = %v", name, got)
				}
			}
			if got := tr.Response.Headers["Set-Cookie"]; len(got) != 1 || got[0] != "***" {
				t.Errorf("trace response Set-Cookie = %v", got)
			}
			if tr.Backend == nil || !strings.Contains(tr.Backend.Request.URL, "code=***") {
				t.Errorf("trace backend %+v", tr.Backend)
			}
		})
	}
	t.Run("header in odd case is redacted", func(t *testing.T) {
		r := e.do("GET", "/custom/resource", nil, HeaderTrace, "true", HeaderDebugAuthorization, tok, "x-api-KEY", keyP1)
		tr := traceOf(t, traces, r)
		if got := tr.Request.Headers["X-Api-Key"]; len(got) != 1 || got[0] != "***" {
			t.Errorf("trace key header %v", tr.Request.Headers)
		}
	})
}
