package gateway

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
)

// trivialPolicy changes nothing but makes every operation's pipeline
// non-trivial: its requests take the policy path (forward-request calls
// forwarder.Forward) instead of the fast path (httputil.ReverseProxy).
const trivialPolicy = `<policies><inbound><base/></inbound><backend><forward-request/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`

// twoPaths is one configuration served by two gateways: fast without
// policies, pol with trivialPolicy as its global policy. Each has its
// own record sink.
type twoPaths struct {
	fast, pol         *env
	fastRecs, polRecs *recordSink
}

func newTwoPaths(t *testing.T, cfg Config, sc func() *snapshot.Config) *twoPaths {
	t.Helper()
	p := &twoPaths{fastRecs: &recordSink{recs: map[string]telemetry.Record{}}, polRecs: &recordSink{recs: map[string]telemetry.Record{}}}
	fcfg, pcfg := cfg, cfg
	fcfg.Telemetry, pcfg.Telemetry = p.fastRecs, p.polRecs
	p.fast = newEnv(t, fcfg, sc())
	withPolicy := sc()
	withPolicy.Policies = append(withPolicy.Policies, snapshot.Policy{Scope: "global", Format: "rawxml", Value: trivialPolicy})
	p.pol = newEnv(t, pcfg, withPolicy)
	// The comparison means something only if the two gateways take
	// different paths for the same route.
	for _, c := range []struct {
		e          *env
		wantPolicy bool
	}{{p.fast, false}, {p.pol, true}} {
		var m router.Match
		_, op := c.e.gw.Snapshot().Route("api.example", "GET", "/echo/resource", &m)
		pipe, err := op.Pipeline(nil)
		if err != nil || (pipe != nil) != c.wantPolicy {
			t.Fatalf("pipeline %v (%v), want the policy path: %t", pipe, err, c.wantPolicy)
		}
	}
	return p
}

// exchange is what one request did on one path: the client's answer, the
// request the backend received (when it received one) and the record.
type exchange struct {
	status int
	header http.Header
	body   string
	err    error // the client's error (the client went away)
	rec    telemetry.Record
}

// send sends one request built by mk to e and waits for its record; id
// is its X-Request-Id. cancelWhen, when not nil, cancels the request once
// it is closed.
func send(t *testing.T, e *env, recs *recordSink, id string, mk func(url string) *http.Request, cancelWhen <-chan struct{}) exchange {
	t.Helper()
	req := mk(e.url)
	req.Host = "api.example"
	req.Header.Set("X-Request-Id", id)
	if cancelWhen != nil {
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		go func() {
			select {
			case <-cancelWhen:
				cancel()
			case <-ctx.Done():
			}
		}()
		req = req.WithContext(ctx)
	}
	var x exchange
	res, err := e.client.Do(req)
	if err != nil {
		x.err = err
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		x.status, x.header, x.body = res.StatusCode, res.Header, string(b)
	}
	x.rec = recs.wait(t, id)
	return x
}

// sameExchange sends the request down both paths (with the same request
// id) and returns both outcomes.
func (p *twoPaths) sameExchange(t *testing.T, id string, mk func(url string) *http.Request, cancelWhen func() <-chan struct{}) (fast, pol exchange) {
	t.Helper()
	var c1, c2 <-chan struct{}
	if cancelWhen != nil {
		c1 = cancelWhen()
	}
	fast = send(t, p.fast, p.fastRecs, id, mk, c1)
	if cancelWhen != nil {
		c2 = cancelWhen()
	}
	pol = send(t, p.pol, p.polRecs, id, mk, c2)
	return fast, pol
}

// TestForwardingCoreSameOutbound sends the same requests down the fast
// path and the policy path and checks that the backend receives the same
// request from both (URL, Host, every header, body), and that it is right:
// subscription key header and query parameter, debugger token, hop-by-hop
// headers and the client's Forwarded removed, X-Forwarded-* set, the
// request id and the traceparent propagated.
func TestForwardingCoreSameOutbound(t *testing.T) {
	be := newBackend(t, nil)
	p := newTwoPaths(t, Config{}, func() *snapshot.Config { return testConfig(be.URL) })
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		header    map[string]string
		wantPath  string
		wantQuery string
		wantUA    string
		wantKept  string // a header named like another API's key, kept
	}{
		{name: "key in header and query, hop-by-hop, forwarding headers", method: "GET", path: "/echo/resource?a=1&subscription-key=" + keyAll + "&b=2",
			header: map[string]string{
				"Ocp-Apim-Subscription-Key": keyAll, HeaderDebugAuthorization: "token",
				"Connection": "X-Hop, keep-alive", "X-Hop": "1", "Keep-Alive": "timeout=5", "Proxy-Authorization": "Basic eDp5",
				"Forwarded": "for=6.6.6.6", "X-Forwarded-For": "1.2.3.4", "X-Forwarded-Host": "spoofed.example", "X-Forwarded-Proto": "https",
				"X-Custom": "kept", "User-Agent": "client/1.0", "Traceparent": tp,
			},
			wantPath: "/base/resource", wantQuery: "a=1&b=2", wantUA: "client/1.0"},
		{name: "no user agent, escaped path, body", method: "POST", path: "/echo/files/a%20b/c?subscription-key=" + keyAll, body: "payload",
			header: map[string]string{"User-Agent": "", "Content-Type": "text/plain"}, wantPath: "/base/files/a b/c"},
		{name: "api with its own key names", method: "GET", path: "/custom/users/7?apikey=" + keyP1 + "&subscription-key=other",
			header:   map[string]string{"X-Api-Key": keyP1, "Ocp-Apim-Subscription-Key": "not-the-key", "User-Agent": "client/2.0"},
			wantPath: "/base/users/7", wantQuery: "subscription-key=other", wantUA: "client/2.0", wantKept: "Ocp-Apim-Subscription-Key"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(url string) *http.Request {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req, err := http.NewRequest(tc.method, url+tc.path, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range tc.header {
					req.Header[http.CanonicalHeaderKey(k)] = []string{v}
				}
				return req
			}
			id := "same-outbound-" + string(rune('a'+i))
			var got [2]seen
			for j, e := range []*env{p.fast, p.pol} {
				x := send(t, e, []*recordSink{p.fastRecs, p.polRecs}[j], id, mk, nil)
				if x.status != 200 || x.body != "ok "+tc.wantPath {
					t.Fatalf("path %d: %d %q", j, x.status, x.body)
				}
				got[j] = be.last(t)
			}
			fast, pol := got[0], got[1]
			// The traceparent gets a new parent id on each hop: compare
			// the rest.
			for _, s := range []*seen{&fast, &pol} {
				if v := s.header.Get("Traceparent"); v != "" {
					if len(v) != len(tp) || v[:36] != tp[:36] || v[52:] != tp[52:] || v[36:52] == tp[36:52] {
						t.Fatalf("traceparent %q, want a child of %q", v, tp)
					}
					s.header.Set("Traceparent", "child")
				}
			}
			if fast.method != pol.method || fast.path != pol.path || fast.rawPath != pol.rawPath || fast.rawQuery != pol.rawQuery ||
				fast.host != pol.host || string(fast.body) != string(pol.body) {
				t.Fatalf("fast path sent %s %s (%q) ?%s to %s %q\npolicy path sent %s %s (%q) ?%s to %s %q",
					fast.method, fast.path, fast.rawPath, fast.rawQuery, fast.host, fast.body, pol.method, pol.path, pol.rawPath, pol.rawQuery, pol.host, pol.body)
			}
			if !maps.EqualFunc(fast.header, pol.header, slices.Equal) {
				t.Fatalf("headers differ:\nfast   %v\npolicy %v", fast.header, pol.header)
			}
			// And both are right.
			h := fast.header
			if fast.path != tc.wantPath || fast.rawQuery != tc.wantQuery || fast.host != be.Listener.Addr().String() || string(fast.body) != tc.body {
				t.Fatalf("backend got %s ?%s host %s body %q", fast.path, fast.rawQuery, fast.host, fast.body)
			}
			for _, k := range []string{"Ocp-Apim-Subscription-Key", "X-Api-Key", HeaderDebugAuthorization, "Connection", "X-Hop", "Keep-Alive",
				"Proxy-Authorization", "Forwarded", "Te", "Trailer", "Upgrade"} {
				if vs, ok := h[k]; ok && k != tc.wantKept {
					t.Errorf("backend got %s: %q", k, vs)
				}
			}
			wantXFF := "127.0.0.1"
			if tc.header["X-Forwarded-For"] != "" {
				wantXFF = tc.header["X-Forwarded-For"] + ", 127.0.0.1"
			}
			for k, v := range map[string]string{"X-Forwarded-For": wantXFF, "X-Forwarded-Host": "api.example", "X-Forwarded-Proto": "http",
				"X-Request-Id": id, "User-Agent": tc.wantUA} {
				if got := h.Get(k); got != v {
					t.Errorf("backend got %s %q, want %q", k, got, v)
				}
			}
			if tc.wantKept != "" && h.Get(tc.wantKept) != tc.header[tc.wantKept] {
				t.Errorf("%s was not kept: %v", tc.wantKept, h)
			}
			if tc.header["X-Custom"] != "" && h.Get("X-Custom") != "kept" {
				t.Errorf("an end-to-end header was dropped: %v", h)
			}
			if tc.header["Traceparent"] != "" && h.Get("Traceparent") != "child" {
				t.Errorf("no traceparent: %v", h)
			}
		})
	}

	// The one difference: "Te: trailers" reaches the backend only from the
	// fast path, which relays the response's trailers (finishOutbound's
	// trailers argument).
	t.Run("te trailers only where trailers are relayed", func(t *testing.T) {
		mk := func(url string) *http.Request {
			req, _ := http.NewRequest("GET", url+"/open/resource", nil)
			req.Header.Set("Te", "trailers")
			return req
		}
		var got []string
		for j, e := range []*env{p.fast, p.pol} {
			send(t, e, []*recordSink{p.fastRecs, p.polRecs}[j], "te-trailers", mk, nil)
			got = append(got, be.last(t).header.Get("Te"))
		}
		if got[0] != "trailers" || got[1] != "" {
			t.Fatalf("Te from the fast path %q, from the policy path %q", got[0], got[1])
		}
	})
}

// TestForwardingCoreSameErrors: a failed exchange is answered (status,
// body, headers) and recorded (status, reason, message) the same way on
// both paths, as backendError maps it. Where the error is located differs
// by design: the policy path locates it at the forward-request step.
func TestForwardingCoreSameErrors(t *testing.T) {
	entered := make(chan chan struct{}, 2)
	hang := func(w http.ResponseWriter, r *http.Request) {
		if ch := r.Header.Get("X-Signal"); ch != "" {
			select {
			case c := <-entered:
				close(c)
			default:
			}
		}
		<-r.Context().Done() // until the gateway gives up or the client goes
	}
	hanging := newBackend(t, hang)
	accepting := newBackend(t, nil)
	dead := deadURL(t)
	post := func(body io.Reader) func(string) *http.Request {
		return func(url string) *http.Request {
			req, _ := http.NewRequest("POST", url+"/open/resource", body)
			return req
		}
	}
	get := func(url string) *http.Request {
		req, _ := http.NewRequest("GET", url+"/open/resource", nil)
		req.Header.Set("X-Signal", "1")
		return req
	}
	tests := []struct {
		name       string
		cfg        Config
		backendURL string
		mk         func(url string) *http.Request
		cancel     bool // the client goes away once the backend has the request
		wantStatus int  // sent to the client; 0 when the client went away
		wantRecord int
		wantReason string
		wantBody   string // prefix
		// where the error is located, on the fast and on the policy path
		fastSource, fastSection, polSource string
	}{
		{name: "backend refused", backendURL: dead, mk: get, wantStatus: 502, wantRecord: 502, wantReason: policy.ReasonBackendConnectionFailure,
			wantBody:   `{"statusCode":502,"message":"Bad gateway: the backend service could not be reached."}`,
			fastSource: "forward-request", fastSection: "backend", polSource: "forward-request"},
		{name: "backend timeout", cfg: Config{ResponseHeaderTimeout: 50 * time.Millisecond}, backendURL: hanging.URL, mk: get,
			wantStatus: 504, wantRecord: 504, wantReason: policy.ReasonTimeout,
			wantBody:   `{"statusCode":504,"message":"Gateway timeout: the backend service did not respond in time."}`,
			fastSource: "forward-request", fastSection: "backend", polSource: "forward-request"},
		{name: "body too large", cfg: Config{MaxRequestBodyBytes: 16}, backendURL: accepting.URL,
			mk: func(url string) *http.Request {
				return post(io.MultiReader(strings.NewReader(strings.Repeat("x", 1000))))(url)
			},
			wantStatus: 413, wantRecord: 413, wantReason: policy.ReasonRequestEntityTooLarge,
			wantBody:   `{"statusCode":413,"message":"Request entity too large: the request body exceeds the limit of 16 bytes for this API."}`,
			fastSource: "request", fastSection: "inbound", polSource: "forward-request"},
		{name: "client gone", backendURL: hanging.URL, mk: get, cancel: true, wantRecord: 499, wantReason: policy.ReasonClientConnectionFailure,
			fastSource: "client", fastSection: "backend", polSource: "forward-request"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTwoPaths(t, tc.cfg, func() *snapshot.Config { return testConfig(tc.backendURL) })
			var cancelWhen func() <-chan struct{}
			if tc.cancel {
				cancelWhen = func() <-chan struct{} {
					c := make(chan struct{})
					entered <- c
					return c
				}
			}
			id := "same-error-" + string(rune('a'+i))
			fast, pol := p.sameExchange(t, id, tc.mk, cancelWhen)
			for j, x := range []exchange{fast, pol} {
				if tc.wantStatus == 0 {
					if x.err == nil {
						t.Fatalf("path %d: the cancelled request got %d", j, x.status)
					}
				} else if x.err != nil || x.status != tc.wantStatus || !strings.HasPrefix(x.body, tc.wantBody) || x.header.Get("Content-Type") != "application/json" {
					t.Fatalf("path %d: %d %q %v (%v)", j, x.status, x.body, x.header, x.err)
				}
				if x.rec.ResponseCode != tc.wantRecord || x.rec.LastErrorReason != tc.wantReason || x.rec.BackendResponseCode != 0 {
					t.Fatalf("path %d: recorded %d %s (backend %d)", j, x.rec.ResponseCode, x.rec.LastErrorReason, x.rec.BackendResponseCode)
				}
			}
			if fast.body != pol.body || fast.header.Get("Content-Length") != pol.header.Get("Content-Length") || fast.header.Get("Connection") != pol.header.Get("Connection") {
				t.Fatalf("answers differ:\nfast   %q %v\npolicy %q %v", fast.body, fast.header, pol.body, pol.header)
			}
			if fast.rec.LastErrorMessage != pol.rec.LastErrorMessage {
				t.Fatalf("recorded messages differ:\nfast   %q\npolicy %q", fast.rec.LastErrorMessage, pol.rec.LastErrorMessage)
			}
			if fast.rec.LastErrorSource != tc.fastSource || fast.rec.LastErrorSection != tc.fastSection ||
				pol.rec.LastErrorSource != tc.polSource || pol.rec.LastErrorSection != "backend" {
				t.Fatalf("located at %s/%s (fast) and %s/%s (policy)", fast.rec.LastErrorSource, fast.rec.LastErrorSection, pol.rec.LastErrorSource, pol.rec.LastErrorSection)
			}
		})
	}
}
