package policy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// choose is <choose><when condition/>…<otherwise/></choose>.
type choose struct {
	StepInfo
	whens     []when
	otherwise []Step
	hasOther  bool
}

type when struct {
	cond  Value
	steps []Step
}

func newChoose(b *Builder) (Step, error) {
	s := &choose{StepInfo: b.Info()}
	kids := b.Children("when", "otherwise")
	for i, ch := range kids {
		switch ch.Node().Name {
		case "when":
			if s.hasOther {
				b.Errorf("", "<otherwise> must come after every <when>")
			}
			w := when{cond: ch.Val("condition", true)}
			if ch.Err() == nil && w.cond.IsLiteral() {
				if _, err := w.cond.Bool(nil); err != nil {
					ch.Errorf("condition", "attribute \"condition\" must be a boolean expression")
				}
			}
			w.steps = ch.Steps()
			s.whens = append(s.whens, w)
		case "otherwise":
			if s.hasOther || i != len(kids)-1 {
				ch.Errorf("", "<otherwise> may appear once, after every <when>")
			}
			s.hasOther = true
			s.otherwise = ch.Steps()
		}
		b.Close(ch)
	}
	if b.Err() == nil && len(s.whens) == 0 {
		b.Errorf("", "<choose> needs at least one <when>")
	}
	return s, b.Err()
}

func (s *choose) branches() []branch {
	var out []branch
	for _, w := range s.whens {
		out = append(out, branch{label: "when " + q(w.cond), steps: w.steps})
	}
	if s.hasOther {
		out = append(out, branch{label: "otherwise", steps: s.otherwise})
	}
	return out
}

func (s *choose) Apply(c *Context) error {
	for _, w := range s.whens {
		ok, err := w.cond.Bool(c)
		if err != nil {
			return err
		}
		if ok {
			return runSteps(c, w.steps)
		}
	}
	return runSteps(c, s.otherwise)
}

// setVariable is <set-variable name value/>.
type setVariable struct {
	StepInfo
	name  string
	value Value
}

func newSetVariable(b *Builder) (Step, error) {
	s := &setVariable{StepInfo: b.Info(), name: b.Str("name", true), value: b.Val("value", true)}
	b.NoChildren()
	return s, b.Err()
}

func (s *setVariable) describe() string { return fmt.Sprintf("name=%q value=%s", s.name, q(s.value)) }

func (s *setVariable) Apply(c *Context) error {
	v, err := s.value.Eval(c)
	if err != nil {
		return err
	}
	c.SetVar(s.name, v)
	return nil
}

// returnResponse is <return-response> with set-status, set-header and
// set-body inside: it answers the request and stops the pipeline.
type returnResponse struct {
	StepInfo
	varName string // response-variable-name: start from this send-request response
	steps   []Step
}

func newReturnResponse(b *Builder) (Step, error) {
	s := &returnResponse{StepInfo: b.Info()}
	s.varName = b.Str("response-variable-name", false)
	for _, ch := range b.Children("set-status", "set-header", "set-body") {
		st, err := b.c.element(ch.Node(), ch.path, outbound)
		if err != nil {
			if b.err == nil {
				b.err = err
			}
			continue
		}
		s.steps = append(s.steps, st)
	}
	return s, b.Err()
}

func (s *returnResponse) branches() []branch { return []branch{{label: "response", steps: s.steps}} }

func (s *returnResponse) describe() string {
	if s.varName != "" {
		return fmt.Sprintf("response-variable-name=%q", s.varName)
	}
	return ""
}

func (s *returnResponse) Apply(c *Context) error {
	c.Response.reset(http.StatusOK)
	if s.varName != "" {
		v, _ := c.Var(s.varName)
		res, ok := v.(*expr.Response)
		if !ok || res == nil {
			return exprError(fmt.Errorf("return-response: variable %q does not hold a response (%T)", s.varName, v))
		}
		var data []byte
		if res.Body != nil {
			var err error
			if data, err = res.Body.Bytes(); err != nil {
				return exprError(fmt.Errorf("return-response: the body of %q: %w", s.varName, err))
			}
		}
		c.Response.StatusCode = res.StatusCode
		for k, vs := range res.Headers {
			c.Response.Header[k] = append([]string(nil), vs...)
		}
		for _, k := range []string{"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length"} {
			c.Response.Header.Del(k)
		}
		c.Response.Body.Set(data)
	}
	sec := c.section
	c.section = outbound
	err := runSteps(c, s.steps)
	c.section = sec
	if err != nil {
		return err
	}
	c.Stop()
	return nil
}

// mockResponse is <mock-response status-code content-type/>: it answers
// with the operation's example response (Context.Operation.Examples) for
// that status code and content type, as APIM does.
type mockResponse struct {
	StepInfo
	status      int
	statusSet   bool
	contentType string // "" when not given
}

func newMockResponse(b *Builder) (Step, error) {
	s := &mockResponse{StepInfo: b.Info(), statusSet: b.Has("status-code")}
	s.status = int(b.Int("status-code", false, 200, 100))
	s.contentType = b.Str("content-type", false)
	b.NoChildren()
	return s, b.Err()
}

func (s *mockResponse) describe() string {
	return fmt.Sprintf("status-code=%d content-type=%q", s.status, s.contentType)
}

func (s *mockResponse) Apply(c *Context) error {
	status, ct := s.status, s.contentType
	ex := pickExample(c.Operation.Examples, s.status, s.contentType)
	if ex != nil {
		if !s.statusSet {
			status = ex.Status
		}
		if ct == "" {
			ct = ex.ContentType
		}
	}
	if ct == "" {
		ct = "application/json"
	}
	c.Response.reset(status)
	c.Response.Header.Set("Content-Type", ct)
	if ex != nil {
		c.Response.Body.Set(slices.Clone(ex.Body)) // steps after may edit it in place
	} else {
		c.Response.Body.Set(nil)
	}
	c.Stop()
	return nil
}

// pickExample returns the example for status and contentType ("" matches
// any), else, when status is a 2xx, the first 2xx example (of contentType
// when one has it), else nil.
func pickExample(exs []Example, status int, contentType string) *Example {
	match := func(e *Example) bool {
		return contentType == "" || mediaType(e.ContentType) == mediaType(contentType)
	}
	for i := range exs {
		if exs[i].Status == status && match(&exs[i]) {
			return &exs[i]
		}
	}
	if status < 200 || status > 299 {
		return nil
	}
	var first *Example
	for i := range exs {
		if e := &exs[i]; e.Status >= 200 && e.Status <= 299 {
			if match(e) {
				return e
			}
			if first == nil {
				first = e
			}
		}
	}
	return first
}

// mediaType is the lowercase type/subtype of a Content-Type value.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// trace is <trace source severity><message/><metadata name value/></trace>.
type trace struct {
	StepInfo
	source, severity string
	message          Value
	meta             [][2]string
}

func newTrace(b *Builder) (Step, error) {
	s := &trace{StepInfo: b.Info(), source: b.Str("source", true)}
	s.severity = b.Enum("severity", "verbose", "verbose", "information", "error")
	found := false
	for _, ch := range b.Children("message", "metadata") {
		switch ch.Node().Name {
		case "message":
			if found {
				ch.Errorf("", "<message> may appear once")
			}
			found = true
			ch.NoChildren()
			s.message = ch.Text()
		case "metadata":
			s.meta = append(s.meta, [2]string{ch.Str("name", true), ch.Str("value", true)})
		}
		b.Close(ch)
	}
	if b.Err() == nil && !found {
		b.Errorf("", "<trace> needs a <message>")
	}
	return s, b.Err()
}

func (s *trace) describe() string {
	return fmt.Sprintf("source=%q severity=%s message=%s", s.source, s.severity, q(s.message))
}

func (s *trace) Apply(c *Context) error {
	if c.Trace == nil {
		return nil
	}
	msg, err := s.message.String(c)
	if err != nil {
		return err
	}
	if len(s.meta) > 0 {
		var b strings.Builder
		b.WriteString(msg)
		for _, m := range s.meta {
			b.WriteString(" " + m[0] + "=" + m[1])
		}
		msg = b.String()
	}
	c.Trace(s.source, s.severity, msg)
	return nil
}
