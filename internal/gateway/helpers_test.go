package gateway

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/snapshot"
)

// env is one Gateway behind its real *http.Server on a loopback port.
type env struct {
	t      testing.TB
	gw     *Gateway
	reg    *prometheus.Registry
	url    string
	client *http.Client
}

// newEnv starts a gateway with cfg and, when sc is not nil, publishes its
// compiled form (failing the test on object errors unless allowErrs).
func newEnv(t testing.TB, cfg Config, sc *snapshot.Config) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, gw: gw, reg: reg}
	if sc != nil {
		e.publish(sc)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gw.NewServer()
	go srv.Serve(WrapListener(ln)) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close(); gw.Close() })
	e.url = "http://" + ln.Addr().String()
	e.client = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

func (e *env) publish(sc *snapshot.Config) {
	e.t.Helper()
	s, errs := snapshot.Compile(sc)
	if s == nil {
		e.t.Fatalf("compile: %v", errs)
	}
	e.gw.Publish(s)
}

// result is a response read in full.
type result struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the gateway; hdr holds name/value pairs.
func (e *env) do(method, path string, body io.Reader, hdr ...string) result {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return result{status: res.StatusCode, header: res.Header, body: string(b)}
}

// count returns portico_gateway_requests_total for one label set.
func (e *env) count(api, op, product, class string) float64 {
	return metricValue(e.gw.metrics.requests.WithLabelValues(api, op, product, class))
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return -1
	}
	switch {
	case out.Counter != nil:
		return out.Counter.GetValue()
	case out.Gauge != nil:
		return out.Gauge.GetValue()
	}
	return -1
}

// seen is one request as a backend received it.
type seen struct {
	method, path, rawPath, rawQuery, host, proto string
	header                                       http.Header
	body                                         []byte
}

// backend is a recording httptest backend.
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

// newBackend starts a backend that records each request and answers 200
// with "ok <path>", or runs h when given.
func newBackend(t testing.TB, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.reqs = append(b.reqs, seen{method: r.Method, path: r.URL.Path, rawPath: r.URL.RawPath, rawQuery: r.URL.RawQuery,
			host: r.Host, proto: r.Proto, header: r.Header.Clone(), body: body})
		b.mu.Unlock()
		if h != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	t.Cleanup(b.Close)
	return b
}

// last returns the last request the backend received.
func (b *backend) last(t testing.TB) seen {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatal("the backend received no request")
	}
	return b.reqs[len(b.reqs)-1]
}

// receivedWithLength reports whether a request with Content-Length n
// arrived after the first `after` requests.
func (b *backend) receivedWithLength(after, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.reqs[min(after, len(b.reqs)):] {
		if r.header.Get("Content-Length") == strconv.Itoa(n) {
			return true
		}
	}
	return false
}

func (b *backend) received() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// Keys of the test configuration, one per subscription (primary keys).
const (
	keyAll       = "key-all-apis-000000000001"
	keyEcho      = "key-api-echo-000000000001"
	keyOther     = "key-api-other-00000000001"
	keyP1        = "key-product-p1-0000000001"
	keyP1Second  = "key-product-p1-0000000002"
	keyUnpub     = "key-product-unpub-0000001"
	keyOtherProd = "key-product-p2-0000000001"
	keySuspended = "key-suspended-00000000001"
	keySubmitted = "key-submitted-00000000001"
	keyCancelled = "key-cancelled-00000000001"
	keyExpired   = "key-expired-0000000000001"
	keyRejected  = "key-rejected-000000000001"
)

func addKey(c *snapshot.Config, key, which, subID, scope, state, owner string) {
	if c.Subscriptions == nil {
		c.Subscriptions = map[string]snapshot.SubscriptionKey{}
	}
	k := snapshot.SubscriptionKey{SubscriptionID: subID, Key: which, Scope: scope, State: state, OwnerID: owner}
	if strings.HasPrefix(scope, "/products/") {
		k.ProductID = strings.TrimPrefix(scope, "/products/")
	}
	c.Subscriptions[secret.KeyHash(key)] = k
}

// testConfig is a configuration exercising every access rule, with all APIs
// served by backendURL:
//
//	echo     /echo   required; in p1 (published), unpub (notPublished)
//	other    /other  required; in p2 (published)
//	open     /open   subscriptionRequired false
//	free     /free   required, but in the open published product "openp"
//	closed   /closed required, in the open but notPublished product "openu"
//	custom   /custom required, key names X-Api-Key / apikey, in p1
func testConfig(backendURL string) *snapshot.Config {
	ops := func(extra ...snapshot.Operation) []snapshot.Operation {
		return append([]snapshot.Operation{
			{ID: "get-resource", Method: "GET", URLTemplate: "/resource"},
			{ID: "post-resource", Method: "POST", URLTemplate: "/resource"},
			{ID: "get-user", Method: "GET", URLTemplate: "/users/{id}"},
			{ID: "files", Method: "*", URLTemplate: "/files/{*path}"},
		}, extra...)
	}
	api := func(id string, required bool) snapshot.API {
		return snapshot.API{ID: id, DisplayName: id, Path: id, ServiceURL: backendURL + "/base", SubscriptionRequired: required, Operations: ops()}
	}
	c := &snapshot.Config{Revision: 1, GatewayID: "test", APIs: []snapshot.API{
		api("echo", true), api("other", true), api("open", false), api("free", true), api("closed", true), api("custom", true),
	}}
	c.APIs[0].Operations = ops(snapshot.Operation{ID: "ws", Method: "GET", URLTemplate: "/ws"}, snapshot.Operation{ID: "stream", Method: "GET", URLTemplate: "/stream"})
	c.APIs[5].SubscriptionKeyParameterNames.Header = "X-Api-Key"
	c.APIs[5].SubscriptionKeyParameterNames.Query = "apikey"
	c.Products = []snapshot.Product{
		{ID: "p1", State: "published", SubscriptionRequired: true, APIs: []string{"echo", "custom"}},
		{ID: "p2", State: "published", SubscriptionRequired: true, APIs: []string{"other"}},
		{ID: "unpub", State: "notPublished", SubscriptionRequired: true, APIs: []string{"echo"}},
		{ID: "openp", State: "published", SubscriptionRequired: false, APIs: []string{"free"}},
		{ID: "openu", State: "notPublished", SubscriptionRequired: false, APIs: []string{"closed"}},
	}
	addKey(c, keyAll, "primary", "s-all", "/apis", "active", "u1")
	addKey(c, keyEcho, "primary", "s-echo", "/apis/echo", "active", "u1")
	addKey(c, keyOther, "primary", "s-other", "/apis/other", "active", "u2")
	addKey(c, keyP1, "primary", "s-p1", "/products/p1", "active", "u3")
	addKey(c, keyP1Second, "secondary", "s-p1", "/products/p1", "active", "u3")
	addKey(c, keyUnpub, "primary", "s-unpub", "/products/unpub", "active", "u3")
	addKey(c, keyOtherProd, "primary", "s-p2", "/products/p2", "active", "u3")
	addKey(c, keySuspended, "primary", "s-susp", "/products/p1", "suspended", "u4")
	addKey(c, keySubmitted, "primary", "s-subm", "/products/p1", "submitted", "u4")
	addKey(c, keyCancelled, "primary", "s-canc", "/products/p1", "cancelled", "u4")
	addKey(c, keyExpired, "primary", "s-exp", "/products/p1", "expired", "u4")
	addKey(c, keyRejected, "primary", "s-rej", "/apis", "rejected", "u4")
	return c
}
