package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/secret"
)

// restrictConfig is the configuration of a gateway that serves API "a"
// (the loader keeps only assigned APIs), with everything of the instance
// beside it: what API "b" (another gateway's) and product "pb" use must
// not survive Restrict.
func restrictConfig() *Config {
	doc := func(inbound string) string { return "<policies><inbound>" + inbound + "</inbound></policies>" }
	return &Config{
		GatewayID: "edge",
		APIs:      []API{{ID: "a", Path: "a", ServiceURL: "http://a.example", Operations: []Operation{{ID: "op", Method: "GET", URLTemplate: "/x"}, {ID: "op2", Method: "GET", URLTemplate: "/y"}}}},
		Products: []Product{
			{ID: "pa", State: "published", APIs: []string{"a", "b"}},
			{ID: "pb", State: "published", APIs: []string{"b"}},
			{ID: "empty", State: "published", APIs: []string{}},
		},
		Subscriptions: map[string]SubscriptionKey{
			secret.KeyHash("all"):       {SubscriptionID: "all", Key: "primary", Scope: "/apis", State: "active"},
			secret.KeyHash("api-a"):     {SubscriptionID: "api-a", Key: "primary", Scope: "/apis/a", State: "active"},
			secret.KeyHash("api-b"):     {SubscriptionID: "api-b", Key: "primary", Scope: "/apis/b", State: "active"},
			secret.KeyHash("prod-pa"):   {SubscriptionID: "prod-pa", Key: "primary", Scope: "/products/pa", State: "active", ProductID: "pa"},
			secret.KeyHash("prod-pb"):   {SubscriptionID: "prod-pb", Key: "secondary", Scope: "/products/pb", State: "active", ProductID: "pb"},
			secret.KeyHash("malformed"): {SubscriptionID: "m", Key: "primary", Scope: "nonsense", State: "active"},
		},
		Backends: []Backend{
			{ID: "be-a", Backend: model.Backend{URL: "https://be-a.example", Credentials: &model.BackendCredentials{
				Header: map[string][]string{"x-key": {"{{be-cred}}"}}}}},
			{ID: "be-indirect", Backend: model.Backend{URL: "https://be-indirect.example"}},
			{ID: "be-frag", Backend: model.Backend{URL: "https://be-frag.example"}},
			{ID: "be-b", Backend: model.Backend{URL: "https://be-b.example", Credentials: &model.BackendCredentials{
				Authorization: &model.BackendAuthorization{Scheme: "Basic", Parameter: "{{be-b-cred}}"}}}},
		},
		NamedValues: []NamedValue{
			{ID: "global-nv", DisplayName: "global-nv", Value: "g"},
			{ID: "sec-a", DisplayName: "Sec-A", Value: "secret-a", Secret: true},
			{ID: "in-expr", DisplayName: "in-expr", Value: "expr-value", Secret: true},
			{ID: "be-name", DisplayName: "be-name", Value: "be-indirect"},
			{ID: "be-cred", DisplayName: "be-cred", Value: "backend-credential", Secret: true},
			{ID: "frag-nv", DisplayName: "frag-nv", Value: "f"},
			{ID: "chain", DisplayName: "chain", Value: "prefix-{{chained}}"},
			{ID: "chained", DisplayName: "chained", Value: "c", Secret: true},
			{ID: "prod-a", DisplayName: "prod-a", Value: "pa-value"},
			{ID: "after-error", DisplayName: "after-error", Value: "ae"},
			{ID: "raw", DisplayName: "raw", Value: "r"},
			{ID: "sec-b", DisplayName: "sec-b", Value: "secret-b", Secret: true},
			{ID: "be-b-cred", DisplayName: "be-b-cred", Value: "backend-b-credential", Secret: true},
			{ID: "prod-b", DisplayName: "prod-b", Value: "pb-value", Secret: true},
			{ID: "unused", DisplayName: "unused", Value: "unused-value", Secret: true},
			{ID: "in-comment", DisplayName: "in-comment", Value: "comment-value", Secret: true},
		},
		Policies: []Policy{
			{Scope: "global", Value: doc(`<set-header name="g" exists-action="override"><value>{{global-nv}}</value></set-header><base/>`)},
			{Scope: "apis/a", Value: doc(`<base/><!-- {{in-comment}} -->` +
				`<set-header name="s" exists-action="override"><value>{{sec-a}}</value></set-header>` +
				`<set-header name="e" exists-action="override"><value>@("{{in-expr}}".ToUpper())</value></set-header>` +
				`<set-header name="c" exists-action="override"><value>{{chain}}</value></set-header>` +
				`<choose><when condition="@(context.Request.Method == &quot;POST&quot;)"><set-backend-service backend-id="{{be-name}}"/></when>` +
				`<otherwise><set-backend-service backend-id="be-a"/></otherwise></choose>` +
				`<include-fragment fragment-id="frag-outer"/>`)},
			{Scope: "apis/a/operations/op", Value: doc(`<base/><no-such-policy/><set-header name="x" exists-action="override"><value>{{after-error}}</value></set-header>`)},
			{Scope: "apis/a/operations/op2", Value: `<policies><inbound><base/><set-header name="x"><value>{{raw}}</value></inbound></policies>`},
			{Scope: "products/pa", Value: doc(`<base/><set-header name="p" exists-action="override"><value>{{prod-a}}</value></set-header>`)},
			{Scope: "apis/b", Value: doc(`<base/><set-header name="s" exists-action="override"><value>{{sec-b}}</value></set-header><set-backend-service backend-id="be-b"/><include-fragment fragment-id="frag-b"/>`)},
			{Scope: "products/pb", Value: doc(`<base/><set-header name="p" exists-action="override"><value>{{prod-b}}</value></set-header>`)},
		},
		PolicyFragments: []PolicyFragment{
			{ID: "frag-outer", Value: `<fragment><include-fragment fragment-id="frag-inner"/></fragment>`},
			{ID: "frag-inner", Value: `<fragment><set-header name="f" exists-action="override"><value>{{frag-nv}}</value></set-header><set-backend-service backend-id="be-frag"/></fragment>`},
			{ID: "frag-b", Value: `<fragment><set-header name="f" exists-action="override"><value>{{sec-b}}</value></set-header></fragment>`},
			{ID: "frag-unused", Value: `<fragment/>`},
		},
	}
}

func TestRestrict(t *testing.T) {
	cfg := restrictConfig()
	Restrict(cfg)

	var got []string
	for _, p := range cfg.Products {
		got = append(got, p.ID+":"+strings.Join(p.APIs, ","))
	}
	check(t, "products", got, "pa:a")
	got = nil
	for _, k := range cfg.Subscriptions {
		got = append(got, k.SubscriptionID)
	}
	check(t, "subscriptions", got, "all", "api-a", "prod-pa")
	got = nil
	for _, p := range cfg.Policies {
		got = append(got, p.Scope)
	}
	check(t, "policies", got, "global", "apis/a", "apis/a/operations/op", "apis/a/operations/op2", "products/pa")
	got = nil
	for _, f := range cfg.PolicyFragments {
		got = append(got, f.ID)
	}
	check(t, "fragments", got, "frag-outer", "frag-inner")
	got = nil
	for _, b := range cfg.Backends {
		got = append(got, b.ID)
	}
	check(t, "backends", got, "be-a", "be-indirect", "be-frag")
	got = nil
	for _, nv := range cfg.NamedValues {
		got = append(got, nv.ID)
	}
	check(t, "named values", got, "global-nv", "sec-a", "in-expr", "be-name", "be-cred", "frag-nv", "chain", "chained", "prod-a", "after-error", "raw")

	// What is left is enough: only the two broken documents fail.
	_, errs := Compile(cfg)
	var scopes []string
	for _, e := range errs {
		scopes = append(scopes, e.Kind+" "+e.ID)
		if strings.Contains(e.Error(), "does not exist") {
			t.Errorf("restricted configuration misses a reference: %v", e)
		}
	}
	check(t, "compile errors", scopes, "policy apis/a/operations/op", "policy apis/a/operations/op2")
}

func check(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// BenchmarkRestrict measures the management plane's cost of cutting one
// gateway's configuration down: 200 APIs (20 of them the gateway's, the
// loader having kept only those), each with a policy using a fragment, a
// backend and named values, among 2,000 named values and 10,000
// subscription keys.
func BenchmarkRestrict(b *testing.B) {
	build := func() *Config {
		cfg := &Config{GatewayID: "edge", Subscriptions: map[string]SubscriptionKey{}}
		for i := range 2000 {
			cfg.NamedValues = append(cfg.NamedValues, NamedValue{ID: fmt.Sprint("nv", i), DisplayName: fmt.Sprint("nv", i), Value: fmt.Sprint("value-", i), Secret: i%2 == 0})
		}
		for i := range 200 {
			api := fmt.Sprint("api", i)
			if i < 20 {
				cfg.APIs = append(cfg.APIs, API{ID: api, Path: api, ServiceURL: "http://x.example", Operations: []Operation{{ID: "get", Method: "GET", URLTemplate: "/x"}}})
			}
			cfg.Products = append(cfg.Products, Product{ID: fmt.Sprint("p", i), State: "published", APIs: []string{api}})
			cfg.Backends = append(cfg.Backends, Backend{ID: fmt.Sprint("be", i), Backend: model.Backend{URL: "https://be.example"}})
			cfg.PolicyFragments = append(cfg.PolicyFragments, PolicyFragment{ID: fmt.Sprint("f", i),
				Value: fmt.Sprintf(`<fragment><set-header name="f" exists-action="override"><value>{{nv%d}}</value></set-header></fragment>`, i+1000)})
			cfg.Policies = append(cfg.Policies, Policy{Scope: "apis/" + api, Value: fmt.Sprintf(`<policies><inbound><base/>`+
				`<set-header name="a" exists-action="override"><value>{{nv%d}}</value></set-header>`+
				`<set-header name="b" exists-action="override"><value>@(context.Request.Headers.GetValueOrDefault("x", "{{nv%d}}"))</value></set-header>`+
				`<include-fragment fragment-id="f%d"/><set-backend-service backend-id="be%d"/></inbound></policies>`, i, i+500, i, i)})
		}
		cfg.Policies = append(cfg.Policies, Policy{Scope: "global", Value: `<policies><inbound><set-header name="g" exists-action="override"><value>{{nv1999}}</value></set-header></inbound></policies>`})
		for i := range 5000 {
			scope := fmt.Sprint("/apis/api", i%200)
			for _, k := range []string{"primary", "secondary"} {
				cfg.Subscriptions[secret.KeyHash(fmt.Sprint(k, i))] = SubscriptionKey{SubscriptionID: fmt.Sprint("s", i), Key: k, Scope: scope, State: "active"}
			}
		}
		return cfg
	}
	cfgs := make([]*Config, b.N)
	for i := range cfgs {
		cfgs[i] = build()
	}
	b.ResetTimer()
	for i := range b.N {
		Restrict(cfgs[i])
	}
	b.StopTimer()
	if n := len(cfgs[0].NamedValues); n != 61 {
		b.Fatalf("%d named values kept, want 61", n)
	}
}
