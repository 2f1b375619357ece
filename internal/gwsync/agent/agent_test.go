package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/gwsync/agent"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
	"github.com/portico-gw/portico/internal/trace"
)

const admin = "agent-test-admin-token"

// front stands between gateways and the management plane; the test switches
// it to simulate outages: "ok" forwards, "reset" drops connections, "stall"
// accepts requests and never answers.
type front struct {
	mode atomic.Value
	next http.Handler
	mu   sync.Mutex
	wake chan struct{}
}

func newFront(next http.Handler) *front {
	f := &front{next: next, wake: make(chan struct{})}
	f.mode.Store("ok")
	return f
}

func (f *front) set(mode string) {
	f.mode.Store(mode)
	f.mu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		switch f.mode.Load().(string) {
		case "ok":
			f.next.ServeHTTP(w, r)
			return
		case "reset":
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
				}
			}
			return
		case "stall":
			f.mu.Lock()
			wake := f.wake
			f.mu.Unlock()
			select {
			case <-wake:
			case <-r.Context().Done():
				return
			}
		}
	}
}

type plane struct {
	t       *testing.T
	st      store.Store
	admin   string // management API URL (direct)
	front   *front
	gwURL   string // management URL as gateways see it (through front)
	backend map[string]string
	traces  *trace.Store // policy debugger traces of the management API
	watch   *gwsync.Watcher
}

func newPlane(t *testing.T) *plane {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rev, _ := st.Revision(ctx)
	w := gwsync.NewWatcher(rev)
	traces := trace.NewStore(100, time.Hour)
	m := mgmt.New(mgmt.Config{Store: st, AdminToken: admin, OnCommit: w.Set, Traces: traces})
	if _, err := m.Seed(ctx, "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	var logw io.Writer = io.Discard
	if os.Getenv("AGENT_DEBUG") != "" {
		logw = os.Stderr
	}
	sync := gwsync.NewServer(st, w, slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})))
	sync.SetTraces(traces)
	mux := http.NewServeMux()
	mux.Handle("/gateway/v1/", sync)
	mux.Handle("/", m.Handler())
	direct := httptest.NewServer(mux)
	t.Cleanup(direct.Close)
	f := newFront(mux)
	viaFront := httptest.NewServer(f)
	t.Cleanup(func() { f.set("ok"); sync.Close(); viaFront.Close() })
	return &plane{t: t, st: st, admin: direct.URL, front: f, gwURL: viaFront.URL, backend: map[string]string{}, traces: traces, watch: w}
}

func (p *plane) call(method, path string, body any, want int) []byte {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, p.admin+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		p.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, out)
	}
	return out
}

func (p *plane) token(gw, keyType string, expiry time.Time) string {
	var tok struct{ Value string }
	json.Unmarshal(p.call("POST", "/gateways/"+gw+"/generateToken", map[string]any{"keyType": keyType, "expiry": expiry}, 200), &tok)
	return tok.Value
}

// node is one self-hosted gateway: a gateway, its agent and an HTTP server.
type node struct {
	gw     *gateway.Gateway
	ag     *agent.Agent
	url    string
	cancel context.CancelFunc
	done   chan struct{}
	srv    *httptest.Server
	once   sync.Once
}

func startNode(t *testing.T, p *plane, token, backupDir string) *node {
	t.Helper()
	gw, err := gateway.New(gateway.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var logw io.Writer = io.Discard
	if os.Getenv("AGENT_DEBUG") != "" {
		logw = os.Stderr
	}
	ag, err := agent.New(agent.Config{MgmtURL: p.gwURL, Token: token, BackupDir: backupDir, Gateway: gw,
		Logger: slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug})), Wait: 2 * time.Second, MaxBackoff: 200 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond, Hostname: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{gw: gw, ag: ag, cancel: cancel, done: make(chan struct{}), srv: httptest.NewServer(gw)}
	n.url = n.srv.URL
	go func() { defer close(n.done); ag.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	n.once.Do(func() {
		n.cancel()
		<-n.done
		n.srv.Close()
		n.gw.Close()
	})
}

func get(url, key string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func TestSelfHostedGateways(t *testing.T) {
	p := newPlane(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Path) }))
	defer backend.Close()
	for _, gw := range []string{"gw1", "gw2"} {
		p.call("PUT", "/gateways/"+gw, map[string]any{"locationData": map[string]string{"name": gw}}, 201)
		api := "api-" + gw
		p.call("PUT", "/apis/"+api, map[string]any{"displayName": api, "path": api, "protocols": []string{"http"}, "serviceUrl": backend.URL}, 201)
		p.call("PUT", "/apis/"+api+"/operations/all", map[string]any{"displayName": "all", "method": "GET", "urlTemplate": "/base"}, 201)
		p.call("PUT", "/gateways/"+gw+"/apis/"+api, nil, 201)
	}
	p.call("PUT", "/subscriptions/all", map[string]any{"scope": "/apis", "displayName": "all"}, 201)
	var keys struct{ PrimaryKey string }
	json.Unmarshal(p.call("POST", "/subscriptions/all/listSecrets", nil, 200), &keys)
	key := keys.PrimaryKey
	exp := time.Now().Add(10 * 24 * time.Hour)
	dir1, dir2 := t.TempDir(), t.TempDir()
	tok1, tok2 := p.token("gw1", "primary", exp), p.token("gw2", "secondary", exp)
	n1, n2 := startNode(t, p, tok1, dir1), startNode(t, p, tok2, dir2)

	testenv.Eventually(t, "both gateways serve their APIs", func() bool {
		return get(n1.url+"/api-gw1/base", key) == 200 && get(n2.url+"/api-gw2/base", key) == 200
	})
	if c := get(n1.url+"/api-gw2/base", key); c != 404 {
		t.Fatalf("gw1 serves an API assigned only to gw2: %d", c)
	}
	if c := get(n2.url+"/api-gw1/base", key); c != 404 {
		t.Fatalf("gw2 serves an API assigned only to gw1: %d", c)
	}

	t.Run("propagation", func(t *testing.T) {
		var d1, d2 []time.Duration
		for i := 0; i < 100; i++ {
			tmpl := fmt.Sprintf("/p%d", i)
			start := time.Now()
			p.call("PUT", fmt.Sprintf("/apis/api-gw1/operations/p%d", i), map[string]any{"displayName": "p", "method": "GET", "urlTemplate": tmpl}, 201)
			p.call("PUT", fmt.Sprintf("/apis/api-gw2/operations/p%d", i), map[string]any{"displayName": "p", "method": "GET", "urlTemplate": tmpl}, 201)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				testenv.Eventually(t, "gw1 change", func() bool { return get(n1.url+"/api-gw1"+tmpl, key) == 200 })
			}()
			go func() {
				defer wg.Done()
				testenv.Eventually(t, "gw2 change", func() bool { return get(n2.url+"/api-gw2"+tmpl, key) == 200 })
			}()
			wg.Wait()
			// both changes are served; attribute the time to each gateway
			d1 = append(d1, time.Since(start))
			d2 = append(d2, time.Since(start))
		}
		t.Logf("commit -> served over 100 changes: gw1 p50 %v p99 %v; gw2 p50 %v p99 %v",
			percentile(d1, .5), percentile(d1, .99), percentile(d2, .5), percentile(d2, .99))
	})

	t.Run("instances report", func(t *testing.T) {
		testenv.Eventually(t, "a connected instance with the current revision", func() bool {
			var list struct{ Value []gwsync.InstanceView }
			json.Unmarshal(p.call("GET", "/gateways/gw1/instances", nil, 200), &list)
			return len(list.Value) == 1 && list.Value[0].Status == gwsync.StatusConnected && list.Value[0].InstanceID == n1.ag.InstanceID() &&
				list.Value[0].SyncState == agent.StateConnected && list.Value[0].Revision > 0
		})
	})

	// load checks that a gateway answers every request while the management
	// plane is away.
	load := func(t *testing.T, n *node, path string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		count := 0
		for time.Now().Before(deadline) {
			if c := get(n.url+path, key); c != 200 {
				t.Fatalf("request %d during the outage answered %d", count, c)
			}
			count++
		}
		t.Logf("%s: %d requests, 0 failed", path, count)
	}

	for _, mode := range []string{"stall", "reset"} {
		t.Run("management plane "+mode, func(t *testing.T) {
			p.front.set(mode)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); load(t, n1, "/api-gw1/base", 1500*time.Millisecond) }()
			go func() { defer wg.Done(); load(t, n2, "/api-gw2/base", 1500*time.Millisecond) }()
			wg.Wait()
		})
	}

	outer := t
	t.Run("restart from backup while the management plane is down, then catch up", func(t *testing.T) {
		n1.stop()
		p.call("PUT", "/apis/api-gw1/operations/late", map[string]any{"displayName": "late", "method": "GET", "urlTemplate": "/late"}, 201)
		p.call("PUT", "/apis/api-gw2/operations/late", map[string]any{"displayName": "late", "method": "GET", "urlTemplate": "/late"}, 201)
		n1 = startNode(outer, p, tok1, dir1) // lives on after this subtest
		if c := get(n1.url+"/api-gw1/base", key); c != 200 {
			t.Fatalf("restarted gateway does not serve from its backup: %d", c)
		}
		if n1.ag.State() == agent.StateConnected {
			t.Fatal("restarted gateway claims to be connected while the management plane is down")
		}
		if c := get(n1.url+"/api-gw1/late", key); c != 404 {
			t.Fatalf("change made during the outage served before reconnecting: %d", c)
		}
		p.front.set("ok")
		testenv.Eventually(t, "both gateways catch up", func() bool {
			return get(n1.url+"/api-gw1/late", key) == 200 && get(n2.url+"/api-gw2/late", key) == 200
		})
	})

	t.Run("backup holds no subscription key and no secret in clear", func(t *testing.T) {
		p.call("PUT", "/namedValues/sec", map[string]any{"displayName": "sec", "value": "very-secret-value", "secret": true}, 201)
		// a gateway receives only the named values its policies use
		p.putPolicy("/apis/api-gw1/policy", `<policies><inbound><base/><set-header name="x-sec" exists-action="override"><value>{{sec}}</value></set-header></inbound></policies>`)
		testenv.Eventually(t, "backup written", func() bool {
			raw, _ := readFile(dir1 + "/config.json")
			return strings.Contains(raw, `"sec"`)
		})

		raw, _ := readFile(dir1 + "/config.json")
		if strings.Contains(raw, key) || strings.Contains(raw, "very-secret-value") {
			t.Fatal("the backup holds a subscription key or a secret named value in clear")
		}
	})

	t.Run("regenerated key: refused, loudly, last config kept", func(t *testing.T) {
		p.call("POST", "/gateways/gw2/regenerateKey", map[string]string{"keyType": "secondary"}, 204)
		testenv.Eventually(t, "gw2 unauthorized", func() bool { return n2.ag.State() == agent.StateUnauthorized })
		if c := get(n2.url+"/api-gw2/base", key); c != 200 {
			t.Fatalf("gateway stopped serving after its token was refused: %d", c)
		}
	})
}

func readFile(path string) (string, error) {
	b, err := osReadFile(path)
	return string(b), err
}

func TestTokenRefusals(t *testing.T) {
	p := newPlane(t)
	p.call("PUT", "/gateways/gw", map[string]any{"locationData": map[string]string{"name": "gw"}}, 201)
	valid := p.token("gw", "primary", time.Now().Add(time.Hour))
	var keys gwsync.Keys
	json.Unmarshal(p.call("POST", "/gateways/gw/listKeys", nil, 200), &keys)
	expired := gwsync.TokenScheme + " " + gwsync.Sign("gw", "primary", keys.Primary, time.Now().Add(-time.Minute))
	tests := []struct {
		name, auth string
		want       int
		code       string
	}{
		{"valid", valid, 200, ""},
		{"missing", "", 401, "TokenMissing"},
		{"malformed", "GatewayKey nonsense", 401, "TokenMalformed"},
		{"expired", expired, 401, "TokenExpired"},
		{"unknown gateway", gwsync.TokenScheme + " " + gwsync.Sign("nope", "primary", keys.Primary, time.Now().Add(time.Hour)), 401, "GatewayNotFound"},
		{"forged", gwsync.TokenScheme + " " + gwsync.Sign("gw", "primary", gwsync.NewKey(), time.Now().Add(time.Hour)), 401, "TokenInvalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", p.gwURL+"/gateway/v1/config", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want || !strings.Contains(string(body), tc.code) {
				t.Fatalf("= %d %s, want %d %s", res.StatusCode, body, tc.want, tc.code)
			}
		})
	}
	t.Run("generateToken validation", func(t *testing.T) {
		p.call("POST", "/gateways/gw/generateToken", map[string]any{"keyType": "primary", "expiry": time.Now().Add(31 * 24 * time.Hour)}, 400)
		p.call("POST", "/gateways/gw/generateToken", map[string]any{"keyType": "primary", "expiry": time.Now().Add(-time.Hour)}, 400)
		p.call("POST", "/gateways/gw/generateToken", map[string]any{"keyType": "tertiary", "expiry": time.Now().Add(time.Hour)}, 400)
		p.call("POST", "/gateways/gw/generateToken", map[string]any{"keyType": "primary"}, 400)
		p.call("POST", "/gateways/nope/generateToken", map[string]any{"keyType": "primary", "expiry": time.Now().Add(time.Hour)}, 404)
	})
	t.Run("malformed token refused at start", func(t *testing.T) {
		gw, _ := gateway.New(gateway.Config{})
		if _, err := agent.New(agent.Config{MgmtURL: p.gwURL, Token: "garbage", BackupDir: t.TempDir(), Gateway: gw}); err == nil {
			t.Fatal("agent accepted a malformed token")
		}
	})
	t.Run("expired token: agent reports unauthorized", func(t *testing.T) {
		n := startNode(t, p, expired, t.TempDir())
		testenv.Eventually(t, "unauthorized state", func() bool { return n.ag.State() == agent.StateUnauthorized })
	})
}

func TestLongPoll(t *testing.T) {
	p := newPlane(t)
	p.call("PUT", "/gateways/gw", map[string]any{"locationData": map[string]string{"name": "gw"}}, 201)
	tok := p.token("gw", "primary", time.Now().Add(time.Hour))
	fetch := func(rev int64, wait string, etag string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/gateway/v1/config?revision=%d&wait=%s", p.gwURL, rev, wait), nil)
		req.Header.Set("Authorization", tok)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, body
	}
	res, _ := fetch(-1, "0s", "")
	if res.StatusCode != 200 {
		t.Fatalf("first fetch = %d", res.StatusCode)
	}
	rev := res.Header.Get(gwsync.RevisionHeader)
	etag := res.Header.Get("ETag")
	var have int64
	fmt.Sscan(rev, &have)
	// nothing changes: 304 after the wait
	if res, _ := fetch(have, "200ms", etag); res.StatusCode != 304 {
		t.Fatalf("unchanged long-poll = %d", res.StatusCode)
	}
	// a change for another gateway moves the revision but not the content:
	// 304 with the new revision
	p.call("PUT", "/gateways/other", map[string]any{"locationData": map[string]string{"name": "x"}}, 201)
	res, _ = fetch(have, "200ms", etag)
	if res.StatusCode != 304 || res.Header.Get(gwsync.RevisionHeader) == rev {
		t.Fatalf("unrelated change = %d, revision %s (was %s)", res.StatusCode, res.Header.Get(gwsync.RevisionHeader), rev)
	}
	// a gateway that holds a configuration and accepts deltas gets only
	// what changed
	t.Run("delta", func(t *testing.T) {
		p.call("PUT", "/apis/d", map[string]any{"displayName": "d", "path": "d", "serviceUrl": "http://127.0.0.1:9"}, 201)
		p.call("PUT", "/gateways/gw/apis/d", nil, 201)
		for i := 0; i < 50; i++ {
			p.call("PUT", fmt.Sprintf("/subscriptions/s%d", i), map[string]any{"scope": "/apis/d", "displayName": "s"}, 201)
		}
		full, fullBody := fetch(-1, "0s", "")
		base := full.Header.Get("ETag")
		var baseRev int64
		fmt.Sscan(full.Header.Get(gwsync.RevisionHeader), &baseRev)
		p.call("PATCH", "/subscriptions/s7", map[string]any{"state": "suspended"}, 200)
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/gateway/v1/config?revision=%d&wait=5s", p.gwURL, baseRev), nil)
		req.Header.Set("Authorization", tok)
		req.Header.Set("If-None-Match", base)
		req.Header.Set("Accept", gwsync.DeltaType+", application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != gwsync.DeltaType {
			t.Fatalf("= %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		var d snapshot.Delta
		if err := json.Unmarshal(body, &d); err != nil || d.Size() != 2 || len(d.Subscriptions.Upsert) != 2 {
			t.Fatalf("delta %s: %v", body, err)
		}
		var fullCfg snapshot.Config
		json.Unmarshal(fullBody, &fullCfg)
		t.Logf("one subscription suspended among %d keys: delta %d bytes, full configuration %d bytes", len(fullCfg.Subscriptions), len(body), len(fullBody))
	})

	// a relevant change wakes a held long-poll (asked with the current
	// revision and ETag, so that it is held until the change)
	cur, _ := fetch(-1, "0s", "")
	var curRev int64
	fmt.Sscan(cur.Header.Get(gwsync.RevisionHeader), &curRev)
	done := make(chan int)
	go func() {
		res, _ := fetch(curRev, "30s", cur.Header.Get("ETag"))
		done <- res.StatusCode
	}()
	testenv.Eventually(t, "the long-poll to be held", func() bool { return p.watch.Waiting() == 1 })
	p.call("PUT", "/apis/x", map[string]any{"displayName": "x", "path": "x", "serviceUrl": "http://127.0.0.1:9"}, 201)
	p.call("PUT", "/gateways/gw/apis/x", nil, 201)
	select {
	case code := <-done:
		if code != 200 {
			t.Fatalf("woken long-poll = %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the long-poll was not woken by the change")
	}
}
