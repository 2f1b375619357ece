package portal

import (
	"testing"
)

func TestPolicyLimits(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"starter", `<policies><inbound><rate-limit calls="5" renewal-period="60" /><quota calls="100" renewal-period="604800" /><base /></inbound></policies>`,
			[]string{"Rate limit: 5 calls per minute.", "Quota: 100 calls per week."}},
		{"by key, odd period", `<policies><inbound><rate-limit-by-key calls="1" renewal-period="90" counter-key="x" /></inbound></policies>`,
			[]string{"Rate limit: 1 call per 90 seconds."}},
		{"bandwidth", `<policies><inbound><quota bandwidth="1024" renewal-period="7200" /></inbound></policies>`,
			[]string{"Bandwidth quota: 1024 KB per 2 hours."}},
		{"none", `<policies><inbound><base /></inbound></policies>`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := policyLimits(tc.doc)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestExpandURL(t *testing.T) {
	ps := []paramRow{{Name: "id", In: "template"}, {Name: "path", In: "template"}, {Name: "q", In: "query"}, {Name: "n", In: "query"}}
	tests := []struct {
		name, tmpl string
		vals       map[string]string
		keep       bool
		want       string
		err        bool
	}{
		{"path and query", "/items/{id}", map[string]string{"id": "a b/c", "q": "x&y"}, false, "https://gw/api/items/a%20b%2Fc?q=x%26y", false},
		{"wildcard keeps slashes", "/files/{*path}", map[string]string{"path": "a/b c"}, false, "https://gw/api/files/a/b%20c", false},
		{"template query", "/search?term={id}", map[string]string{"id": "go", "n": "1"}, false, "https://gw/api/search?term=go&n=1", false},
		{"missing path parameter", "/items/{id}", nil, false, "", true},
		{"placeholder kept", "/items/{id}", nil, true, "https://gw/api/items/{id}", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandURL("https://gw/api", tc.tmpl, ps, func(p paramRow) string { return tc.vals[p.Name] }, tc.keep)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("got %q, %v; want %q (error %v)", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"path", "/apis/x", "/apis/x"}, {"empty", "", "/apis"}, {"absolute URL", "https://evil.example/", "/apis"},
		{"scheme-relative", "//evil.example/", "/apis"}, {"backslash", "/\\evil.example", "/apis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := safeNext(tc.in); got != tc.want {
				t.Fatalf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
