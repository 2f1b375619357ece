package gateway

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestForwardRequestFollowRedirects: forward-request follow-redirects="true"
// follows the backend's redirects (303 → GET, 307 → same method and body);
// without it the 3xx reaches the client.
func TestForwardRequestFollowRedirects(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/base/resource":
			if r.Method == http.MethodPost {
				w.Header().Set("Location", "/base/moved-temp")
				w.WriteHeader(http.StatusTemporaryRedirect)
				return
			}
			w.Header().Set("Location", "/base/final")
			w.WriteHeader(http.StatusFound)
		default:
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body))
		}
	})
	follow := `<policies><inbound><base/></inbound><backend><forward-request follow-redirects="true"/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`
	cfg := policyConfig(be.URL, map[string]string{"apis/echo": follow})
	e := newEnv(t, Config{}, cfg)
	tests := []struct {
		name, method, path, body, want string
		status                         int
	}{
		{"302 becomes a GET of the target", "GET", "/echo/resource", "", "GET /base/final ", 200},
		{"307 repeats the method and body", "POST", "/echo/resource", "payload", "POST /base/moved-temp payload", 200},
		{"no redirect", "GET", "/echo/users/1", "", "GET /base/users/1 ", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, strings.NewReader(tc.body), "Ocp-Apim-Subscription-Key", keyAll)
			if r.status != tc.status || r.body != tc.want {
				t.Fatalf("%d %q, want %d %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	t.Run("without follow-redirects the 3xx is returned", func(t *testing.T) {
		cfg2 := policyConfig(be.URL, map[string]string{"apis/echo": strings.Replace(follow, `follow-redirects="true"`, `follow-redirects="false"`, 1)})
		cfg2.Revision = 2
		e.publish(cfg2)
		req, _ := http.NewRequest("GET", e.url+"/echo/resource", nil)
		req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/base/final" {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
	})
}
