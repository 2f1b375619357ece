package policy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxBodyBytes bounds a body that a policy buffers when the Context
// sets no limit.
const DefaultMaxBodyBytes = 100 << 20

// Context is everything a policy sees of one request. The gateway builds it;
// it holds no pointer to the gateway, only the hooks below. It is used by
// one goroutine at a time and must not be kept after the request ends.
type Context struct {
	// RequestID is the gateway's request id.
	RequestID string
	// In is the inbound request as received. Policies must not modify it.
	In *http.Request
	// Ctx is the request's context, when it is not In's: it ends when the
	// client goes away, the request's time runs out (the gateway's
	// --request-timeout) or the gateway stops. Expressions stop when it
	// ends, and so do the waits and calls of retry and send-request. Nil
	// means In's context.
	Ctx context.Context
	// ClientIP is the caller's address.
	ClientIP netip.Addr
	// Request is the request that will be forwarded; inbound policies edit it.
	Request Request
	// Response is the response that will be sent; it is set by
	// forward-request, return-response, mock-response or an error, and
	// outbound policies edit it.
	Response Response
	// Variables are context.Variables.
	Variables map[string]any
	// LastError is set when the request went to on-error: the failing
	// step's error, located (Source, Section, Path, PolicyID) and with its
	// Status set. It is APIM's context.LastError.
	LastError *Error

	// API, Operation, Product, Subscription and User describe what the
	// request matched; empty when there is none.
	API          APIInfo
	Operation    OperationInfo
	Product      ProductInfo
	Subscription SubscriptionInfo
	User         UserInfo

	// Backend forwards the request; nil means no backend is reachable and
	// forward-request fails with BackendConnectionFailure.
	Backend Backend
	// Counters keeps rate-limit and quota counters; nil disables limits
	// (every call passes).
	Counters Counters
	// Cache is the cache of the cache-* policies; nil disables caching
	// (lookups miss, stores do nothing). Like Counters it outlives
	// snapshots.
	Cache Cache
	// Metric receives the metrics of emit-metric; nil drops them. It is
	// called on the request's goroutine and must not block.
	Metric func(m Metric)
	// HTTPClient sends the calls of send-request and send-one-way-request;
	// nil uses a shared client that does not follow redirects. It must not
	// follow redirects either when set.
	HTTPClient *http.Client
	// Trace receives trace policy output; nil drops it.
	Trace func(source, severity, message string)
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// CacheLookup is what cache-lookup did, for the request record's cache
	// field: "" when it did not look up (no cache-lookup, not a GET, an
	// Authorization header without allow-private-response-caching), "hit"
	// when it answered from the cache, "miss" when it did not find the
	// response (cache-lookup-value does not count, as in APIM).
	CacheLookup string

	section  section
	cacheKey string    // the key cache-lookup missed, for cache-store
	expr     *exprView // the expressions' context object, built on first use
	stopped  bool
	elapsed  time.Duration
	released []func()
	after    []func(c *Context)
}

// APIInfo describes the matched API.
type APIInfo struct{ ID, Name, Path string }

// OperationInfo describes the matched operation; Params are the captured
// template parameters (names and unescaped values) in template order.
type OperationInfo struct {
	ID, Name, Method, URLTemplate string
	Params                        []Param
	// Examples are the operation's example responses, which mock-response
	// answers with. They are shared by every request: do not modify them.
	Examples []Example
}

// Example is one example response of an operation (from its OpenAPI
// description): a status code, a content type and the body to send.
type Example struct {
	Status      int
	ContentType string
	Body        []byte
}

// Param is one captured template parameter.
type Param struct{ Name, Value string }

// ProductInfo describes the product the call came through.
type ProductInfo struct{ ID, Name string }

// SubscriptionInfo describes the subscription of the presented key.
type SubscriptionInfo struct{ ID, Key string }

// UserInfo describes the subscription's owner.
type UserInfo struct{ ID string }

// Backend sends c.Request to the backend and sets c.Response. timeout, when
// positive, bounds the exchange up to the response headers. A failure is an
// *Error (BackendConnectionFailure, Timeout, ClientConnectionFailure).
type Backend interface {
	Forward(c *Context, timeout time.Duration) error
}

// Stop ends the pipeline after the current step: the Response is sent as it
// is (return-response, mock-response).
func (c *Context) Stop() { c.stopped = true }

// Stopped reports whether a step stopped the pipeline.
func (c *Context) Stopped() bool { return c.stopped }

// Section returns the name of the section being run.
func (c *Context) Section() string { return c.section.String() }

// OnRelease registers f to run when the request ends (limit-concurrency
// slots). The gateway calls Release.
func (c *Context) OnRelease(f func()) { c.released = append(c.released, f) }

// atEnd registers f to run when the pipeline has finished, whichever way
// (cors adds its headers to the final response this way).
func (c *Context) atEnd(f func(c *Context)) { c.after = append(c.after, f) }

func (c *Context) runAfter() {
	for _, f := range c.after {
		f(c)
	}
	c.after = nil
}

// Release runs the functions registered with OnRelease, last first.
func (c *Context) Release() {
	for i := len(c.released) - 1; i >= 0; i-- {
		c.released[i]()
	}
	c.released = nil
}

func (c *Context) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Var returns a variable.
func (c *Context) Var(name string) (any, bool) {
	v, ok := c.Variables[name]
	return v, ok
}

// SetVar sets a variable.
func (c *Context) SetVar(name string, v any) {
	if c.Variables == nil {
		c.Variables = map[string]any{}
	}
	c.Variables[name] = v
}

// Request is the outbound request. Its URL is Backend (the base URL of the
// API's service or of set-backend-service) joined with Path, plus RawQuery.
type Request struct {
	Method string
	// Backend is the base URL the request is forwarded to. Policies replace
	// it; they never modify the URL it points to.
	Backend *url.URL
	// Path is the escaped path relative to Backend, starting with '/'.
	Path string
	// RawQuery is the encoded query, without '?'.
	RawQuery string
	Header   http.Header
	Body     Body
	// Proxy is the HTTP proxy forward-request goes through (set by the
	// proxy policy), with its credentials in User; nil connects directly.
	// Policies replace it; they never modify the URL it points to.
	Proxy *url.URL
	// FollowRedirects asks the backend to follow 3xx answers (set by
	// forward-request follow-redirects="true" for its call only).
	FollowRedirects bool
}

// URL returns the full backend URL.
func (r *Request) URL() *url.URL {
	u := &url.URL{}
	if r.Backend != nil {
		*u = *r.Backend
	}
	escaped := JoinPath(u.EscapedPath(), r.Path)
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else {
		u.Path, u.RawPath = escaped, ""
	}
	switch {
	case u.RawQuery == "":
		u.RawQuery = r.RawQuery
	case r.RawQuery != "":
		u.RawQuery += "&" + r.RawQuery
	}
	return u
}

// JoinPath appends rest (which starts with '/') to the escaped base path
// without doubling the slash.
func JoinPath(base, rest string) string {
	if rest == "" || rest[0] != '/' {
		rest = "/" + rest
	}
	if base == "" || base == "/" {
		return rest
	}
	if strings.HasSuffix(base, "/") {
		return base + rest[1:]
	}
	return base + rest
}

// Response is the response being built.
type Response struct {
	// StatusCode is 0 until something set the response.
	StatusCode int
	Header     http.Header
	Body       Body
	// Sent reports that the response was already written to the client
	// (an upgraded connection): outbound policies have nothing to edit.
	Sent bool
}

// reset makes r an empty response with status code.
func (r *Response) reset(status int) {
	r.Body.Close()
	*r = Response{StatusCode: status, Header: http.Header{}}
}

// Body is a message body: a stream read at most once, or bytes once a
// policy buffered or replaced it. Bodies are buffered only when a policy
// reads or rewrites them.
type Body struct {
	stream   io.ReadCloser
	length   int64
	data     []byte
	buffered bool
	// Limit bounds buffering; DefaultMaxBodyBytes when 0.
	Limit int64
}

// SetStream makes the body the stream r of length n (-1 when unknown).
func (b *Body) SetStream(r io.ReadCloser, n int64) {
	b.Close()
	*b = Body{stream: r, length: n, Limit: b.Limit}
}

// Set replaces the body with p.
func (b *Body) Set(p []byte) {
	b.Close()
	*b = Body{data: p, buffered: true, Limit: b.Limit}
}

// Buffered reports whether the body is held in memory.
func (b *Body) Buffered() bool { return b.buffered }

// Bytes returns the body, reading the stream into memory first. The
// stream is closed.
func (b *Body) Bytes() ([]byte, error) {
	if b.buffered {
		return b.data, nil
	}
	if b.stream == nil {
		b.buffered = true
		return nil, nil
	}
	limit := b.Limit
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	data, err := io.ReadAll(io.LimitReader(b.stream, limit+1))
	b.stream.Close()
	b.stream = nil
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	b.data, b.buffered = data, true
	return data, nil
}

// Reader returns the body to send and its length (-1 when unknown). The
// Body must not be used afterwards.
func (b *Body) Reader() (io.ReadCloser, int64) {
	if b.buffered {
		if len(b.data) == 0 {
			return http.NoBody, 0
		}
		return io.NopCloser(bytes.NewReader(b.data)), int64(len(b.data))
	}
	if b.stream == nil {
		return http.NoBody, 0
	}
	r := b.stream
	b.stream = nil
	return r, b.length
}

// Close discards a stream that was not read.
func (b *Body) Close() {
	if b.stream != nil {
		b.stream.Close()
		b.stream = nil
	}
}
