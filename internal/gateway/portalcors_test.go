package gateway

import (
	"net/http"
	"testing"
)

// TestPortalCORS: the gateway answers the developer portal's preflights and
// allows its origin on responses, with no cors policy; other origins get
// nothing.
func TestPortalCORS(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	e := newEnv(t, Config{PortalOrigins: []string{"http://localhost:8002"}}, testConfig(be.URL))
	send := func(method, origin string, hdr ...string) *http.Response {
		req, _ := http.NewRequest(method, e.url+"/echo/resource", nil)
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	tests := []struct {
		name, method, origin string
		hdr                  []string
		wantStatus           int
		wantAllow            string
	}{
		{"preflight from the portal", "OPTIONS", "http://localhost:8002", []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "ocp-apim-subscription-key, content-type"}, 204, "http://localhost:8002"},
		{"call from the portal", "GET", "http://localhost:8002", []string{"Ocp-Apim-Subscription-Key", keyAll}, 200, "http://localhost:8002"},
		{"error response still allows the portal", "GET", "http://localhost:8002", nil, 401, "http://localhost:8002"},
		{"other origin preflight is not answered", "OPTIONS", "https://evil.example", []string{"Access-Control-Request-Method", "POST"}, 404, ""},
		{"other origin call", "GET", "https://evil.example", []string{"Ocp-Apim-Subscription-Key", keyAll}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := send(tc.method, tc.origin, tc.hdr...)
			if res.StatusCode != tc.wantStatus || res.Header.Get("Access-Control-Allow-Origin") != tc.wantAllow {
				t.Fatalf("%d allow-origin %q, want %d %q", res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tc.wantStatus, tc.wantAllow)
			}
			if tc.method == "OPTIONS" && tc.wantStatus == 204 && (res.Header.Get("Access-Control-Allow-Methods") != "POST" || res.Header.Get("Access-Control-Allow-Headers") == "") {
				t.Fatalf("preflight headers %v", res.Header)
			}
		})
	}
}
