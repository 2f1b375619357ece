package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/echo"
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

const e2eToken = "e2e-admin-token-0123456789abcdefghij"

// stack is the management API and the built-in gateway over one SQLite
// store, with the built-in echo backend, as serve wires them.
type stack struct {
	t       *testing.T
	st      store.Store
	gw      *builtinGateway
	ready   *readiness
	reg     *prometheus.Registry
	mgmtURL string
	gwURL   string
	echoURL string
	client  *http.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	// The components of serve's lifecycle, in its order (serve.go).
	o := &options{gatewayAddr: "127.0.0.1:0", shutdown: 5 * time.Second}
	log := slog.New(slog.DiscardHandler)
	lc := lifecycle.New(log, o.shutdown)
	lc.Add("store", nil, func(context.Context) error { return st.Close() })
	echoSrv := httptest.NewServer(echo.Handler())
	lc.Add("echo backend", nil, func(context.Context) error { echoSrv.Close(); return nil })
	s := &stack{t: t, st: st, ready: &readiness{}, reg: prometheus.NewRegistry(), echoURL: echoSrv.URL,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	t.Cleanup(func() {
		cancel()
		s.client.CloseIdleConnections()
		if err := lc.Stop(); err != nil {
			t.Error(err)
		}
	})
	if s.gw, err = newBuiltinGateway(ctx, lc, o, log, st, s.reg, s.ready); err != nil {
		t.Fatal(err)
	}
	m := mgmt.New(mgmt.Config{Store: st, AdminToken: e2eToken, OnCommit: s.gw.notify})
	if _, err := m.Seed(ctx, echoSrv.URL); err != nil {
		t.Fatal(err)
	}
	mgmtSrv := httptest.NewServer(m.Handler())
	lc.Add("management API", nil, func(context.Context) error { mgmtSrv.Close(); return nil })
	if err := s.readyErr(); err == nil {
		t.Fatal("gateway ready before its first snapshot")
	}
	srvs := newServers(log, make(chan error, 1))
	srvs.add(s.gw.listeners...)
	lc.Add("servers", srvs.start, srvs.stop)
	if err := lc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.mgmtURL, s.gwURL = mgmtSrv.URL, "http://"+s.gw.listeners[0].ln.Addr().String()
	s.poll("the gateway to be ready", func() bool { return s.readyErr() == nil })
	return s
}

func (s *stack) readyErr() error {
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	return s.ready.checks["gateway"]()
}

// poll waits until cond holds (testenv.Eventually on the stack's test).
func (s *stack) poll(what string, cond func() bool) {
	s.t.Helper()
	testenv.Eventually(s.t, what, cond)
}

// admin sends a management request and fails unless the status is want.
func (s *stack) admin(want int, method, path string, body any) map[string]any {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, s.mgmtURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func (s *stack) key(sub string) string {
	s.t.Helper()
	return s.admin(200, "POST", "/api/v1/subscriptions/"+sub+"/listSecrets", nil)["primaryKey"].(string)
}

type gwResult struct {
	status int
	header http.Header
	body   string
}

// call sends a GET through the gateway; key "" sends none.
func (s *stack) call(path, key string) (gwResult, error) {
	req, _ := http.NewRequest("GET", s.gwURL+path, nil)
	if key != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return gwResult{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return gwResult{status: res.StatusCode, header: res.Header, body: string(raw)}, err
}

func (s *stack) mustCall(path, key string) gwResult {
	s.t.Helper()
	r, err := s.call(path, key)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// pollStatus waits until a GET of path with key answers want.
func (s *stack) pollStatus(path, key string, want int) gwResult {
	s.t.Helper()
	var last gwResult
	s.poll(fmt.Sprintf("GET %s to answer %d", path, want), func() bool {
		r, err := s.call(path, key)
		last = r
		return err == nil && r.status == want
	})
	return last
}

func TestBuiltinGatewayEndToEnd(t *testing.T) {
	s := newStack(t)
	starter := s.key("admin-starter")

	t.Run("seeded echo api with the starter key", func(t *testing.T) {
		tests := []struct {
			name, path, key string
		}{
			{name: "header", path: "/echo/resource?param1=x", key: starter},
			{name: "query", path: "/echo/resource?param1=x&subscription-key=" + starter},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := s.mustCall(tc.path, tc.key)
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				var rep echo.Reply
				if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
					t.Fatal(err)
				}
				q := url.Values(rep.Query)
				if rep.Method != "GET" || rep.Path != "/resource" || q.Get("param1") != "x" {
					t.Fatalf("echo saw %s %s %v", rep.Method, rep.Path, rep.Query)
				}
				if q.Has("subscription-key") || rep.Headers.Get("Ocp-Apim-Subscription-Key") != "" {
					t.Fatalf("the key reached the backend: %v %v", rep.Query, rep.Headers)
				}
				if rep.Headers.Get("X-Request-Id") != r.header.Get("X-Request-Id") || rep.Headers.Get("X-Forwarded-For") == "" {
					t.Fatalf("forwarding headers %v", rep.Headers)
				}
			})
		}
	})

	t.Run("missing and invalid keys", func(t *testing.T) {
		r := s.mustCall("/echo/resource", "")
		if r.status != 401 || !strings.Contains(r.body, "missing subscription key") ||
			!strings.HasPrefix(r.header.Get("WWW-Authenticate"), `AzureApiManagementKey realm="http://127.0.0.1:`) {
			t.Fatalf("%d %v %s", r.status, r.header, r.body)
		}
		if r := s.mustCall("/echo/resource", "0123456789abcdef0123456789abcdef"); r.status != 401 || !strings.Contains(r.body, "invalid subscription key") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if r := s.mustCall("/nope", starter); r.status != 404 || r.body != `{"statusCode":404,"message":"Resource not found"}` {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	t.Run("new api becomes visible", func(t *testing.T) {
		s.admin(201, "PUT", "/api/v1/apis/hello", map[string]any{"displayName": "Hello", "path": "hello", "serviceUrl": s.echoURL + "/svc", "protocols": []string{"http"}, "subscriptionRequired": false})
		s.admin(201, "PUT", "/api/v1/apis/hello/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/greet/{name}"})
		r := s.pollStatus("/hello/greet/ann", "", 200)
		if !strings.Contains(r.body, `"path": "/svc/greet/ann"`) {
			t.Fatalf("echo saw %s", r.body)
		}
	})

	t.Run("scopes and states through mgmt", func(t *testing.T) {
		s.admin(201, "PUT", "/api/v1/apis/locked", map[string]any{"displayName": "Locked", "path": "locked", "serviceUrl": s.echoURL, "protocols": []string{"http"}})
		s.admin(201, "PUT", "/api/v1/apis/locked/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/r"})
		s.admin(201, "PUT", "/api/v1/subscriptions/s-api", map[string]any{"scope": "/apis/locked", "displayName": "API scoped"})
		apiKey := s.key("s-api")
		s.pollStatus("/locked/r", apiKey, 200)
		if r := s.mustCall("/echo/resource", apiKey); r.status != 401 {
			t.Fatalf("an api-scoped key opened another api: %d", r.status)
		}
		if r := s.mustCall("/locked/r", starter); r.status != 401 {
			t.Fatalf("a key of a product without the api passed: %d", r.status)
		}

		s.admin(200, "PATCH", "/api/v1/subscriptions/s-api", map[string]any{"state": "suspended"})
		s.pollStatus("/locked/r", apiKey, 401)
		s.admin(200, "PATCH", "/api/v1/subscriptions/s-api", map[string]any{"state": "active"})
		s.pollStatus("/locked/r", apiKey, 200)

		s.admin(201, "PUT", "/api/v1/products/gold", map[string]any{"displayName": "Gold", "state": "published", "subscriptionRequired": true})
		s.admin(201, "PUT", "/api/v1/subscriptions/s-gold", map[string]any{"scope": "/products/gold", "displayName": "Gold"})
		goldKey := s.key("s-gold")
		s.admin(201, "PUT", "/api/v1/products/gold/apis/locked", nil)
		s.pollStatus("/locked/r", goldKey, 200)
		s.admin(200, "PATCH", "/api/v1/products/gold", map[string]any{"state": "notPublished"})
		s.pollStatus("/locked/r", goldKey, 401)
		s.admin(200, "PATCH", "/api/v1/products/gold", map[string]any{"state": "published"})
		s.pollStatus("/locked/r", goldKey, 200)
		s.admin(204, "DELETE", "/api/v1/products/gold/apis/locked", nil)
		s.pollStatus("/locked/r", goldKey, 401)

		s.admin(201, "PUT", "/api/v1/products/free", map[string]any{"displayName": "Free", "state": "published", "subscriptionRequired": false})
		s.admin(201, "PUT", "/api/v1/products/free/apis/locked", nil)
		s.pollStatus("/locked/r", "", 200)

		s.admin(204, "POST", "/api/v1/subscriptions/s-api/regeneratePrimaryKey", nil)
		newKey := s.key("s-api")
		s.pollStatus("/locked/r", apiKey, 401)
		s.pollStatus("/locked/r", newKey, 200)
	})

	t.Run("deleted api disappears", func(t *testing.T) {
		s.admin(204, "DELETE", "/api/v1/apis/hello", nil)
		s.pollStatus("/hello/greet/ann", "", 404)
	})

	t.Run("snapshot revision metric follows the store", func(t *testing.T) {
		rev, err := s.st.Revision(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s.poll("the revision gauge", func() bool { return gauge(t, s.reg, "portico_gateway_snapshot_revision") == float64(rev) })
	})
}

// gauge reads a single-series gauge from the registry (-1 when absent).
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// TestReloadUnderLoad hammers an unchanged route while ~50 configuration
// changes are applied: no request may fail and every change shows.
func TestReloadUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("reload under load is not a short test")
	}
	s := newStack(t)
	s.admin(201, "PUT", "/api/v1/apis/steady", map[string]any{"displayName": "Steady", "path": "steady", "serviceUrl": s.echoURL, "protocols": []string{"http"}})
	s.admin(201, "PUT", "/api/v1/apis/steady/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/r"})
	s.admin(201, "PUT", "/api/v1/subscriptions/steady", map[string]any{"scope": "/apis/steady", "displayName": "Steady"})
	s.admin(201, "PUT", "/api/v1/subscriptions/churn", map[string]any{"scope": "/apis/steady", "displayName": "Churn"})
	steadyKey := s.key("steady")
	s.pollStatus("/steady/r", steadyKey, 200)

	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	clients := 3
	if v, err := strconv.Atoi(os.Getenv("PORTICO_RELOAD_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.call("/steady/r", steadyKey)
				if err != nil || r.status != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("status %d err %v body %.200s", r.status, err, r.body))
					continue
				}
				ok.Add(1)
			}
		}()
	}

	// PORTICO_RELOAD_CHANGES raises the number of changes for a measured run
	// (docs/performance.md); the default keeps the suite quick.
	changes := 51
	if v, err := strconv.Atoi(os.Getenv("PORTICO_RELOAD_CHANGES")); err == nil && v > 0 {
		changes = v
	}
	var visible []time.Duration // from the management API's answer to the change being served
	timed := func(f func()) {
		start := time.Now()
		f()
		visible = append(visible, time.Since(start))
	}
	began := time.Now()
	churnKey := s.key("churn")
	for i := range changes {
		switch i % 3 {
		case 0: // add an API
			id := fmt.Sprintf("churn-%d", i)
			s.admin(201, "PUT", "/api/v1/apis/"+id, map[string]any{"displayName": id, "path": id, "serviceUrl": s.echoURL, "protocols": []string{"http"}, "subscriptionRequired": false})
			s.admin(201, "PUT", "/api/v1/apis/"+id+"/operations/get", map[string]any{"displayName": "Get", "method": "GET", "urlTemplate": "/r"})
			timed(func() { s.pollStatus("/"+id+"/r", "", 200) })
		case 1: // remove it again
			id := fmt.Sprintf("churn-%d", i-1)
			s.admin(204, "DELETE", "/api/v1/apis/"+id, nil)
			timed(func() { s.pollStatus("/"+id+"/r", "", 404) })
		case 2: // regenerate a key
			s.admin(204, "POST", "/api/v1/subscriptions/churn/regeneratePrimaryKey", nil)
			newKey := s.key("churn")
			timed(func() { s.pollStatus("/steady/r", newKey, 200) })
			s.pollStatus("/steady/r", churnKey, 401)
			churnKey = newKey
		}
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests on the unchanged route failed; first: %v", failed.Load(), failed.Load()+ok.Load(), firstFailure.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request was made on the unchanged route")
	}
	elapsed := time.Since(began)
	slices.Sort(visible)
	t.Logf("%d changes in %v; %d requests on the unchanged route (%.0f/s), 0 failed; change visible after p50 %v, p99 %v, max %v",
		changes, elapsed.Round(time.Millisecond), ok.Load(), float64(ok.Load())/elapsed.Seconds(),
		visible[len(visible)/2], visible[len(visible)*99/100], visible[len(visible)-1])
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeSmoke runs serve as the binary does and calls the seeded Echo API
// with the Starter key, as docs/gateway.md shows.
func TestServeSmoke(t *testing.T) {
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
		portalAddr: freeAddr(t), shutdown: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, slog.New(slog.DiscardHandler), io.Discard, true) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	s := &stack{t: t, mgmtURL: "http://" + o.mgmtAddr, gwURL: "http://" + o.gatewayAddr, client: &http.Client{}}
	defer s.client.CloseIdleConnections()
	s.poll("readyz", func() bool {
		select {
		case err := <-errc:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		res, err := http.Get("http://" + o.opsAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	key := s.key("admin-starter")
	r := s.mustCall("/echo/resource?param1=x", key)
	if r.status != 200 || !strings.Contains(r.body, `"param1"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if r := s.mustCall("/status-0123456789abcdef", ""); r.status != 200 {
		t.Fatalf("status probe %d", r.status)
	}
}
