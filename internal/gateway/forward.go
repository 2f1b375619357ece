package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/snapshot"
)

// The forwarding core. A request reaches its backend by one of two paths:
//
//   - the fast path (proxy.go): an operation whose effective policy only
//     forwards is served by httputil.ReverseProxy, whose Rewrite hook is
//     Gateway.rewrite;
//   - the policy path (policy.go): the pipeline's forward-request calls
//     forwarder.Forward, which sends the request as the policies left it.
//
// Both build the outbound request with the functions of this file, in two
// stages: seedOutbound and backendQuery take from the inbound request what
// anything downstream may see (on the policy path, what the policies start
// from and edit); resolveBackend picks the backend (the seam of backend
// selection, see backendTarget); finishOutbound completes the request for
// the wire (URL, Host, hop-by-hop headers, X-Forwarded-*, X-Request-Id,
// traceparent). Both send it through backendTransport, record the answer
// with backendResponded, and answer a failed exchange with backendError
// (413, 499, 502, 504, or the client's 400/408). forward_test.go sends the
// same requests down both paths and compares what the backend and the
// client see.

// backendTarget is where one outbound request goes: the seam of backend
// selection. resolveBackend makes it, on both paths, from the base URL the
// request asks for and the HTTP proxy of the proxy policy;
// finishOutbound points the request at it and backendTransport sends
// through the connection pool it names. Backend pools, circuit breakers
// and client certificates belong here and in resolveBackend (choose the
// URL, refuse an open circuit, name the transport), and nowhere else.
type backendTarget struct {
	// URL is the base URL: the request's path is joined to its path and
	// its query follows the base URL's own. Nil only when a policy cleared
	// it (the exchange then fails as a 502).
	URL *url.URL
	// Proxy is the HTTP proxy the request goes through (the proxy policy);
	// nil connects directly.
	Proxy *url.URL
}

// resolveBackend picks the backend of one exchange of req: today the base
// URL asked for — the API's service URL, or what set-backend-service set —
// reached directly or through proxy. It records the target in req, where
// backendTransport finds it. Both paths call it for every exchange (each
// retry included).
func (g *Gateway) resolveBackend(req *Request, base, proxy *url.URL) backendTarget {
	req.target = backendTarget{URL: base, Proxy: proxy}
	return req.target
}

// backendQuery is the inbound query as the backend gets it: without the
// API's subscription key parameter.
func backendQuery(in *http.Request, api *snapshot.CompiledAPI) string {
	return removeQueryParam(in.URL.RawQuery, api.KeyQuery)
}

// seedOutbound prepares h, the outbound copy of in's headers, before
// anything downstream sees it: the API's subscription key header and the
// debugger's token are removed, and so is a client's Forwarded header (the
// gateway sends its own X-Forwarded-*, see finishOutbound); the inbound
// X-Forwarded-For chain is kept (httputil.ReverseProxy drops it from its
// copy: it is restored), so that the gateway appends to it.
func seedOutbound(h http.Header, in *http.Request, api *snapshot.CompiledAPI) {
	h.Del(api.KeyHeader)
	h.Del(HeaderDebugAuthorization)
	h.Del("Forwarded")
	if _, ok := h["X-Forwarded-For"]; !ok {
		if prior, ok := in.Header["X-Forwarded-For"]; ok {
			h["X-Forwarded-For"] = slices.Clone(prior)
		}
	}
}

// finishOutbound completes pr.Out, about to be sent to t, the same way on
// both paths: the URL is t's base URL joined with path (escaped) and
// rawQuery; Host is the backend's own (as APIM sends it) unless a policy
// set a Host header; hop-by-hop headers (RFC 9110, section 7.6.1, those
// named in Connection too) are removed, except the Upgrade of an upgrade
// request other than h2c (only the fast path relays those) and, when
// trailers (the path relays the response's trailers), the client's "Te:
// trailers"; no User-Agent is added when the client sent none;
// X-Forwarded-For (appended to the chain), -Host and -Proto are set, and
// X-Request-Id and the traceparent (see propagate). pr.In, the inbound
// request, is never modified.
func finishOutbound(pr *httputil.ProxyRequest, req *Request, t backendTarget, path, rawQuery string, trailers bool) {
	out := pr.Out
	setBackendURL(out.URL, t.URL, path, rawQuery)
	out.Host = out.Header.Get("Host") // "" unless a policy set it
	out.Header.Del("Host")
	up := upgradeType(pr.In.Header)
	removeHopHeaders(out.Header)
	if up != "" && !strings.EqualFold(up, "h2c") {
		// An HTTP/2 upgrade is about this hop only: served as HTTP/1.1.
		out.Header["Connection"] = []string{"Upgrade"}
		out.Header["Upgrade"] = []string{up}
	}
	if trailers && hasToken(pr.In.Header["Te"], "trailers") {
		out.Header["Te"] = []string{"trailers"}
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // the transport then sends none
	}
	pr.SetXForwarded()
	out.Header.Set("X-Request-Id", req.ID)
	propagate(req, out.Header)
}

// setBackendURL makes u the URL of a request to base with the escaped path
// (starting with '/') and the encoded query rawQuery, which follows base's
// own query. It does not allocate when nothing needs unescaping.
func setBackendURL(u, base *url.URL, path, rawQuery string) {
	var b url.URL
	if base != nil {
		b = *base
	}
	escaped := policy.JoinPath(b.EscapedPath(), path)
	*u = url.URL{Scheme: b.Scheme, Host: b.Host, RawQuery: b.RawQuery}
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path, u.RawPath = p, escaped
	} else {
		u.Path, u.RawPath = escaped, ""
	}
	switch {
	case u.RawQuery == "":
		u.RawQuery = rawQuery
	case rawQuery != "":
		u.RawQuery += "&" + rawQuery
	}
}

// hopHeaders are removed between hops (RFC 9110, section 7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHopHeaders removes the hop-by-hop headers of h, those named in
// Connection included.
func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = strings.TrimSpace(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// upgradeType is the protocol an upgrade request asks for ("" when h is
// not an upgrade request: Connection must name Upgrade).
func upgradeType(h http.Header) string {
	if !hasToken(h["Connection"], "upgrade") {
		return ""
	}
	if vs := h["Upgrade"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// hasToken reports whether one of the comma-separated lists vs holds
// token, compared without case.
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// backendResponded records the backend's answer to req, on both paths:
// its status, and its X-Request-Id is dropped (the gateway's own id is
// already in the response headers).
func backendResponded(req *Request, res *http.Response) {
	req.BackendStatus = res.StatusCode
	res.Header.Del("X-Request-Id")
}

// backendError is the answer to a failed exchange with the backend, the
// same on both paths. in is the inbound request (carrying the gateway's
// context) and exchange the context the exchange ran under (in's, or
// forward-request's timeout under it). In order:
//
//   - reading the client's body failed (clientBody.fault): 408 when it
//     stalled, 400 when it was malformed; its connection is then closed
//     (Connection: close is set on w);
//   - the client went away: 499, recorded and never sent;
//   - the body went over the API's limit: 413;
//   - a deadline passed (ConnectTimeout, ResponseHeaderTimeout,
//     RequestTimeout, forward-request's timeout): 504;
//   - anything else: 502.
//
// The error is new and located as the fast path reports it (Source and
// Section); the policy path hands it to the runner, which locates it at
// the forward-request step (see forwarder.Forward).
func (g *Gateway) backendError(w http.ResponseWriter, req *Request, in *http.Request, exchange context.Context, err error) *policy.Error {
	if e := req.body.fault(in.Context().Err()); e != nil {
		// The client's body failed (stalled past the read timeout, or a
		// broken chunked encoding): its fault, not the backend's.
		w.Header().Set("Connection", "close")
		return e
	}
	var mbe *http.MaxBytesError
	var e *policy.Error
	switch {
	case errors.Is(in.Context().Err(), context.Canceled):
		return &policy.Error{Status: policy.StatusClientClosedRequest, Reason: policy.ReasonClientConnectionFailure, Message: msgClientGone, Err: err,
			Source: policy.SourceClient, Section: policy.SectionBackend}
	case errors.As(err, &mbe):
		return errBodyTooLarge(mbe.Limit, err)
	case errors.Is(exchange.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		e = &policy.Error{Status: http.StatusGatewayTimeout, Reason: policy.ReasonTimeout, Message: msgTimeout, Err: err,
			Source: policy.SourceForwardRequest, Section: policy.SectionBackend}
	default:
		e = &policy.Error{Status: http.StatusBadGateway, Reason: policy.ReasonBackendConnectionFailure, Message: msgBadGateway, Err: err,
			Source: policy.SourceForwardRequest, Section: policy.SectionBackend}
	}
	g.log.Warn("backend request failed", "request_id", req.ID, "api", req.API.ID, "status", e.Status, "err", err)
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
