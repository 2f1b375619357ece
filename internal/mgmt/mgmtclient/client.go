// Package mgmtclient is the typed client of the management API that the
// developer portal and the admin console use. It calls the management
// handler (mgmt.Server.Handler()) in-process, with the admin token, and
// never opens a socket: every read and write goes through the same HTTP
// handlers as a REST client's, so validation, ETags, the audit log
// and change notifications apply exactly as they do there.
//
// Methods take and return the model types: a resource read back is the
// model value with its id (the API's "name"), e.g. API{Name, model.API}.
// Partial updates are JSON merge patches built from the *Patch types, whose
// fields are Opt values: absent, set, or removed (JSON null).
//
// Who acts travels in the context: a caller that acts on behalf of a
// signed-in user passes a context made with mgmt.WithActor, and the audit
// log names that user; without one, the change is the admin token's.
//
// A refusal of the management API (any 4xx or 5xx) is returned as *Error,
// carrying the status and the problem document's code, detail and field
// errors; IsStatus tests for one status.
package mgmtclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/model"
)

// Client calls the management API in-process. Create it with New; it is
// safe for concurrent use.
type Client struct {
	h     http.Handler
	token string
}

// New returns a client of h (mgmt.Server.Handler()) authorised with
// adminToken.
func New(h http.Handler, adminToken string) *Client {
	return &Client{h: h, token: adminToken}
}

// Error is a refusal of the management API: the status and its problem
// document (RFC 9457).
type Error struct {
	Status int                `json:"status"`
	Code   string             `json:"code"`
	Detail string             `json:"detail"`
	Errors []model.FieldError `json:"errors"`
}

// Error is the detail, followed by the field errors it does not already
// say.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Detail)
	if b.Len() == 0 {
		b.WriteString(http.StatusText(e.Status))
	}
	for _, f := range e.Errors {
		if f.Field == "" || strings.Contains(e.Detail, f.Message) {
			continue
		}
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

// IsStatus reports whether err is an *Error with the given status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Response is a raw management API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Err returns nil for a 2xx or 3xx answer, else the refusal as an *Error.
func (r *Response) Err() error {
	if r.Status < 400 {
		return nil
	}
	e := &Error{}
	_ = json.Unmarshal(r.Body, e)
	e.Status = r.Status
	return e
}

// recorder is a minimal http.ResponseWriter buffering the answer.
type recorder struct {
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Raw sends one request with a body of the given content type (none when
// body is nil) and returns the answer as it is. path starts with /api/v1.
// It is the building block of the typed methods, and the way to reach an
// endpoint that has none.
func (c *Client) Raw(ctx context.Context, method, path, contentType string, body []byte, header ...string) *Response {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://portico.internal"+path, rd)
	if err != nil {
		msg, _ := json.Marshal(map[string]any{"status": 400, "detail": "bad request path: " + err.Error()})
		return &Response{Status: http.StatusBadRequest, Header: http.Header{}, Body: msg}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := &recorder{header: http.Header{}}
	c.h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &Response{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
}

// Call sends in as JSON (nothing when nil) and decodes a successful answer
// into out (when not nil). A refusal is returned as *Error.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	_, err := c.call(ctx, method, path, in, out)
	return err
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) (*Response, error) {
	var res *Response
	if in == nil {
		res = c.Raw(ctx, method, path, "", nil)
	} else {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		res = c.Raw(ctx, method, path, "application/json", b)
	}
	if err := res.Err(); err != nil {
		return res, err
	}
	if out != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, out); err != nil {
			return res, fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return res, nil
}

// Get decodes GET path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Call(ctx, http.MethodGet, path, nil, out)
}

// get reads one resource.
func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.Get(ctx, path, &v)
	return v, err
}

// list reads every page of a collection (following nextLink); filter is an
// OData filter expression or "".
func list[T any](ctx context.Context, c *Client, path, filter string) ([]T, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	q.Set("top", "1000")
	if strings.Contains(path, "?") {
		path += "&" + q.Encode()
	} else {
		path += "?" + q.Encode()
	}
	var all []T
	for path != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := c.Get(ctx, path, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		if len(page.Value) == 0 {
			break
		}
		path = page.NextLink
	}
	return all, nil
}

// count reads the total of a collection (one item is fetched).
func (c *Client) count(ctx context.Context, path, filter string) (int, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	q.Set("top", "1")
	var page struct {
		Count int `json:"count"`
	}
	err := c.Get(ctx, path+"?"+q.Encode(), &page)
	return page.Count, err
}

// Eq is the OData filter clause "field eq 'value'", with value quoted.
func Eq(field, value string) string {
	return field + " eq '" + strings.ReplaceAll(value, "'", "''") + "'"
}

// seg escapes one id for a path. Ids are validated by the management API;
// this only keeps a malformed one from changing the path.
func seg(id string) string { return url.PathEscape(id) }

// Opt is one property of a merge patch: the zero Opt leaves the property
// as it is, Set(v) sets it, Null() removes it.
type Opt[T any] struct {
	v    T
	set  bool
	null bool
}

// Set is an Opt that sets a property to v.
func Set[T any](v T) Opt[T] { return Opt[T]{v: v, set: true} }

// Null is an Opt that removes a property (JSON null in a merge patch).
func Null[T any]() Opt[T] { return Opt[T]{null: true} }

// IsZero reports whether o leaves its property alone (omitzero).
func (o Opt[T]) IsZero() bool { return !o.set && !o.null }

// MarshalJSON writes the value, or null.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if o.null || !o.set {
		return []byte("null"), nil
	}
	return json.Marshal(o.v)
}
