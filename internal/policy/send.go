package policy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// sendRequest is <send-request mode response-variable-name timeout
// ignore-error> and <send-one-way-request mode timeout>, with the children
// set-url, set-method, set-header and set-body.
//
// The call is split in three so that <wait> can run several at once: build
// evaluates everything on the Context (one goroutine), exchange does the
// network call without touching the Context, and store puts the result in
// the response variable (one goroutine again).
type sendRequest struct {
	StepInfo
	oneWay      bool
	mode        string // "new" or "copy"
	varName     string
	timeout     time.Duration
	ignoreError bool
	url         Value
	hasURL      bool
	method      *setMethod
	headers     []*setHeader
	body        *setBody
}

const (
	defaultSendTimeout = 60 * time.Second
	maxSendTimeout     = 240 // seconds, as APIM
	// maxSendResponseBytes bounds the body of a send-request response kept
	// in a variable.
	maxSendResponseBytes = 16 << 20
	// maxOneWayInFlight bounds the send-one-way-request calls in flight in
	// the process; calls beyond it are dropped (and traced).
	maxOneWayInFlight = 256
)

// defaultSendClient is the client of send-request when Context.HTTPClient
// is nil: pooled connections, redirects returned as they are.
var defaultSendClient = &http.Client{
	Transport:     http.DefaultTransport.(*http.Transport).Clone(),
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// oneWaySlots bounds the send-one-way-request calls in flight.
var oneWaySlots = make(chan struct{}, maxOneWayInFlight)

func newSendRequest(b *Builder) (Step, error)       { return newSend(b, false) }
func newSendOneWayRequest(b *Builder) (Step, error) { return newSend(b, true) }

func newSend(b *Builder, oneWay bool) (Step, error) {
	s := &sendRequest{StepInfo: b.Info(), oneWay: oneWay}
	s.mode = b.Enum("mode", "new", "new", "copy")
	if !oneWay {
		s.varName = b.Str("response-variable-name", true)
		s.ignoreError = b.Bool("ignore-error", false)
	}
	s.timeout = defaultSendTimeout
	if b.Has("timeout") {
		n := b.Int("timeout", false, 60, 1)
		if b.Err() == nil && n > maxSendTimeout {
			b.Errorf("timeout", "attribute \"timeout\" must be at most %d seconds", maxSendTimeout)
		}
		s.timeout = time.Duration(n) * time.Second
	}
	once := map[string]bool{}
	for _, ch := range b.Children("set-url", "set-method", "set-header", "set-body", "authentication-certificate",
		"authentication-managed-identity", "proxy") {
		name := ch.Node().Name
		if name != "set-header" {
			if once[name] {
				ch.Errorf("", "<%s> may appear once in <%s>", name, b.Node().Name)
			}
			once[name] = true
		}
		switch name {
		case "set-url":
			ch.NoChildren()
			s.url, s.hasURL = ch.Text(), true
			if ch.Err() == nil && s.url.IsLiteral() {
				if _, err := parseBaseURL(s.url.Lit()); err != nil {
					ch.Errorf("", "<set-url>: %v", err)
				}
			}
		case "set-method":
			st, _ := newSetMethod(ch)
			s.method = st.(*setMethod)
		case "set-header":
			st, _ := newSetHeader(ch)
			s.headers = append(s.headers, st.(*setHeader))
		case "set-body":
			st, _ := newSetBody(ch)
			s.body = st.(*setBody)
		default:
			ch.Errorf("", "<%s> inside <%s> is not supported by Portico yet", name, b.Node().Name)
		}
		b.Close(ch)
	}
	if b.Err() == nil && s.mode == "new" && !s.hasURL {
		b.Errorf("", "<set-url> is required when mode is \"new\"")
	}
	return s, b.Err()
}

func (s *sendRequest) describe() string {
	d := "mode=" + s.mode
	if !s.oneWay {
		d += fmt.Sprintf(" response-variable-name=%q ignore-error=%t", s.varName, s.ignoreError)
	}
	d += fmt.Sprintf(" timeout=%s", s.timeout)
	if s.hasURL {
		d += " url=" + q(s.url)
	}
	if s.method != nil {
		d += " method=" + q(s.method.method)
	}
	for _, h := range s.headers {
		d += " header[" + h.describe() + "]"
	}
	if s.body != nil {
		d += " body=" + q(s.body.body)
	}
	return d
}

func sendError(reason, msg string, err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Reason: reason, Message: msg, Err: err}
}

// build evaluates the request to send. It reads the Context.
func (s *sendRequest) build(c *Context) (*http.Request, error) {
	method := http.MethodGet
	var u *url.URL
	h := http.Header{}
	var body []byte
	if s.mode == "copy" {
		method = c.Request.Method
		if method == "" && c.In != nil {
			method = c.In.Method
		}
		u = c.Request.URL()
		h = c.Request.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		data, err := c.Request.Body.Bytes()
		if err != nil {
			return nil, sendError(ReasonClientConnectionFailure, "The request body could not be read.", err)
		}
		body = data
	}
	if s.hasURL {
		v, err := s.url.String(c)
		if err != nil {
			return nil, err
		}
		if u, err = parseBaseURL(v); err != nil {
			return nil, exprError(fmt.Errorf("set-url: %w", err))
		}
	}
	if s.method != nil {
		m, err := s.method.method.String(c)
		if err != nil {
			return nil, err
		}
		m = strings.ToUpper(strings.TrimSpace(m))
		if !validMethod(m) {
			return nil, exprError(fmt.Errorf("set-method: %q is not an HTTP method", m))
		}
		method = m
	}
	for _, sh := range s.headers {
		if err := sh.edit(c, h); err != nil {
			return nil, err
		}
	}
	if s.body != nil {
		v, err := s.body.text(c)
		if err != nil {
			return nil, err
		}
		body = []byte(v)
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u.String(), rd)
	if err != nil {
		return nil, exprError(fmt.Errorf("%s: %w", s.Name, err))
	}
	for _, k := range []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host"} {
		h.Del(k)
	}
	req.Header = h
	return req, nil
}

// exchange sends req and reads the response, within the timeout. It does
// not touch any Context.
func (s *sendRequest) exchange(ctx context.Context, client *http.Client, req *http.Request) (*expr.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, s.callError(req, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSendResponseBytes+1))
	if err != nil {
		return nil, s.callError(req, err)
	}
	if len(data) > maxSendResponseBytes {
		return nil, sendError(ReasonBackendConnectionFailure, fmt.Sprintf("The response of %s is larger than %d bytes.", req.URL.Host, maxSendResponseBytes), nil)
	}
	return &expr.Response{StatusCode: resp.StatusCode, StatusReason: http.StatusText(resp.StatusCode),
		Headers: resp.Header, Body: expr.NewBody(data)}, nil
}

func (s *sendRequest) callError(req *http.Request, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return sendError(ReasonTimeout, fmt.Sprintf("The request to %s timed out after %s.", req.URL.Host, s.timeout), err)
	}
	return sendError(ReasonBackendConnectionFailure, fmt.Sprintf("The request to %s failed.", req.URL.Host), err)
}

// store sets the response variable, or fails with err unless ignore-error.
func (s *sendRequest) store(c *Context, res *expr.Response, err error) error {
	if err != nil {
		if !s.ignoreError {
			return err
		}
		c.SetVar(s.varName, nil)
		return nil
	}
	c.SetVar(s.varName, res)
	return nil
}

func (c *Context) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultSendClient
}

// requestContext is the context of the inbound call (Ctx, or In's):
// send-request stops when the client goes away or the request's time runs
// out.
func (c *Context) requestContext() context.Context {
	if c.Ctx != nil {
		return c.Ctx
	}
	if c.In != nil {
		return c.In.Context()
	}
	return context.Background()
}

func (s *sendRequest) Apply(c *Context) error {
	req, err := s.build(c)
	if err != nil {
		if s.ignoreError && !s.oneWay {
			c.SetVar(s.varName, nil)
			return nil
		}
		return err
	}
	if s.oneWay {
		s.fire(c, req)
		return nil
	}
	res, err := s.exchange(c.requestContext(), c.httpClient(), req)
	return s.store(c, res, err)
}

// fire sends req in the background, detached from the inbound call but
// bounded by the timeout and by maxOneWayInFlight.
func (s *sendRequest) fire(c *Context, req *http.Request) {
	select {
	case oneWaySlots <- struct{}{}:
	default:
		if c.Trace != nil {
			c.Trace(s.Name, "error", fmt.Sprintf("dropped: %d one-way requests already in flight", maxOneWayInFlight))
		}
		return
	}
	ctx := context.WithoutCancel(c.requestContext())
	client := c.httpClient()
	go func() {
		defer func() { <-oneWaySlots }()
		s.exchange(ctx, client, req)
	}()
}
