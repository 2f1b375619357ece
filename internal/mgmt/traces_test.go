package mgmt_test

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
	"github.com/portico-gw/portico/internal/trace"
)

func TestTracesAndDebugCredentials(t *testing.T) {
	s, err := store.Open(context.Background(), testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	traces := trace.NewStore(10, time.Minute)
	signer, err := trace.NewSigner([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	m := mgmt.New(mgmt.Config{Store: s, AdminToken: testToken, Traces: traces, DebugTokens: signer})
	if _, err := m.Seed(context.Background(), "http://127.0.0.1:9/echo"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, url: srv.URL, store: s}

	traces.Put(&trace.Trace{ID: "abc", APIID: "echo-api", Steps: []trace.Step{{Section: "inbound", Policy: "set-header"}}})
	if r := e.must(200, "GET", "/api/v1/traces/abc", nil); r.str("apiId") != "echo-api" || r.str("steps.0.policy") != "set-header" {
		t.Fatalf("%s", r.raw)
	}
	e.must(404, "GET", "/api/v1/traces/nope", nil)
	e.must(401, "GET", "/api/v1/traces/abc", nil, "Authorization", "")

	r := e.must(200, "POST", "/api/v1/gateways/managed/listDebugCredentials", map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}})
	c, err := signer.Verify(r.str("token"), "managed", "echo-api", trace.PurposeTracing)
	if err != nil || time.Until(c.Expires) > time.Hour || time.Until(c.Expires) < 59*time.Minute {
		t.Fatalf("token %s: %v %+v", r.raw, err, c)
	}
	tests := []struct {
		name, gw string
		body     any
		want     int
		field    string
	}{
		{name: "missing api", gw: "managed", body: map[string]any{"purposes": []string{"tracing"}}, want: 400, field: "apiId"},
		{name: "no purpose", gw: "managed", body: map[string]any{"apiId": "echo-api"}, want: 400, field: "purposes"},
		{name: "bad duration", gw: "managed", body: map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}, "credentialsExpireAfter": "1h"}, want: 400, field: "credentialsExpireAfter"},
		{name: "unknown field", gw: "managed", body: map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}, "x": 1}, want: 400},
		{name: "unknown api", gw: "managed", body: map[string]any{"apiId": "nope", "purposes": []string{"tracing"}}, want: 404},
		{name: "unknown gateway", gw: "gw9", body: map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}}, want: 404},
	}
	e.must(201, "PUT", "/api/v1/gateways/gw1", map[string]any{"locationData": map[string]any{"name": "Edge"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.must(tc.want, "POST", "/api/v1/gateways/"+tc.gw+"/listDebugCredentials", tc.body)
			if tc.field != "" && r.str("errors.0.field") != tc.field {
				t.Fatalf("%s", r.raw)
			}
		})
	}

	t.Run("self-hosted gateway", func(t *testing.T) {
		r := e.must(200, "POST", "/api/v1/gateways/gw1/listDebugCredentials", map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}, "credentialsExpireAfter": "PT5M"})
		keys, err := gwsync.LoadKeys(context.Background(), e.store, "gw1")
		if err != nil {
			t.Fatal(err)
		}
		key, _ := base64.RawURLEncoding.DecodeString(gwsync.DebugTokenKey("gw1", keys.Primary))
		gwSigner, err := trace.NewSigner(key)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := gwSigner.Verify(r.str("token"), "gw1", "echo-api", trace.PurposeTracing); err != nil || time.Until(c.Expires) > 5*time.Minute {
			t.Fatalf("token %s: %v %+v", r.raw, err, c)
		}
		if _, err := signer.Verify(r.str("token"), "gw1", "echo-api", trace.PurposeTracing); err == nil {
			t.Fatal("the built-in gateway's key verifies a self-hosted gateway's token")
		}
	})

	t.Run("no built-in gateway", func(t *testing.T) {
		e := newEnv(t, testenv.SQLite(t))
		e.must(501, "POST", "/api/v1/gateways/managed/listDebugCredentials", map[string]any{"apiId": "echo-api", "purposes": []string{"tracing"}})
		e.must(404, "GET", "/api/v1/traces/abc", nil)
	})
}
