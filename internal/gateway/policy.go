package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/policy"
)

// runPolicies serves a request whose operation has a non-trivial effective
// policy: it builds the policy context (the outbound request starts as the
// plain proxy path would send it), runs the pipeline, whose
// forward-request calls forward, and writes the resulting response. r is
// the inbound request carrying the gateway's context.
func (g *Gateway) runPolicies(w *statusWriter, req *Request, r *http.Request, p *policy.Pipeline, limit int64) {
	api := req.API
	fw := &forwarder{g: g, req: req, w: w, r: r}
	c := &policy.Context{
		RequestID: req.ID, In: req.In, Ctx: r.Context(), ClientIP: clientIP(r.RemoteAddr),
		Backend: fw, Counters: g.counters, Cache: g.cache, Metric: g.metrics.emit,
		API:          policy.APIInfo{ID: api.ID, Name: api.DisplayName, Path: api.Path},
		Operation:    policy.OperationInfo{ID: req.Operation.ID, Name: req.Operation.DisplayName, Method: req.Operation.Method, URLTemplate: req.Operation.URLTemplate, Examples: req.Operation.Examples},
		Subscription: policy.SubscriptionInfo{ID: req.SubscriptionID, Key: req.SubscriptionKey},
		User:         policy.UserInfo{ID: req.UserID},
	}
	for _, prm := range req.Params {
		v, err := url.PathUnescape(prm.Value)
		if err != nil {
			v = prm.Value
		}
		c.Operation.Params = append(c.Operation.Params, policy.Param{Name: prm.Name, Value: v})
	}
	if req.Product != nil {
		c.Product = policy.ProductInfo{ID: req.Product.ID, Name: req.Product.DisplayName}
	}
	// The policies start from the request the fast path would send, before
	// finishOutbound (see forward.go).
	c.Request = policy.Request{Method: r.Method, Backend: api.ServiceURL, Path: req.Rest,
		RawQuery: backendQuery(r, api), Header: r.Header.Clone()}
	seedOutbound(c.Request.Header, r, api)
	c.Trace = func(source, severity, msg string) {
		g.log.Debug("policy trace", "request_id", req.ID, "source", source, "severity", severity, "message", msg)
	}
	if req.trace != nil || req.spans != nil {
		c.Backend = &tracingForwarder{forwarder: fw, t: req.trace, sp: req.spans}
	}
	if t := req.trace; t != nil {
		c.Trace = func(source, severity, msg string) { t.output(c.Section(), source, severity, msg) }
	}
	c.Request.Body.Limit = limit
	if r.Body != nil && r.Body != http.NoBody {
		c.Request.Body.SetStream(r.Body, r.ContentLength)
	}
	defer c.Release()

	p.Run(c)
	req.Cache = c.CacheLookup
	if req.spans != nil {
		req.spans.closeSection(time.Now())
	}

	if le := c.LastError; le != nil {
		req.Err = le
		if le.Status == policy.StatusClientClosedRequest {
			c.Response.Body.Close()
			return
		}
	}
	if c.Response.Sent {
		return
	}
	g.writeResponse(w, r, &c.Response)
}

// writeResponse sends a policy response, streaming a body that no policy
// buffered.
func (g *Gateway) writeResponse(w *statusWriter, r *http.Request, res *policy.Response) {
	body, n := res.Body.Reader()
	defer body.Close()
	h := w.Header()
	for k, vs := range res.Header {
		if k == "X-Request-Id" {
			continue
		}
		h[k] = vs
	}
	h.Del("Content-Length")
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	noBody := r.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if n >= 0 && !(noBody && n == 0 && r.Method == http.MethodHead) {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	w.WriteHeader(status)
	if noBody {
		return
	}
	buf := g.proxy.BufferPool.Get()
	defer g.proxy.BufferPool.Put(buf)
	var dst io.Writer = w
	if n < 0 {
		dst = flushWriter{w}
	}
	if _, err := io.CopyBuffer(dst, body, buf); err != nil {
		g.log.Debug("response body copy ended early", "err", err)
	}
}

// flushWriter flushes after every write, for bodies of unknown length
// (server-sent events, long polls).
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}

// forwarder is the gateway's policy.Backend: forward-request sends the
// policy's outbound request through the pooled backend transports.
type forwarder struct {
	g   *Gateway
	req *Request
	w   http.ResponseWriter
	r   *http.Request
}

// Forward implements policy.Backend with the forwarding core (forward.go):
// c.Request, as the policies left it, is sent to the backend resolveBackend
// picks and finished by finishOutbound; a failure is mapped by
// backendError. Upgrade requests (WebSocket) are handed to the streaming
// proxy as they are, which answers the client directly: request edits of
// inbound policies and outbound policies do not apply to them.
//
// A failure is the forward-request step's: it is returned without Source
// and Section, so that the runner locates it at that step
// (context.LastError.Source "forward-request", its Path and PolicyId), as
// APIM does.
func (f *forwarder) Forward(c *policy.Context, timeout time.Duration) error {
	if up := f.r.Header.Get("Upgrade"); up != "" && !strings.EqualFold(up, "h2c") {
		f.g.proxy.ServeHTTP(f.w, f.r)
		c.Response.Sent = true
		if e := f.req.Err; e != nil {
			le := *e
			return stepError(&le)
		}
		return nil
	}
	ctx := f.r.Context()
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	var replay []byte // the body to resend on a 307/308 redirect
	if c.Request.FollowRedirects && c.Request.Body.Buffered() {
		replay, _ = c.Request.Body.Bytes()
	}
	body, n := c.Request.Body.Reader()
	out := &http.Request{
		Method: c.Request.Method, URL: &url.URL{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.Request.Header.Clone(), Body: body, ContentLength: n,
	}
	if n == 0 {
		out.Body = http.NoBody
	}
	out = out.WithContext(ctx)
	if out.Header == nil {
		out.Header = http.Header{}
	}
	t := f.g.resolveBackend(f.req, c.Request.Backend, c.Request.Proxy)
	finishOutbound(&httputil.ProxyRequest{In: f.r, Out: out}, f.req, t, c.Request.Path, c.Request.RawQuery, false)

	rt := backendTransport{g: f.g}
	res, err := rt.RoundTrip(out)
	for hops := 0; err == nil && c.Request.FollowRedirects && hops < maxRedirects; hops++ {
		next := redirectRequest(out, res, replay)
		if next == nil {
			break
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		out = next
		res, err = rt.RoundTrip(out)
	}
	if err != nil {
		cancel()
		return stepError(f.g.backendError(f.w, f.req, f.r, ctx, err))
	}
	backendResponded(f.req, res)
	removeHopHeaders(res.Header) // httputil.ReverseProxy does this on the fast path
	c.Response.StatusCode, c.Response.Header = res.StatusCode, res.Header
	c.Response.Body.SetStream(cancelOnClose{res.Body, cancel}, res.ContentLength)
	return nil
}

// stepError hands e, a failure of the forward-request step, to the runner,
// which locates it (see Forward).
func stepError(e *policy.Error) *policy.Error {
	e.Source, e.Section = "", ""
	return e
}

// cancelOnClose ends the exchange's timeout context once the body is done.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func clientIP(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(remote)
	return a
}

// maxRedirects bounds the redirects forward-request follow-redirects="true"
// follows.
const maxRedirects = 10

// redirectRequest returns the request that follows the redirect res
// answered to out, or nil when res is not one to follow: 301, 302 and 303
// become a GET without body (HEAD stays HEAD); 307 and 308 repeat the method
// and body, which needs the body in replay (or no body).
func redirectRequest(out *http.Request, res *http.Response, replay []byte) *http.Request {
	loc := res.Header.Get("Location")
	if loc == "" {
		return nil
	}
	target, err := out.URL.Parse(loc)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") {
		return nil
	}
	next := out.Clone(out.Context())
	next.URL, next.Host = target, target.Host
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if next.Method != http.MethodHead {
			next.Method = http.MethodGet
		}
		next.Body, next.ContentLength = http.NoBody, 0
		next.Header.Del("Content-Type")
		next.Header.Del("Content-Length")
	case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if out.ContentLength != 0 && replay == nil {
			return nil // the streamed body cannot be sent again
		}
		next.Body, next.ContentLength = http.NoBody, 0
		if len(replay) > 0 {
			next.Body, next.ContentLength = io.NopCloser(bytes.NewReader(replay)), int64(len(replay))
		}
	default:
		return nil
	}
	if target.Host != out.URL.Host {
		next.Header.Del("Authorization") // credentials are for the first host only
	}
	return next
}
