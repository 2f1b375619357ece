package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// recordingProxy is a tiny HTTP proxy (absolute-URI requests and CONNECT)
// that records what it carried.
type recordingProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []proxied
}

type proxied struct{ method, target, auth string }

func newRecordingProxy(t *testing.T) *recordingProxy {
	p := &recordingProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, proxied{r.Method, r.Host, r.Header.Get("Proxy-Authorization")})
		p.mu.Unlock()
		if r.Method == http.MethodConnect {
			dst, err := net.Dial("tcp", r.Host)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			src, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				dst.Close()
				return
			}
			io.WriteString(src, "HTTP/1.1 200 Connection established\r\n\r\n")
			go func() { io.Copy(dst, rw); dst.Close() }()
			io.Copy(src, dst)
			src.Close()
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Authorization")
		res, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		io.Copy(w, res.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) take() []proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.seen
	p.seen = nil
	return s
}

// TestProxyPolicy: the proxy policy sends forward-request through an HTTP
// proxy, as an absolute-URI request for http and through CONNECT for https,
// with Basic proxy credentials; other operations still connect directly.
func TestProxyPolicy(t *testing.T) {
	be := newBackend(t, nil)
	tlsBE := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls "+r.URL.Path)
	}))
	t.Cleanup(tlsBE.Close)
	px := newRecordingProxy(t)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p@ss"))
	cfg := policyConfig(be.URL, map[string]string{
		"apis/open/operations/get-resource": `<policies><inbound><proxy url="` + px.URL + `" username="u" password="p@ss"/></inbound></policies>`,
		"apis/open/operations/get-user":     `<policies><inbound><set-backend-service base-url="` + tlsBE.URL + `/b"/></inbound><backend><proxy url="@(&quot;` + px.URL + `&quot;)"/><forward-request/></backend></policies>`,
		"apis/open/operations/files":        `<policies><inbound><set-header name="X-Direct" exists-action="override"><value>1</value></set-header></inbound></policies>`,
	})
	roots := x509.NewCertPool()
	roots.AddCert(tlsBE.Certificate())
	e := newEnv(t, Config{BackendTLS: &tls.Config{RootCAs: roots}}, cfg)
	backendHost := be.Listener.Addr().String()
	tests := []struct {
		name, path, body string
		want             []proxied
	}{
		{"http through the proxy with credentials", "/open/resource", "ok /base/resource", []proxied{{"GET", backendHost, basic}}},
		{"https through CONNECT", "/open/users/7", "tls /b/users/7", []proxied{{"CONNECT", tlsBE.Listener.Addr().String(), ""}}},
		{"https again reuses the tunnel", "/open/users/8", "tls /b/users/8", nil},
		{"without the policy: direct", "/open/files/x", "ok /base/files/x", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, nil)
			if r.status != 200 || r.body != tc.body {
				t.Fatalf("%d %q", r.status, r.body)
			}
			if got := px.take(); !slices.Equal(got, tc.want) {
				t.Fatalf("proxy saw %+v, want %+v", got, tc.want)
			}
		})
	}
}
