package gateway

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
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

// rewrite builds the fast path's outbound request with the forwarding
// core (forward.go): the inbound request seeded by seedOutbound, sent to
// the API's service URL (resolveBackend) with the rest of the path after
// the API path and the query without the subscription key parameter, and
// finished by finishOutbound. It never modifies pr.In.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	req := FromContext(pr.In.Context())
	api := req.API
	seedOutbound(pr.Out.Header, pr.In, api)
	t := g.resolveBackend(req, api.ServiceURL, nil)
	finishOutbound(pr, req, t, req.Rest, backendQuery(pr.In, api), true)
}

// modifyResponse records the backend's answer (backendResponded).
func modifyResponse(res *http.Response) error {
	if req := FromContext(res.Request.Context()); req != nil {
		backendResponded(req, res)
	}
	return nil
}

// proxyError answers a request that could not be forwarded, as
// backendError maps the failure; when the client went away nothing is
// written.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	req := FromContext(r.Context())
	e := g.backendError(w, req, r, r.Context(), err)
	req.Err = e
	if e.Status != policy.StatusClientClosedRequest {
		policy.WriteError(w, e)
	}
}

// backendTransport sends each outbound request of both paths through the
// pooled transport of its backend origin, reached through the HTTP proxy of
// the request's backendTarget when it has one, and times it.
type backendTransport struct {
	g *Gateway
}

func (t backendTransport) RoundTrip(out *http.Request) (*http.Response, error) {
	req := FromContext(out.Context())
	var proxy *url.URL
	if req != nil {
		proxy = req.target.Proxy
	}
	rt := t.g.pool.get(out.URL.Scheme, out.URL.Host, proxy)
	start := time.Now()
	res, err := rt.RoundTrip(out)
	if req != nil && req.API != nil {
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
