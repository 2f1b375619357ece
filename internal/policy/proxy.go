package policy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// proxyStep is <proxy url username password/>: forward-request then goes
// through this HTTP proxy (CONNECT for an https backend), authenticating
// with Basic credentials when username is given. It sets
// Context.Request.Proxy; the gateway does the rest.
type proxyStep struct {
	StepInfo
	url, user, pass Value
	fixed           *url.URL // when all three are literals
}

func newProxy(b *Builder) (Step, error) {
	s := &proxyStep{StepInfo: b.Info(), url: b.Val("url", true)}
	if b.Has("username") {
		s.user = b.Val("username", false)
	}
	if b.Has("password") {
		s.pass = b.Val("password", false)
	}
	b.NoChildren()
	if b.Err() == nil && s.url.IsLiteral() && s.user.IsLiteral() && s.pass.IsLiteral() {
		u, err := proxyURL(s.url.Lit(), s.user.Lit(), s.pass.Lit())
		if err != nil {
			b.Errorf("url", "attribute \"url\": %v", err)
		}
		s.fixed = u
	}
	return s, b.Err()
}

// proxyURL is the proxy's URL with the credentials in its user info.
func proxyURL(raw, user, pass string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%q is not an http://host:port proxy URL", raw)
	}
	u.Path = ""
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u, nil
}

func (s *proxyStep) describe() string {
	d := "url=" + q(s.url)
	if !s.user.IsLiteral() || s.user.Lit() != "" {
		d += " username=" + q(s.user)
	}
	return d // never the password
}

func (s *proxyStep) Apply(c *Context) error {
	if s.fixed != nil {
		c.Request.Proxy = s.fixed
		return nil
	}
	var vals [3]string
	for i, v := range []Value{s.url, s.user, s.pass} {
		str, err := v.String(c)
		if err != nil {
			return err
		}
		vals[i] = str
	}
	u, err := proxyURL(vals[0], vals[1], vals[2])
	if err != nil {
		return &Error{Status: http.StatusInternalServerError, Reason: ReasonExpressionValueEvaluation, Message: "proxy: " + err.Error()}
	}
	c.Request.Proxy = u
	return nil
}
