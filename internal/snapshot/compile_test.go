package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/internal/secret"
)

func validConfig() *Config {
	return &Config{
		Revision: 3, GatewayID: "managed",
		APIs: []API{
			{ID: "echo", Path: "echo", ServiceURL: "http://backend:8080/base", SubscriptionRequired: true, Operations: []Operation{
				{ID: "get", Method: "get", URLTemplate: "/resource"},
				{ID: "user", Method: "GET", URLTemplate: "/users/{id}"},
			}},
			{ID: "open", Path: "open", ServiceURL: "wss://backend/ws", SubscriptionRequired: false, Operations: []Operation{{ID: "any", Method: "*", URLTemplate: "/{*rest}"}}},
		},
		Products: []Product{
			{ID: "p1", State: "published", SubscriptionRequired: true, APIs: []string{"echo"}},
			{ID: "p2", State: "notPublished", SubscriptionRequired: true, APIs: []string{"echo"}},
			{ID: "z-open", State: "published", SubscriptionRequired: false, APIs: []string{"echo"}},
			{ID: "a-open", State: "published", SubscriptionRequired: false, APIs: []string{"echo", "gone"}},
		},
		Subscriptions: map[string]SubscriptionKey{
			secret.KeyHash("k1"): {SubscriptionID: "s1", Key: "primary", Scope: "/products/p1", State: "active", OwnerID: "u1", ProductID: "p1"},
		},
		Backends:    []Backend{{ID: "b1", Backend: model.Backend{URL: "https://b1.example/x"}}},
		NamedValues: []NamedValue{{ID: "nv1", DisplayName: "Token", Value: "v"}},
		Policies:    []Policy{{Scope: "global", Format: "rawxml", Value: "<policies/>"}},
	}
}

func TestCompileValid(t *testing.T) {
	s, errs := Compile(validConfig())
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if s.Revision() != 3 || s.GatewayID() != "managed" || len(s.APIs()) != 2 {
		t.Fatalf("revision %d gateway %q apis %d", s.Revision(), s.GatewayID(), len(s.APIs()))
	}
	echo := s.API("echo")
	if echo.KeyHeader != "Ocp-Apim-Subscription-Key" || echo.KeyQuery != "subscription-key" {
		t.Errorf("default key names %q %q", echo.KeyHeader, echo.KeyQuery)
	}
	if echo.OpenProduct == nil || echo.OpenProduct.ID != "a-open" {
		t.Errorf("open product %v, want a-open (lowest id)", echo.OpenProduct)
	}
	var ids []string
	for _, p := range echo.Products {
		ids = append(ids, p.ID)
	}
	if !slices.Equal(ids, []string{"a-open", "p1", "p2", "z-open"}) {
		t.Errorf("products %v", ids)
	}
	if got := s.API("open").ServiceURL.String(); got != "https://backend/ws" {
		t.Errorf("wss service url mapped to %q", got)
	}
	if s.NamedValue("TOKEN") == nil || s.Backend("b1") == nil || s.Product("p1") == nil {
		t.Error("lookups failed")
	}
	if p, ok := s.Policy("global"); !ok || p.Value != "<policies/>" {
		t.Error("policy lookup failed")
	}
	if sub := s.SubscriptionByKey("k1"); sub == nil || sub.ID != "s1" || sub.Kind != ScopeProduct || sub.Product != s.Product("p1") || sub.UserID != "u1" {
		t.Errorf("subscription %+v", sub)
	}
	if s.SubscriptionByKey("k2") != nil {
		t.Error("unknown key found")
	}
}

func TestCompileObjectErrors(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(c *Config)
		wantErr   string // "kind id"
		wantLive  []string
		wantOpsOf map[string]int
	}{
		{name: "bad service url", mutate: func(c *Config) { c.APIs[0].ServiceURL = "ftp://x" }, wantErr: `api "echo"`, wantLive: []string{"open"}},
		{name: "relative service url", mutate: func(c *Config) { c.APIs[0].ServiceURL = "/x" }, wantErr: `api "echo"`, wantLive: []string{"open"}},
		{name: "no service url", mutate: func(c *Config) { c.APIs[0].ServiceURL = "" }, wantErr: `api "echo"`, wantLive: []string{"open"}},
		{name: "duplicate api id", mutate: func(c *Config) { c.APIs[1].ID = "echo" }, wantErr: `api "echo"`, wantLive: []string{"echo"}},
		{name: "duplicate path", mutate: func(c *Config) { c.APIs[1].Path = "echo" }, wantErr: `api "open"`, wantLive: []string{"echo"}},
		{name: "bad path", mutate: func(c *Config) { c.APIs[1].Path = "a/{b}" }, wantErr: `api "open"`, wantLive: []string{"echo"}},
		{name: "bad key header", mutate: func(c *Config) { c.APIs[1].SubscriptionKeyParameterNames.Header = "a b" }, wantErr: `api "open"`, wantLive: []string{"echo"}},
		{name: "bad key query", mutate: func(c *Config) { c.APIs[1].SubscriptionKeyParameterNames.Query = "a&b" }, wantErr: `api "open"`, wantLive: []string{"echo"}},
		{name: "negative body limit", mutate: func(c *Config) { c.APIs[1].MaxRequestBodyBytes = -1 }, wantErr: `api "open"`, wantLive: []string{"echo"}},
		{name: "bad template", mutate: func(c *Config) { c.APIs[0].Operations[1].URLTemplate = "/users/{id" }, wantErr: `operation "echo/user"`,
			wantLive: []string{"echo", "open"}, wantOpsOf: map[string]int{"echo": 1}},
		{name: "bad method", mutate: func(c *Config) { c.APIs[0].Operations[1].Method = "G T" }, wantErr: `operation "echo/user"`,
			wantLive: []string{"echo", "open"}, wantOpsOf: map[string]int{"echo": 1}},
		{name: "duplicate route", mutate: func(c *Config) { c.APIs[0].Operations[1].URLTemplate = "/RESOURCE" }, wantErr: `operation "echo/user"`,
			wantLive: []string{"echo", "open"}, wantOpsOf: map[string]int{"echo": 1}},
		{name: "duplicate operation id", mutate: func(c *Config) { c.APIs[0].Operations[1].ID = "get" }, wantErr: `operation "echo/get"`,
			wantLive: []string{"echo", "open"}, wantOpsOf: map[string]int{"echo": 1}},
		{name: "unknown product state", mutate: func(c *Config) { c.Products[0].State = "live" }, wantErr: `product "p1"`, wantLive: []string{"echo", "open"}},
		{name: "bad key hash", mutate: func(c *Config) {
			c.Subscriptions["ABC"] = SubscriptionKey{SubscriptionID: "s2", Scope: "/apis", State: "active"}
		},
			wantErr: `subscription "s2"`, wantLive: []string{"echo", "open"}},
		{name: "bad scope", mutate: func(c *Config) {
			c.Subscriptions[secret.KeyHash("k2")] = SubscriptionKey{SubscriptionID: "s2", Scope: "/tenants/x", State: "active"}
		}, wantErr: `subscription "s2"`, wantLive: []string{"echo", "open"}},
		{name: "bad backend", mutate: func(c *Config) { c.Backends[0].URL = "nope" }, wantErr: `backend "b1"`, wantLive: []string{"echo", "open"}},
		{name: "duplicate named value", mutate: func(c *Config) {
			c.NamedValues = append(c.NamedValues, NamedValue{ID: "nv2", DisplayName: "token", Value: "w"})
		}, wantErr: `namedValue "nv2"`, wantLive: []string{"echo", "open"}},
		{name: "duplicate policy", mutate: func(c *Config) { c.Policies = append(c.Policies, c.Policies[0]) }, wantErr: `policy "global"`, wantLive: []string{"echo", "open"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mutate(c)
			s, errs := Compile(c)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.wantErr+": ") {
				t.Fatalf("errors %v, want one for %s", errs, tc.wantErr)
			}
			if len(s.Errors()) != 1 {
				t.Fatalf("snapshot errors %v", s.Errors())
			}
			var live []string
			for _, a := range s.APIs() {
				live = append(live, a.ID)
				if n, ok := tc.wantOpsOf[a.ID]; ok && len(a.Operations) != n {
					t.Errorf("api %s has %d operations, want %d", a.ID, len(a.Operations), n)
				}
			}
			if !slices.Equal(live, tc.wantLive) {
				t.Fatalf("live apis %v, want %v", live, tc.wantLive)
			}
			var m router.Match
			for _, id := range live {
				api := s.API(id)
				if got, _ := s.Route("", "GET", "/"+api.Path+"/resource", &m); got != api {
					t.Errorf("api %s does not route", id)
				}
			}
		})
	}
	if s, errs := Compile(nil); s != nil || len(errs) != 1 {
		t.Fatalf("Compile(nil) = %v, %v", s, errs)
	}
}

func TestAdmits(t *testing.T) {
	c := validConfig()
	c.APIs = append(c.APIs, API{ID: "third", Path: "third", ServiceURL: "http://b", SubscriptionRequired: true})
	add := func(key, scope, state string) {
		c.Subscriptions[secret.KeyHash(key)] = SubscriptionKey{SubscriptionID: key, Scope: scope, State: state}
	}
	add("all", "/apis", "active")
	add("echo", "/apis/echo", "active")
	add("open", "/apis/open", "active")
	add("p1", "/products/p1", "active")
	add("p2", "/products/p2", "active")
	add("gone", "/products/nope", "active")
	for _, st := range []string{"suspended", "submitted", "rejected", "cancelled", "expired", ""} {
		add("state-"+st, "/apis", st)
	}
	s, errs := Compile(c)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		name, api, key string
		wantOK         bool
		wantProduct    string
	}{
		{name: "all apis", api: "echo", key: "all", wantOK: true},
		{name: "this api", api: "echo", key: "echo", wantOK: true},
		{name: "other api", api: "echo", key: "open", wantOK: false},
		{name: "published product with the api", api: "echo", key: "p1", wantOK: true, wantProduct: "p1"},
		{name: "published product without the api", api: "open", key: "p1", wantOK: false},
		{name: "notPublished product", api: "echo", key: "p2", wantOK: false},
		{name: "missing product", api: "echo", key: "gone", wantOK: false},
		{name: "unknown key", api: "echo", key: "nope", wantOK: false},
		{name: "suspended", api: "echo", key: "state-suspended"},
		{name: "submitted", api: "echo", key: "state-submitted"},
		{name: "rejected", api: "echo", key: "state-rejected"},
		{name: "cancelled", api: "echo", key: "state-cancelled"},
		{name: "expired", api: "echo", key: "state-expired"},
		{name: "no state", api: "echo", key: "state-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := s.API(tc.api).Admits(s.SubscriptionByKey(tc.key))
			if ok != tc.wantOK {
				t.Fatalf("admits = %v, want %v", ok, tc.wantOK)
			}
			if got := productID(p); got != tc.wantProduct {
				t.Fatalf("product %q, want %q", got, tc.wantProduct)
			}
		})
	}

	open := []struct {
		api         string
		wantOK      bool
		wantProduct string
	}{{"echo", true, "a-open"}, {"open", true, ""}, {"third", false, ""}}
	for _, tc := range open {
		p, ok := s.API(tc.api).OpenAccess()
		if ok != tc.wantOK || productID(p) != tc.wantProduct {
			t.Errorf("OpenAccess(%s) = %q %v, want %q %v", tc.api, productID(p), ok, tc.wantProduct, tc.wantOK)
		}
	}
}

func productID(p *CompiledProduct) string {
	if p == nil {
		return ""
	}
	return p.ID
}

// TestConfigHasNoKeys encodes a Config and checks that it round-trips and
// names keys only by hash.
func TestConfigHasNoKeys(t *testing.T) {
	c := validConfig()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `"k1"`) || !strings.Contains(string(raw), secret.KeyHash("k1")) {
		t.Fatalf("encoded config: %s", raw)
	}
	var back Config
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if _, errs := Compile(&back); len(errs) != 0 {
		t.Fatalf("decoded config does not compile: %v", errs)
	}
	if !strings.Contains(string(raw), `"url":"https://b1.example/x"`) {
		t.Fatalf("backend fields not inlined: %s", raw)
	}
}

func TestRouteDoesNotAllocate(t *testing.T) {
	s, _ := Compile(validConfig())
	var m router.Match
	allocs := testing.AllocsPerRun(100, func() {
		if api, op := s.Route("h", "GET", "/echo/users/42", &m); api == nil || op == nil {
			t.Fatal("no route")
		}
		_ = s.SubscriptionByKey("k1")
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per route and key lookup", allocs)
	}
}

// bigConfig has n APIs of 10 operations, 10 products and 2n keys.
func bigConfig(n int) *Config {
	c := &Config{Revision: 1, GatewayID: "managed", Subscriptions: map[string]SubscriptionKey{}}
	for p := range 10 {
		c.Products = append(c.Products, Product{ID: fmt.Sprintf("p%d", p), State: "published", SubscriptionRequired: true})
	}
	for i := range n {
		id := fmt.Sprintf("api-%04d", i)
		a := API{ID: id, Path: fmt.Sprintf("svc%d/v1", i), ServiceURL: fmt.Sprintf("http://backend-%d:8080/api", i%50), SubscriptionRequired: true}
		for j := range 10 {
			a.Operations = append(a.Operations, Operation{ID: fmt.Sprintf("op%d", j), Method: "GET", URLTemplate: fmt.Sprintf("/items%d/{id}/sub/{sub}", j)})
		}
		c.APIs = append(c.APIs, a)
		c.Products[i%10].APIs = append(c.Products[i%10].APIs, id)
		for _, which := range []string{"primary", "secondary"} {
			c.Subscriptions[secret.KeyHash(id+which)] = SubscriptionKey{SubscriptionID: "s-" + id, Key: which, Scope: "/products/p1", State: "active"}
		}
	}
	return c
}

func BenchmarkCompile1000APIs(b *testing.B) {
	c := bigConfig(1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile(c); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
