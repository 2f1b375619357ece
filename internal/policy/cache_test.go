package policy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMemoryCache(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bg := context.Background()
	tests := []struct {
		name string
		run  func(m *MemoryCache) string
		want string
	}{
		{name: "get set delete", want: "v true, false", run: func(m *MemoryCache) string {
			m.Set(bg, "k", []byte("v"), time.Minute, t0)
			v, ok, _ := m.Get(bg, "k", t0.Add(time.Second))
			m.Delete(bg, "k")
			_, ok2, _ := m.Get(bg, "k", t0)
			return fmt.Sprintf("%s %t, %t", v, ok, ok2)
		}},
		{name: "expiry", want: "true false 0", run: func(m *MemoryCache) string {
			m.Set(bg, "k", []byte("v"), time.Minute, t0)
			_, before, _ := m.Get(bg, "k", t0.Add(59*time.Second))
			_, after, _ := m.Get(bg, "k", t0.Add(time.Minute))
			return fmt.Sprintf("%t %t %d", before, after, m.Len())
		}},
		{name: "least recently used evicted", want: "a:true b:false c:true", run: func(m *MemoryCache) string {
			big := make([]byte, 200)
			m.Set(bg, "a", big, time.Minute, t0)
			m.Set(bg, "b", big, time.Minute, t0)
			m.Get(bg, "a", t0)
			m.Set(bg, "c", big, time.Minute, t0) // 3×264 > 700: b goes
			_, a, _ := m.Get(bg, "a", t0)
			_, b, _ := m.Get(bg, "b", t0)
			_, c, _ := m.Get(bg, "c", t0)
			return fmt.Sprintf("a:%t b:%t c:%t", a, b, c)
		}},
		{name: "oversized value dropped", want: "false", run: func(m *MemoryCache) string {
			m.Set(bg, "k", make([]byte, 400), time.Minute, t0)
			_, ok, _ := m.Get(bg, "k", t0)
			return fmt.Sprint(ok)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.run(NewMemoryCache(700)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCacheValuePolicies(t *testing.T) {
	cache := NewMemoryCache(1 << 20)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := func(t *testing.T, doc string, at time.Time) *fakeBackend {
		t.Helper()
		p := mustExprPipeline(t, doc)
		be := &fakeBackend{}
		c := newCtx(httptest.NewRequest("GET", "/api/r", nil), be, nil, at)
		c.Cache = cache
		p.Run(c)
		if c.LastError != nil {
			t.Fatalf("LastError = %+v", c.LastError)
		}
		return be
	}
	lookup := `<cache-lookup-value key="@(&quot;tok-&quot; + &quot;1&quot;)" variable-name="tok" default-value="none"/>
		<cache-lookup-value key="n" variable-name="n"/>
		<set-header name="X-Tok" exists-action="override"><value>@((string)context.Variables["tok"])</value></set-header>
		<set-header name="X-N" exists-action="override"><value>@(context.Variables["n"] == null ? "null" : ((int)context.Variables["n"] + 1).ToString())</value></set-header>`
	tests := []struct {
		name    string
		doc     string
		at      time.Time
		wantTok string
		wantN   string
	}{
		{name: "miss gives the default or null", doc: lookup, at: now, wantTok: "none", wantN: "null"},
		{name: "stored values come back with their type", doc: `<cache-store-value key="tok-1" value="abc" duration="60"/>
			<cache-store-value key="n" value="@(41)" duration="@(60)"/>` + lookup, at: now, wantTok: "abc", wantN: "42"},
		{name: "another request sees them", doc: lookup, at: now.Add(30 * time.Second), wantTok: "abc", wantN: "42"},
		{name: "removed", doc: `<cache-remove-value key="n"/>` + lookup, at: now.Add(30 * time.Second), wantTok: "abc", wantN: "null"},
		{name: "expired", doc: lookup, at: now.Add(61 * time.Second), wantTok: "none", wantN: "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be := run(t, `<policies><inbound>`+tc.doc+`</inbound></policies>`, tc.at)
			if got := be.header.Get("X-Tok"); got != tc.wantTok {
				t.Errorf("X-Tok = %q, want %q", got, tc.wantTok)
			}
			if got := be.header.Get("X-N"); got != tc.wantN {
				t.Errorf("X-N = %q, want %q", got, tc.wantN)
			}
		})
	}
}

// countingBackend answers with a body naming the call number.
type countingBackend struct {
	calls  int
	status int
	size   int
	cookie bool
}

func (f *countingBackend) Forward(c *Context, timeout time.Duration) error {
	f.calls++
	c.Response.StatusCode = 200
	if f.status != 0 {
		c.Response.StatusCode = f.status
	}
	c.Response.Header = http.Header{"Content-Type": {"text/plain"}}
	if f.cookie {
		c.Response.Header.Set("Set-Cookie", "a=b")
	}
	b := fmt.Sprintf("call %d", f.calls)
	if f.size > 0 {
		b = strings.Repeat("x", f.size)
	}
	c.Response.Body.SetStream(io.NopCloser(strings.NewReader(b)), -1)
	return nil
}

func TestResponseCache(t *testing.T) {
	doc := `<policies><inbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
		<vary-by-header>Accept</vary-by-header><vary-by-query-parameter>page</vary-by-query-parameter></cache-lookup></inbound>
		<outbound><cache-store duration="60"/></outbound></policies>`
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type call struct {
		method, target, accept, auth string
		at                           time.Duration
		wantBody                     string
	}
	tests := []struct {
		name  string
		be    countingBackend
		calls []call
	}{
		{name: "second GET served from the cache", calls: []call{
			{target: "/api/r?page=1", wantBody: "call 1"},
			{target: "/api/r?page=1&other=x", wantBody: "call 1"},
			{target: "/api/r?page=2", wantBody: "call 2"},
			{target: "/api/r?page=1", accept: "text/xml", wantBody: "call 3"},
			{target: "/api/r?page=1", at: time.Minute, wantBody: "call 4"},
		}},
		{name: "POST and Authorization are not cached", calls: []call{
			{method: "POST", target: "/api/r", wantBody: "call 1"},
			{method: "POST", target: "/api/r", wantBody: "call 2"},
			{target: "/api/r", auth: "Bearer x", wantBody: "call 3"},
			{target: "/api/r", auth: "Bearer x", wantBody: "call 4"},
		}},
		{name: "errors are not cached", be: countingBackend{status: 500}, calls: []call{
			{target: "/api/r", wantBody: "call 1"}, {target: "/api/r", wantBody: "call 2"},
		}},
		{name: "Set-Cookie is not cached", be: countingBackend{cookie: true}, calls: []call{
			{target: "/api/r", wantBody: "call 1"}, {target: "/api/r", wantBody: "call 2"},
		}},
		{name: "too large is passed on whole, not cached", be: countingBackend{size: maxCachedResponseBytes + 10}, calls: []call{
			{target: "/api/r", wantBody: strings.Repeat("x", maxCachedResponseBytes+10)},
			{target: "/api/r", wantBody: strings.Repeat("x", maxCachedResponseBytes+10)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cache := NewMemoryCache(64 << 20)
			be := tc.be
			for i, cl := range tc.calls {
				// A new pipeline each time: the cache outlives snapshots.
				p := mustExprPipeline(t, doc)
				m := cl.method
				if m == "" {
					m = "GET"
				}
				req := httptest.NewRequest(m, cl.target, nil)
				if cl.accept != "" {
					req.Header.Set("Accept", cl.accept)
				}
				if cl.auth != "" {
					req.Header.Set("Authorization", cl.auth)
				}
				c := newCtx(req, &be, nil, now.Add(cl.at))
				c.Cache = cache
				p.Run(c)
				if c.LastError != nil {
					t.Fatalf("call %d: LastError = %+v", i+1, c.LastError)
				}
				if got := body(t, &c.Response.Body); got != cl.wantBody {
					t.Fatalf("call %d: body = %.40q, want %.40q", i+1, got, cl.wantBody)
				}
			}
		})
	}
}

func TestCacheCompileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{name: "lookup-value variable required", doc: `<inbound><cache-lookup-value key="k"/></inbound>`, want: `attribute "variable-name" is required`},
		{name: "store-value duration", doc: `<inbound><cache-store-value key="k" value="v" duration="0"/></inbound>`, want: `"duration" must be a positive number of seconds`},
		{name: "caching-type", doc: `<inbound><cache-remove-value key="k" caching-type="disk"/></inbound>`, want: `must be one of internal, external, prefer-external`},
		{name: "lookup vary-by-developer required", doc: `<inbound><cache-lookup vary-by-developer-groups="false"/></inbound>`, want: `"vary-by-developer" is required`},
		{name: "lookup only inbound", doc: `<outbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/></outbound>`, want: `not allowed in the outbound section`},
		{name: "store duration required", doc: `<outbound><cache-store/></outbound>`, want: `attribute "duration" is required`},
		{name: "empty vary-by-header", doc: `<inbound><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"><vary-by-header/></cache-lookup></inbound>`, want: `must hold a literal name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileDocument(`<policies>`+tc.doc+`</policies>`, &Env{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
