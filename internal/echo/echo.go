// Package echo is the built-in echo backend behind the seeded Echo API: it
// answers every request with a JSON description of the request it got
// (method, path, query, headers, body), so that a new instance can be tried
// with curl within a minute of its first start.
package echo

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"unicode/utf8"
)

// MaxBody is the largest request body echoed back; longer bodies are cut
// and reported as truncated.
const MaxBody = 1 << 20

// Reply is the JSON document the echo backend answers with.
type Reply struct {
	Method        string              `json:"method"`
	Path          string              `json:"path"`
	Query         map[string][]string `json:"query"`
	Headers       http.Header         `json:"headers"`
	Body          string              `json:"body"`
	BodyEncoding  string              `json:"bodyEncoding,omitempty"` // "base64" when the body is not UTF-8
	BodyTruncated bool                `json:"bodyTruncated,omitempty"`
	Host          string              `json:"host"`
	RemoteAddr    string              `json:"remoteAddr"`
	Proto         string              `json:"proto"`
}

// Handler returns the echo backend's HTTP handler.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		rep := Reply{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Headers: r.Header,
			Host: r.Host, RemoteAddr: r.RemoteAddr, Proto: r.Proto,
		}
		if len(body) > MaxBody {
			body, rep.BodyTruncated = body[:MaxBody], true
		}
		if utf8.Valid(body) {
			rep.Body = string(body)
		} else {
			rep.Body, rep.BodyEncoding = base64.StdEncoding.EncodeToString(body), "base64"
		}
		out, _ := json.MarshalIndent(rep, "", "  ")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Echo-Method", r.Method)
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(append(out, '\n'))
	})
}
