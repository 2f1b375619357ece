// Package web holds what the developer portal and the admin console share:
// an in-process client of the management API (so that every write goes
// through the same business rules as the REST API and the CLI), server-side
// sessions, CSRF tokens, sign-in throttling, security headers, the outbox of
// e-mail messages, SVG charts and the embedded base stylesheet.
//
// Everything here keeps its state in memory: sessions, tokens and the
// outbox are lost when the process restarts (users sign in again; pending
// confirmation links must be requested again).
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls the management API handler in-process with the admin token.
// It never opens a socket: requests are served by the handler directly.
type Client struct {
	h     http.Handler
	token string
}

// NewClient returns a client of h (mgmt.Server.Handler()) authorised with
// adminToken.
func NewClient(h http.Handler, adminToken string) *Client {
	return &Client{h: h, token: adminToken}
}

// Response is a management API answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// FieldError is one entry of a problem document's errors.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is a management API refusal (a problem document).
type APIError struct {
	Status int          `json:"status"`
	Code   string       `json:"code"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
}

func (e *APIError) Error() string {
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

// IsStatus reports whether err is an *APIError with the given status.
func IsStatus(err error, status int) bool {
	e, ok := err.(*APIError)
	return ok && e.Status == status
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

// DoRaw sends one request with a raw body of the given content type.
func (c *Client) DoRaw(ctx context.Context, method, path, contentType string, body []byte) *Response {
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
	rec := &recorder{header: http.Header{}}
	c.h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &Response{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
}

// Do sends one request; in, when not nil, is sent as JSON.
func (c *Client) Do(ctx context.Context, method, path string, in any) *Response {
	if in == nil {
		return c.DoRaw(ctx, method, path, "", nil)
	}
	b, err := json.Marshal(in)
	if err != nil {
		msg, _ := json.Marshal(map[string]any{"status": 400, "detail": err.Error()})
		return &Response{Status: http.StatusBadRequest, Header: http.Header{}, Body: msg}
	}
	return c.DoRaw(ctx, method, path, "application/json", b)
}

// Err returns nil for a 2xx/3xx answer, else the problem as an *APIError.
func (r *Response) Err() error {
	if r.Status < 400 {
		return nil
	}
	e := &APIError{}
	_ = json.Unmarshal(r.Body, e)
	e.Status = r.Status
	return e
}

// Call sends in (JSON, or nil) and decodes a successful answer into out
// (when not nil). A refusal is returned as *APIError.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	res := c.Do(ctx, method, path, in)
	if err := res.Err(); err != nil {
		return err
	}
	if out != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Get decodes GET path into out.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Call(ctx, http.MethodGet, path, nil, out)
}

// List reads every page of a collection (following nextLink) into items.
// path may carry a filter query; top is set to 1000.
func List[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := path + sep + "top=1000"
	var all []T
	for next != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := c.Get(ctx, next, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		next = page.NextLink
		if next != "" && !strings.HasPrefix(next, "/api/v1") {
			next = "/api/v1" + strings.TrimPrefix(next, "/")
		}
		if len(page.Value) == 0 {
			break
		}
	}
	return all, nil
}

// Quote renders s as an OData string literal for filters (” escapes ').
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Filter returns "?filter=<expr>" URL-encoded.
func Filter(expr string) string { return "?filter=" + url.QueryEscape(expr) }
