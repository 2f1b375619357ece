package gateway

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/trace"
)

// Headers of the policy debugger, as APIM names them.
const (
	// HeaderTrace asks for a trace when "true".
	HeaderTrace = "Ocp-Apim-Trace"
	// HeaderTraceLocation, on a traced response, is where to read the trace.
	HeaderTraceLocation = "Ocp-Apim-Trace-Location"
	// HeaderDebugAuthorization carries a debug token (see trace.Signer). It
	// is never forwarded to backends.
	HeaderDebugAuthorization = "Apim-Debug-Authorization"
)

// TraceSink receives finished policy debugger traces (a *trace.Store). Put
// is called on the request's goroutine once its response is complete, so
// it must not block; it takes ownership of t.
type TraceSink interface {
	Put(t *trace.Trace)
}

// startTrace turns the policy debugger on for an authorised request that
// asked for it (Ocp-Apim-Trace: true) and may have it: a valid debug token
// for the request's API on this gateway, or a key of a subscription that
// allows tracing. Otherwise the request is served as if it had not asked.
// It sets Ocp-Apim-Trace-Location on the response at once.
func (g *Gateway) startTrace(w http.ResponseWriter, req *Request, r *http.Request) {
	vs := r.Header[HeaderTrace]
	if len(vs) == 0 || !strings.EqualFold(strings.TrimSpace(vs[0]), "true") {
		return
	}
	by := ""
	if tok := r.Header.Get(HeaderDebugAuthorization); tok != "" {
		if err := g.verifyDebugToken(req, tok); err != nil {
			g.log.Debug("debug token refused", "request_id", req.ID, "err", err)
		} else {
			by = "debugToken"
		}
	}
	if by == "" && req.Subscription != nil && req.Subscription.AllowTracing {
		by = "subscription"
	}
	if by == "" {
		return
	}
	t := &tracer{start: req.Start, red: newRedactor(req, g.cfg.TraceRedactHeaders), t: &trace.Trace{
		ID: trace.NewID(), RequestID: req.ID, Time: req.Start.UTC(), GatewayID: g.cfg.GatewayID,
		APIID: req.API.ID, OperationID: req.Operation.ID, SubscriptionID: req.SubscriptionID, Authorized: by,
		Steps: []trace.Step{},
	}}
	if req.Product != nil {
		t.t.ProductID = req.Product.ID
	}
	t.t.Request = trace.Message{Method: r.Method, URL: t.red.url(requestURL(req)), Headers: t.red.headers(r.Header)}
	req.trace = t
	w.Header().Set(HeaderTraceLocation, g.cfg.TraceLocation+t.t.ID)
}

// verifyDebugToken checks a debug token for req's API on this gateway with
// Config.DebugTokens or, when that is nil, with the key of the serving
// configuration (snapshot.Config.DebugTokenKey, set for self-hosted
// gateways).
func (g *Gateway) verifyDebugToken(req *Request, tok string) error {
	signer := g.cfg.DebugTokens
	if signer == nil {
		key, err := base64.RawURLEncoding.DecodeString(req.Snapshot.Config().DebugTokenKey)
		if err != nil {
			return fmt.Errorf("debug token key of the configuration: %w", err)
		}
		if signer, err = trace.NewSigner(key); err != nil {
			return err // no key: no debug tokens
		}
	}
	_, err := signer.Verify(tok, g.cfg.GatewayID, req.API.ID, trace.PurposeTracing)
	return err
}

// finishTrace completes a traced request's trace and hands it to the sink.
func (g *Gateway) finishTrace(h *handled, status int, end time.Time) {
	req, t := &h.Request, h.Request.trace
	t.t.Response = trace.Message{Status: status, Headers: t.red.headers(h.w.Header())}
	t.t.TotalTime = trace.Millis(end.Sub(req.Start))
	if e := req.Err; e != nil {
		msg := e.Message
		if e.Err != nil {
			msg += ": " + e.Err.Error()
		}
		t.t.LastError = &trace.Error{Source: e.Source, Section: e.Section, Reason: e.Reason, Message: t.red.scrub(msg), Path: e.Path}
	}
	g.cfg.Traces.Put(t.t)
}

// tracer records one request's trace. It is the request's, used only on
// the goroutine serving it.
type tracer struct {
	t     *trace.Trace
	start time.Time
	red   *redactor
	open  []openStep
}

// openStep is a step that started and has not ended, with the state before
// it.
type openStep struct {
	index  int
	start  time.Time
	before state
}

// state is what the debugger compares before and after a step.
type state struct {
	method, url string
	reqHeader   http.Header
	status      int
	resHeader   http.Header
	vars        map[string]string
}

func (t *tracer) capture(c *policy.Context) state {
	s := state{method: c.Request.Method, url: t.red.url(c.Request.URL().String()), reqHeader: c.Request.Header.Clone(),
		status: c.Response.StatusCode, resHeader: c.Response.Header.Clone()}
	if len(c.Variables) > 0 {
		s.vars = make(map[string]string, len(c.Variables))
		for k, v := range c.Variables {
			s.vars[k] = t.red.scrub(fmt.Sprint(v))
		}
	}
	return s
}

// tracingForwarder is the policy Backend of a request traced by the
// debugger (t) or with exported spans (sp): it forwards as forwarder does
// and observes every step (policy.StepObserver).
type tracingForwarder struct {
	*forwarder
	t  *tracer    // nil when the debugger is off for the request
	sp *spanState // nil when spans are not exported
}

// BeforeStep implements policy.StepObserver.
func (f *tracingForwarder) BeforeStep(c *policy.Context, in *policy.StepInfo) {
	now := time.Now()
	if f.sp != nil {
		f.sp.enterSection(c.Section(), now)
	}
	t := f.t
	if t == nil {
		return
	}
	if len(t.t.Steps) >= trace.MaxSteps {
		t.t.Truncated = true
		t.open = append(t.open, openStep{index: -1})
		return
	}
	t.t.Steps = append(t.t.Steps, trace.Step{Section: c.Section(), Scope: in.Scope, Policy: in.Name, Path: in.Path, ID: in.ID,
		Depth: len(t.open), Start: trace.Millis(now.Sub(t.start))})
	t.open = append(t.open, openStep{index: len(t.t.Steps) - 1, start: now, before: t.capture(c)})
}

// AfterStep implements policy.StepObserver.
func (f *tracingForwarder) AfterStep(c *policy.Context, _ *policy.StepInfo, err error) {
	t := f.t
	if t == nil || len(t.open) == 0 {
		return
	}
	o := t.open[len(t.open)-1]
	t.open = t.open[:len(t.open)-1]
	if o.index < 0 {
		return
	}
	st := &t.t.Steps[o.index]
	st.Elapsed = trace.Millis(time.Since(o.start))
	st.Stopped = c.Stopped()
	if o.index == len(t.t.Steps)-1 {
		// A step with nested steps shows its changes on them, not twice.
		st.Changes = t.diff(o.before, t.capture(c))
	}
	if err != nil {
		e := &trace.Error{Message: t.red.scrub(err.Error())}
		var pe *policy.Error
		if errors.As(err, &pe) {
			e = &trace.Error{Source: pe.Source, Reason: pe.Reason, Message: t.red.scrub(pe.Message)}
			if pe.Err != nil {
				e.Message += ": " + t.red.scrub(pe.Err.Error())
			}
		}
		if e.Source == "" {
			e.Source = st.Policy
		}
		e.Section, e.Path = st.Section, st.Path
		st.Error = e
	}
}

// diff lists what changed between two states, redacted.
func (t *tracer) diff(a, b state) []trace.Change {
	var ch []trace.Change
	if a.method != b.method {
		ch = append(ch, trace.Change{Field: "request.method", Before: a.method, After: b.method})
	}
	if a.url != b.url {
		ch = append(ch, trace.Change{Field: "request.url", Before: a.url, After: b.url})
	}
	ch = t.diffHeaders(ch, "request.header.", a.reqHeader, b.reqHeader)
	if a.status != b.status {
		ch = append(ch, trace.Change{Field: "response.status", Before: a.status, After: b.status})
	}
	ch = t.diffHeaders(ch, "response.header.", a.resHeader, b.resHeader)
	for _, k := range sortedKeys(a.vars, b.vars) {
		va, oka := a.vars[k]
		vb, okb := b.vars[k]
		if oka != okb || va != vb {
			ch = append(ch, trace.Change{Field: "variable." + k, Before: opt(va, oka), After: opt(vb, okb)})
		}
	}
	return ch
}

func (t *tracer) diffHeaders(ch []trace.Change, prefix string, a, b http.Header) []trace.Change {
	for _, k := range sortedKeys(a, b) {
		va, oka := a[k]
		vb, okb := b[k]
		if oka == okb && slices.Equal(va, vb) {
			continue
		}
		c := trace.Change{Field: prefix + k}
		if oka {
			c.Before = t.red.values(k, va)
		}
		if okb {
			c.After = t.red.values(k, vb)
		}
		ch = append(ch, c)
	}
	return ch
}

func opt(v string, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func sortedKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// traceOutput records a <trace> policy message.
func (t *tracer) output(section, source, severity, msg string) {
	if len(t.t.Messages) >= trace.MaxSteps {
		return
	}
	t.t.Messages = append(t.t.Messages, trace.Output{Section: section, Source: source, Severity: severity, Message: t.red.scrub(msg)})
}

// backend records an exchange with the backend (the last one wins).
func (t *tracer) backend(out *http.Request, res *http.Response, err error, d time.Duration) {
	x := &trace.Exchange{Request: trace.Message{Method: out.Method, URL: t.red.url(out.URL.String()), Headers: t.red.headers(out.Header)},
		Elapsed: trace.Millis(d)}
	if out.Host != "" {
		x.Request.Headers["Host"] = []string{out.Host}
	}
	if err != nil {
		x.Error = t.red.scrub(err.Error())
	} else {
		x.Response = trace.Message{Status: res.StatusCode, Headers: t.red.headers(res.Header)}
	}
	t.t.Backend = x
}

// redactor keeps secrets out of a trace: the values of credential headers
// (Authorization, Proxy-Authorization, Cookie, Set-Cookie, the debug token,
// the API's key header, APIM's default one, and the headers of
// Config.TraceRedactHeaders), compared case-insensitively, become "***";
// the key query parameters are masked whatever their case; and the
// subscription key (raw or percent-encoded) and the values of secret named
// values are replaced by "***" wherever they appear.
type redactor struct {
	credentials map[string]bool // lower-case header names
	keyQueries  []string
	secrets     []string
}

// alwaysRedacted are the headers whose values a trace never shows.
var alwaysRedacted = []string{"authorization", "proxy-authorization", "cookie", "set-cookie",
	strings.ToLower(HeaderDebugAuthorization), "ocp-apim-subscription-key"}

func newRedactor(req *Request, extra []string) *redactor {
	r := &redactor{keyQueries: []string{req.API.KeyQuery, defaultKeyQuery},
		credentials: make(map[string]bool, len(alwaysRedacted)+1+len(extra))}
	for _, h := range alwaysRedacted {
		r.credentials[h] = true
	}
	r.credentials[strings.ToLower(req.API.KeyHeader)] = true
	for _, h := range extra {
		r.credentials[strings.ToLower(strings.TrimSpace(h))] = true
	}
	if req.SubscriptionKey != "" {
		r.secrets = append(r.secrets, keyEncodings(req.SubscriptionKey)...)
	}
	for _, nv := range req.Snapshot.Config().NamedValues {
		if nv.Secret && nv.Value != "" {
			r.secrets = append(r.secrets, nv.Value)
		}
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

const redacted = "***"

func (r *redactor) scrub(s string) string {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

func (r *redactor) url(u string) string {
	if base, q, ok := strings.Cut(u, "?"); ok {
		u = base + "?" + telemetry.MaskQuery(q, r.keyQueries...)
	}
	return r.scrub(u)
}

func (r *redactor) values(name string, vs []string) []string {
	out := make([]string, len(vs))
	secret := r.credentials[strings.ToLower(name)]
	for i, v := range vs {
		if secret {
			out[i] = redacted
		} else {
			out[i] = r.scrub(v)
		}
	}
	return out
}

func (r *redactor) headers(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		out[k] = r.values(k, vs)
	}
	return out
}
