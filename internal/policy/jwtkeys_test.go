package policy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

// oidcPolicy is a validate-jwt document that takes the keys of idp; extra
// is added to the inbound section (to make another configuration).
func oidcPolicy(idp *oidcProvider, extra string) string {
	return fmt.Sprintf(`<policies><inbound>%s<validate-jwt header-name="Authorization" require-scheme="Bearer">
		<openid-config url="%s/.well-known/openid-configuration" />
		<issuers><issuer>%s</issuer></issuers>
	</validate-jwt></inbound></policies>`, extra, idp.srv.URL, idp.srv.URL)
}

// compileWithKeys compiles doc in an environment holding keys, as a
// gateway compiles each snapshot.
func compileWithKeys(t *testing.T, doc string, keys *KeyCache) *Pipeline {
	t.Helper()
	env := testEnv("apis/a")
	env.Keys = keys
	d, err := CompileDocument(doc, env)
	if err != nil {
		t.Fatal(err)
	}
	return Compose(d)
}

// runToken runs p for a request carrying tok under ctx (the request's
// context) and returns the context after the run.
func runToken(ctx context.Context, p *Pipeline, tok string) *Context {
	req := httptest.NewRequest("GET", "/api/r", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+tok)
	c := newCtx(req, &fakeBackend{}, NewMemoryCounters(), time.Now())
	p.Run(c)
	return c
}

// waiting returns how many callers wait for the fetch in progress of url.
func (k *KeyCache) waiting(url string) int {
	k.mu.RLock()
	e := k.entries[url]
	k.mu.RUnlock()
	if e == nil {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flight == nil {
		return 0
	}
	return e.flight.waiters
}

// gatedOIDC starts a provider whose key set requests wait for release.
func gatedOIDC(t *testing.T) (idp *oidcProvider, release func()) {
	hold := make(chan struct{})
	idp = startOIDC(t, hold)
	release = sync.OnceFunc(func() { close(hold) })
	t.Cleanup(release) // runs before the server closes
	return idp, release
}

// TestKeysOutliveSnapshots: two compilations of changed documents (two
// snapshots) with the gateway's KeyCache fetch the keys once.
func TestKeysOutliveSnapshots(t *testing.T) {
	idp := newOIDC(t)
	keys := NewKeyCache(KeyCacheOptions{})
	tok := idp.token(t, map[string]any{"iss": idp.srv.URL, "exp": time.Now().Add(time.Hour).Unix()})
	for i, doc := range []string{oidcPolicy(idp, ""), oidcPolicy(idp, `<set-variable name="rev" value="2"/>`)} {
		c := runToken(context.Background(), compileWithKeys(t, doc, keys), tok)
		if c.Response.StatusCode != 200 {
			t.Fatalf("snapshot %d: status %d (last error %+v)", i+1, c.Response.StatusCode, c.LastError)
		}
	}
	if d, k := idp.docs.Load(), idp.fetches.Load(); d != 1 || k != 1 {
		t.Fatalf("fetched %d configuration documents and %d key sets across two snapshots, want 1 and 1", d, k)
	}
	t.Run("without a KeyCache each compilation fetches", func(t *testing.T) {
		before := idp.fetches.Load()
		for _, doc := range []string{oidcPolicy(idp, ""), oidcPolicy(idp, "")} {
			if c := runToken(context.Background(), compileWithKeys(t, doc, nil), tok); c.Response.StatusCode != 200 {
				t.Fatalf("status %d", c.Response.StatusCode)
			}
		}
		if got := idp.fetches.Load() - before; got != 2 {
			t.Fatalf("%d fetches, want 2 (one per compiled step)", got)
		}
	})
}

// TestKeysFetchedOnceForConcurrentRequests: 50 requests arriving while the
// cache is cold wait for one fetch.
func TestKeysFetchedOnceForConcurrentRequests(t *testing.T) {
	idp, release := gatedOIDC(t)
	keys := NewKeyCache(KeyCacheOptions{})
	url := idp.srv.URL + "/.well-known/openid-configuration"
	p := compileWithKeys(t, oidcPolicy(idp, ""), keys)
	tok := idp.token(t, map[string]any{"iss": idp.srv.URL, "exp": time.Now().Add(time.Hour).Unix()})
	const n = 50
	status := make(chan int, n)
	for range n {
		go func() { status <- runToken(context.Background(), p, tok).Response.StatusCode }()
	}
	testenv.Eventually(t, fmt.Sprintf("%d requests wait for the keys", n), func() bool { return keys.waiting(url) == n })
	release()
	for range n {
		if s := <-status; s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	if d, k := idp.docs.Load(), idp.fetches.Load(); d != 1 || k != 1 {
		t.Fatalf("%d concurrent requests fetched %d configuration documents and %d key sets, want 1 and 1", n, d, k)
	}
}

// TestKeysWaitEndsWithTheRequest: a request whose context ends while the
// keys are fetched stops waiting (499, or 504 when its time ran out); the
// fetch goes on and serves the request still waiting, and the cache.
func TestKeysWaitEndsWithTheRequest(t *testing.T) {
	idp, release := gatedOIDC(t)
	keys := NewKeyCache(KeyCacheOptions{})
	url := idp.srv.URL + "/.well-known/openid-configuration"
	p := compileWithKeys(t, oidcPolicy(idp, ""), keys)
	tok := idp.token(t, map[string]any{"iss": idp.srv.URL, "exp": time.Now().Add(time.Hour).Unix()})

	patient := make(chan *Context, 1)
	go func() { patient <- runToken(context.Background(), p, tok) }()
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan *Context, 1)
	go func() { gone <- runToken(ctx, p, tok) }()
	testenv.Eventually(t, "two requests wait for the keys", func() bool { return keys.waiting(url) == 2 })
	cancel()
	// The provider still holds the key set: the cancelled request must
	// return without it.
	var c *Context
	select {
	case c = <-gone:
	case <-time.After(10 * time.Second): // a guard against a hang
		t.Fatal("the cancelled request still waits for the keys")
	}
	if c.Response.StatusCode != StatusClientClosedRequest || c.LastError == nil || c.LastError.Reason != ReasonClientConnectionFailure {
		t.Fatalf("cancelled request: status %d, last error %+v; want 499 ClientConnectionFailure", c.Response.StatusCode, c.LastError)
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	c = runToken(expired, p, tok)
	if c.Response.StatusCode != http.StatusGatewayTimeout || c.LastError == nil || c.LastError.Reason != ReasonTimeout {
		t.Fatalf("request out of time: status %d, last error %+v; want 504 Timeout", c.Response.StatusCode, c.LastError)
	}
	select {
	case c := <-patient:
		t.Fatalf("the waiting request returned before the keys were served: %d %+v", c.Response.StatusCode, c.LastError)
	default:
	}
	release()
	if c := <-patient; c.Response.StatusCode != 200 {
		t.Fatalf("the request still waiting got %d (last error %+v): the fetch was cancelled with the other request", c.Response.StatusCode, c.LastError)
	}
	if k := idp.fetches.Load(); k != 1 {
		t.Fatalf("%d key set fetches, want 1", k)
	}
	// The keys are cached: a request that ended before it started is
	// still verified with them, without waiting.
	if c := runToken(expired, p, tok); c.Response.StatusCode != 200 {
		t.Fatalf("with cached keys: status %d (last error %+v)", c.Response.StatusCode, c.LastError)
	}
}

// TestKeyCacheRefresh: keys are kept an hour, a forced refresh is honoured
// at most every 30 s, and a failed fetch keeps the keys held.
func TestKeyCacheRefresh(t *testing.T) {
	idp := newOIDC(t)
	now := time.Now()
	keys := NewKeyCache(KeyCacheOptions{Now: func() time.Time { return now }})
	url := idp.srv.URL + "/.well-known/openid-configuration"
	ctx := context.Background()
	fetch := func(step string, refresh bool, want int64) {
		t.Helper()
		before := idp.fetches.Load()
		if set, err := keys.Keys(ctx, url, refresh); err != nil || set.Len() != 1 {
			t.Fatalf("%s: %v", step, err)
		}
		if got := idp.fetches.Load() - before; got != want {
			t.Fatalf("%s: %d fetches, want %d", step, got, want)
		}
	}
	fetch("cold", false, 1)
	fetch("warm", false, 0)
	fetch("forced refresh", true, 1)
	now = now.Add(29 * time.Second)
	fetch("forced again within 30 s", true, 0)
	now = now.Add(2 * time.Second)
	fetch("forced after 30 s", true, 1)
	now = now.Add(59 * time.Minute)
	fetch("59 minutes later", false, 0)
	now = now.Add(2 * time.Minute)
	fetch("an hour later", false, 1)

	t.Run("a failed fetch keeps the keys held", func(t *testing.T) {
		now = now.Add(2 * time.Hour)
		idp.srv.Close()
		if set, err := keys.Keys(ctx, url, false); err != nil || set.Len() != 1 {
			t.Fatalf("keys = %v, %v", set, err)
		}
		if _, err := NewKeyCache(KeyCacheOptions{}).Keys(ctx, url, false); err == nil || errors.Is(err, context.Canceled) {
			t.Fatalf("without keys held: err = %v, want the fetch's", err)
		}
	})
}
