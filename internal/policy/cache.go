package policy

import (
	"bytes"
	"container/list"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Cache is the cache of the cache-lookup-value, cache-store-value,
// cache-remove-value, cache-lookup and cache-store policies. It outlives
// snapshots (the gateway owns it, like Counters), so a reload keeps cached
// entries. Values are bytes, so that an implementation may live outside
// the process. Implementations must be safe for concurrent use.
//
// ctx is the request's context. As with Counters, a call that needs a
// remote store stops when ctx ends and returns ctx's error, which is the
// only error: a failure of the store is answered by the implementation
// (counter.Cache uses a local cache then).
type Cache interface {
	// Get returns the value of key unless it is missing or expired at now.
	Get(ctx context.Context, key string, now time.Time) ([]byte, bool, error)
	// Set stores value under key until now+ttl. It may drop the value (too
	// large) or evict others to stay within its bounds.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration, now time.Time) error
	// Delete removes key.
	Delete(ctx context.Context, key string) error
}

// MemoryCache is a Cache held in the process, bounded in bytes, evicting
// the least recently used entries first. The zero value is not usable;
// call NewMemoryCache.
type MemoryCache struct {
	mu       sync.Mutex
	max      int64
	used     int64
	entries  map[string]*list.Element
	lru      *list.List // front: most recently used
	maxEntry int64
}

type cacheEntry struct {
	key     string
	value   []byte
	expires time.Time
}

func (e *cacheEntry) size() int64 { return int64(len(e.key) + len(e.value) + 64) }

// NewMemoryCache returns an empty cache holding at most maxBytes (keys and
// values); one value may take at most half of it.
func NewMemoryCache(maxBytes int64) *MemoryCache {
	return &MemoryCache{max: maxBytes, maxEntry: maxBytes / 2, entries: map[string]*list.Element{}, lru: list.New()}
}

// Get implements Cache. It never waits, so it ignores ctx and never
// fails.
func (m *MemoryCache) Get(_ context.Context, key string, now time.Time) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[key]
	if !ok {
		return nil, false, nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		m.remove(el)
		return nil, false, nil
	}
	m.lru.MoveToFront(el)
	return e.value, true, nil
}

// Set implements Cache; like Get it ignores ctx. The stored slice must not
// be modified afterwards.
func (m *MemoryCache) Set(_ context.Context, key string, value []byte, ttl time.Duration, now time.Time) error {
	e := &cacheEntry{key: key, value: value, expires: now.Add(ttl)}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[key]; ok {
		m.remove(el)
	}
	if ttl <= 0 || e.size() > m.maxEntry {
		return nil
	}
	for m.used+e.size() > m.max && m.lru.Len() > 0 {
		m.remove(m.lru.Back())
	}
	m.entries[key] = m.lru.PushFront(e)
	m.used += e.size()
	return nil
}

// Delete implements Cache; like Get it ignores ctx.
func (m *MemoryCache) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[key]; ok {
		m.remove(el)
	}
	return nil
}

// Len returns the number of entries, expired ones included.
func (m *MemoryCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

func (m *MemoryCache) remove(el *list.Element) {
	e := m.lru.Remove(el).(*cacheEntry)
	delete(m.entries, e.key)
	m.used -= e.size()
}

// cacheError is the error of a cache-* step when the cache failed: the
// request's context ended (the only error Cache returns).
func cacheError(err error) error { return requestEnded(err, "the cache was consulted") }

// Cache keys of values and of responses never collide.
const (
	valueKeyPrefix    = "value\x00"
	responseKeyPrefix = "response\x00"
)

// encodeCacheValue stores a value of cache-store-value with its type:
// strings, booleans, integers and floats come back as they were; anything
// else (a JObject, for example) is stored as its text.
func encodeCacheValue(v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte{'n'}
	case bool:
		if x {
			return []byte{'b', 1}
		}
		return []byte{'b', 0}
	case int:
		return binary.BigEndian.AppendUint64([]byte{'i'}, uint64(int64(x)))
	case int32:
		return binary.BigEndian.AppendUint64([]byte{'i'}, uint64(int64(x)))
	case int64:
		return binary.BigEndian.AppendUint64([]byte{'i'}, uint64(x))
	case float64:
		return binary.BigEndian.AppendUint64([]byte{'f'}, math.Float64bits(x))
	case string:
		return append([]byte{'s'}, x...)
	}
	return append([]byte{'s'}, toString(v)...)
}

func decodeCacheValue(b []byte) (any, bool) {
	if len(b) == 0 {
		return nil, false
	}
	switch b[0] {
	case 'n':
		return nil, true
	case 'b':
		return len(b) == 2 && b[1] == 1, len(b) == 2
	case 'i':
		if len(b) != 9 {
			return nil, false
		}
		n := int64(binary.BigEndian.Uint64(b[1:]))
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n), true
		}
		return n, true
	case 'f':
		if len(b) != 9 {
			return nil, false
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b[1:])), true
	case 's':
		return string(b[1:]), true
	}
	return nil, false
}

// readCachingType accepts APIM's caching-type; Portico has one cache.
func readCachingType(b *Builder) string {
	return b.Enum("caching-type", "prefer-external", "internal", "external", "prefer-external")
}

// cacheLookupValue is <cache-lookup-value key default-value variable-name caching-type/>.
type cacheLookupValue struct {
	StepInfo
	key, def Value
	hasDef   bool
	varName  string
}

func newCacheLookupValue(b *Builder) (Step, error) {
	s := &cacheLookupValue{StepInfo: b.Info(), key: b.Val("key", true), varName: b.Str("variable-name", true)}
	s.hasDef = b.Has("default-value")
	s.def = b.Val("default-value", false)
	readCachingType(b)
	b.NoChildren()
	return s, b.Err()
}

func (s *cacheLookupValue) describe() string {
	d := fmt.Sprintf("key=%s variable-name=%q", q(s.key), s.varName)
	if s.hasDef {
		d += " default-value=" + q(s.def)
	}
	return d
}

func (s *cacheLookupValue) Apply(c *Context) error {
	key, err := s.key.String(c)
	if err != nil {
		return err
	}
	if c.Cache != nil {
		raw, ok, err := c.Cache.Get(c.requestContext(), valueKeyPrefix+key, c.now())
		if err != nil {
			return cacheError(err)
		}
		if ok {
			if v, ok := decodeCacheValue(raw); ok {
				c.SetVar(s.varName, v)
				return nil
			}
		}
	}
	var v any
	if s.hasDef {
		if v, err = s.def.Eval(c); err != nil {
			return err
		}
	}
	c.SetVar(s.varName, v)
	return nil
}

// cacheStoreValue is <cache-store-value key value duration caching-type/>.
type cacheStoreValue struct {
	StepInfo
	key, value, duration Value
}

func newCacheStoreValue(b *Builder) (Step, error) {
	s := &cacheStoreValue{StepInfo: b.Info(), key: b.Val("key", true), value: b.Val("value", true), duration: b.Val("duration", true)}
	if b.Err() == nil && s.duration.IsLiteral() {
		if n, err := s.duration.Int(nil); err != nil || n < 1 {
			b.Errorf("duration", "attribute \"duration\" must be a positive number of seconds")
		}
	}
	readCachingType(b)
	b.NoChildren()
	return s, b.Err()
}

func (s *cacheStoreValue) describe() string {
	return fmt.Sprintf("key=%s value=%s duration=%s", q(s.key), q(s.value), q(s.duration))
}

func (s *cacheStoreValue) Apply(c *Context) error {
	key, err := s.key.String(c)
	if err != nil {
		return err
	}
	v, err := s.value.Eval(c)
	if err != nil {
		return err
	}
	secs, err := s.duration.Int(c)
	if err != nil {
		return err
	}
	if c.Cache != nil && secs > 0 {
		if err := c.Cache.Set(c.requestContext(), valueKeyPrefix+key, encodeCacheValue(v), time.Duration(secs)*time.Second, c.now()); err != nil {
			return cacheError(err)
		}
	}
	return nil
}

// cacheRemoveValue is <cache-remove-value key caching-type/>.
type cacheRemoveValue struct {
	StepInfo
	key Value
}

func newCacheRemoveValue(b *Builder) (Step, error) {
	s := &cacheRemoveValue{StepInfo: b.Info(), key: b.Val("key", true)}
	readCachingType(b)
	b.NoChildren()
	return s, b.Err()
}

func (s *cacheRemoveValue) describe() string { return "key=" + q(s.key) }

func (s *cacheRemoveValue) Apply(c *Context) error {
	key, err := s.key.String(c)
	if err != nil {
		return err
	}
	if c.Cache != nil {
		if err := c.Cache.Delete(c.requestContext(), valueKeyPrefix+key); err != nil {
			return cacheError(err)
		}
	}
	return nil
}

// cacheLookup is <cache-lookup vary-by-developer vary-by-developer-groups
// …><vary-by-header/><vary-by-query-parameter/></cache-lookup>: a GET
// answered from the cache, or the key that cache-store fills.
type cacheLookup struct {
	StepInfo
	byDeveloper, byGroups bool
	allowPrivate          bool
	headers, params       []string
}

func newCacheLookup(b *Builder) (Step, error) {
	s := &cacheLookup{StepInfo: b.Info()}
	for _, a := range []string{"vary-by-developer", "vary-by-developer-groups"} {
		if !b.Has(a) {
			b.Errorf("", "attribute %q is required", a)
		}
	}
	s.byDeveloper = b.Bool("vary-by-developer", false)
	s.byGroups = b.Bool("vary-by-developer-groups", false)
	s.allowPrivate = b.Bool("allow-private-response-caching", false)
	b.Enum("downstream-caching-type", "none", "none", "private", "public")
	b.Bool("must-revalidate", true)
	readCachingType(b)
	for _, ch := range b.Children("vary-by-header", "vary-by-query-parameter") {
		ch.NoChildren()
		v := ch.Text()
		name := strings.TrimSpace(v.Lit())
		if ch.Err() == nil && (!v.IsLiteral() || name == "") {
			ch.Errorf("", "<%s> must hold a literal name", ch.Node().Name)
		}
		if ch.Node().Name == "vary-by-header" {
			s.headers = append(s.headers, http.CanonicalHeaderKey(name))
		} else {
			s.params = append(s.params, name)
		}
		b.Close(ch)
	}
	return s, b.Err()
}

func (s *cacheLookup) describe() string {
	d := fmt.Sprintf("vary-by-developer=%t vary-by-developer-groups=%t", s.byDeveloper, s.byGroups)
	if s.allowPrivate {
		d += " allow-private-response-caching=true"
	}
	for _, h := range s.headers {
		d += fmt.Sprintf(" vary-by-header=%q", h)
	}
	for _, p := range s.params {
		d += fmt.Sprintf(" vary-by-query-parameter=%q", p)
	}
	return d
}

// key is the cache key of the request: the API, operation and product, the
// path, the listed query parameters (the whole query when none is listed),
// the listed headers and, when asked, the developer.
func (s *cacheLookup) key(c *Context) string {
	var b strings.Builder
	b.WriteString(responseKeyPrefix)
	for _, p := range []string{c.API.ID, c.Operation.ID, c.Product.ID, c.Request.Method, c.Request.URL().Path} {
		b.WriteString(p)
		b.WriteByte(0)
	}
	if len(s.params) == 0 {
		qv, _ := url.ParseQuery(c.Request.RawQuery)
		b.WriteString(qv.Encode())
	} else {
		qv, _ := url.ParseQuery(c.Request.RawQuery)
		for _, p := range s.params {
			vs := slices.Clone(qv[p])
			slices.Sort(vs)
			b.WriteString(url.QueryEscape(p) + "=" + url.QueryEscape(strings.Join(vs, ",")) + "&")
		}
	}
	b.WriteByte(0)
	for _, h := range s.headers {
		b.WriteString(h + ":" + strings.Join(c.Request.Header.Values(h), ",") + "\n")
	}
	if s.byDeveloper || s.byGroups {
		b.WriteString("\x00user=" + c.User.ID + "\x00sub=" + c.Subscription.ID)
	}
	return b.String()
}

// cachedResponse is a response as cache-store keeps it.
type cachedResponse struct {
	Status int         `json:"s"`
	Header http.Header `json:"h"`
	Body   []byte      `json:"b"`
}

func (s *cacheLookup) Apply(c *Context) error {
	c.cacheKey = ""
	if c.Cache == nil || c.Request.Method != http.MethodGet {
		return nil
	}
	if !s.allowPrivate && c.Request.Header.Get("Authorization") != "" {
		return nil
	}
	key := s.key(c)
	raw, ok, err := c.Cache.Get(c.requestContext(), key, c.now())
	if err != nil {
		return cacheError(err)
	}
	if ok {
		var cr cachedResponse
		if err := json.Unmarshal(raw, &cr); err == nil {
			c.Response.reset(cr.Status)
			for k, vs := range cr.Header {
				c.Response.Header[k] = slices.Clone(vs)
			}
			c.Response.Body.Set(cr.Body)
			c.Stop()
			c.CacheLookup = CacheHit
			return nil
		}
	}
	c.cacheKey = key
	c.CacheLookup = CacheMiss
	return nil
}

// Values of Context.CacheLookup (those of the request record's cache
// field).
const (
	CacheHit  = "hit"
	CacheMiss = "miss"
)

// maxCachedResponseBytes bounds a response body cache-store keeps.
const maxCachedResponseBytes = 4 << 20

// cacheStore is <cache-store duration cache-response/>: it keeps the
// response of a GET that cache-lookup missed.
type cacheStore struct {
	StepInfo
	duration      Value
	cacheResponse Value
	hasCond       bool
}

func newCacheStore(b *Builder) (Step, error) {
	s := &cacheStore{StepInfo: b.Info(), duration: b.Val("duration", true)}
	if b.Err() == nil && s.duration.IsLiteral() {
		if n, err := s.duration.Int(nil); err != nil || n < 1 {
			b.Errorf("duration", "attribute \"duration\" must be a positive number of seconds")
		}
	}
	s.hasCond = b.Has("cache-response")
	s.cacheResponse = b.Val("cache-response", false)
	if b.Err() == nil && s.hasCond && s.cacheResponse.IsLiteral() {
		if _, err := s.cacheResponse.Bool(nil); err != nil {
			b.Errorf("cache-response", "attribute \"cache-response\" must be true, false or a boolean expression")
		}
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *cacheStore) describe() string {
	d := "duration=" + q(s.duration)
	if s.hasCond {
		d += " cache-response=" + q(s.cacheResponse)
	}
	return d
}

func (s *cacheStore) Apply(c *Context) error {
	if c.Cache == nil || c.cacheKey == "" || c.Response.Sent {
		return nil
	}
	key := c.cacheKey
	c.cacheKey = ""
	if s.hasCond {
		ok, err := s.cacheResponse.Bool(c)
		if err != nil || !ok {
			return err
		}
	} else if c.Response.StatusCode != http.StatusOK {
		return nil
	}
	if c.Response.Header.Get("Set-Cookie") != "" {
		return nil
	}
	secs, err := s.duration.Int(c)
	if err != nil || secs < 1 {
		return err
	}
	data, fits, err := c.Response.Body.peek(maxCachedResponseBytes)
	if err != nil {
		return &Error{Status: http.StatusBadGateway, Reason: ReasonBackendConnectionFailure, Message: "The backend response could not be read.", Err: err}
	}
	if !fits {
		// Too large to cache: the response goes on as it is.
		return nil
	}
	h := http.Header{}
	for k, vs := range c.Response.Header {
		switch k {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Date":
			continue
		}
		h[k] = slices.Clone(vs)
	}
	raw, err := json.Marshal(cachedResponse{Status: c.Response.StatusCode, Header: h, Body: data})
	if err == nil {
		if err := c.Cache.Set(c.requestContext(), key, raw, time.Duration(secs)*time.Second, c.now()); err != nil {
			return cacheError(err)
		}
	}
	return nil
}

// peek returns the body when it holds at most max bytes. A larger stream
// is left whole (what was read is put back in front of the rest), so the
// response goes on unchanged.
func (b *Body) peek(max int64) ([]byte, bool, error) {
	if b.buffered {
		return b.data, int64(len(b.data)) <= max, nil
	}
	if b.stream == nil {
		return nil, true, nil
	}
	if b.length > max {
		return nil, false, nil
	}
	head, err := io.ReadAll(io.LimitReader(b.stream, max+1))
	if err != nil {
		b.stream.Close()
		b.stream = nil
		return nil, false, err
	}
	if int64(len(head)) > max {
		b.stream = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), b.stream), b.stream}
		return nil, false, nil
	}
	b.stream.Close()
	b.stream = nil
	b.data, b.buffered = head, true
	return head, true, nil
}
