package echo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEcho(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	tests := []struct {
		name, method, path, body string
		wantBody                 string
		wantEncoding             string
	}{
		{"get with query", "GET", "/resource?param1=a&param1=b", "", "", ""},
		{"post text", "POST", "/resource", "hello", "hello", ""},
		{"post binary", "POST", "/resource", "\xff\xfe", "//4=", "base64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("X-Test", "1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var rep Reply
			if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
				t.Fatal(err)
			}
			if rep.Method != tc.method || rep.Body != tc.wantBody || rep.BodyEncoding != tc.wantEncoding || rep.Headers.Get("X-Test") != "1" {
				t.Fatalf("reply = %+v", rep)
			}
			if tc.name == "get with query" && strings.Join(rep.Query["param1"], ",") != "a,b" {
				t.Fatalf("query = %v", rep.Query)
			}
		})
	}
}
