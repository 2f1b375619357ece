package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/testenv"
)

var withKey = []string{"Ocp-Apim-Subscription-Key", keyAll}

func TestBackendDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused
	e := newEnv(t, Config{}, testConfig(dead))
	r := e.do("GET", "/echo/resource", nil, withKey...)
	if r.status != http.StatusBadGateway || !strings.HasPrefix(r.body, `{"statusCode":502,"message":`) {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
	}
	if e.count("echo", "get-resource", "", "5xx") != 1 {
		t.Fatal("502 not counted")
	}
}

func TestTimeouts(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "response headers", cfg: Config{ResponseHeaderTimeout: 50 * time.Millisecond}},
		{name: "whole request", cfg: Config{RequestTimeout: 50 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				select { // hang until the gateway gives up (or the test ends)
				case <-r.Context().Done():
				case <-release:
				}
			})
			defer close(release)
			e := newEnv(t, tc.cfg, testConfig(be.URL))
			r := e.do("GET", "/echo/resource", nil, withKey...)
			if r.status != http.StatusGatewayTimeout || !strings.HasPrefix(r.body, `{"statusCode":504,"message":`) {
				t.Fatalf("got %d %s", r.status, r.body)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	be := newBackend(t, nil)
	c := testConfig(be.URL)
	c.APIs[0].MaxRequestBodyBytes = 1000
	e := newEnv(t, Config{MaxRequestBodyBytes: 5000}, c)
	tests := []struct {
		name       string
		path       string
		size       int
		chunked    bool
		wantStatus int
	}{
		{name: "api limit, content-length under", path: "/echo/resource", size: 1000, wantStatus: 200},
		{name: "api limit, content-length over", path: "/echo/resource", size: 1001, wantStatus: 413},
		{name: "api limit, chunked under", path: "/echo/resource", size: 1000, chunked: true, wantStatus: 200},
		{name: "api limit, chunked over", path: "/echo/resource", size: 1001, chunked: true, wantStatus: 413},
		{name: "gateway default, content-length over", path: "/other/resource", size: 5001, wantStatus: 413},
		{name: "gateway default, chunked over", path: "/other/resource", size: 20000, chunked: true, wantStatus: 413},
		{name: "gateway default, under", path: "/other/resource", size: 5000, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload := strings.Repeat("x", tc.size)
			var body io.Reader = strings.NewReader(payload)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			before := be.received()
			r := e.do("POST", tc.path, body, withKey...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantStatus == 413 {
				if !strings.HasPrefix(r.body, `{"statusCode":413,"message":"Request entity too large`) || r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("413 body %q (%s)", r.body, r.header.Get("Content-Type"))
				}
				// Compared by Content-Length: the cut body of a previous
				// chunked case may reach the backend late.
				if !tc.chunked && be.receivedWithLength(before, tc.size) {
					t.Fatal("a body refused on its Content-Length reached the backend")
				}
				return
			}
			if got := be.last(t); len(got.body) != tc.size {
				t.Fatalf("backend received %d bytes, want %d", len(got.body), tc.size)
			}
		})
	}
}

func TestHeaderLimit(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{MaxHeaderBytes: 4096}, testConfig(be.URL))
	tests := []struct {
		name       string
		size       int
		wantStatus int
		wantJSON   bool
	}{
		{name: "small", size: 1000, wantStatus: 200},
		{name: "over the limit", size: 5000, wantStatus: 431, wantJSON: true},
		{name: "over the server's hard limit", size: 20000, wantStatus: 431},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/echo/resource", nil, append([]string{"X-Big", strings.Repeat("b", tc.size)}, withKey...)...)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %.200s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantJSON && (r.body != `{"statusCode":431,"message":"Request header fields too large: the request line and headers exceed the limit of 4096 bytes."}` || r.header.Get("Content-Type") != "application/json") {
				t.Fatalf("431 body %s", r.body)
			}
		})
	}
}

// TestStreamingRequestBody sends 64 MiB through an io.Pipe and shows the
// gateway streams it: the backend reads the first megabyte while the client
// has not written the rest yet.
func TestStreamingRequestBody(t *testing.T) {
	const total = 64 << 20
	const first = 1 << 20
	gotFirst := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.CopyN(h, r.Body, first); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		close(gotFirst)
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %x", n+first, h.Sum(nil))
	}))
	defer be.Close()
	e := newEnv(t, Config{}, testConfig(be.URL))

	pr, pw := io.Pipe()
	want := sha256.New()
	go func() {
		chunk := []byte(strings.Repeat("0123456789abcdef", 4096)) // 64 KiB
		for written := 0; written < total; written += len(chunk) {
			if written == first {
				select {
				case <-gotFirst:
				case <-time.After(time.Minute):
					pw.CloseWithError(fmt.Errorf("the backend did not get the first %d bytes before the client sent the rest: the body is buffered", first))
					return
				}
			}
			want.Write(chunk)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	r := e.do("POST", "/echo/resource", pr, withKey...)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if exp := fmt.Sprintf("%d %x", total, want.Sum(nil)); r.body != exp {
		t.Fatalf("backend saw %q, want %q", r.body, exp)
	}
}

// TestStreamingResponse shows the backend's first bytes reach the client
// while the backend is still blocked before its last ones.
func TestStreamingResponse(t *testing.T) {
	release := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "second\n")
	}))
	defer be.Close()
	e := newEnv(t, Config{}, testConfig(be.URL))
	req, _ := http.NewRequest("GET", e.url+"/echo/stream", nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(release) // only now may the backend finish
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
}

// TestUpgrade passes a protocol upgrade through to a hijacking backend that
// echoes what it reads.
func TestUpgrade(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" || r.Header.Get("Ocp-Apim-Subscription-Key") != "" {
			http.Error(w, "bad upgrade request", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		io.Copy(conn, brw) // echo until the client closes
	}))
	defer be.Close()
	e := newEnv(t, Config{RequestTimeout: time.Minute}, testConfig(be.URL))

	req, _ := http.NewRequest("GET", e.url+"/echo/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the 101 response")
	}
	rw, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("101 body is %T, not writable", res.Body)
	}
	for _, msg := range []string{"ping\n", "pong\n"} {
		if _, err := io.WriteString(rw, msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo %q, %v", buf, err)
		}
	}
	rw.Close()
	// The request is counted when the handler returns, after the tunnel closed.
	testenv.Eventually(t, "the upgrade counted as 1xx", func() bool { return e.count("echo", "ws", "", "1xx") == 1 })
}

func TestHTTP2(t *testing.T) {
	be := newBackend(t, nil)
	c := testConfig(be.URL)

	t.Run("TLS", func(t *testing.T) {
		e := newEnv(t, Config{}, c)
		ts := httptest.NewUnstartedServer(e.gw)
		ts.Config = e.gw.NewServer()
		ts.EnableHTTP2 = true
		ts.StartTLS()
		defer ts.Close()
		req, _ := http.NewRequest("GET", ts.URL+"/echo/resource", nil)
		req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 2 {
			t.Fatalf("status %d over %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
		}
		if got := be.last(t).header.Get("X-Forwarded-Proto"); got != "https" {
			t.Fatalf("X-Forwarded-Proto %q", got)
		}
	})

	t.Run("h2c", func(t *testing.T) {
		e := newEnv(t, Config{}, c)
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		client := &http.Client{Transport: &http.Transport{Protocols: &p}}
		defer client.CloseIdleConnections()
		req, _ := http.NewRequest("GET", e.url+"/echo/resource", nil)
		req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 2 {
			t.Fatalf("status %d over %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
		}
	})

	t.Run("to a TLS backend", func(t *testing.T) {
		tlsBE := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.Proto)
		}))
		tlsBE.EnableHTTP2 = true
		tlsBE.StartTLS()
		defer tlsBE.Close()
		roots := tlsBE.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
		e := newEnv(t, Config{BackendTLS: &tls.Config{RootCAs: roots}}, testConfig(tlsBE.URL))
		r := e.do("GET", "/echo/resource", nil, withKey...)
		if r.status != 200 || r.body != "HTTP/2.0" {
			t.Fatalf("backend answered %d %q, want HTTP/2.0", r.status, r.body)
		}
	})
}

func TestForwardingHeaders(t *testing.T) {
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "backend-id")
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "abc")
	})
	e := newEnv(t, Config{}, testConfig(be.URL))
	tests := []struct {
		name      string
		hdr       []string
		wantID    string // "" means generated
		wantXFF   string
		wantProto string
	}{
		{name: "defaults", wantXFF: "127.0.0.1"},
		{name: "inbound request id kept", hdr: []string{"X-Request-Id", "abc-123_x.y:z"}, wantID: "abc-123_x.y:z", wantXFF: "127.0.0.1"},
		{name: "unsafe request id replaced", hdr: []string{"X-Request-Id", "bad id<script>"}, wantXFF: "127.0.0.1"},
		{name: "forwarded chain appended", hdr: []string{"X-Forwarded-For", "203.0.113.7, 198.51.100.1"}, wantXFF: "203.0.113.7, 198.51.100.1, 127.0.0.1"},
		{name: "client forwarded host and proto replaced", hdr: []string{"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"}, wantXFF: "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+"/echo/resource", nil)
			req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
			req.Header.Set("Te", "trailers")
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			res, err := e.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(body) != "body" {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			got := be.last(t)
			id := res.Header.Values("X-Request-Id")
			if len(id) != 1 || id[0] != got.header.Get("X-Request-Id") {
				t.Fatalf("response X-Request-Id %q, backend got %q", id, got.header.Get("X-Request-Id"))
			}
			if tc.wantID != "" && id[0] != tc.wantID {
				t.Fatalf("request id %q, want %q", id[0], tc.wantID)
			}
			if tc.wantID == "" && (len(id[0]) != 36 || id[0] == "backend-id") {
				t.Fatalf("generated request id %q is not a UUID", id[0])
			}
			if xff := got.header.Get("X-Forwarded-For"); xff != tc.wantXFF {
				t.Errorf("X-Forwarded-For %q, want %q", xff, tc.wantXFF)
			}
			if h := got.header.Get("X-Forwarded-Host"); h != strings.TrimPrefix(e.url, "http://") {
				t.Errorf("X-Forwarded-Host %q", h)
			}
			if p := got.header.Get("X-Forwarded-Proto"); p != "http" {
				t.Errorf("X-Forwarded-Proto %q", p)
			}
			if got.host != strings.TrimPrefix(be.URL, "http://") {
				t.Errorf("backend Host %q, want the backend's own", got.host)
			}
			if tr := res.Trailer.Get("X-Checksum"); tr != "abc" {
				t.Errorf("trailer X-Checksum %q", tr)
			}
		})
	}
}

func TestURLRewrite(t *testing.T) {
	tests := []struct {
		name       string
		serviceURL string
		path       string
		wantURI    string // path and query the backend receives
		allowSlash bool   // the API allows encoded slashes
	}{
		{name: "base path", serviceURL: "/base", path: "/echo/resource?a=1", wantURI: "/base/resource?a=1"},
		{name: "base with trailing slash", serviceURL: "/base/", path: "/echo/resource", wantURI: "/base/resource"},
		{name: "no base path", serviceURL: "", path: "/echo/resource", wantURI: "/resource"},
		{name: "api root", serviceURL: "/base", path: "/echo", wantURI: "/base/"},
		{name: "service url query merged", serviceURL: "/base?code=s3cret", path: "/echo/resource?a=1&subscription-key=" + keyAll, wantURI: "/base/resource?code=s3cret&a=1"},
		{name: "service url query alone", serviceURL: "/base?code=s3cret", path: "/echo/resource", wantURI: "/base/resource?code=s3cret"},
		{name: "escaped slash kept", serviceURL: "/base", path: "/echo/files/a%2Fb", wantURI: "/base/files/a%2Fb", allowSlash: true},
		{name: "escaped space kept", serviceURL: "/b%20c", path: "/echo/users/x%20y", wantURI: "/b%20c/users/x%20y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotURI string
			be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { gotURI = r.RequestURI }))
			defer be.Close()
			c := testConfig(be.URL)
			c.APIs[0].ServiceURL = be.URL + tc.serviceURL
			c.APIs[0].AllowEncodedSlashes = tc.allowSlash
			c.APIs[0].Operations = append(c.APIs[0].Operations, snapshot.Operation{ID: "root", Method: "GET", URLTemplate: "/"})
			e := newEnv(t, Config{}, c)
			if r := e.do("GET", tc.path, nil, withKey...); r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if gotURI != tc.wantURI {
				t.Fatalf("backend got %q, want %q", gotURI, tc.wantURI)
			}
		})
	}
}

// TestObjectErrorsIsolated publishes a configuration with broken objects:
// they are skipped and exposed in the metric, the rest serves.
func TestObjectErrorsIsolated(t *testing.T) {
	be := newBackend(t, nil)
	c := testConfig(be.URL)
	c.APIs = append(c.APIs,
		snapshot.API{ID: "bad-url", Path: "bad", ServiceURL: "ftp://x", Operations: []snapshot.Operation{{ID: "a", Method: "GET", URLTemplate: "/"}}},
		snapshot.API{ID: "dup-path", Path: "echo", ServiceURL: be.URL, Operations: []snapshot.Operation{{ID: "a", Method: "GET", URLTemplate: "/"}}},
	)
	c.APIs[1].Operations = append(c.APIs[1].Operations, snapshot.Operation{ID: "broken", Method: "GET", URLTemplate: "/a/{unclosed"})
	e := newEnv(t, Config{}, c)
	if r := e.do("GET", "/echo/resource", nil, withKey...); r.status != 200 {
		t.Fatalf("healthy api: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/other/resource", nil, withKey...); r.status != 200 {
		t.Fatalf("api with a broken operation: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/bad/", nil, withKey...); r.status != 404 {
		t.Fatalf("broken api: %d %s", r.status, r.body)
	}
	for _, k := range [][2]string{{"api", "bad-url"}, {"api", "dup-path"}, {"operation", "other/broken"}} {
		if v := metricValue(e.gw.metrics.objectErrors.WithLabelValues(k[0], k[1])); v != 1 {
			t.Errorf("object error %s %s = %v, want 1", k[0], k[1], v)
		}
	}
	// A fixed configuration clears the errors.
	e.publish(testConfig(be.URL))
	if n := testCollect(e, "portico_gateway_snapshot_object_errors"); n != 0 {
		t.Errorf("%d object error series left after a clean publish", n)
	}
}

// testCollect counts the series of a metric family in the registry.
func testCollect(e *env, name string) int {
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

func TestRequestIDFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newRequestID()
		if len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		if _, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")); err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		seen[id] = true
	}

}

// TestH2CUpgradeNotForwarded: an HTTP/2 cleartext upgrade concerns the
// client's hop only; the backend gets a plain HTTP/1.1 request.
func TestH2CUpgradeNotForwarded(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, testConfig(be.URL))
	r := e.do("GET", "/echo/resource", nil, append([]string{"Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}, withKey...)...)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	got := be.last(t)
	for _, h := range []string{"Upgrade", "Connection", "Http2-Settings"} {
		if v := got.header.Get(h); v != "" {
			t.Errorf("backend received %s: %q", h, v)
		}
	}
}

// TestReloadKeepsConnectionsAndInFlightRequests publishes new snapshots
// while a request is in flight: it finishes on its own snapshot, and the
// backend's keep-alive connection survives the reloads.
func TestReloadKeepsConnectionsAndInFlightRequests(t *testing.T) {
	var conns atomic.Int64
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/base/users/slow" {
			entered <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	}))
	be.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	e := newEnv(t, Config{}, testConfig(be.URL))

	if r := e.do("GET", "/echo/resource", nil, withKey...); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d backend connections after one request", n)
	}
	done := make(chan result, 1)
	go func() { done <- e.do("GET", "/echo/users/slow", nil, withKey...) }()
	<-entered

	c := testConfig(be.URL)
	c.Revision = 2
	c.APIs = c.APIs[1:] // echo is gone
	e.publish(c)
	if r := e.do("GET", "/echo/resource", nil, withKey...); r.status != 404 {
		t.Fatalf("removed api answered %d", r.status)
	}
	close(release)
	if r := <-done; r.status != 200 || r.body != "ok" {
		t.Fatalf("in-flight request on the old snapshot: %d %s", r.status, r.body)
	}

	c = testConfig(be.URL)
	c.Revision = 3
	e.publish(c)
	for range 3 {
		if r := e.do("GET", "/echo/resource", nil, withKey...); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	if n := conns.Load(); n > 2 { // the second came from the concurrent slow request
		t.Fatalf("%d backend connections: reloads reset the pool", n)
	}
}

// TestClientGoneIsRecorded: a client that disconnects while the backend
// works is counted as 4xx (499) and the backend's request is cancelled.
func TestClientGoneIsRecorded(t *testing.T) {
	cancelled := make(chan struct{})
	entered := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(cancelled)
	}))
	defer be.Close()
	e := newEnv(t, Config{}, testConfig(be.URL))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/echo/resource", nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", keyAll)
	go func() { <-entered; cancel() }()
	if _, err := e.client.Do(req); err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	<-cancelled
	testenv.Eventually(t, "the abandoned request to be counted", func() bool { return e.count("echo", "get-resource", "", "4xx") == 1 })
}
