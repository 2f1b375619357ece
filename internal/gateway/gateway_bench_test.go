package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// staticBackend answers every request in memory, without a network.
type staticBackend struct{}

func (staticBackend) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2, Request: r,
	}, nil
}

// nullWriter is a ResponseWriter that keeps nothing.
type nullWriter struct {
	h      http.Header
	status int
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(code int)        { w.status = code }
func (w *nullWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkServeHTTP is the full in-process request path: route, key check
// (SHA-256 lookup), body limit, rewrite and proxy to an in-memory backend.
func BenchmarkServeHTTP(b *testing.B) {
	cfg := Config{Logger: discardLogger(), Transport: func(string, string) http.RoundTripper { return staticBackend{} }}
	gw, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, gw: gw}
	e.publish(testConfig("http://backend.invalid"))
	req := httptest.NewRequest("GET", "http://gw.example/echo/users/42?a=1&subscription-key="+keyP1, nil)
	req.Header.Set("User-Agent", "bench")
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		gw.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkServeHTTPRejected is the path of a request refused for a bad key.
func BenchmarkServeHTTPRejected(b *testing.B) {
	gw, err := New(Config{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, gw: gw}
	e.publish(testConfig("http://backend.invalid"))
	req := httptest.NewRequest("GET", "http://gw.example/echo/resource", nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", "not-a-key-0000000000000")
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		gw.ServeHTTP(w, req)
		if w.status != 401 {
			b.Fatalf("status %d", w.status)
		}
	}
}

// BenchmarkLoopback goes through real sockets: client -> gateway server ->
// httptest backend, with keep-alive connections on both hops.
func BenchmarkLoopback(b *testing.B) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	e := newEnv(b, Config{}, testConfig(be.URL))
	req, _ := http.NewRequest("GET", e.url+"/echo/resource", nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", keyP1)
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
