package gateway

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/trace"
)

// SpanSink receives the gateway's finished spans (a *trace.Exporter). Add
// is called on the request's goroutine once its response is complete, so
// it must not block; it takes ownership of spans.
type SpanSink interface {
	Add(spans []trace.Span)
}

// spanState is the distributed trace of one request when span export is
// on (Config.Spans): the request's server span, one span per policy
// section that ran, and one client span per backend attempt, whose id is
// the parent id sent to the backend in traceparent. Only the request's
// goroutine uses it.
type spanState struct {
	traceID   [16]byte
	server    [8]byte
	parent    [8]byte // the caller's span; zero when the gateway started the trace
	flags     string
	sampled   bool
	dropState bool // the caller's trace context was invalid: do not forward its tracestate
	spans     []trace.Span
	section   int // index in spans of the open section span, or -1
	client    [8]byte
}

// startSpans begins the request's server span, continuing the caller's
// trace when it sent a valid traceparent and starting a sampled one
// otherwise.
func startSpans(r *http.Request) *spanState {
	s := &spanState{server: newID8(), section: -1, flags: "01", sampled: true}
	vs := r.Header[headerTraceparent]
	if len(vs) == 1 {
		if tid, pid, flags, ok := parseTraceparent(vs[0]); ok {
			hex.Decode(s.traceID[:], []byte(tid)) //nolint:errcheck // validated
			hex.Decode(s.parent[:], []byte(pid))  //nolint:errcheck // validated
			s.flags, s.sampled = flags, hexVal(flags[1])&1 == 1
			return s
		}
	}
	s.dropState = len(vs) > 0
	hi, lo := rand.Uint64(), rand.Uint64()|1
	for i := range 8 {
		s.traceID[i], s.traceID[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	return s
}

// parseTraceparent validates s and returns its trace id, parent id and
// flags (in version 00's meaning).
func parseTraceparent(s string) (traceID, parentID, flags string, ok bool) {
	child, ok := childTraceparent(s)
	if !ok {
		return "", "", "", false
	}
	return child[3:35], s[36:52], child[53:55], true
}

// outbound sets the traceparent of a backend attempt: a new client span,
// child of the open section span (or of the server span).
func (s *spanState) outbound(h http.Header) {
	s.client = newID8()
	h[headerTraceparent] = []string{"00-" + hex.EncodeToString(s.traceID[:]) + "-" + hex.EncodeToString(s.client[:]) + "-" + s.flags}
	if s.dropState {
		delete(h, headerTracestate)
	}
}

func (s *spanState) current() [8]byte {
	if s.section >= 0 {
		return s.spans[s.section].SpanID
	}
	return s.server
}

// enterSection opens the span of a policy section when the pipeline moves
// to it.
func (s *spanState) enterSection(name string, now time.Time) {
	if s.section >= 0 && s.spans[s.section].Name == name {
		return
	}
	s.closeSection(now)
	s.spans = append(s.spans, trace.Span{TraceID: s.traceID, SpanID: newID8(), ParentID: s.server, Name: name, Kind: trace.KindInternal,
		Start: now, Attrs: []trace.Attr{trace.String("portico.policy.section", name)}})
	s.section = len(s.spans) - 1
}

// closeSection ends the open section span, if any.
func (s *spanState) closeSection(now time.Time) {
	if s.section >= 0 {
		s.spans[s.section].End = now
		s.section = -1
	}
}

// backend records the client span of one backend attempt.
func (s *spanState) backend(out *http.Request, res *http.Response, err error, start time.Time, d time.Duration) {
	sp := trace.Span{TraceID: s.traceID, SpanID: s.client, ParentID: s.current(), Name: out.Method, Kind: trace.KindClient,
		Start: start, End: start.Add(d), Attrs: []trace.Attr{
			trace.String("http.request.method", out.Method), trace.String("url.full", out.URL.String()),
			trace.String("server.address", out.URL.Hostname())}}
	switch {
	case err != nil:
		sp.Error = err.Error()
	default:
		sp.Attrs = append(sp.Attrs, trace.Int("http.response.status_code", int64(res.StatusCode)))
		if res.StatusCode >= 400 {
			sp.Error = http.StatusText(res.StatusCode)
		}
	}
	s.spans = append(s.spans, sp)
}

// finishSpans ends the server span and hands the request's spans to the
// sink when the trace is sampled.
func (g *Gateway) finishSpans(req *Request, status int, end time.Time) {
	s := req.spans
	s.closeSection(end)
	if !s.sampled {
		return
	}
	// Backend URLs and errors were recorded as sent: mask the key in them.
	for i := range s.spans {
		sp := &s.spans[i]
		if sp.Kind != trace.KindClient {
			continue
		}
		sp.Error = scrubKey(req, sp.Error)
		for j := range sp.Attrs {
			if sp.Attrs[j].Key == "url.full" {
				sp.Attrs[j].Str = maskURL(req, sp.Attrs[j].Str)
			}
		}
	}
	name := req.In.Method
	attrs := []trace.Attr{trace.String("http.request.method", req.In.Method), trace.String("url.full", requestURL(req)),
		trace.Int("http.response.status_code", int64(status)), trace.String("client.address", remoteHost(req.In.RemoteAddr)),
		trace.String("portico.request_id", req.ID), trace.String("portico.gateway_id", g.cfg.GatewayID)}
	if req.API != nil {
		attrs = append(attrs, trace.String("portico.api_id", req.API.ID))
		if req.Operation != nil {
			route := "/" + strings.Trim(req.API.Path, "/") + req.Operation.URLTemplate
			name += " " + route
			attrs = append(attrs, trace.String("http.route", route), trace.String("portico.operation_id", req.Operation.ID))
		}
	}
	if req.Product != nil {
		attrs = append(attrs, trace.String("portico.product_id", req.Product.ID))
	}
	if req.SubscriptionID != "" {
		attrs = append(attrs, trace.String("portico.subscription_id", req.SubscriptionID))
	}
	sp := trace.Span{TraceID: s.traceID, SpanID: s.server, ParentID: s.parent, Name: name, Kind: trace.KindServer,
		Start: req.Start, End: end, Attrs: attrs}
	if e := req.Err; e != nil {
		attrs = append(attrs, trace.String("portico.last_error.reason", e.Reason), trace.String("portico.last_error.source", e.Source))
		sp.Attrs = attrs
		if status >= 500 {
			sp.Error = e.Reason + ": " + e.Message
		}
	} else if status >= 500 {
		sp.Error = http.StatusText(status)
	}
	g.cfg.Spans.Add(append(s.spans, sp))
}

// propagate sets the trace context of an outbound request: the request's
// own client span when spans are exported, else the caller's trace
// continued (propagateTraceContext).
func propagate(req *Request, h http.Header) {
	if req != nil && req.spans != nil {
		req.spans.outbound(h)
		return
	}
	propagateTraceContext(h)
}

// newID8 returns a random non-zero span id.
func newID8() [8]byte {
	v := rand.Uint64()
	for v == 0 {
		v = rand.Uint64()
	}
	var b [8]byte
	for i := range b {
		b[i] = byte(v >> (56 - 8*i))
	}
	return b
}
