package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/portico-gw/portico/internal/snapshot"
)

// TestMockResponseFromExamples: mock-response answers with the operation's
// example responses carried in the snapshot, never calling the backend.
func TestMockResponseFromExamples(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) })
	examples := []snapshot.ResponseExample{
		{StatusCode: 200, ContentType: "application/json", Value: json.RawMessage(`{"id":1,"name":"Ann"}`)},
		{StatusCode: 200, ContentType: "application/xml", Value: json.RawMessage(`"<user id=\"1\"/>"`)},
		{StatusCode: 404, ContentType: "application/problem+json", Value: json.RawMessage(`{"title":"not found"}`)},
	}
	tests := []struct {
		name, attrs string
		examples    []snapshot.ResponseExample
		status      int
		ct, body    string
	}{
		{"first 2xx example", ``, examples, 200, "application/json", `{"id":1,"name":"Ann"}`},
		{"content type picks the XML example as text", `content-type="application/xml"`, examples, 200, "application/xml", `<user id="1"/>`},
		{"status code", `status-code="404"`, examples, 404, "application/problem+json", `{"title":"not found"}`},
		{"no example for 500", `status-code="500"`, examples, 500, "application/json", ``},
		{"operation without examples", `status-code="204" content-type="text/plain"`, nil, 204, "text/plain", ``},
	}
	policies := map[string]string{}
	var ops []snapshot.Operation
	for i, tc := range tests {
		id := "mock" + string(rune('a'+i))
		ops = append(ops, snapshot.Operation{ID: id, Method: "GET", URLTemplate: "/" + id, Examples: tc.examples})
		policies["apis/open/operations/"+id] = `<policies><inbound><mock-response ` + tc.attrs + `/></inbound></policies>`
	}
	cfg := policyConfig(be.URL, policies)
	for i := range cfg.APIs {
		if cfg.APIs[i].ID == "open" {
			cfg.APIs[i].Operations = append(cfg.APIs[i].Operations, ops...)
		}
	}
	e := newEnv(t, Config{}, cfg)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := be.received()
			r := e.do("GET", "/open/mock"+string(rune('a'+i)), nil)
			if r.status != tc.status || r.header.Get("Content-Type") != tc.ct || r.body != tc.body {
				t.Fatalf("got %d %q %q, want %d %q %q", r.status, r.header.Get("Content-Type"), r.body, tc.status, tc.ct, tc.body)
			}
			if be.received() != n {
				t.Fatal("the backend was called")
			}
		})
	}
}
