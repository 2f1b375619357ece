package counter

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/testenv"
)

func newTestCache(t *testing.T, url, prefix string) *Cache {
	t.Helper()
	c, err := NewCache(context.Background(), CacheOptions{
		Options:       Options{URL: url, Prefix: prefix, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Retry: time.Hour, Timeout: 5 * time.Second},
		MaxValueBytes: 1024,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// runPolicy runs the inbound policies src against cache, as a gateway does
// for one request, and returns the request's variables.
func runPolicy(t *testing.T, cache policy.Cache, src string) map[string]any {
	t.Helper()
	doc, err := policy.CompileDocument("<policies><inbound>"+src+"<return-response/></inbound></policies>", &policy.Env{Scope: "global"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/x", nil)
	c := &policy.Context{In: req, Cache: cache, Request: policy.Request{Method: "GET", Header: req.Header.Clone()}}
	policy.Compose(doc).Run(c)
	if c.LastError != nil {
		t.Fatalf("policy failed: %+v", c.LastError)
	}
	return c.Variables
}

// TestSharedCache: two gateways, each with its own Redis cache, see each
// other's cache-store-value, cache-remove-value and TTLs.
func TestSharedCache(t *testing.T) {
	url, prefix := testenv.Redis(t)
	a, b := newTestCache(t, url, prefix), newTestCache(t, url, prefix)
	tests := []struct {
		name   string
		writer *Cache
		store  string
		want   any
	}{
		{"string", a, `<cache-store-value key="s" value="hello" duration="60"/>`, "hello"},
		{"integer keeps its type", b, `<cache-store-value key="i" value="@(41 + 1)" duration="60"/>`, 42},
		{"boolean", a, `<cache-store-value key="b" value="@(true)" duration="60"/>`, true},
		{"removed", b, `<cache-store-value key="r" value="x" duration="60"/><cache-remove-value key="r"/>`, "none"},
		{"too large is not stored", a, `<cache-store-value key="big" value="` + strings.Repeat("x", 2000) + `" duration="60"/>`, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runPolicy(t, tc.writer, tc.store)
			key := tc.store[strings.Index(tc.store, `key="`)+5:]
			key = key[:strings.IndexByte(key, '"')]
			for i, reader := range []*Cache{a, b} {
				vars := runPolicy(t, reader, `<cache-lookup-value key="`+key+`" default-value="none" variable-name="v"/>`)
				got := vars["v"]
				if n, ok := got.(int64); ok {
					got = int(n)
				}
				if got != tc.want {
					t.Fatalf("gateway %d looked up %#v (%T), want %#v", i, vars["v"], vars["v"], tc.want)
				}
			}
		})
	}
	t.Run("entries carry their TTL", func(t *testing.T) {
		a.Set(context.Background(), "ttl", []byte("v"), 50*time.Millisecond, time.Now())
		if v, ok, _ := b.Get(context.Background(), "ttl", time.Now()); !ok || string(v) != "v" {
			t.Fatalf("get = %q %v", v, ok)
		}
		testenv.Eventually(t, "the entry to expire", func() bool {
			_, ok, _ := b.Get(context.Background(), "ttl", time.Now())
			return !ok
		})
	})
	if a.Fallback() || b.Fallback() {
		t.Fatal("a gateway fell back to its local cache")
	}
}

// TestCacheFallback: with Redis unreachable the cache works locally.
func TestCacheFallback(t *testing.T) {
	c := newTestCache(t, "redis://127.0.0.1:1/0", "portico-test-down:")
	if !c.Fallback() {
		t.Fatal("not in fallback with Redis down")
	}
	runPolicy(t, c, `<cache-store-value key="k" value="local" duration="60"/>`)
	if v := runPolicy(t, c, `<cache-lookup-value key="k" variable-name="v"/>`)["v"]; v != "local" {
		t.Fatalf("lookup = %#v", v)
	}
	c.Delete(context.Background(), "k")
	if _, ok, _ := c.Get(context.Background(), "k", time.Now()); ok {
		t.Fatal("deleted entry found")
	}
}
