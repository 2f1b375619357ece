package policy

import (
	"net/http"
	"net/url"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// RequestExpressionSteps is the step budget that all the expression
// evaluations of one request share (each also has its own,
// expr.DefaultMaxSteps): a document holding many expressions, or a retry
// running them again and again, cannot spend more than about a second of
// CPU on them.
const RequestExpressionSteps = 10 * expr.DefaultMaxSteps

// ExprExpressions compiles policy expressions with the interpreter of
// internal/policy/expr (APIM's C# subset).
func ExprExpressions(src string, line, col int) (Expression, error) {
	p, err := expr.Compile(src, line, col)
	if err != nil {
		return nil, err
	}
	return exprProgram{p}, nil
}

type exprProgram struct{ p *expr.Program }

func (e exprProgram) UsesRequestBody() bool  { return e.p.UsesRequestBody() }
func (e exprProgram) UsesResponseBody() bool { return e.p.UsesResponseBody() }

// Eval runs the program over the request's expression view. A body read
// without preserveContent is consumed, as in APIM: it is not forwarded.
func (e exprProgram) Eval(c *Context) (any, error) {
	v := c.exprView()
	out, err := e.p.Eval(v, &v.limits)
	v.settle()
	return out, err
}

// exprView is the `context` object of expressions for one request. It is
// built once per request and reused by every expression of the pipeline,
// so that body consumption and variables carry over between them.
type exprView struct {
	c        *Context
	limits   expr.Limits // the budgets, and the request's context
	budget   expr.Budget // the request's share, limits.Shared
	started  time.Time
	reqBody  *expr.Body
	req      *expr.Request // context.Request, see Request
	reqQuery string        // the query req.URL reflects
	resBody  *expr.Body
	resFor   *Body // the response body resBody reads
}

func (c *Context) exprView() *exprView {
	if c.expr == nil {
		c.expr = &exprView{c: c, started: c.now(), budget: expr.Budget{Steps: RequestExpressionSteps}}
		c.expr.limits.Shared = &c.expr.budget
		if c.Ctx != nil || c.In != nil {
			c.expr.limits.Context = c.requestContext()
		}
	}
	return c.expr
}

// settle applies body consumption to the message bodies.
func (v *exprView) settle() {
	if v.reqBody != nil && v.reqBody.Consumed() {
		v.c.Request.Body.Set(nil)
		v.reqBody = nil
	}
	if v.resBody != nil && v.resBody.Consumed() {
		v.c.Response.Body.Set(nil)
		v.resBody = nil
	}
}

func (v *exprView) API() *expr.API {
	a := v.c.API
	if a.ID == "" {
		return nil
	}
	out := &expr.API{ID: a.ID, Name: a.Name, Path: "/" + a.Path, IsCurrentRevision: true, Revision: "1",
		SubscriptionKeyHeader: "Ocp-Apim-Subscription-Key", SubscriptionKeyQuery: "subscription-key"}
	if b := v.c.Request.Backend; b != nil {
		out.ServiceURL = expr.NewURL(b)
	}
	return out
}

func (v *exprView) Operation() *expr.Operation {
	o := v.c.Operation
	if o.ID == "" {
		return nil
	}
	return &expr.Operation{ID: o.ID, Name: o.Name, Method: o.Method, URLTemplate: o.URLTemplate}
}

func (v *exprView) Product() *expr.Product {
	p := v.c.Product
	if p.ID == "" {
		return nil
	}
	return &expr.Product{ID: p.ID, Name: p.Name}
}

func (v *exprView) Subscription() *expr.Subscription {
	s := v.c.Subscription
	if s.ID == "" {
		return nil
	}
	return &expr.Subscription{ID: s.ID, Name: s.ID, Key: s.Key}
}

func (v *exprView) User() *expr.User {
	if v.c.User.ID == "" {
		return nil
	}
	return &expr.User{ID: v.c.User.ID}
}

// inboundURL is the URL the client called.
func (v *exprView) inboundURL() *url.URL {
	in := v.c.In
	if in == nil {
		return &url.URL{Scheme: "http", Host: "localhost", Path: "/"}
	}
	u := *in.URL
	u.Host = in.Host
	u.Scheme = "http"
	if in.TLS != nil {
		u.Scheme = "https"
	}
	return &u
}

// Request is context.Request. The parts fixed for the request (original
// URL, matched parameters, body, caller) are built once; the URL is rebuilt
// only after a policy changed the query or the method, since expressions
// call Request() on every member access.
func (v *exprView) Request() *expr.Request {
	c := v.c
	method := c.Request.Method
	if method == "" && c.In != nil {
		method = c.In.Method
	}
	r := v.req
	if r == nil {
		orig := v.inboundURL()
		params := make(map[string]string, len(c.Operation.Params))
		for _, p := range c.Operation.Params {
			params[p.Name] = p.Value
		}
		v.reqBody = &expr.Body{Load: c.Request.Body.Bytes}
		r = &expr.Request{OriginalURL: expr.NewURL(orig), Body: v.reqBody, MatchedParameters: params}
		if c.ClientIP.IsValid() {
			r.IPAddress = c.ClientIP.String()
		}
		if c.In != nil && c.In.TLS != nil && len(c.In.TLS.PeerCertificates) > 0 {
			r.Certificate = c.In.TLS.PeerCertificates[0]
		}
		v.req = r
	}
	if r.URL == nil || v.reqQuery != c.Request.RawQuery {
		cur := *v.inboundURL()
		cur.RawQuery = c.Request.RawQuery
		r.URL, v.reqQuery = expr.NewURL(&cur), c.Request.RawQuery
	}
	r.Method = method
	r.Headers = c.Request.Header
	if r.Headers == nil {
		r.Headers = http.Header{}
	}
	if v.reqBody == nil { // an expression consumed the body (settle emptied it): read what is there now
		v.reqBody = &expr.Body{Load: c.Request.Body.Bytes}
		r.Body = v.reqBody
	}
	return r
}

func (v *exprView) Response() *expr.Response {
	res := &v.c.Response
	if v.resBody == nil || v.resFor != &res.Body {
		v.resBody, v.resFor = &expr.Body{Load: res.Body.Bytes}, &res.Body
	}
	h := res.Header
	if h == nil {
		h = http.Header{}
	}
	return &expr.Response{StatusCode: res.StatusCode, StatusReason: http.StatusText(res.StatusCode), Headers: h, Body: v.resBody}
}

func (v *exprView) Variables() map[string]any {
	if v.c.Variables == nil {
		v.c.Variables = map[string]any{}
	}
	return v.c.Variables
}

func (v *exprView) LastError() *expr.LastError {
	e := v.c.LastError
	if e == nil {
		return nil
	}
	return &expr.LastError{Source: e.Source, Reason: e.Reason, Message: e.Message, Scope: "", Section: e.Section, Path: e.Path, PolicyID: e.PolicyID}
}

func (v *exprView) Deployment() *expr.Deployment { return &expr.Deployment{ServiceName: "portico"} }

func (v *exprView) RequestID() string { return v.c.RequestID }

func (v *exprView) Timestamp() time.Time { return v.started }

func (v *exprView) Elapsed() time.Duration { return v.c.now().Sub(v.started) }

func (v *exprView) Trace(source string, message any) {
	if v.c.Trace != nil {
		v.c.Trace(source, "information", expr.ToString(message))
	}
}
