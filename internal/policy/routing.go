package policy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// forwardRequest is <forward-request timeout fail-on-error-status-code/>.
type forwardRequest struct {
	StepInfo
	timeout     time.Duration
	failOnError bool
	follow      bool
}

func newForwardRequest(b *Builder) (Step, error) {
	s := &forwardRequest{StepInfo: b.Info()}
	s.timeout = time.Duration(b.Int("timeout", false, 0, 0)) * time.Second
	s.follow = b.Bool("follow-redirects", false)
	b.Bool("buffer-request-body", false)
	b.Bool("buffer-response", true)
	s.failOnError = b.Bool("fail-on-error-status-code", false)
	if b.Has("http-version") {
		b.Enum("http-version", "1", "1", "2or1", "2")
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *forwardRequest) describe() string {
	d := ""
	if s.timeout > 0 {
		d = fmt.Sprintf("timeout=%s", s.timeout)
	}
	if s.failOnError {
		d = strings.TrimSpace(d + " fail-on-error-status-code=true")
	}
	if s.follow {
		d = strings.TrimSpace(d + " follow-redirects=true")
	}
	return d
}

func (s *forwardRequest) Apply(c *Context) error {
	if c.Backend == nil {
		return &Error{Status: http.StatusBadGateway, Reason: ReasonBackendConnectionFailure, Message: "Bad gateway: no backend"}
	}
	if s.follow {
		// a 307/308 resends the body: keep it
		if _, err := c.Request.Body.Bytes(); err != nil {
			return &Error{Status: http.StatusBadRequest, Reason: ReasonClientConnectionFailure, Message: "The request body could not be read.", Err: err}
		}
		c.Request.FollowRedirects = true
		defer func() { c.Request.FollowRedirects = false }()
	}
	if err := c.Backend.Forward(c, s.timeout); err != nil {
		return err
	}
	if s.failOnError && c.Response.StatusCode >= 400 {
		return &Error{Status: c.Response.StatusCode, Reason: ReasonBackendErrorStatusCode,
			Message: fmt.Sprintf("The backend answered with status %d.", c.Response.StatusCode)}
	}
	return nil
}

// setBackendService is <set-backend-service base-url | backend-id/>.
type setBackendService struct {
	StepInfo
	base      Value
	fixed     *url.URL
	backendID string
}

func newSetBackendService(b *Builder) (Step, error) {
	s := &setBackendService{StepInfo: b.Info()}
	hasBase, hasID := b.Has("base-url"), b.Has("backend-id")
	switch {
	case hasBase == hasID:
		b.Errorf("", "exactly one of the attributes \"base-url\" and \"backend-id\" is required")
	case hasBase:
		s.base = b.Val("base-url", true)
		if b.Err() == nil && s.base.IsLiteral() {
			u, err := parseBaseURL(s.base.lit)
			if err != nil {
				b.Errorf("base-url", "attribute \"base-url\": %v", err)
			}
			s.fixed = u
		}
	default:
		s.backendID = b.Str("backend-id", true)
		if b.Err() == nil {
			var u *url.URL
			ok := false
			if env := b.Env(); env.Backend != nil {
				u, ok = env.Backend(s.backendID)
			}
			if !ok {
				b.Errorf("backend-id", "backend %q does not exist", s.backendID)
			}
			s.fixed = u
		}
	}
	for _, a := range []string{"sf-partition-key", "sf-replica-type", "sf-resolve-condition", "sf-service-instance-name", "sf-listener-name", "dapr-app-id", "dapr-method", "dapr-namespace"} {
		if b.Has(a) {
			b.Str(a, false)
			b.Errorf(a, "attribute %q is not supported by Portico", a)
		}
	}
	b.NoChildren()
	return s, b.Err()
}

// parseBaseURL checks that v is an absolute http or https URL (a backend
// base URL, a send-request URL).
func parseBaseURL(v string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http or https URL", v)
	}
	return u, nil
}

func (s *setBackendService) describe() string {
	if s.backendID != "" {
		return fmt.Sprintf("backend-id=%q url=%q", s.backendID, s.fixed)
	}
	return "base-url=" + q(s.base)
}

func (s *setBackendService) Apply(c *Context) error {
	if s.fixed != nil {
		c.Request.Backend = s.fixed
		return nil
	}
	v, err := s.base.String(c)
	if err != nil {
		return err
	}
	u, err := parseBaseURL(v)
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation, Message: "set-backend-service: " + err.Error()}
	}
	c.Request.Backend = u
	return nil
}

// rewriteURI is <rewrite-uri template copy-unmatched-params/>.
type rewriteURI struct {
	StepInfo
	template Value
	copy     bool
}

func newRewriteURI(b *Builder) (Step, error) {
	s := &rewriteURI{StepInfo: b.Info(), template: b.Val("template", true), copy: b.Bool("copy-unmatched-params", true)}
	if b.Err() == nil && s.template.IsLiteral() {
		if err := checkTemplate(s.template.lit); err != nil {
			b.Errorf("template", "attribute \"template\": %v", err)
		}
	}
	b.NoChildren()
	return s, b.Err()
}

func (s *rewriteURI) describe() string {
	return fmt.Sprintf("template=%s copy-unmatched-params=%t", q(s.template), s.copy)
}

// checkTemplate checks that braces in a URL template pair up around names.
func checkTemplate(t string) error {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '{':
			j := strings.IndexByte(t[i:], '}')
			if j < 0 {
				return fmt.Errorf("unclosed '{' at offset %d", i)
			}
			name := t[i+1 : i+j]
			if name == "" || strings.ContainsAny(name, "{/?&=") {
				return fmt.Errorf("invalid parameter name %q", name)
			}
			i += j
		case '}':
			return fmt.Errorf("unexpected '}' at offset %d", i)
		}
	}
	return nil
}

func (s *rewriteURI) Apply(c *Context) error {
	t, err := s.template.String(c)
	if err != nil {
		return err
	}
	if err := checkTemplate(t); err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation, Message: "rewrite-uri: " + err.Error()}
	}
	query, _ := url.ParseQuery(c.Request.RawQuery)
	used := map[string]bool{}
	lookup := func(name string) string {
		for _, p := range c.Operation.Params {
			if p.Name == name {
				return p.Value
			}
		}
		if vs, ok := query[name]; ok && len(vs) > 0 {
			used[name] = true
			return vs[0]
		}
		return ""
	}
	path, rawq, _ := strings.Cut(t, "?")
	path = expand(path, lookup, url.PathEscape)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	newq := url.Values{}
	if rawq != "" {
		for _, pair := range strings.Split(rawq, "&") {
			k, v, _ := strings.Cut(pair, "=")
			k = expand(k, lookup, func(s string) string { return s })
			if k == "" {
				continue
			}
			newq.Add(k, expand(v, lookup, func(s string) string { return s }))
		}
	}
	if s.copy {
		for k, vs := range query {
			if used[k] || newq.Has(k) {
				continue
			}
			newq[k] = vs
		}
	}
	c.Request.Path, c.Request.RawQuery = path, newq.Encode()
	return nil
}

// expand replaces {name} in s by esc(lookup(name)).
func expand(s string, lookup func(string) string, esc func(string) string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(esc(lookup(s[i+1 : i+j])))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}
