package policy

import (
	"net/http"
	"testing"
	"time"
)

// TestMockResponseExamples: mock-response picks the operation's example
// for its status code and content type, else the first 2xx example, else
// answers with an empty body.
func TestMockResponseExamples(t *testing.T) {
	examples := []Example{
		{Status: 404, ContentType: "application/json", Body: []byte(`{"error":"nf"}`)},
		{Status: 200, ContentType: "application/xml", Body: []byte(`<a/>`)},
		{Status: 200, ContentType: "application/json", Body: []byte(`{"id":1}`)},
		{Status: 201, ContentType: "text/plain", Body: []byte(`created`)},
	}
	tests := []struct {
		name     string
		attrs    string
		examples []Example
		status   int
		ct, body string
	}{
		{"defaults: first 200", ``, examples, 200, "application/xml", `<a/>`},
		{"status and content type", `status-code="200" content-type="application/json"`, examples, 200, "application/json", `{"id":1}`},
		{"content type parameters ignored", `content-type="application/json; charset=utf-8"`, examples, 200, "application/json; charset=utf-8", `{"id":1}`},
		{"error status", `status-code="404"`, examples, 404, "application/json", `{"error":"nf"}`},
		{"2xx without its example takes the first 2xx", `status-code="202"`, examples, 202, "application/xml", `<a/>`},
		{"first 2xx of the content type", `status-code="202" content-type="text/plain"`, examples, 202, "text/plain", `created`},
		{"error status without example is empty", `status-code="500"`, examples, 500, "application/json", ``},
		{"no examples", `status-code="202" content-type="text/plain"`, nil, 202, "text/plain", ``},
		{"no examples, defaults", ``, nil, 200, "application/json", ``},
		{"only non-2xx examples", ``, examples[:1], 200, "application/json", ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPipeline(t, `<policies><inbound><mock-response `+tc.attrs+`/></inbound></policies>`)
			req, _ := http.NewRequest("GET", "http://gw/api/r", nil)
			c := newCtx(req, &fakeBackend{}, nil, time.Now())
			c.Operation.Examples = tc.examples
			p.Run(c)
			if c.Response.StatusCode != tc.status || c.Response.Header.Get("Content-Type") != tc.ct || body(t, &c.Response.Body) != tc.body {
				t.Fatalf("got %d %q %q, want %d %q %q", c.Response.StatusCode, c.Response.Header.Get("Content-Type"), body(t, &c.Response.Body), tc.status, tc.ct, tc.body)
			}
		})
	}
}
