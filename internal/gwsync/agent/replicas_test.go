package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/testenv"
)

// TestTwoManagementReplicas runs two management planes on one PostgreSQL
// database: a gateway long-polling replica B serves a change committed on
// replica A (B's watcher follows the store's revision).
func TestTwoManagementReplicas(t *testing.T) {
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replica := func() (*plane, *store.SQLStore) {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		rev, _ := st.Revision(ctx)
		w := gwsync.NewWatcher(rev)
		go w.Listen(ctx, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
		go w.Poll(ctx, st, 5*time.Second) // the safety net only: notifications must do the work
		m := mgmt.New(mgmt.Config{Store: st, AdminToken: admin, OnCommit: w.Set})
		if _, err := m.Seed(ctx, "http://127.0.0.1:9"); err != nil {
			t.Fatal(err)
		}
		sync := gwsync.NewServer(st, w, slog.New(slog.NewTextHandler(io.Discard, nil)))
		mux := http.NewServeMux()
		mux.Handle("/gateway/v1/", sync)
		mux.Handle("/", m.Handler())
		srv := httptest.NewServer(mux)
		t.Cleanup(func() { sync.Close(); srv.Close() })
		return &plane{t: t, st: st, admin: srv.URL, front: newFront(mux), gwURL: srv.URL}, st
	}
	a, _ := replica()
	b, _ := replica()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer backend.Close()
	a.call("PUT", "/gateways/gw", map[string]any{"locationData": map[string]string{"name": "gw"}}, 201)
	a.call("PUT", "/apis/x", map[string]any{"displayName": "x", "path": "x", "protocols": []string{"http"}, "serviceUrl": backend.URL, "subscriptionRequired": false}, 201)
	a.call("PUT", "/apis/x/operations/base", map[string]any{"displayName": "base", "method": "GET", "urlTemplate": "/base"}, 201)
	a.call("PUT", "/gateways/gw/apis/x", nil, 201)
	var tok struct{ Value string }
	json.Unmarshal(a.call("POST", "/gateways/gw/generateToken", map[string]any{"keyType": "primary", "expiry": time.Now().Add(10 * 24 * time.Hour)}, 200), &tok)
	n := startNode(t, b, tok.Value, t.TempDir()) // the gateway talks to replica B only
	testenv.Eventually(t, "gateway serves through replica B", func() bool { return get(n.url+"/x/base", "") == 200 })
	var took []time.Duration
	for i := 0; i < 10; i++ {
		a.call("PUT", fmt.Sprintf("/apis/x/operations/n%d", i), map[string]any{"displayName": "n", "method": "GET", "urlTemplate": fmt.Sprintf("/n%d", i)}, 201)
		took = append(took, testenv.Eventually(t, "change on replica A served via replica B", func() bool { return get(n.url+fmt.Sprintf("/x/n%d", i), "") == 200 }))
	}
	t.Logf("change on replica A served by a gateway long-polling replica B after p50 %v, max %v", percentile(took, .5), percentile(took, 1))
}
