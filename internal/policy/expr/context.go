package expr

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
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
