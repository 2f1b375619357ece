package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// How validate-jwt keeps the keys of an OpenID configuration.
const (
	// keysTTL is how long fetched keys are used before they are fetched
	// again.
	keysTTL = time.Hour
	// keysForcedEvery bounds the refreshes that a token no key verifies
	// forces (key rotation), so that forged tokens cannot hammer the
	// provider.
	keysForcedEvery = 30 * time.Second
	// keysIdle is how long an entry nobody asked for is kept: a URL that
	// left the configuration is forgotten after it.
	keysIdle = 24 * time.Hour
	// DefaultKeyFetchTimeout bounds one fetch of an OpenID configuration
	// and its key set unless KeyCacheOptions.Timeout says otherwise.
	DefaultKeyFetchTimeout = 10 * time.Second
)

// openIDClient fetches OpenID documents and key sets.
var openIDClient = &http.Client{Timeout: DefaultKeyFetchTimeout}

// KeyCache holds the signing keys that validate-jwt fetches from OpenID
// configurations (<openid-config url="…"/>), keyed by the configuration's
// URL. It belongs to the gateway, not to a snapshot: every compiled
// validate-jwt of every snapshot naming the same URL shares one entry, so
// a configuration change does not fetch the keys again. The gateway passes
// it to the compiler in Env.Keys.
//
// Keys are kept for an hour; a token that no key verifies forces a refresh
// (key rotation), at most once every 30 s per URL. When a fetch fails, the
// keys already held are kept and used. Concurrent callers that need a fetch
// share one: it runs on its own, bounded by KeyCacheOptions.Timeout, and
// each caller waits for it only as long as its own context lasts, so a
// request that ends stops waiting without cancelling the fetch for the
// others. A KeyCache is safe for concurrent use.
type KeyCache struct {
	client  *http.Client
	timeout time.Duration
	now     func() time.Time

	mu      sync.RWMutex
	entries map[string]*keyEntry
}

// KeyCacheOptions configure a KeyCache. The zero value is usable.
type KeyCacheOptions struct {
	// Client fetches the documents and key sets; a shared client with a
	// 10 s timeout when nil.
	Client *http.Client
	// Timeout bounds one fetch, the configuration document and the key
	// set together (DefaultKeyFetchTimeout when <= 0).
	Timeout time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// NewKeyCache returns an empty KeyCache.
func NewKeyCache(o KeyCacheOptions) *KeyCache {
	if o.Client == nil {
		o.Client = openIDClient
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultKeyFetchTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &KeyCache{client: o.Client, timeout: o.Timeout, now: o.Now, entries: map[string]*keyEntry{}}
}

// keyEntry is the state of one URL.
type keyEntry struct {
	used atomic.Int64 // unix nanoseconds of the last Keys call, for eviction

	mu      sync.Mutex
	set     jwk.Set   // nil until a fetch succeeded
	fetched time.Time // when set was fetched
	forced  time.Time // when a refresh was last forced
	flight  *keyFetch // the fetch in progress, nil when none
}

// keyFetch is one fetch that callers wait for.
type keyFetch struct {
	done    chan struct{} // closed when set and err are final
	set     jwk.Set
	err     error
	waiters int // callers that waited for it (read by tests)
}

// Keys returns the keys of the OpenID configuration at configURL, fetching
// them when none are held or they are older than an hour. refresh asks for
// a fresh fetch (a token no held key verifies); it is honoured at most once
// every 30 s. When ctx ends before a needed fetch completes, Keys returns
// ctx's error and the fetch goes on for the other callers and the cache.
func (k *KeyCache) Keys(ctx context.Context, configURL string, refresh bool) (jwk.Set, error) {
	e := k.entry(configURL)
	now := k.now()
	e.used.Store(now.UnixNano())
	e.mu.Lock()
	fresh := e.set != nil && now.Sub(e.fetched) < keysTTL
	if fresh && (!refresh || now.Sub(e.forced) < keysForcedEvery) {
		set := e.set
		e.mu.Unlock()
		return set, nil
	}
	if refresh {
		e.forced = now
	}
	f := e.flight
	if f == nil {
		f = &keyFetch{done: make(chan struct{})}
		e.flight = f
		go k.fetch(configURL, e, f)
	}
	f.waiters++
	e.mu.Unlock()
	select {
	case <-f.done:
		return f.set, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// entry returns the entry of url, creating it.
func (k *KeyCache) entry(url string) *keyEntry {
	k.mu.RLock()
	e := k.entries[url]
	k.mu.RUnlock()
	if e != nil {
		return e
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if e = k.entries[url]; e == nil {
		e = &keyEntry{}
		k.entries[url] = e
		k.sweep()
	}
	return e
}

// sweep forgets the entries nobody asked for in keysIdle. The caller holds
// k.mu; a fetch still running for a forgotten entry completes for its
// waiters.
func (k *KeyCache) sweep() {
	cutoff := k.now().Add(-keysIdle).UnixNano()
	for url, e := range k.entries {
		if u := e.used.Load(); u != 0 && u < cutoff {
			delete(k.entries, url)
		}
	}
}

// fetch runs f for e: with its own timeout, whoever waits.
func (k *KeyCache) fetch(configURL string, e *keyEntry, f *keyFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	set, err := fetchOpenIDKeys(ctx, k.client, configURL)
	e.mu.Lock()
	switch {
	case err == nil:
		e.set, e.fetched = set, k.now()
		f.set = set
	case e.set != nil:
		f.set = e.set // keep the keys we have
	default:
		f.err = err
	}
	e.flight = nil
	e.mu.Unlock()
	close(f.done)
}

// fetchOpenIDKeys reads the OpenID configuration document at configURL and
// the key set its jwks_uri names.
func fetchOpenIDKeys(ctx context.Context, client *http.Client, configURL string) (jwk.Set, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, configURL, nil)
	if err != nil {
		return nil, fmt.Errorf("openid-config %s: %w", configURL, err)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("openid-config %s: %w", configURL, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("openid-config %s: %s", configURL, res.Status)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil || doc.JWKSURI == "" {
		return nil, fmt.Errorf("openid-config %s: no jwks_uri", configURL)
	}
	set, err := jwk.Fetch(ctx, doc.JWKSURI, jwk.WithHTTPClient(client))
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", doc.JWKSURI, err)
	}
	return set, nil
}
