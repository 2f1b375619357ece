// Package exprtest provides an in-memory implementation of expr.Context for
// tests of policy expressions and of the policies that evaluate them.
package exprtest

import (
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/policy/expr"
)

// TraceRecord is one context.Trace call.
type TraceRecord struct {
	Source  string
	Message any
}

// Context is a plain-struct expr.Context. Nil pointer fields stand for absent
// objects. It is safe for use by one evaluation at a time.
type Context struct {
	Api          *expr.API
	Op           *expr.Operation
	Prod         *expr.Product
	Sub          *expr.Subscription
	Usr          *expr.User
	Req          *expr.Request
	Resp         *expr.Response
	Vars         map[string]any
	LastErr      *expr.LastError
	Deploy       *expr.Deployment
	ReqID        string
	Time         time.Time
	ElapsedTime  time.Duration
	mu           sync.Mutex
	TraceRecords []TraceRecord
}

var _ expr.Context = (*Context)(nil)

func (c *Context) API() *expr.API                   { return c.Api }
func (c *Context) Operation() *expr.Operation       { return c.Op }
func (c *Context) Product() *expr.Product           { return c.Prod }
func (c *Context) Subscription() *expr.Subscription { return c.Sub }
func (c *Context) User() *expr.User                 { return c.Usr }
func (c *Context) Request() *expr.Request           { return c.Req }
func (c *Context) Response() *expr.Response         { return c.Resp }
func (c *Context) Variables() map[string]any        { return c.Vars }
func (c *Context) LastError() *expr.LastError       { return c.LastErr }
func (c *Context) Deployment() *expr.Deployment     { return c.Deploy }
func (c *Context) RequestID() string                { return c.ReqID }
func (c *Context) Timestamp() time.Time             { return c.Time }
func (c *Context) Elapsed() time.Duration           { return c.ElapsedTime }

// Trace records the call in TraceRecords.
func (c *Context) Trace(source string, message any) {
	c.mu.Lock()
	c.TraceRecords = append(c.TraceRecords, TraceRecord{source, message})
	c.mu.Unlock()
}

// MustURL parses an absolute URL into an expr.URL; it panics on error.
func MustURL(s string) *expr.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return expr.NewURL(u)
}

// New returns a fully populated context with stable sample values:
// a POST to https://api.contoso.com/echo/users/42?filter=active&page=2 with a
// JSON body, a subscription, a user in two groups, and a few variables.
func New() *Context {
	ts := time.Date(2024, 3, 15, 10, 30, 45, 123456700, time.UTC)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	limit := 5
	groups := []expr.UserGroup{{ID: "developers", Name: "Developers"}, {ID: "admins", Name: "Administrators"}}
	return &Context{
		Api: &expr.API{ID: "echo-api", Name: "Echo API", Path: "echo", Version: "v1", Revision: "1",
			ServiceURL: MustURL("https://backend.contoso.com:8443/api"), IsCurrentRevision: true,
			SubscriptionKeyHeader: "Ocp-Apim-Subscription-Key", SubscriptionKeyQuery: "subscription-key", Protocols: []string{"https"}},
		Op:   &expr.Operation{ID: "get-user", Name: "Get user", Method: "POST", URLTemplate: "/users/{id}"},
		Prod: &expr.Product{ID: "starter", Name: "Starter", State: "published", SubscriptionRequired: true, SubscriptionsLimit: &limit, Groups: groups[:1]},
		Sub: &expr.Subscription{ID: "sub-1", Name: "Contoso sub", Key: "primary-key-123", PrimaryKey: "primary-key-123", SecondaryKey: "secondary-key-456",
			CreatedDate: start, StartDate: &start, EndDate: &end},
		Usr: &expr.User{ID: "user-1", Email: "ada@contoso.com", FirstName: "Ada", LastName: "Lovelace", Groups: groups, RegistrationDate: start},
		Req: &expr.Request{
			Method:      "POST",
			URL:         MustURL("https://api.contoso.com/echo/users/42?filter=active&page=2"),
			OriginalURL: MustURL("https://api.contoso.com/echo/users/42?filter=active&page=2"),
			Headers: http.Header{
				"Content-Type":  {"application/json"},
				"Accept":        {"application/json", "text/plain"},
				"X-Tenant":      {"contoso"},
				"Authorization": {"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJuYW1lIjoiQWRhIiwiaXNzIjoiaHR0cHM6Ly9sb2dpbi5jb250b3NvLmNvbSIsImF1ZCI6WyJhcGk6Ly9lY2hvIiwiYXBpOi8vb3RoZXIiXSwicm9sZXMiOlsiYWRtaW4iLCJyZWFkZXIiXSwiZXhwIjoxNzEwNTAwMDAwLCJpYXQiOjE3MTA0OTY0MDAsImp0aSI6ImFiYy0xMjMiLCJ0aWQiOiJ0ZW5hbnQtMSJ9.c2lnbmF0dXJl"},
			},
			Body:              expr.NewBody([]byte(`{"id":42,"name":"Ada","tags":["a","b"],"address":{"city":"London","zip":"N1"},"active":true,"score":9.5}`)),
			IPAddress:         "203.0.113.7",
			MatchedParameters: map[string]string{"id": "42"},
		},
		Resp: &expr.Response{StatusCode: 200, StatusReason: "OK",
			Headers: http.Header{"Content-Type": {"application/json"}, "X-Backend": {"b1"}},
			Body:    expr.NewBody([]byte(`{"result":"ok","items":[1,2,3]}`))},
		Vars: map[string]any{"tenant": "contoso", "count": 3, "enabled": true, "ratio": 0.25, "names": []string{"x", "y"},
			"tokenResponse": &expr.Response{StatusCode: 200, StatusReason: "OK",
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    expr.NewBody([]byte(`{"access_token":"tok-1","expires_in":3600}`))}},
		LastErr: &expr.LastError{Source: "rate-limit", Reason: "RateLimitExceeded", Message: "Rate limit is exceeded.",
			Scope: "product", Section: "inbound", Path: "inbound/rate-limit[1]", PolicyID: "rl-1"},
		Deploy:      &expr.Deployment{GatewayID: "gw-1", Region: "West Europe", ServiceName: "portico-test"},
		ReqID:       "0f8fad5b-d9cb-469f-a165-70867728950e",
		Time:        ts,
		ElapsedTime: 1500 * time.Millisecond,
	}
}
