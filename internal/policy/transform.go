package policy

import (
	"fmt"
	"net/http"
	"strings"
)

// setStatus is <set-status code reason/>.
type setStatus struct {
	StepInfo
	code, reason Value
}

func newSetStatus(b *Builder) (Step, error) {
	s := &setStatus{StepInfo: b.Info(), code: b.Val("code", true), reason: b.Val("reason", false)}
	if b.Err() == nil && s.code.IsLiteral() {
		if n, err := s.code.Int(nil); err != nil || n < 100 || n > 599 {
			b.Errorf("code", "attribute \"code\" must be an HTTP status code")
		}
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *setStatus) describe() string {
	return fmt.Sprintf("code=%s reason=%s", q(s.code), q(s.reason))
}

func (s *setStatus) Apply(c *Context) error {
	n, err := s.code.Int(c)
	if err != nil {
		return err
	}
	if n < 100 || n > 599 {
		return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation, Message: fmt.Sprintf("set-status: %d is not an HTTP status code", n)}
	}
	if c.Response.Header == nil {
		c.Response.Header = http.Header{}
	}
	c.Response.StatusCode = int(n)
	return nil
}

// setBody is <set-body>text or expression</set-body>.
type setBody struct {
	StepInfo
	body   Value
	liquid *liquid // template="liquid"
}

func newSetBody(b *Builder) (Step, error) {
	s := &setBody{StepInfo: b.Info()}
	isLiquid := false
	if t := b.Str("template", false); t != "" && b.Err() == nil {
		if isLiquid = strings.EqualFold(t, "liquid"); !isLiquid {
			b.Errorf("template", "attribute \"template\" (%s templates) is not supported by Portico yet", t)
		}
	}
	if b.Has("xsi-nil") {
		b.Enum("xsi-nil", "blank", "blank", "null")
	}
	b.Bool("parse-date", true)
	b.NoChildren()
	s.body = b.Text()
	if isLiquid && b.Err() == nil {
		if !s.body.IsLiteral() {
			b.Errorf("", "a liquid template cannot be a policy expression")
		} else if l, err := parseLiquid(s.body.Lit()); err != nil {
			b.Errorf("", "liquid template: %v", err)
		} else {
			s.liquid = l
		}
	}
	return s, b.Err()
}

func (s *setBody) describe() string {
	if s.liquid != nil {
		return "template=liquid body=" + q(s.body)
	}
	return "body=" + q(s.body)
}

// text evaluates the new body: the template, the expression or the text.
func (s *setBody) text(c *Context) (string, error) {
	if s.liquid != nil {
		return s.liquid.render(c)
	}
	return s.body.String(c)
}

func (s *setBody) Apply(c *Context) error {
	v, err := s.text(c)
	if err != nil {
		return err
	}
	if c.section == outbound || c.section == onError {
		if c.Response.Header == nil {
			c.Response.Header = http.Header{}
		}
		c.Response.Body.Set([]byte(v))
		return nil
	}
	c.Request.Body.Set([]byte(v))
	return nil
}

// setMethod is <set-method>METHOD</set-method>.
type setMethod struct {
	StepInfo
	method Value
}

func newSetMethod(b *Builder) (Step, error) {
	s := &setMethod{StepInfo: b.Info()}
	b.NoChildren()
	s.method = b.Text()
	if b.Err() == nil && s.method.IsLiteral() && !validMethod(strings.TrimSpace(s.method.lit)) {
		b.Errorf("", "<set-method> must hold an HTTP method")
	}
	return s, b.Err()
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func (s *setMethod) describe() string { return "method=" + q(s.method) }

func (s *setMethod) Apply(c *Context) error {
	m, err := s.method.String(c)
	if err != nil {
		return err
	}
	m = strings.ToUpper(strings.TrimSpace(m))
	if !validMethod(m) {
		return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation, Message: fmt.Sprintf("set-method: %q is not an HTTP method", m)}
	}
	c.Request.Method = m
	return nil
}
