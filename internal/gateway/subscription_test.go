package gateway

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestSubscriptionKeyExtraction(t *testing.T) {
	tests := []struct {
		name      string
		header    http.Header
		query     string
		wantKey   string
		wantFound bool
	}{
		{name: "none", wantFound: false},
		{name: "header", header: http.Header{"Ocp-Apim-Subscription-Key": {"h"}}, wantKey: "h", wantFound: true},
		{name: "first header value", header: http.Header{"Ocp-Apim-Subscription-Key": {"h1", "h2"}}, wantKey: "h1", wantFound: true},
		{name: "query", query: "a=1&subscription-key=q", wantKey: "q", wantFound: true},
		{name: "first query value", query: "subscription-key=q1&subscription-key=q2", wantKey: "q1", wantFound: true},
		{name: "escaped query", query: "subscription%2Dkey=a%2Bb+c", wantKey: "a+b c", wantFound: true},
		{name: "header wins", header: http.Header{"Ocp-Apim-Subscription-Key": {"h"}}, query: "subscription-key=q", wantKey: "h", wantFound: true},
		{name: "empty header, query used", header: http.Header{"Ocp-Apim-Subscription-Key": {""}}, query: "subscription-key=q", wantKey: "q", wantFound: true},
		{name: "empty query value", query: "subscription-key=", wantFound: false},
		{name: "name without value", query: "subscription-key", wantFound: false},
		{name: "bad escape skipped", query: "subscription-key=%zz&subscription-key=ok", wantKey: "ok", wantFound: true},
		{name: "other names", query: "subscription-keys=x&Subscription-Key=y", wantFound: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, found := subscriptionKey(tc.header, tc.query, "Ocp-Apim-Subscription-Key", "subscription-key")
			if key != tc.wantKey || found != tc.wantFound {
				t.Fatalf("got %q %v, want %q %v", key, found, tc.wantKey, tc.wantFound)
			}
		})
	}
}

func TestRemoveQueryParam(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "empty", in: "", want: ""},
		{name: "absent", in: "a=1&b=2", want: "a=1&b=2"},
		{name: "only", in: "k=1", want: ""},
		{name: "first", in: "k=1&a=%2F", want: "a=%2F"},
		{name: "middle", in: "a=1&k=2&b=3", want: "a=1&b=3"},
		{name: "last", in: "a=1&k=2", want: "a=1"},
		{name: "repeated", in: "k=1&k=2&a&k", want: "a"},
		{name: "escaped name", in: "%6B=1&a=1", want: "a=1"},
		{name: "empty pairs kept", in: "a&&k=1&b", want: "a&&b"},
		{name: "similar names kept", in: "kk=1&K=2", want: "kk=1&K=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := removeQueryParam(tc.in, "k"); got != tc.want {
				t.Fatalf("removeQueryParam(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzQueryKey checks key extraction and removal against url.ParseQuery:
// the value found is the one ParseQuery gives, removal leaves every other
// parameter as it was and no trace of the key.
func FuzzQueryKey(f *testing.F) {
	for _, s := range []string{"", "subscription-key=abc", "a=1&subscription-key=x&b=2", "subscription%2Dkey=a%20b",
		"subscription-key=%zz", "a&&b=;", "subscription-key&subscription-key=2", "=&=="} {
		f.Add(s, "subscription-key")
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		if name == "" {
			return
		}
		stripped := removeQueryParam(raw, name)
		if _, found := queryValue(stripped, name); found {
			t.Fatalf("removeQueryParam(%q, %q) = %q still holds the parameter", raw, name, stripped)
		}
		if v, found := queryValue(raw, name); !found && stripped != raw && !hasUndecodableValue(raw, name) {
			t.Fatalf("nothing found but %q became %q", raw, stripped)
		} else if found && stripped == raw {
			t.Fatalf("found %q but %q was not changed", v, raw)
		}
		want, err := url.ParseQuery(raw)
		if err != nil {
			return // ParseQuery gives up on the whole query; ours is per pair
		}
		v, found := queryValue(raw, name)
		if found != want.Has(name) || v != want.Get(name) {
			t.Fatalf("queryValue(%q, %q) = %q %v, ParseQuery says %q %v", raw, name, v, found, want.Get(name), want.Has(name))
		}
		got, err := url.ParseQuery(stripped)
		if err != nil {
			t.Fatalf("stripped query %q does not parse: %v", stripped, err)
		}
		want.Del(name)
		if len(want) == 0 {
			want = url.Values{}
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("removeQueryParam(%q, %q) = %q: %v, want %v", raw, name, stripped, got, want)
		}
	})
}

// hasUndecodableValue reports whether raw has a pair named name whose value
// does not decode (removed, but not found).
func hasUndecodableValue(raw, name string) bool {
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if queryNameIs(k, name) {
			if _, err := url.QueryUnescape(v); err != nil {
				return true
			}
		}
	}
	return false
}
