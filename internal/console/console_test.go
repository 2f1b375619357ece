package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/console"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

const token = "console-test-admin-token-0123456789"

type env struct {
	t   *testing.T
	url string
	api *mgmtclient.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := mgmt.New(mgmt.Config{Store: st, AdminToken: token, Logger: log})
	if _, err := m.Seed(context.Background(), "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	mailer := &web.Mailer{Log: log}
	mailer.Send("dev@example.com", "Confirm your account", "https://portal.example/confirm?token=abc")
	c := console.New(console.Config{Mgmt: m.Handler(), AdminToken: token, Store: st, Mailer: mailer, Logger: log})
	mux := http.NewServeMux()
	mux.Handle("/api/", m.Handler())
	mux.Handle("/", c.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, api: mgmtclient.New(m.Handler(), token)}
}

type client struct {
	t *testing.T
	e *env
	c *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, e: e, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

type resp struct {
	status int
	body   string
	url    string
	header http.Header
}

func (c *client) get(path string) resp {
	c.t.Helper()
	r, err := c.c.Get(c.e.url + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, string(b), r.Request.URL.String(), r.Header}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) token(path string) string {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get(path).body)
	if m == nil {
		c.t.Fatalf("no csrf token on %s", path)
	}
	return m[1]
}

func (c *client) post(path, tok string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if tok != "" {
		form.Set("csrf", tok)
	}
	r, err := c.c.PostForm(c.e.url+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, string(b), r.Request.URL.String(), r.Header}
}

func (c *client) signIn() {
	c.t.Helper()
	p := c.post("/signin", c.token("/signin"), url.Values{"token": {token}})
	if !strings.Contains(p.body, "Dashboard") {
		c.t.Fatalf("sign in: %d %.2000s", p.status, p.body)
	}
}

func TestConsolePages(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if p := c.get("/apis"); !strings.Contains(p.url, "/signin") {
		t.Fatalf("a signed-out admin must be sent to sign-in, got %s", p.url)
	}
	c.signIn()
	tests := []struct{ path, want string }{
		{"/", "awaiting approval"},
		{"/apis", "Echo API"},
		{"/apis/echo-api", "retrieve-resource"},
		{"/apis/echo-api/operations/retrieve-resource", "Edit operation policy"},
		{"/policy?scope=products/starter", "rate-limit"},
		{"/policy?scope=global", "&lt;policies&gt;"},
		{"/products", "Starter"},
		{"/products/unlimited", "Approval required"},
		{"/subscriptions", "admin-starter"},
		{"/subscriptions?state=submitted", "No subscription in state submitted"},
		{"/users", "admin@portico.local"},
		{"/users/1", "Administrators"},
		{"/groups", "Developers"},
		{"/backends", "No backend yet"},
		{"/named-values", "No named value yet"},
		{"/gateways", "No self-hosted gateway yet"},
		{"/outbox", "Confirm your account"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p := c.get(tc.path)
			if p.status != 200 || !strings.Contains(p.body, tc.want) {
				t.Fatalf("GET %s: %d, want %q\n%.3000s", tc.path, p.status, tc.want, p.body)
			}
			if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q", csp)
			}
			if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") == "" {
				t.Errorf("security headers missing: %v", p.header)
			}
			if len(p.body) > 100<<10 {
				t.Errorf("%s weighs %d bytes", tc.path, len(p.body))
			}
			t.Logf("GET %s: %d bytes", tc.path, len(p.body))
		})
	}
}

func TestConsoleSignIn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.api.Call(ctx, "PUT", "/api/v1/users/ops", map[string]any{"email": "ops@example.com", "firstName": "Op", "lastName": "S", "password": "admin password"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Call(ctx, "PUT", "/api/v1/users/dev", map[string]any{"email": "dev@example.com", "firstName": "D", "lastName": "V", "password": "developer password"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Call(ctx, "PUT", "/api/v1/groups/administrators/users/ops", nil, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"wrong token", url.Values{"token": {"nope"}}, http.StatusUnauthorized},
		{"developer is not an administrator", url.Values{"email": {"dev@example.com"}, "password": {"developer password"}}, http.StatusUnauthorized},
		{"administrator, wrong password", url.Values{"email": {"ops@example.com"}, "password": {"wrong"}}, http.StatusUnauthorized},
		{"administrator user", url.Values{"email": {"ops@example.com"}, "password": {"admin password"}}, http.StatusOK},
		{"admin token", url.Values{"token": {token}}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client()
			p := c.post("/signin", c.token("/signin"), tc.form)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d", p.status, tc.status)
			}
			if tc.status == 200 && !strings.Contains(p.body, "Dashboard") {
				t.Fatalf("not signed in: %.1000s", p.body)
			}
		})
	}
	t.Run("no token without CSRF", func(t *testing.T) {
		c := e.client()
		if p := c.post("/signin", "", url.Values{"token": {token}}); p.status != http.StatusForbidden {
			t.Fatalf("sign-in without CSRF token: %d, want 403", p.status)
		}
	})
	t.Run("session fixation", func(t *testing.T) {
		c := e.client()
		u, _ := url.Parse(e.url)
		planted := strings.Repeat("cd", 32)
		c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "portico_console", Value: planted, Path: "/"}})
		c.signIn()
		for _, ck := range c.c.Jar.Cookies(u) {
			if ck.Name == "portico_console" && ck.Value == planted {
				t.Fatal("the planted session id was kept after sign-in")
			}
		}
		a := e.client()
		a.c.Jar.SetCookies(u, []*http.Cookie{{Name: "portico_console", Value: planted, Path: "/"}})
		if p := a.get("/"); !strings.Contains(p.url, "/signin") {
			t.Fatal("the planted id is signed in")
		}
	})
	t.Run("throttled", func(t *testing.T) {
		c := e.client()
		tok := c.token("/signin")
		for i := 0; i < 5; i++ {
			c.post("/signin", tok, url.Values{"email": {"ops@example.com"}, "password": {"guess"}})
		}
		if p := c.post("/signin", tok, url.Values{"email": {"ops@example.com"}, "password": {"admin password"}}); p.status != http.StatusTooManyRequests {
			t.Fatalf("after 5 failures: %d, want 429", p.status)
		}
	})
}

func TestConsoleWrites(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.signIn()
	tok := c.token("/")
	ctx := context.Background()

	t.Run("csrf refused", func(t *testing.T) {
		if p := c.post("/products", "", url.Values{"id": {"x"}, "displayName": {"X"}}); p.status != http.StatusForbidden {
			t.Fatalf("write without token: %d", p.status)
		}
		if p := c.post("/products", "forged", url.Values{"id": {"x"}, "displayName": {"X"}}); p.status != http.StatusForbidden {
			t.Fatalf("write with forged token: %d", p.status)
		}
	})
	t.Run("import refused shows the problem", func(t *testing.T) {
		p := c.post("/apis/import", tok, url.Values{"id": {"bad"}, "path": {"bad"}, "format": {"openapi"}, "value": {"openapi: 3.0.3\ninfo: {title: X}\npaths: 12\n"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "The import was refused") {
			t.Fatalf("bad import: %d %.2000s", p.status, p.body)
		}
	})
	t.Run("policy error at its line", func(t *testing.T) {
		doc := "<policies>\n  <inbound>\n    <base />\n    <set-header name=\"X\" exists-action=\"sometimes\"><value>v</value></set-header>\n  </inbound>\n</policies>"
		p := c.post("/policy", tok, url.Values{"scope": {"apis/echo-api"}, "value": {doc}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-line="4"`) || !strings.Contains(p.body, `<span class="bad">4</span>`) {
			t.Fatalf("policy error: %d %.4000s", p.status, p.body)
		}
		if !strings.Contains(p.body, "exists-action=&#34;sometimes&#34;") {
			t.Fatalf("the refused document must be shown again for editing:\n%.4000s", p.body)
		}
		good := "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>"
		if p := c.post("/policy", tok, url.Values{"scope": {"apis/echo-api"}, "value": {good}}); !strings.Contains(p.body, "Policy saved") {
			t.Fatalf("good policy: %.2000s", p.body)
		}
	})
	t.Run("subscription lifecycle", func(t *testing.T) {
		if err := e.api.Call(ctx, "PUT", "/api/v1/users/dev", map[string]any{"email": "dev@example.com", "firstName": "D", "lastName": "V"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := e.api.Call(ctx, "PUT", "/api/v1/subscriptions/dev-unl", map[string]any{"scope": "/products/unlimited", "ownerId": "/users/dev", "displayName": "Dev", "state": "submitted"}, nil); err != nil {
			t.Fatal(err)
		}
		if p := c.get("/subscriptions?state=submitted"); !strings.Contains(p.body, "Approve") || !strings.Contains(p.body, "dev@example.com") {
			t.Fatalf("submitted list: %.3000s", p.body)
		}
		for _, step := range []struct{ to, want string }{{"active", "active"}, {"suspended", "suspended"}, {"active", "active"}, {"cancelled", "cancelled"}} {
			p := c.post("/subscriptions/dev-unl/state", tok, url.Values{"state": {step.to}})
			var sub struct{ State string }
			_ = e.api.Get(ctx, "/api/v1/subscriptions/dev-unl", &sub)
			if sub.State != step.want || !strings.Contains(p.body, "is now "+step.to) {
				t.Fatalf("to %s: state %s\n%.1000s", step.to, sub.State, p.body)
			}
		}
	})
	t.Run("named values are masked", func(t *testing.T) {
		c.post("/named-values", tok, url.Values{"id": {"db-pass"}, "displayName": {"dbPass"}, "value": {"s3cr3t-value"}, "secret": {"on"}})
		c.post("/named-values", tok, url.Values{"id": {"region"}, "displayName": {"region"}, "value": {"eu-west"}})
		p := c.get("/named-values")
		if strings.Contains(p.body, "s3cr3t-value") || !strings.Contains(p.body, "eu-west") || !strings.Contains(p.body, "dbPass") {
			t.Fatalf("named values page: %.3000s", p.body)
		}
	})
	t.Run("product publish with approval", func(t *testing.T) {
		c.post("/products", tok, url.Values{"id": {"gold"}, "displayName": {"Gold"}, "approvalRequired": {"on"}, "subscriptionRequired": {"on"}, "subscriptionsLimit": {"2"}})
		c.post("/products/gold/links", tok, url.Values{"kind": {"apis"}, "target": {"echo-api"}})
		c.post("/products/gold/links", tok, url.Values{"kind": {"groups"}, "target": {"developers"}})
		c.post("/products/gold", tok, url.Values{"displayName": {"Gold"}, "state": {"published"}, "approvalRequired": {"on"}, "subscriptionRequired": {"on"}, "subscriptionsLimit": {"2"}})
		var p struct {
			State              string
			ApprovalRequired   bool
			SubscriptionsLimit *int
		}
		_ = e.api.Get(ctx, "/api/v1/products/gold", &p)
		var apis, groups struct{ Count int }
		_ = e.api.Get(ctx, "/api/v1/products/gold/apis", &apis)
		_ = e.api.Get(ctx, "/api/v1/products/gold/groups", &groups)
		if p.State != "published" || !p.ApprovalRequired || p.SubscriptionsLimit == nil || *p.SubscriptionsLimit != 2 || apis.Count != 1 || groups.Count != 2 {
			t.Fatalf("product: %+v apis %d groups %d", p, apis.Count, groups.Count)
		}
	})
	t.Run("gateway token and instances", func(t *testing.T) {
		c.post("/gateways", tok, url.Values{"id": {"edge"}, "name": {"Edge"}})
		c.post("/gateways/edge/apis", tok, url.Values{"api": {"echo-api"}})
		p := c.post("/gateways/edge/token", tok, url.Values{"days": {"7"}})
		if !strings.Contains(p.body, "GatewayKey edge&amp;") {
			t.Fatalf("token: %.3000s", p.body)
		}
		if p := c.get("/gateways/edge"); !strings.Contains(p.body, "No instance has reported yet") || !strings.Contains(p.body, "Echo API") {
			t.Fatalf("gateway page: %.3000s", p.body)
		}
	})
}
