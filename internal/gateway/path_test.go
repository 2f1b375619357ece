package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/snapshot"
)

// resolvingBackend resolves each request path the way lenient servers do
// and records every resolution, so that a test can tell whether any server
// in front of which the gateway might stand would have served a path under
// /internal/. Three readings are recorded:
//
//   - nginx: percent-decoding everything (%2F and %2E included), merging
//     slashes, then resolving dot segments;
//   - Tomcat: the same after stripping ";parameters" from each segment;
//   - IIS: the same with backslashes taken as slashes.
type resolvingBackend struct {
	*backend
	mu       sync.Mutex
	resolved []string // every reading of every request received
}

func newResolvingBackend(t testing.TB) *resolvingBackend {
	rb := &resolvingBackend{}
	rb.backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.EscapedPath()
		if r.URL.RawPath != "" {
			raw = r.URL.RawPath
		}
		readings := lenientReadings(raw)
		rb.mu.Lock()
		rb.resolved = append(rb.resolved, readings...)
		rb.mu.Unlock()
		io.WriteString(w, "ok "+readings[0])
	})
	return rb
}

// lenientReadings returns the nginx, Tomcat and IIS readings of an escaped
// path.
func lenientReadings(escaped string) []string {
	dec, err := url.PathUnescape(escaped)
	if err != nil {
		dec = escaped
	}
	nginx := resolveDots(strings.Split(dec, "/"))
	var tomcatSegs []string
	for _, s := range strings.Split(dec, "/") {
		if i := strings.IndexByte(s, ';'); i >= 0 {
			s = s[:i]
		}
		tomcatSegs = append(tomcatSegs, s)
	}
	iis := resolveDots(strings.Split(strings.ReplaceAll(dec, `\`, "/"), "/"))
	return []string{nginx, resolveDots(tomcatSegs), iis}
}

// resolveDots merges empty segments and resolves "." and ".." (and, as
// Windows does, segments of dots followed by spaces).
func resolveDots(segs []string) string {
	var out []string
	for _, s := range segs {
		switch strings.TrimRight(s, " ") {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// reachedInternal returns the readings under /internal/ since the last
// call, and forgets them.
func (rb *resolvingBackend) reachedInternal() []string {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	var bad []string
	for _, p := range rb.resolved {
		if p == "/internal" || strings.HasPrefix(p, "/internal/") {
			bad = append(bad, p)
		}
	}
	rb.resolved = rb.resolved[:0]
	return bad
}

// traversalConfig has an open API "public" and a key-protected API
// "internal" on the same backend host, under /public and /internal.
func traversalConfig(backendURL string) *snapshot.Config {
	ops := []snapshot.Operation{{ID: "any", Method: "*", URLTemplate: "/{*path}"}, {ID: "root", Method: "*", URLTemplate: "/"}}
	c := &snapshot.Config{Revision: 1, GatewayID: "test", APIs: []snapshot.API{
		{ID: "public", DisplayName: "public", Path: "public", ServiceURL: backendURL + "/public", SubscriptionRequired: false, Operations: ops},
		{ID: "internal", DisplayName: "internal", Path: "internal", ServiceURL: backendURL + "/internal", SubscriptionRequired: true, Operations: ops},
		{ID: "slashes", DisplayName: "slashes", Path: "slashes", ServiceURL: backendURL + "/slashes", SubscriptionRequired: false, Operations: ops, AllowEncodedSlashes: true},
	}}
	return c
}

// traversals are request-targets that try to reach /internal/users
// through the open API. None may reach the backend's /internal/ without a
// key: each is refused (400), routed to the internal API (401), or
// resolved inside the open API ("/public//../internal/users" is
// "/public/internal/users" by RFC 3986, and that is what the backend gets).
var traversals = []string{
	"/public/../internal/users",
	"/public/../../internal/users",
	"/public/./../internal/users",
	"/public/a/../../internal/users",
	"/public/a/b/../../../internal/users",
	"/public//../internal/users",
	"/public/%2e%2e/internal/users",
	"/public/%2E%2E/internal/users",
	"/public/.%2e/internal/users",
	"/public/%2e./internal/users",
	"/public/%2e%2e/%2e%2e/internal/users",
	"/public/..%2finternal/users",
	"/public/..%2Finternal/users",
	"/public/%2e%2e%2finternal%2fusers",
	"/public/..%5cinternal/users",
	"/public/..%5Cinternal/users",
	"/public/%2e%2e%5cinternal%5cusers",
	`/public/..\internal/users`,
	`/public\..\..\internal/users`,
	"/public/..;/internal/users",
	"/public/..;x=1/internal/users",
	"/public/..;/..;/internal/users",
	"/public/.;/..;/internal/users",
	"/public/%2e%2e;/internal/users",
	"/public/%252e%252e/internal/users",
	"/public/%252e%252e%252finternal/users",
	"/public/..%252finternal/users",
	"/public/..%255cinternal/users",
	"/public/..%00/internal/users",
	"/public/%00/../internal/users",
	"/public/.../internal/users",
	"/public/..%20/internal/users",
	"/public/. ./internal/users",
	"/public/%2e%2e%20/internal/users",
	"/slashes/..%2f..%2finternal/users",
	"/slashes/%2e%2e%2f%2e%2e%2finternal/users",
	"/slashes/a%2f..%2f..%2f..%2finternal/users",
	"/internal/../internal/users",
	"/internal/users/../../internal/users",
}

func TestPathTraversalNeverReachesAnotherAPI(t *testing.T) {
	for _, proto := range []string{"HTTP/1.1", "h2c"} {
		t.Run(proto, func(t *testing.T) {
			be := newResolvingBackend(t)
			e := newEnv(t, Config{}, traversalConfig(be.URL))
			client := e.client
			if proto == "h2c" {
				var p http.Protocols
				p.SetUnencryptedHTTP2(true)
				client = &http.Client{Transport: &http.Transport{Protocols: &p}}
				t.Cleanup(client.CloseIdleConnections)
			}
			for _, target := range traversals {
				t.Run(target, func(t *testing.T) {
					status, got := sendOpaque(t, client, e.url, target)
					if want := map[string]string{"HTTP/1.1": "HTTP/1.1", "h2c": "HTTP/2.0"}[proto]; got != want {
						t.Fatalf("answered over %s, want %s", got, want)
					}
					if status >= 500 {
						t.Errorf("%s: status %d", target, status)
					}
					if bad := be.reachedInternal(); len(bad) > 0 {
						t.Fatalf("%s reached the backend's %v without a key", target, bad)
					}
				})
			}
		})
	}
}

// sendOpaque sends GET with target as the exact request-target and returns
// the status and the protocol of the answer.
func sendOpaque(t *testing.T, client *http.Client, base, target string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = target
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, res.Proto
}

// TestPathNormalisedBeforeRouting checks that the path routed, forwarded
// and seen by policies is the normalised one, over HTTP/1.1 and HTTP/2.
func TestPathNormalisedBeforeRouting(t *testing.T) {
	be := newResolvingBackend(t)
	e := newEnv(t, Config{}, traversalConfig(be.URL))
	tests := []struct {
		name, target string
		status       int
		backendPath  string // escaped path the backend receives; "" for none
	}{
		{"plain", "/public/users", 200, "/public/users"},
		{"dot segments resolved inside the API", "/public/a/./b/../users", 200, "/public/a/users"},
		{"climbing into another API routes to it", "/public/../internal/users", 401, ""},
		{"climbing above the root", "/../../public/users", 200, "/public/users"},
		{"encoded dot inside a name kept", "/public/a%2ejson", 200, "/public/a%2ejson"},
		{"encoded slash refused", "/public/a%2Fb", 400, ""},
		{"encoded slash allowed by the API", "/slashes/a%2Fb", 200, "/slashes/a%2Fb"},
		{"encoded dot segment refused", "/public/%2e%2e/x", 400, ""},
		{"dotdot parameter refused", "/public/..;/x", 400, ""},
		{"NUL refused", "/public/a%00", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := be.received()
			status, _ := sendOpaque(t, e.client, e.url, tt.target)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if tt.backendPath == "" {
				if be.received() != before {
					t.Fatalf("the backend received %q", be.last(t).rawPath)
				}
				return
			}
			got := be.last(t)
			escaped := (&url.URL{Path: got.path, RawPath: got.rawPath}).EscapedPath()
			if escaped != tt.backendPath {
				t.Fatalf("backend got %q, want %q", escaped, tt.backendPath)
			}
		})
	}
	r := e.do("GET", "/public/%2e%2e/internal/users", nil)
	if !strings.Contains(r.body, `"statusCode":400`) || !strings.Contains(r.body, "encoded or decorated dot segment") {
		t.Fatalf("400 body %q does not say why", r.body)
	}
}

// TestPathRawHTTP1 sends request lines byte for byte, without a client
// library in between.
func TestPathRawHTTP1(t *testing.T) {
	be := newResolvingBackend(t)
	e := newEnv(t, Config{}, traversalConfig(be.URL))
	for _, target := range traversals {
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", target)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		res.Body.Close()
		conn.Close()
		if res.StatusCode >= 500 {
			t.Errorf("%s: status %d", target, res.StatusCode)
		}
		if bad := be.reachedInternal(); len(bad) > 0 {
			t.Fatalf("%s reached the backend's %v without a key", target, bad)
		}
	}
}

// FuzzGatewayRequest feeds raw HTTP/1.1 requests to the gateway's handler
// (parsed by net/http's own reader, as the server does) in front of a
// backend that resolves paths leniently. Whatever the request, the gateway
// must not panic, must not fail with a 5xx of its own, and must never let a
// keyless request reach the protected API's resources.
func FuzzGatewayRequest(f *testing.F) {
	for _, target := range traversals {
		f.Add("GET " + target + " HTTP/1.1\r\nHost: gw\r\n\r\n")
	}
	f.Add("POST /public/a HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\nabc")
	f.Add("GET http://gw/public/../internal/x HTTP/1.1\r\nHost: gw\r\n\r\n")
	f.Add("OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n")
	be := newResolvingBackend(f)
	gw, err := New(Config{Logger: discardLogger()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(gw.Close)
	s, errs := snapshot.Compile(traversalConfig(be.URL))
	if s == nil {
		f.Fatal(errs)
	}
	gw.Publish(s)
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		req.RemoteAddr = "127.0.0.1:1234"
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusBadGateway {
			t.Fatalf("status %d for %q: %s", rec.Code, raw, rec.Body)
		}
		if bad := be.reachedInternal(); len(bad) > 0 {
			t.Fatalf("%q reached the backend's %v without a key", raw, bad)
		}
	})
}
