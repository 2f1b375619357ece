package policy

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// ipFilter is <ip-filter action="allow|forbid"><address/><address-range from to/></ip-filter>.
type ipFilter struct {
	StepInfo
	allow    bool
	prefixes []netip.Prefix
	ranges   [][2]netip.Addr
}

func newIPFilter(b *Builder) (Step, error) {
	s := &ipFilter{StepInfo: b.Info()}
	s.allow = b.Enum("action", "", "allow", "forbid") == "allow"
	if !b.Has("action") {
		b.Errorf("", "attribute \"action\" is required")
	}
	for _, ch := range b.Children("address", "address-range") {
		switch ch.Node().Name {
		case "address":
			ch.NoChildren()
			t := strings.TrimSpace(ch.Node().Text)
			if p, err := netip.ParsePrefix(t); err == nil {
				s.prefixes = append(s.prefixes, p.Masked())
			} else if a, err := netip.ParseAddr(t); err == nil {
				a = a.Unmap()
				s.prefixes = append(s.prefixes, netip.PrefixFrom(a, a.BitLen()))
			} else {
				ch.Errorf("", "%q is not an IP address", t)
			}
		case "address-range":
			from, err1 := netip.ParseAddr(strings.TrimSpace(ch.Str("from", true)))
			to, err2 := netip.ParseAddr(strings.TrimSpace(ch.Str("to", true)))
			switch {
			case ch.Err() != nil:
			case err1 != nil:
				ch.Errorf("from", "attribute \"from\" is not an IP address")
			case err2 != nil:
				ch.Errorf("to", "attribute \"to\" is not an IP address")
			case from.Unmap().Is4() != to.Unmap().Is4() || to.Unmap().Less(from.Unmap()):
				ch.Errorf("to", "attribute \"to\" must be an address of the same family, not below \"from\"")
			default:
				s.ranges = append(s.ranges, [2]netip.Addr{from.Unmap(), to.Unmap()})
			}
		}
		b.Close(ch)
	}
	if b.Err() == nil && len(s.prefixes)+len(s.ranges) == 0 {
		b.Errorf("", "<ip-filter> needs at least one <address> or <address-range>")
	}
	return s, b.Err()
}

func (s *ipFilter) describe() string {
	d := "action=forbid"
	if s.allow {
		d = "action=allow"
	}
	for _, p := range s.prefixes {
		d += " " + p.String()
	}
	for _, r := range s.ranges {
		d += " " + r[0].String() + "-" + r[1].String()
	}
	return d
}

func (s *ipFilter) matches(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	for _, r := range s.ranges {
		if r[0].BitLen() == a.BitLen() && !a.Less(r[0]) && !r[1].Less(a) {
			return true
		}
	}
	return false
}

func (s *ipFilter) Apply(c *Context) error {
	if s.matches(c.ClientIP) == s.allow {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Reason: ReasonCallerIPNotAllowed,
		Message: fmt.Sprintf("Caller IP address %s is not allowed. Access denied.", c.ClientIP.Unmap())}
}

// cors is <cors allow-credentials terminate-unmatched-request> with
// allowed-origins, allowed-methods, allowed-headers and expose-headers.
type cors struct {
	StepInfo
	credentials bool
	terminate   bool
	origins     []string
	methods     []string
	headers     []string
	expose      []string
	maxAge      int64
}

func newCORS(b *Builder) (Step, error) {
	s := &cors{StepInfo: b.Info(), credentials: b.Bool("allow-credentials", false), terminate: b.Bool("terminate-unmatched-request", true)}
	list := func(ch *Builder, item string) []string {
		var out []string
		for _, it := range ch.Children(item) {
			it.NoChildren()
			v, err := it.c.substitute(strings.TrimSpace(it.Node().Text))
			if err != nil {
				it.Errorf("", "%v", err)
			}
			if v == "" {
				it.Errorf("", "<%s> must not be empty", item)
			}
			out = append(out, v)
			ch.Close(it)
		}
		return out
	}
	seenOrigins := false
	for _, ch := range b.Children("allowed-origins", "allowed-methods", "allowed-headers", "expose-headers") {
		switch ch.Node().Name {
		case "allowed-origins":
			seenOrigins = true
			s.origins = list(ch, "origin")
		case "allowed-methods":
			s.maxAge = ch.Int("preflight-result-max-age", false, 0, 0)
			s.methods = list(ch, "method")
		case "allowed-headers":
			s.headers = list(ch, "header")
		case "expose-headers":
			s.expose = list(ch, "header")
		}
		b.Close(ch)
	}
	if b.Err() == nil && (!seenOrigins || len(s.origins) == 0) {
		b.Errorf("", "<cors> needs <allowed-origins> with at least one <origin>")
	}
	if b.Err() == nil && s.credentials && contains(s.origins, "*") {
		b.Errorf("allow-credentials", "allow-credentials=\"true\" cannot be combined with the origin \"*\"")
	}
	if len(s.methods) == 0 {
		s.methods = []string{"GET", "POST"}
	}
	return s, b.Err()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (s *cors) describe() string {
	return fmt.Sprintf("origins=%v methods=%v headers=%v expose=%v credentials=%t terminate=%t max-age=%d",
		s.origins, s.methods, s.headers, s.expose, s.credentials, s.terminate, s.maxAge)
}

func (s *cors) Apply(c *Context) error {
	origin := c.In.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	originOK := containsFold(s.origins, origin)
	allowOrigin := origin
	if contains(s.origins, "*") && !s.credentials {
		allowOrigin = "*"
	}
	reqMethod := c.In.Header.Get("Access-Control-Request-Method")
	if c.In.Method == http.MethodOptions && reqMethod != "" {
		ok := originOK && containsFold(s.methods, reqMethod)
		var reqHeaders []string
		for _, h := range strings.Split(c.In.Header.Get("Access-Control-Request-Headers"), ",") {
			if h = strings.TrimSpace(h); h != "" {
				reqHeaders = append(reqHeaders, h)
				ok = ok && containsFold(s.headers, h)
			}
		}
		if !ok {
			if s.terminate {
				c.Response.reset(http.StatusOK)
				c.Response.Body.Set(nil)
				c.Stop()
			}
			return nil
		}
		c.Response.reset(http.StatusOK)
		h := c.Response.Header
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		if s.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		h.Set("Access-Control-Allow-Methods", reqMethod)
		if len(reqHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(reqHeaders, ","))
		}
		if s.maxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.FormatInt(s.maxAge, 10))
		}
		if allowOrigin != "*" {
			h.Add("Vary", "Origin")
		}
		c.Response.Body.Set(nil)
		c.Stop()
		return nil
	}
	if !originOK || !containsFold(s.methods, c.In.Method) {
		if s.terminate {
			c.Response.reset(http.StatusOK)
			c.Response.Body.Set(nil)
			c.Stop()
		}
		return nil
	}
	c.atEnd(func(c *Context) {
		if c.Response.Header == nil {
			c.Response.Header = http.Header{}
		}
		h := c.Response.Header
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		if s.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if len(s.expose) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(s.expose, ","))
		}
		if allowOrigin != "*" {
			h.Add("Vary", "Origin")
		}
	})
	return nil
}

// authenticationBasic is <authentication-basic username password/>.
type authenticationBasic struct {
	StepInfo
	header string
}

func newAuthenticationBasic(b *Builder) (Step, error) {
	u, p := b.Str("username", true), b.Str("password", true)
	b.NoChildren()
	return &authenticationBasic{StepInfo: b.Info(), header: "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))}, b.Err()
}

func (s *authenticationBasic) describe() string { return "credentials=***" }

func (s *authenticationBasic) Apply(c *Context) error {
	if c.Request.Header == nil {
		c.Request.Header = http.Header{}
	}
	c.Request.Header.Set("Authorization", s.header)
	return nil
}
