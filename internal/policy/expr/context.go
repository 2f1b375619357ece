package expr

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Context is the `context` object of policy expressions, implemented by the
// gateway per request. Methods are called lazily, only when an expression
// reads the member, and may be called several times per evaluation: they must
// be cheap (return fields) and must not block. A nil pointer result stands for
// an absent object (context.Product is null for a request without a product).
// Expressions only read what these methods return, except Body contents
// (see Body) and the values they put into Variables.
type Context interface {
	API() *API
	Operation() *Operation
	Product() *Product
	Subscription() *Subscription
	User() *User
	Request() *Request
	Response() *Response
	// Variables is context.Variables. Expressions read it (set-variable
	// policies write it); values are runtime Values or plain Go values
	// (int, float32, []string, time.Time are converted on read).
	Variables() map[string]any
	LastError() *LastError
	Deployment() *Deployment
	// RequestID is context.RequestId (a Guid in APIM: a Guid string is
	// exposed as a Guid, anything else as a string).
	RequestID() string
	Timestamp() time.Time
	Elapsed() time.Duration
	// Trace receives context.Trace(source, message) calls.
	Trace(source string, message any)
}

// API is context.Api.
type API struct {
	ID, Name, Path, Version, Revision string
	ServiceURL                        *URL
	IsCurrentRevision                 bool
	// SubscriptionKeyHeader and SubscriptionKeyQuery are
	// SubscriptionKeyParameterNames.Header and .Query.
	SubscriptionKeyHeader, SubscriptionKeyQuery string
	Protocols                                   []string
}

// Operation is context.Operation.
type Operation struct {
	ID, Name, Method, URLTemplate string
}

// Product is context.Product.
type Product struct {
	ID, Name, State      string
	ApprovalRequired     bool
	SubscriptionRequired bool
	SubscriptionsLimit   *int
	Groups               []UserGroup
}

// Subscription is context.Subscription.
type Subscription struct {
	ID, Name, Key, PrimaryKey, SecondaryKey string
	CreatedDate                             time.Time
	StartDate, EndDate                      *time.Time
}

// User is context.User.
type User struct {
	ID, Email, FirstName, LastName, Note string
	Groups                               []UserGroup
	RegistrationDate                     time.Time
}

// UserGroup is an element of context.User.Groups and context.Product.Groups.
type UserGroup struct{ ID, Name string }

// Request is context.Request. Headers use http.Header's canonical keys;
// lookups from expressions are case-insensitive.
type Request struct {
	Method            string
	URL               *URL
	OriginalURL       *URL
	Headers           http.Header
	Body              *Body
	IPAddress         string
	MatchedParameters map[string]string
	Certificate       *x509.Certificate
}

// Response is context.Response.
type Response struct {
	StatusCode   int
	StatusReason string
	Headers      http.Header
	Body         *Body
}

// LastError is context.LastError.
type LastError struct {
	Source, Reason, Message, Scope, Section, Path, PolicyID string
}

// Deployment is context.Deployment.
type Deployment struct {
	GatewayID, Region, ServiceName string
}

// URL is an APIM IUrl: context.Request.Url, OriginalUrl, Api.ServiceUrl.
type URL struct {
	Scheme, Host string
	Port         int
	Path         string
	Query        url.Values
}

// NewURL converts a net/url URL (absolute) into a URL; the port defaults from
// the scheme.
func NewURL(u *url.URL) *URL {
	if u == nil {
		return nil
	}
	r := &URL{Scheme: u.Scheme, Host: u.Hostname(), Path: u.Path, Query: u.Query()}
	if r.Path == "" {
		r.Path = "/"
	}
	if p := u.Port(); p != "" {
		r.Port, _ = strconv.Atoi(p)
	} else if u.Scheme == "https" {
		r.Port = 443
	} else {
		r.Port = 80
	}
	return r
}

// QueryString is the encoded query with its leading '?' ("" when empty), in
// key order.
func (u *URL) QueryString() string {
	if len(u.Query) == 0 {
		return ""
	}
	return "?" + u.Query.Encode()
}

// String is the absolute URL; the port is omitted when it is the scheme's default.
func (u *URL) String() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	if !(u.Port == 0 || u.Port == 80 && u.Scheme == "http" || u.Port == 443 && u.Scheme == "https") {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	b.WriteString(u.Path)
	b.WriteString(u.QueryString())
	return b.String()
}

// Body is a message body (context.Request.Body, context.Response.Body) read
// lazily. As<T>() without preserveContent: true consumes it, as in APIM: the
// gateway must then not forward the original content (check Consumed), and a
// second read from an expression fails.
type Body struct {
	// Load reads the whole content; it is called at most once, on first use.
	Load     func() ([]byte, error)
	data     []byte
	loaded   bool
	consumed bool
}

// NewBody returns a Body over content that is already in memory.
func NewBody(content []byte) *Body { return &Body{data: content, loaded: true} }

// Bytes returns the content without consuming it.
func (b *Body) Bytes() ([]byte, error) {
	if !b.loaded {
		if b.Load == nil {
			b.loaded = true
			return nil, nil
		}
		d, err := b.Load()
		if err != nil {
			return nil, err
		}
		b.data, b.loaded = d, true
	}
	return b.data, nil
}

// Consumed reports whether an expression read the body without preserveContent.
func (b *Body) Consumed() bool { return b.consumed }

var errConsumed = errors.New("the body has already been read by As<T>() without preserveContent: true")

func (b *Body) read(e *env, preserve bool) []byte {
	if b.consumed {
		throwf("InvalidOperationException", "%s", errConsumed.Error())
	}
	d, err := b.Bytes()
	if err != nil {
		throwf("IOException", "reading the body: %v", err)
	}
	if !preserve {
		b.consumed = true
	}
	e.alloc(len(d))
	return d
}

// ctxRoot is the value of the identifier `context`.
type ctxRoot struct{}

type certValue struct{ c *x509.Certificate }

// Jwt is the result of AsJwt(): a parsed, NOT validated, JSON Web Token.
type Jwt struct {
	header, claims *JObject
	raw            string
}

// BasicAuth is the result of AsBasic() on an Authorization header value.
type BasicAuth struct{ UserID, Password string }

func (e *env) context() Context {
	if e.ctx == nil {
		throwf("NullReferenceException", "no context is available to this expression")
	}
	return e.ctx
}

func timeOrNull(t *time.Time) Value {
	if t == nil {
		return nil
	}
	return DateTime{T: t.UTC(), Kind: UTC}
}

func utc(t time.Time) Value { return DateTime{T: t.UTC(), Kind: UTC} }

func groupsList(gs []UserGroup) *List {
	l := &List{Items: make([]Value, len(gs))}
	for i, g := range gs {
		l.Items[i] = g
	}
	return l
}

func nz[T any](p *T) Value {
	if p == nil {
		return nil
	}
	return p
}

// contextTypes are the APIM context interfaces a policy expression may name
// in a cast or an "as"/"is" test, as in
// ((IResponse)context.Variables["r"]).Body. The cast passes the value through
// when it is that interface at run time and throws InvalidCastException
// otherwise; it never converts.
var contextTypes = []string{"IResponse", "IRequest", "IMessageBody", "IUrl"}

func registerContext() {
	for _, t := range contextTypes {
		knownTypes[t] = true
	}
	prop(kContext, "Api", func(e *env, r Value) Value { return nz(e.context().API()) })
	prop(kContext, "Operation", func(e *env, r Value) Value { return nz(e.context().Operation()) })
	prop(kContext, "Product", func(e *env, r Value) Value { return nz(e.context().Product()) })
	prop(kContext, "Subscription", func(e *env, r Value) Value { return nz(e.context().Subscription()) })
	prop(kContext, "User", func(e *env, r Value) Value { return nz(e.context().User()) })
	prop(kContext, "Request", func(e *env, r Value) Value { return nz(e.context().Request()) })
	prop(kContext, "Response", func(e *env, r Value) Value { return nz(e.context().Response()) })
	prop(kContext, "Variables", func(e *env, r Value) Value {
		v := e.context().Variables()
		if v == nil {
			return map[string]any{}
		}
		return v
	})
	prop(kContext, "LastError", func(e *env, r Value) Value { return nz(e.context().LastError()) })
	prop(kContext, "Deployment", func(e *env, r Value) Value { return nz(e.context().Deployment()) })
	prop(kContext, "RequestId", func(e *env, r Value) Value {
		s := e.context().RequestID()
		if g, ok := parseGuid(s); ok {
			return g
		}
		return s
	})
	prop(kContext, "Timestamp", func(e *env, r Value) Value { return utc(e.context().Timestamp()) })
	prop(kContext, "Elapsed", func(e *env, r Value) Value { return e.context().Elapsed() })
	method(kContext, "Trace", func(e *env, r Value, a []Value, cs *callSite) Value {
		switch len(a) {
		case 1:
			e.context().Trace("", plainOut(a[0]))
		case 2:
			e.context().Trace(toStr(a[0]), plainOut(a[1]))
		default:
			wrongArgs(cs, len(a))
		}
		return nil
	})

	prop(kAPI, "Id", func(e *env, r Value) Value { return r.(*API).ID })
	prop(kAPI, "Name", func(e *env, r Value) Value { return r.(*API).Name })
	prop(kAPI, "Path", func(e *env, r Value) Value { return r.(*API).Path })
	prop(kAPI, "Version", func(e *env, r Value) Value { return r.(*API).Version })
	prop(kAPI, "Revision", func(e *env, r Value) Value { return r.(*API).Revision })
	prop(kAPI, "IsCurrentRevision", func(e *env, r Value) Value { return r.(*API).IsCurrentRevision })
	prop(kAPI, "ServiceUrl", func(e *env, r Value) Value { return nz(r.(*API).ServiceURL) })
	prop(kAPI, "Protocols", func(e *env, r Value) Value { return normalize(r.(*API).Protocols) })
	prop(kAPI, "SubscriptionKeyParameterNames", func(e *env, r Value) Value {
		a := r.(*API)
		d := newDict()
		d.Anon = true
		d.Set("Header", a.SubscriptionKeyHeader)
		d.Set("Query", a.SubscriptionKeyQuery)
		return d
	})

	prop(kOperation, "Id", func(e *env, r Value) Value { return r.(*Operation).ID })
	prop(kOperation, "Name", func(e *env, r Value) Value { return r.(*Operation).Name })
	prop(kOperation, "Method", func(e *env, r Value) Value { return r.(*Operation).Method })
	prop(kOperation, "UrlTemplate", func(e *env, r Value) Value { return r.(*Operation).URLTemplate })

	prop(kProduct, "Id", func(e *env, r Value) Value { return r.(*Product).ID })
	prop(kProduct, "Name", func(e *env, r Value) Value { return r.(*Product).Name })
	prop(kProduct, "State", func(e *env, r Value) Value { return r.(*Product).State })
	prop(kProduct, "ApprovalRequired", func(e *env, r Value) Value { return r.(*Product).ApprovalRequired })
	prop(kProduct, "SubscriptionRequired", func(e *env, r Value) Value { return r.(*Product).SubscriptionRequired })
	prop(kProduct, "SubscriptionsLimit", func(e *env, r Value) Value {
		if l := r.(*Product).SubscriptionsLimit; l != nil {
			return int32(*l)
		}
		return nil
	})
	prop(kProduct, "Groups", func(e *env, r Value) Value { return groupsList(r.(*Product).Groups) })

	prop(kSubscription, "Id", func(e *env, r Value) Value { return r.(*Subscription).ID })
	prop(kSubscription, "Name", func(e *env, r Value) Value { return r.(*Subscription).Name })
	prop(kSubscription, "Key", func(e *env, r Value) Value { return r.(*Subscription).Key })
	prop(kSubscription, "PrimaryKey", func(e *env, r Value) Value { return r.(*Subscription).PrimaryKey })
	prop(kSubscription, "SecondaryKey", func(e *env, r Value) Value { return r.(*Subscription).SecondaryKey })
	prop(kSubscription, "CreatedDate", func(e *env, r Value) Value { return utc(r.(*Subscription).CreatedDate) })
	prop(kSubscription, "StartDate", func(e *env, r Value) Value { return timeOrNull(r.(*Subscription).StartDate) })
	prop(kSubscription, "EndDate", func(e *env, r Value) Value { return timeOrNull(r.(*Subscription).EndDate) })

	prop(kUser, "Id", func(e *env, r Value) Value { return r.(*User).ID })
	prop(kUser, "Email", func(e *env, r Value) Value { return r.(*User).Email })
	prop(kUser, "FirstName", func(e *env, r Value) Value { return r.(*User).FirstName })
	prop(kUser, "LastName", func(e *env, r Value) Value { return r.(*User).LastName })
	prop(kUser, "Note", func(e *env, r Value) Value { return r.(*User).Note })
	prop(kUser, "RegistrationDate", func(e *env, r Value) Value { return utc(r.(*User).RegistrationDate) })
	prop(kUser, "Groups", func(e *env, r Value) Value { return groupsList(r.(*User).Groups) })
	prop(kUserGroup, "Id", func(e *env, r Value) Value { return r.(UserGroup).ID })
	prop(kUserGroup, "Name", func(e *env, r Value) Value { return r.(UserGroup).Name })

	prop(kRequest, "Method", func(e *env, r Value) Value { return r.(*Request).Method })
	prop(kRequest, "Url", func(e *env, r Value) Value { return nz(r.(*Request).URL) })
	prop(kRequest, "OriginalUrl", func(e *env, r Value) Value {
		q := r.(*Request)
		if q.OriginalURL == nil {
			return nz(q.URL)
		}
		return q.OriginalURL
	})
	prop(kRequest, "Headers", func(e *env, r Value) Value {
		h := r.(*Request).Headers
		if h == nil {
			return http.Header{}
		}
		return h
	})
	prop(kRequest, "Body", func(e *env, r Value) Value { return nz(r.(*Request).Body) })
	prop(kRequest, "IpAddress", func(e *env, r Value) Value { return r.(*Request).IPAddress })
	prop(kRequest, "MatchedParameters", func(e *env, r Value) Value {
		m := r.(*Request).MatchedParameters
		if m == nil {
			return map[string]string{}
		}
		return m
	})
	prop(kRequest, "Certificate", func(e *env, r Value) Value {
		if c := r.(*Request).Certificate; c != nil {
			return &certValue{c}
		}
		return nil
	})
	prop(kResponse, "StatusCode", func(e *env, r Value) Value { return int32(r.(*Response).StatusCode) })
	prop(kResponse, "StatusReason", func(e *env, r Value) Value { return r.(*Response).StatusReason })
	prop(kResponse, "Headers", func(e *env, r Value) Value {
		h := r.(*Response).Headers
		if h == nil {
			return http.Header{}
		}
		return h
	})
	prop(kResponse, "Body", func(e *env, r Value) Value { return nz(r.(*Response).Body) })

	prop(kLastError, "Source", func(e *env, r Value) Value { return r.(*LastError).Source })
	prop(kLastError, "Reason", func(e *env, r Value) Value { return r.(*LastError).Reason })
	prop(kLastError, "Message", func(e *env, r Value) Value { return r.(*LastError).Message })
	prop(kLastError, "Scope", func(e *env, r Value) Value { return r.(*LastError).Scope })
	prop(kLastError, "Section", func(e *env, r Value) Value { return r.(*LastError).Section })
	prop(kLastError, "Path", func(e *env, r Value) Value { return r.(*LastError).Path })
	prop(kLastError, "PolicyId", func(e *env, r Value) Value { return r.(*LastError).PolicyID })

	prop(kDeployment, "GatewayId", func(e *env, r Value) Value { return r.(*Deployment).GatewayID })
	prop(kDeployment, "Region", func(e *env, r Value) Value { return r.(*Deployment).Region })
	prop(kDeployment, "ServiceName", func(e *env, r Value) Value { return r.(*Deployment).ServiceName })

	prop(kURL, "Scheme", func(e *env, r Value) Value { return r.(*URL).Scheme })
	prop(kURL, "Host", func(e *env, r Value) Value { return r.(*URL).Host })
	prop(kURL, "Port", func(e *env, r Value) Value { return int32(r.(*URL).Port) })
	prop(kURL, "Path", func(e *env, r Value) Value { return r.(*URL).Path })
	prop(kURL, "Query", func(e *env, r Value) Value {
		q := r.(*URL).Query
		if q == nil {
			return url.Values{}
		}
		return q
	})
	prop(kURL, "QueryString", func(e *env, r Value) Value { return r.(*URL).QueryString() })
	method(kURL, "ToString", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*URL).String() })

	// message bodies
	method(kBody, "As", func(e *env, r Value, a []Value, cs *callSite) Value {
		preserve := false
		if len(a) > 0 {
			preserve = truthy(a[0])
		}
		data := r.(*Body).read(e, preserve)
		return bodyAs(e, data, cs.targ(0), cs)
	})
	method(kBody, "AsFormUrlEncodedContent", func(e *env, r Value, a []Value, cs *callSite) Value {
		preserve := len(a) > 0 && truthy(a[0])
		data := r.(*Body).read(e, preserve)
		q, err := url.ParseQuery(string(data))
		if err != nil {
			throwf("FormatException", "the body is not form-url-encoded: %v", err)
		}
		return q
	})

	// header-like dictionaries
	hdrGet := func(h http.Header, name string) ([]string, bool) {
		if v, ok := h[name]; ok {
			return v, true
		}
		if v, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
			return v, true
		}
		for k, v := range h {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	multi := func(v []string) Value {
		if len(v) == 1 {
			return v[0]
		}
		return strings.Join(v, ",")
	}
	method(kHeaders, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := hdrGet(r.(http.Header), argStr(a, 0, cs)); ok {
			return multi(v)
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	method(kHeaders, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := hdrGet(r.(http.Header), argStr(a, 0, cs))
		return ok
	})
	method(kHeaders, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := hdrGet(r.(http.Header), argStr(a, 0, cs))
		setOut(e, a, 1, cs, func() Value {
			if !ok {
				return nil
			}
			return normalize(v)
		}())
		return ok
	})
	prop(kHeaders, "Count", func(e *env, r Value) Value { return int32(len(r.(http.Header))) })
	prop(kHeaders, "Keys", func(e *env, r Value) Value { return sortedKeys(r.(http.Header)) })
	qGet := func(q url.Values, name string) ([]string, bool) {
		if v, ok := q[name]; ok {
			return v, true
		}
		for k, v := range q {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return nil, false
	}
	method(kQuery, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := qGet(r.(url.Values), argStr(a, 0, cs)); ok {
			return multi(v)
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	method(kQuery, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := qGet(r.(url.Values), argStr(a, 0, cs))
		return ok
	})
	method(kQuery, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := qGet(r.(url.Values), argStr(a, 0, cs))
		if ok {
			setOut(e, a, 1, cs, normalize(v))
		} else {
			setOut(e, a, 1, cs, nil)
		}
		return ok
	})
	prop(kQuery, "Count", func(e *env, r Value) Value { return int32(len(r.(url.Values))) })
	prop(kQuery, "Keys", func(e *env, r Value) Value { return sortedKeys(r.(url.Values)) })

	method(kStrMap, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		if v, ok := r.(map[string]string)[argStr(a, 0, cs)]; ok {
			return v
		}
		if len(a) > 1 {
			return a[1]
		}
		return nil
	})
	method(kStrMap, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(map[string]string)[argStr(a, 0, cs)]
		return ok
	})
	method(kStrMap, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(map[string]string)[argStr(a, 0, cs)]
		if ok {
			setOut(e, a, 1, cs, v)
		} else {
			setOut(e, a, 1, cs, nil)
		}
		return ok
	})
	prop(kStrMap, "Count", func(e *env, r Value) Value { return int32(len(r.(map[string]string))) })
	prop(kStrMap, "Keys", func(e *env, r Value) Value { return sortedKeys(r.(map[string]string)) })

	method(kVariables, "GetValueOrDefault", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) < 1 || len(a) > 2 {
			wrongArgs(cs, len(a))
		}
		v, ok := r.(map[string]any)[argStr(a, 0, cs)]
		if !ok {
			if len(a) > 1 {
				return a[1]
			}
			return defaultOf(cs.targ(0), nil)
		}
		v = normalize(v)
		if t := cs.targ(0); t != "" {
			return castTo(v, t, cs.targs[0], true)
		}
		return v
	})
	method(kVariables, "ContainsKey", func(e *env, r Value, a []Value, cs *callSite) Value {
		_, ok := r.(map[string]any)[argStr(a, 0, cs)]
		return ok
	})
	method(kVariables, "TryGetValue", func(e *env, r Value, a []Value, cs *callSite) Value {
		v, ok := r.(map[string]any)[argStr(a, 0, cs)]
		setOut(e, a, 1, cs, normalize(v))
		return ok
	})
	prop(kVariables, "Count", func(e *env, r Value) Value { return int32(len(r.(map[string]any))) })
	prop(kVariables, "Keys", func(e *env, r Value) Value { return sortedKeys(r.(map[string]any)) })

	// certificates
	prop(kCert, "Subject", func(e *env, r Value) Value { return r.(*certValue).c.Subject.String() })
	prop(kCert, "Issuer", func(e *env, r Value) Value { return r.(*certValue).c.Issuer.String() })
	prop(kCert, "Thumbprint", func(e *env, r Value) Value { return strings.ToUpper(hexOf(sha1Sum(r.(*certValue).c.Raw))) })
	prop(kCert, "SerialNumber", func(e *env, r Value) Value { return strings.ToUpper(r.(*certValue).c.SerialNumber.Text(16)) })
	prop(kCert, "NotBefore", func(e *env, r Value) Value { return utc(r.(*certValue).c.NotBefore) })
	prop(kCert, "NotAfter", func(e *env, r Value) Value { return utc(r.(*certValue).c.NotAfter) })
	method(kCert, "Verify", func(e *env, r Value, a []Value, cs *callSite) Value {
		c := r.(*certValue).c
		now := e.clock()
		return now.After(c.NotBefore) && now.Before(c.NotAfter)
	})

	// JWT and Basic
	method(kString, "AsJwt", func(e *env, r Value, a []Value, cs *callSite) Value {
		e.work(len(r.(string)) / jsonBytesPerStep) // decodes and parses JSON
		return parseJwt(r.(string))
	})
	method(kNull, "AsJwt", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	method(kString, "AsBasic", func(e *env, r Value, a []Value, cs *callSite) Value { return parseBasic(r.(string)) })
	method(kNull, "AsBasic", func(e *env, r Value, a []Value, cs *callSite) Value { return nil })
	method(kString, "TryParseJwt", func(e *env, r Value, a []Value, cs *callSite) Value {
		e.work(len(r.(string)) / jsonBytesPerStep)
		j := parseJwt(r.(string))
		setOut(e, a, 0, cs, j)
		return j != nil
	})
	method(kString, "TryParseBasic", func(e *env, r Value, a []Value, cs *callSite) Value {
		b := parseBasic(r.(string))
		setOut(e, a, 0, cs, b)
		return b != nil
	})
	prop(kBasic, "UserId", func(e *env, r Value) Value { return r.(*BasicAuth).UserID })
	prop(kBasic, "Password", func(e *env, r Value) Value { return r.(*BasicAuth).Password })
	strClaim := func(name string) propFn {
		return func(e *env, r Value) Value {
			v, ok := r.(*Jwt).claims.Get(name)
			if !ok {
				return nil
			}
			if jv, ok := v.(*JValue); ok {
				return jv.plain()
			}
			return toStr(v)
		}
	}
	dateClaim := func(name string) propFn {
		return func(e *env, r Value) Value {
			v, ok := r.(*Jwt).claims.Get(name)
			if !ok {
				return nil
			}
			f, ok := toF64(v.(*JValue).plain())
			if !ok {
				return nil
			}
			return DateTime{T: time.Unix(int64(f), 0).UTC(), Kind: UTC}
		}
	}
	prop(kJwt, "Subject", strClaim("sub"))
	prop(kJwt, "Issuer", strClaim("iss"))
	prop(kJwt, "Id", strClaim("jti"))
	prop(kJwt, "ExpirationTime", dateClaim("exp"))
	prop(kJwt, "NotBefore", dateClaim("nbf"))
	prop(kJwt, "IssuedAt", dateClaim("iat"))
	prop(kJwt, "Algorithm", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).header.Get("alg")
		return toStr(v)
	})
	prop(kJwt, "Type", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).header.Get("typ")
		return toStr(v)
	})
	prop(kJwt, "Audiences", func(e *env, r Value) Value {
		v, _ := r.(*Jwt).claims.Get("aud")
		return &List{Elem: "string", Array: true, Items: claimValues(v)}
	})
	prop(kJwt, "Claims", func(e *env, r Value) Value {
		j := r.(*Jwt)
		d := newDict()
		for _, p := range j.claims.props {
			d.Set(p.Name, &List{Elem: "string", Array: true, Items: claimValues(p.Value)})
		}
		return &claimDict{d}
	})
	prop(kJwt, "Header", func(e *env, r Value) Value {
		j := r.(*Jwt)
		d := newDict()
		for _, p := range j.header.props {
			d.Set(p.Name, jtokenText(p.Value))
		}
		return d
	})
	method(kJwt, "ToString", func(e *env, r Value, a []Value, cs *callSite) Value { return r.(*Jwt).raw })
}

// claimDict is Jwt.Claims: string -> string[], whose GetValueOrDefault joins
// multiple values with ','.
type claimDict struct{ *Dict }

func claimValues(v Value) []Value {
	switch x := v.(type) {
	case nil:
		return []Value{}
	case *JArray:
		out := make([]Value, len(x.items))
		for i, it := range x.items {
			out[i] = jtokenText(it)
		}
		return out
	}
	return []Value{jtokenText(v.(jtoken))}
}

func jtokenText(t jtoken) string {
	if jv, ok := t.(*JValue); ok {
		return jv.String()
	}
	return jsonString(t, false)
}

func parseJwt(s string) Value {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil
	}
	dec := func(p string) *JObject {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p, "="))
		if err != nil {
			return nil
		}
		t, err := parseJSON(string(b))
		if err != nil {
			return nil
		}
		o, _ := t.(*JObject)
		return o
	}
	h, c := dec(parts[0]), dec(parts[1])
	if h == nil || c == nil {
		return nil
	}
	return &Jwt{header: h, claims: c, raw: s}
}

func parseBasic(s string) Value {
	s = strings.TrimSpace(s)
	if len(s) < 6 || !strings.EqualFold(s[:6], "basic ") {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s[6:]))
	if err != nil {
		return nil
	}
	u, p, ok := strings.Cut(string(b), ":")
	if !ok {
		return nil
	}
	return &BasicAuth{UserID: u, Password: p}
}

func sortedKeys[M ~map[string]V, V any](m M) *List {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	l := &List{Elem: "string", Items: make([]Value, len(keys))}
	for i, k := range keys {
		l.Items[i] = k
	}
	return l
}

// plainOut converts a Value for handing to the host (Trace).
func plainOut(v Value) any {
	if t, ok := v.(jtoken); ok {
		return jsonString(t, false)
	}
	return v
}

// ParseJwt parses a compact JWT without validating it, as AsJwt() does; nil
// when s is not a JWT. The validate-jwt policy stores its result in the
// variable named by output-token-variable-name.
func ParseJwt(s string) *Jwt {
	j, _ := parseJwt(s).(*Jwt)
	return j
}
