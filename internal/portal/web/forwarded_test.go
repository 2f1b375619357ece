package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestSessionCookieSecure(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.1.0.0/16")}
	for _, tc := range []struct {
		name   string
		remote string
		tls    bool
		header map[string]string
		secure bool
	}{
		{"plain HTTP", "192.0.2.7:5000", false, nil, false},
		{"TLS", "192.0.2.7:5000", true, nil, true},
		{"trusted proxy, X-Forwarded-Proto https", "10.1.2.3:5000", false, map[string]string{"X-Forwarded-Proto": "HTTPS"}, true},
		{"trusted IPv6 loopback proxy", "[::1]:5000", false, map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"trusted proxy, Forwarded proto=https", "127.0.0.1:5000", false, map[string]string{"Forwarded": `for=192.0.2.7;proto="https", for=10.0.0.1;proto=http`}, true},
		{"trusted proxy, X-Forwarded-Proto http", "10.1.2.3:5000", false, map[string]string{"X-Forwarded-Proto": "http"}, false},
		{"untrusted peer, X-Forwarded-Proto https", "192.0.2.7:5000", false, map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"untrusted peer, Forwarded proto=https", "10.2.0.1:5000", false, map[string]string{"Forwarded": "proto=https"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSessions("sid")
			csrf := NewCSRF("anon")
			h := ForwardedTLS(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				csrf.Token(w, r, nil)
				s.Start(w, r, "u1", "User")
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			cs := w.Result().Cookies()
			if len(cs) != 2 {
				t.Fatalf("cookies %v", cs)
			}
			for _, c := range cs {
				if c.Secure != tc.secure {
					t.Fatalf("cookie %s: Secure %v, want %v", c.Name, c.Secure, tc.secure)
				}
			}
		})
	}
}
