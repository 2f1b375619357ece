package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/snapshot"
)

// newProxy builds the reverse proxy that forwards routed, authorised
// requests. It streams both bodies, keeps trailers, passes Upgrade
// (WebSocket) through and removes hop-by-hop headers (httputil does).
func (g *Gateway) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      backendTransport{g: g},
		ModifyResponse: modifyResponse,
		ErrorHandler:   g.proxyError,
		BufferPool:     &bufferPool{},
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
}

// rewrite builds the outbound request: serviceUrl + the rest of the path
// after the API path + the query without the subscription key parameter;
// the key header removed; X-Forwarded-For (appended to the inbound chain),
// -Host and -Proto and X-Request-Id set. It never modifies pr.In.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	req := FromContext(pr.In.Context())
	api := req.API
	target := api.ServiceURL
	out := pr.Out

	out.URL.Scheme = target.Scheme
	out.URL.Host = target.Host
	out.URL.User = nil
	escaped := policy.JoinPath(target.EscapedPath(), req.Rest)
	if p, err := url.PathUnescape(escaped); err == nil {
		out.URL.Path, out.URL.RawPath = p, escaped
	} else {
		out.URL.Path, out.URL.RawPath = escaped, ""
	}
	q := removeQueryParam(out.URL.RawQuery, api.KeyQuery)
	switch {
	case target.RawQuery == "":
	case q == "":
		q = target.RawQuery
	default:
		q = target.RawQuery + "&" + q
	}
	out.URL.RawQuery = q
	out.Host = "" // the backend's own host, as APIM sends it

	out.Header.Del(api.KeyHeader)
	out.Header.Del(HeaderDebugAuthorization)
	if strings.EqualFold(out.Header.Get("Upgrade"), "h2c") {
		// An HTTP/2 upgrade is about this hop only: serve it as HTTP/1.1.
		out.Header.Del("Upgrade")
		out.Header.Del("Connection")
	}
	if prior, ok := pr.In.Header["X-Forwarded-For"]; ok {
		out.Header["X-Forwarded-For"] = slices.Clone(prior) // SetXForwarded appends the client to it
	}
	pr.SetXForwarded()
	out.Header.Set("X-Request-Id", req.ID)
	propagate(req, out.Header)
}

// modifyResponse records the backend's status and drops its X-Request-Id:
// the gateway's own id is already in the response headers.
func modifyResponse(res *http.Response) error {
	if req := FromContext(res.Request.Context()); req != nil {
		req.BackendStatus = res.StatusCode
	}
	res.Header.Del("X-Request-Id")
	return nil
}

// proxyError answers a request that could not be forwarded: 408 or 400
// when reading the client's body failed (see clientBody.fault), 413 when the
// body went over the limit, 504 on a timeout, 502 otherwise. When the client
// went away nothing is written.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	req := FromContext(r.Context())
	var e *RequestError
	var mbe *http.MaxBytesError
	if e = req.body.fault(r.Context().Err()); e != nil {
		// The client's body failed (stalled past the read timeout, or a
		// broken chunked encoding): its fault, not the backend's.
		req.Err = e
		w.Header().Set("Connection", "close")
		writeError(w, e)
		return
	}
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		req.Err = &RequestError{Status: StatusClientClosedRequest, Reason: ReasonClientDisconnected, Message: "client closed the request", Err: err, Source: SourceClient, Section: "backend"}
		return
	case errors.As(err, &mbe):
		e = errBodyTooLarge(mbe.Limit, err)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e = &RequestError{Status: http.StatusGatewayTimeout, Reason: ReasonTimeout, Message: msgTimeout, Err: err, Source: SourceForwardRequest, Section: "backend"}
	default:
		e = &RequestError{Status: http.StatusBadGateway, Reason: ReasonBackendConnection, Message: msgBadGateway, Err: err, Source: SourceForwardRequest, Section: "backend"}
	}
	req.Err = e
	if e.Status >= 500 {
		g.log.Warn("backend request failed", "request_id", req.ID, "api", req.API.ID, "status", e.Status, "err", err)
	}
	writeError(w, e)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// backendTransport sends each outbound request through the pooled transport
// of its backend origin (and HTTP proxy, when the proxy policy set one) and
// times it.
type backendTransport struct {
	g     *Gateway
	proxy *url.URL // nil: direct
}

func (t backendTransport) RoundTrip(out *http.Request) (*http.Response, error) {
	rt := t.g.pool.get(out.URL.Scheme, out.URL.Host, t.proxy)
	start := time.Now()
	res, err := rt.RoundTrip(out)
	if req := FromContext(out.Context()); req != nil && req.API != nil {
		d := time.Since(start)
		t.g.metrics.backend.WithLabelValues(req.API.ID).Observe(d.Seconds())
		// RoundTrip runs on the goroutine serving the request, which owns req.
		req.BackendTime += d
		req.BackendURL = out.URL
		if req.trace != nil {
			req.trace.backend(out, res, err, d)
		}
		if req.spans != nil {
			req.spans.backend(out, res, err, start, d)
		}
	}
	return res, err
}

// origin identifies a backend's connection pool: its scheme and host, and
// the URL of the HTTP proxy it is reached through ("" when direct).
type origin struct{ scheme, host, proxy string }

// pool holds one transport (with its keep-alive connections) per backend
// origin. It lives as long as the Gateway, so publishing a snapshot never
// resets the connections of a backend that is still in use.
type pool struct {
	mu   sync.RWMutex
	m    map[origin]http.RoundTripper
	make func(scheme, host string) http.RoundTripper
	// makeProxied makes the transport of an origin reached through proxy.
	makeProxied func(proxy *url.URL) http.RoundTripper
}

func (p *pool) get(scheme, host string, proxy *url.URL) http.RoundTripper {
	k := origin{scheme: scheme, host: host}
	if proxy != nil {
		k.proxy = proxy.String()
	}
	p.mu.RLock()
	rt, ok := p.m[k]
	p.mu.RUnlock()
	if ok {
		return rt
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if rt, ok := p.m[k]; ok {
		return rt
	}
	if proxy != nil {
		rt = p.makeProxied(proxy)
	} else {
		rt = p.make(scheme, host)
	}
	p.m[k] = rt
	return rt
}

// retain drops the transports of origins s no longer uses (through any
// proxy), closing their idle connections; requests still in flight on them
// finish normally.
func (p *pool) retain(s *snapshot.Snapshot) {
	keep := map[origin]bool{}
	for _, a := range s.APIs() {
		keep[origin{scheme: a.ServiceURL.Scheme, host: a.ServiceURL.Host}] = true
	}
	for _, b := range s.Config().Backends {
		if cb := s.Backend(b.ID); cb != nil {
			keep[origin{scheme: cb.URL.Scheme, host: cb.URL.Host}] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, rt := range p.m {
		if !keep[origin{scheme: k.scheme, host: k.host}] {
			closeIdle(rt)
			delete(p.m, k)
		}
	}
}

func (p *pool) closeIdle() {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, rt := range p.m {
		closeIdle(rt)
	}
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// newTransport is the default transport of one backend origin.
func (g *Gateway) newTransport(string, string) http.RoundTripper {
	d := &net.Dialer{Timeout: g.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   g.cfg.MaxIdleConnsPerBackend,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   g.cfg.ConnectTimeout,
		ResponseHeaderTimeout: max(g.cfg.ResponseHeaderTimeout, 0),
		ExpectContinueTimeout: time.Second,
		// A proxy passes bodies through as they are: no transparent gzip.
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	if g.cfg.BackendTLS != nil {
		t.TLSClientConfig = g.cfg.BackendTLS.Clone()
	}
	return t
}

// newProxiedTransport is the transport of a backend origin reached through
// an HTTP proxy (CONNECT for https); credentials in proxy's user info are
// sent as Proxy-Authorization.
func (g *Gateway) newProxiedTransport(proxy *url.URL) http.RoundTripper {
	t := g.newTransport("", "").(*http.Transport)
	t.Proxy = http.ProxyURL(proxy)
	return t
}

// bufferPool recycles the 32 KiB buffers the proxy copies bodies through.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }
