package policy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// existsActions are the values of exists-action, as APIM spells them.
var existsActions = []string{"override", "skip", "append", "delete"}

// headers returns the headers the current section edits: the request's in
// inbound and backend, the response's in outbound and on-error.
func (c *Context) headers() http.Header {
	if c.section == outbound || c.section == onError {
		if c.Response.Header == nil {
			c.Response.Header = http.Header{}
		}
		return c.Response.Header
	}
	if c.Request.Header == nil {
		c.Request.Header = http.Header{}
	}
	return c.Request.Header
}

// valuesOf reads the <value> children of a set-header or set-query-parameter.
func valuesOf(b *Builder) []Value {
	var vals []Value
	for _, ch := range b.Children("value") {
		ch.NoChildren()
		vals = append(vals, ch.Text())
		b.Close(ch)
	}
	return vals
}

func evalAll(c *Context, vals []Value) ([]string, error) {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		s, err := v.String(c)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// setHeader is <set-header name exists-action><value/>…</set-header>.
type setHeader struct {
	StepInfo
	name   string
	action string
	values []Value
}

func newSetHeader(b *Builder) (Step, error) {
	s := &setHeader{StepInfo: b.Info()}
	s.name = http.CanonicalHeaderKey(b.Str("name", true))
	s.action = b.Enum("exists-action", "override", existsActions...)
	s.values = valuesOf(b)
	if b.Err() == nil && s.action != "delete" && len(s.values) == 0 {
		b.Errorf("", "at least one <value> is required unless exists-action is delete")
	}
	if b.Err() == nil && !validHeaderName(s.name) {
		b.Errorf("name", "attribute \"name\" is not a valid header name")
	}
	return s, b.Err()
}

func validHeaderName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func (s *setHeader) describe() string {
	d := fmt.Sprintf("name=%q exists-action=%s", s.name, s.action)
	for _, v := range s.values {
		d += " value=" + q(v)
	}
	return d
}

func (s *setHeader) Apply(c *Context) error { return s.edit(c, c.headers()) }

// edit applies the header change to h (send-request edits its own headers).
func (s *setHeader) edit(c *Context, h http.Header) error {
	switch s.action {
	case "delete":
		delete(h, s.name)
		return nil
	case "skip":
		if _, ok := h[s.name]; ok {
			return nil
		}
	}
	vals, err := evalAll(c, s.values)
	if err != nil {
		return err
	}
	if s.action == "append" {
		h[s.name] = append(h[s.name], vals...)
		return nil
	}
	h[s.name] = vals
	return nil
}

// setQueryParameter is <set-query-parameter name exists-action><value/>…</set-query-parameter>.
type setQueryParameter struct {
	StepInfo
	name   string
	action string
	values []Value
}

func newSetQueryParameter(b *Builder) (Step, error) {
	s := &setQueryParameter{StepInfo: b.Info()}
	s.name = b.Str("name", true)
	s.action = b.Enum("exists-action", "override", existsActions...)
	s.values = valuesOf(b)
	if b.Err() == nil && s.action != "delete" && len(s.values) == 0 {
		b.Errorf("", "at least one <value> is required unless exists-action is delete")
	}
	return s, b.Err()
}

func (s *setQueryParameter) describe() string {
	d := fmt.Sprintf("name=%q exists-action=%s", s.name, s.action)
	for _, v := range s.values {
		d += " value=" + q(v)
	}
	return d
}

func (s *setQueryParameter) Apply(c *Context) error {
	qv, _ := url.ParseQuery(c.Request.RawQuery)
	switch s.action {
	case "delete":
		qv.Del(s.name)
	case "skip":
		if qv.Has(s.name) {
			return nil
		}
		fallthrough
	default:
		vals, err := evalAll(c, s.values)
		if err != nil {
			return err
		}
		if s.action == "append" {
			qv[s.name] = append(qv[s.name], vals...)
		} else {
			qv[s.name] = vals
		}
	}
	c.Request.RawQuery = qv.Encode()
	return nil
}

// checkHeader is <check-header name failed-check-httpcode
// failed-check-error-message ignore-case><value/>…</check-header>.
type checkHeader struct {
	StepInfo
	name       string
	status     int
	message    string
	ignoreCase bool
	values     []Value
}

func newCheckHeader(b *Builder) (Step, error) {
	s := &checkHeader{StepInfo: b.Info()}
	s.name = http.CanonicalHeaderKey(b.Str("name", true))
	s.status = int(b.Int("failed-check-httpcode", true, 0, 100))
	s.message = b.Str("failed-check-error-message", true)
	s.ignoreCase = b.Bool("ignore-case", false)
	if b.Err() == nil && s.status > 599 {
		b.Errorf("failed-check-httpcode", "attribute \"failed-check-httpcode\" must be an HTTP status code")
	}
	s.values = valuesOf(b)
	return s, b.Err()
}

func (s *checkHeader) describe() string {
	d := fmt.Sprintf("name=%q status=%d message=%q ignore-case=%t", s.name, s.status, s.message, s.ignoreCase)
	for _, v := range s.values {
		d += " value=" + q(v)
	}
	return d
}

func (s *checkHeader) Apply(c *Context) error {
	got, ok := c.Request.Header[s.name]
	if !ok {
		return &Error{Status: s.status, Reason: ReasonHeaderNotFound, Message: s.message}
	}
	if len(s.values) == 0 {
		return nil
	}
	want, err := evalAll(c, s.values)
	if err != nil {
		return err
	}
	for _, g := range got {
		for _, part := range strings.Split(g, ",") {
			part = strings.TrimSpace(part)
			for _, w := range want {
				if part == w || s.ignoreCase && strings.EqualFold(part, w) {
					return nil
				}
			}
		}
	}
	return &Error{Status: s.status, Reason: ReasonHeaderValueNotAllowed, Message: s.message}
}
