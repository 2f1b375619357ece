package gateway

import (
	"bytes"
	"context"
	"errors"
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

// Reasons of the policy path.
const (
	ReasonPolicyNotCompiled = "PolicyConfigurationError"
	msgInternal             = "Internal server error"
)

func errPolicyNotCompiled(err error) *RequestError {
	return &RequestError{Status: http.StatusInternalServerError, Reason: ReasonPolicyNotCompiled, Message: msgInternal, Err: err, Source: SourceConfiguration, Section: "inbound"}
}

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
	c.Request = policy.Request{Method: r.Method, Backend: api.ServiceURL, Path: req.Rest,
		RawQuery: removeQueryParam(r.URL.RawQuery, api.KeyQuery), Header: r.Header.Clone()}
	c.Request.Header.Del(api.KeyHeader)
	c.Request.Header.Del(HeaderDebugAuthorization)
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
	if req.spans != nil {
		req.spans.closeSection(time.Now())
	}

	if le := c.LastError; le != nil {
		if req.trace != nil {
			req.trace.lastErrorPath = le.Path
		}
		req.Err = &RequestError{Status: le.Status, Reason: le.Reason, Message: le.Message, Err: le.Err, Source: le.Source, Section: le.Section}
		if le.Status == StatusClientClosedRequest {
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

// Forward implements policy.Backend. Upgrade requests (WebSocket) are
// handed to the streaming proxy as they are, which answers the client
// directly: request edits of inbound policies and outbound policies do not
// apply to them.
func (f *forwarder) Forward(c *policy.Context, timeout time.Duration) error {
	if up := f.r.Header.Get("Upgrade"); up != "" && !strings.EqualFold(up, "h2c") {
		f.g.proxy.ServeHTTP(f.w, f.r)
		c.Response.Sent = true
		if e := f.req.Err; e != nil {
			return &policy.Error{Status: e.Status, Reason: e.Reason, Message: e.Message, Err: e.Err}
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
		Method: c.Request.Method, URL: c.Request.URL(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.Request.Header.Clone(), Body: body, ContentLength: n,
	}
	if n == 0 {
		out.Body = http.NoBody
	}
	out = out.WithContext(ctx)
	removeHopHeaders(out.Header)
	if h := out.Header.Get("Host"); h != "" {
		out.Host = h
		out.Header.Del("Host")
	}
	pr := &httputil.ProxyRequest{In: f.r, Out: out}
	pr.SetXForwarded()
	out.Header.Set("X-Request-Id", f.req.ID)
	propagate(f.req, out.Header)

	rt := backendTransport{g: f.g, proxy: c.Request.Proxy}
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
		return f.forwardError(err, timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded))
	}
	f.req.BackendStatus = res.StatusCode
	removeHopHeaders(res.Header)
	res.Header.Del("X-Request-Id")
	c.Response.StatusCode, c.Response.Header = res.StatusCode, res.Header
	c.Response.Body.SetStream(cancelOnClose{res.Body, cancel}, res.ContentLength)
	return nil
}

// forwardError maps a failed exchange as the plain proxy path does.
func (f *forwarder) forwardError(err error, timedOut bool) *policy.Error {
	if e := f.req.body.fault(f.r.Context().Err()); e != nil {
		f.w.Header().Set("Connection", "close")
		return &policy.Error{Status: e.Status, Reason: e.Reason, Message: e.Message, Err: err}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(f.r.Context().Err(), context.Canceled):
		return &policy.Error{Status: StatusClientClosedRequest, Reason: policy.ReasonClientConnectionFailure, Message: "client closed the request", Err: err}
	case errors.As(err, &mbe):
		e := errBodyTooLarge(mbe.Limit, err)
		return &policy.Error{Status: e.Status, Reason: e.Reason, Message: e.Message, Err: err}
	case timedOut || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &policy.Error{Status: http.StatusGatewayTimeout, Reason: policy.ReasonTimeout, Message: msgTimeout, Err: err}
	}
	f.g.log.Warn("backend request failed", "request_id", f.req.ID, "api", f.req.API.ID, "status", http.StatusBadGateway, "err", err)
	return &policy.Error{Status: http.StatusBadGateway, Reason: policy.ReasonBackendConnectionFailure, Message: msgBadGateway, Err: err}
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

// hopHeaders are removed between hops (RFC 9110, section 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, sf := range strings.Split(f, ",") {
			if sf = strings.TrimSpace(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		h.Del(k)
	}
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
