package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawExchange writes raw to the gateway on one connection and reads every
// response until the gateway closes it (or, closed false, until the
// read deadline: the connection stayed open).
// errorBody is APIM's error document, as the gateway answers it.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
}

func rawExchange(t *testing.T, e *env, raw string, wait time.Duration) (responses []*http.Response, bodies []string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(c)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if ok := errorAs(err, &ne); ok && ne.Timeout() {
				return responses, bodies, false
			}
			return responses, bodies, true // EOF: closed by the gateway
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("read response body: %v", err)
		}
		responses, bodies = append(responses, res), append(bodies, string(b))
	}
}

func errorAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// A request carrying both Content-Length and Transfer-Encoding is answered
// 400 and its connection closed (RFC 9112 §6.1): the request pipelined
// behind it, which a front end counting Content-Length would take for the
// first one's body, is never served.
func TestConflictingFramingClosesConnection(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, testConfig(be.URL))
	for _, tc := range []struct{ name, raw string }{
		{"CL then TE", "POST /open/resource HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /open/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"TE then CL, odd case", "POST /open/resource HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\ncontent-LENGTH: 30\r\n\r\n0\r\n\r\nGET /open/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"folded TE", "POST /open/resource HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\nGET /open/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"second request of the connection", "GET /open/resource HTTP/1.1\r\nHost: x\r\n\r\n" +
			"POST /open/resource HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /open/users/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := be.received()
			res, bodies, closed := rawExchange(t, e, tc.raw, 10*time.Second)
			if !closed {
				t.Fatal("the connection stayed open after the conflicting request")
			}
			last := len(res) - 1
			if last < 0 || res[last].StatusCode != 400 || !res[last].Close {
				t.Fatalf("responses %d, last %+v", len(res), res)
			}
			var body errorBody
			if err := json.Unmarshal([]byte(bodies[last]), &body); err != nil || body.StatusCode != 400 || !strings.Contains(body.Message, "Content-Length and Transfer-Encoding") {
				t.Fatalf("body %q", bodies[last])
			}
			if last > 0 && res[0].StatusCode != 200 {
				t.Fatalf("first response %d", res[0].StatusCode)
			}
			for _, r := range be.reqs[before:] {
				if strings.Contains(r.path, "smuggled") || r.method == "POST" {
					t.Fatalf("the backend received %s %s %v; responses %v", r.method, r.path, r.header, bodies)
				}
			}
		})
	}
}

// Well-framed pipelined requests (chunked, fixed length, none, OPTIONS *)
// on one connection are all served: the framing guard follows them
// without mistaking one for a conflict.
func TestPipelinedRequestsAreNotMistaken(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{}, testConfig(be.URL))
	chunk := "Content-Length: 5\r\nTransfer-Encoding: chunked"
	fixed := "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"
	raw := "POST /open/resource HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", len(chunk), chunk) +
		fmt.Sprintf("POST /open/resource HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(fixed), fixed) +
		"OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /open/resource HTTP/1.1\r\nHost: x\r\n\r\n"
	res, _, closed := rawExchange(t, e, raw, 2*time.Second)
	if closed || len(res) != 4 {
		for _, r := range res {
			t.Logf("%d %v", r.StatusCode, r.Header)
		}
		t.Fatalf("closed %v, %d responses", closed, len(res))
	}
	for i, r := range res {
		if r.StatusCode != 200 {
			t.Fatalf("response %d: %d", i, r.StatusCode)
		}
	}
	if n := be.received(); n != 3 {
		t.Fatalf("backend received %d requests", n)
	}
}

// The scanner finds the same request whether the bytes come at once or
// one by one.
func TestFramingScannerSplits(t *testing.T) {
	for _, tc := range []struct {
		raw string
		bad int // index of the first conflicting request, -1: none
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", -1},
		{"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
		{"POST / HTTP/1.1\r\nContent-Length: 30\r\n\r\nContent-Length: 3\r\nTransfer-E" + "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 1},
		{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 1},
		{"OPTIONS * HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 0},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", -1},
	} {
		whole, one := framingScanner{firstBad: -1}, framingScanner{firstBad: -1}
		whole.feed([]byte(tc.raw))
		for i := range len(tc.raw) {
			one.feed([]byte{tc.raw[i]})
		}
		if whole.firstBad != tc.bad || one.firstBad != tc.bad {
			t.Errorf("%q: first bad %d at once, %d byte by byte; want %d", tc.raw, whole.firstBad, one.firstBad, tc.bad)
		}
	}
}

// A malformed chunked body is the client's fault: 400 in APIM's shape,
// not 502, on the streaming path and through forward-request.
func TestMalformedChunkedBody(t *testing.T) {
	be := newBackend(t, nil)
	cfg := policyConfig(be.URL, map[string]string{
		"apis/free/operations/post-resource": `<policies><inbound><set-header name="X-P" exists-action="override"><value>1</value></set-header></inbound><backend><forward-request/></backend></policies>`,
	})
	addKey(cfg, "free-key-000000000000000001", "primary", "s-free", "/apis/free", "active", "u1")
	e := newEnv(t, Config{}, cfg)
	for _, path := range []string{"/open/resource", "/free/resource"} {
		t.Run(path, func(t *testing.T) {
			key := ""
			if path == "/free/resource" {
				key = "Ocp-Apim-Subscription-Key: free-key-000000000000000001\r\n"
			}
			raw := "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + key + "Transfer-Encoding: chunked\r\n\r\n" +
				"4\r\nabcd\r\nzz\r\nmore\r\n0\r\n\r\n"
			res, bodies, closed := rawExchange(t, e, raw, 10*time.Second)
			if len(res) != 1 || res[0].StatusCode != 400 {
				t.Fatalf("responses %d %v", len(res), bodies)
			}
			var body errorBody
			if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil || body.StatusCode != 400 || !strings.Contains(body.Message, "request body") {
				t.Fatalf("body %q", bodies[0])
			}
			if !closed {
				t.Fatal("connection left open after a broken body")
			}
		})
	}
}

// A body that stalls is cut off by the body read timeout: 408 and the
// connection closed, instead of holding the gateway and the backend.
func TestStalledBodyTimesOut(t *testing.T) {
	be := newBackend(t, nil)
	e := newEnv(t, Config{BodyReadTimeout: 100 * time.Millisecond}, testConfig(be.URL))
	for _, tc := range []struct{ name, raw string }{
		{"fixed length", "POST /open/resource HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part"},
		{"chunked", "POST /open/resource HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, bodies, closed := rawExchange(t, e, tc.raw, 30*time.Second)
			if len(res) != 1 || res[0].StatusCode != http.StatusRequestTimeout || !closed {
				t.Fatalf("closed %v, responses %d %v", closed, len(res), bodies)
			}
			var body errorBody
			if err := json.Unmarshal([]byte(bodies[0]), &body); err != nil || body.StatusCode != 408 {
				t.Fatalf("body %q", bodies[0])
			}
		})
	}
	// A body that keeps coming is not cut, however long it takes in all.
	pr, pw := io.Pipe()
	go func() {
		for range 5 {
			time.Sleep(40 * time.Millisecond)
			pw.Write([]byte("slow but steady "))
		}
		pw.Close()
	}()
	if r := e.do("POST", "/open/resource", pr); r.status != 200 {
		t.Fatalf("steady body: %d %s", r.status, r.body)
	}
}
