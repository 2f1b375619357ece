package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startServe runs serve as the binary does and returns a stack client for
// it once it is ready.
func startServe(t *testing.T) *stack {
	t.Helper()
	return startServeWith(t, nil)
}

// startServeWith is startServe with options edited by edit (when not nil).
func startServeWith(t *testing.T, edit func(*options)) *stack {
	t.Helper()
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
		portalAddr: freeAddr(t), shutdown: 5 * time.Second}
	if edit != nil {
		edit(o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, slog.New(slog.DiscardHandler), io.Discard, true) }()
	s := &stack{t: t, mgmtURL: "http://" + o.mgmtAddr, gwURL: "http://" + o.gatewayAddr, client: &http.Client{}}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.client.CloseIdleConnections()
	})
	s.poll("readyz", func() bool {
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		res, err := http.Get("http://" + o.opsAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s
}

// putXML sends a policy document and returns the status and body.
func (s *stack) putXML(path, doc string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("PUT", s.mgmtURL+path, strings.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/xml")
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// TestServeStarterRateLimit is issue 5's acceptance check through the
// wiring of portico serve: the seeded Starter product's policy lets 5
// calls a minute through and answers the 6th with APIM's 429.
func TestServeStarterRateLimit(t *testing.T) {
	s := startServe(t)
	key := s.key("admin-starter")
	for i := range 5 {
		if r := s.mustCall("/echo/resource", key); r.status != 200 {
			t.Fatalf("call %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := s.mustCall("/echo/resource", key)
	if r.status != 429 || !strings.HasPrefix(r.body, `{"statusCode":429,"message":"Rate limit is exceeded. Try again in `) ||
		!strings.HasSuffix(r.body, ` seconds."}`) || r.header.Get("Retry-After") == "" {
		t.Fatalf("6th call: %d %v %s", r.status, r.header, r.body)
	}
}

// TestServePolicyValidation checks that policy documents are compiled on
// save: invalid ones get 400 with the path, line and column and are not
// stored; valid ones go live.
func TestServePolicyValidation(t *testing.T) {
	s := startServe(t)
	tests := []struct {
		name, doc, want string
	}{
		{name: "bad enum", doc: "<policies>\n  <inbound>\n    <choose>\n      <when condition=\"true\"/>\n      <when condition=\"false\">\n        <set-header name=\"a\"\n         exists-action=\"replace\"><value>x</value></set-header>\n      </when>\n    </choose>\n  </inbound>\n</policies>",
			want: `inbound/choose/when[2]/set-header: attribute \"exists-action\" must be one of override, skip, append, delete (line 7, column 10)`},
		{name: "unknown policy", doc: "<policies><inbound><foo/></inbound></policies>", want: `policy 'foo' is not supported by Portico`},
		{name: "missing named value", doc: "<policies><inbound><set-header name=\"a\"><value>{{nope}}</value></set-header></inbound></policies>", want: `named value \"nope\" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, body := s.putXML("/api/v1/apis/echo-api/policy", tc.doc)
			if st != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s", st, body)
			}
		})
	}
	s.admin(404, "GET", "/api/v1/apis/echo-api/policy", nil)

	st, body := s.putXML("/api/v1/apis/echo-api/policy", `<policies><inbound><base/><set-header name="X-Portico-Test" exists-action="override"><value>on</value></set-header></inbound></policies>`)
	if st != 201 {
		t.Fatalf("%d %s", st, body)
	}
	s.admin(201, "PUT", "/api/v1/subscriptions/all-apis", map[string]any{"scope": "/apis", "displayName": "All"})
	key := s.key("all-apis")
	s.poll("the policy to apply", func() bool {
		r, err := s.call("/echo/resource", key)
		return err == nil && r.status == 200 && strings.Contains(strings.ToLower(r.body), `"x-portico-test": [`)
	})
}
