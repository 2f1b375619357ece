package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
)

// The lifecycle of the commands (issue 12, point 6): components start in
// order and stop in reverse, and no goroutine uses the store once it
// closes.

// watchedStore is a store that checks who calls it. A call is fine from
// serve's own goroutine (the wiring), from an HTTP handler (the servers
// are shut down before the store closes), and from a goroutine that
// internal/lifecycle runs (joined when its component stops). A call from
// any other goroutine — one started with a bare go statement, which nothing
// waits for — is reported, and so is a call in flight when Close begins or
// made after it.
type watchedStore struct {
	store.Store
	allowed []string // prefixes of the functions allowed to create calling goroutines

	mu       sync.Mutex
	calls    map[string]int
	inflight map[string]int
	closed   bool
	problems []string
}

func newWatchedStore(st store.Store, allowed ...string) *watchedStore {
	return &watchedStore{Store: st, allowed: allowed, calls: map[string]int{}, inflight: map[string]int{}}
}

// creator names the function that started the calling goroutine.
func creator() string {
	buf := make([]byte, 64<<10)
	stack := string(buf[:runtime.Stack(buf, false)])
	_, after, ok := strings.Cut(stack, "\ncreated by ")
	if !ok {
		return "?"
	}
	name, _, _ := strings.Cut(after, " in goroutine")
	name, _, _ = strings.Cut(name, "\n")
	return name
}

func (w *watchedStore) enter(method string) func() {
	by := creator()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls[method]++
	if w.closed {
		w.problems = append(w.problems, fmt.Sprintf("%s called after Close, from a goroutine created by %s", method, by))
	}
	if !slices.ContainsFunc(w.allowed, func(p string) bool { return strings.HasPrefix(by, p) }) {
		w.problems = append(w.problems, fmt.Sprintf("%s called from a goroutine created by %s, which nothing joins before the store closes", method, by))
	}
	w.inflight[method]++
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.inflight[method]--
	}
}

func (w *watchedStore) count(method string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[method]
}

func (w *watchedStore) Close() error {
	w.mu.Lock()
	for m, n := range w.inflight {
		if n > 0 {
			w.problems = append(w.problems, fmt.Sprintf("Close began while %d %s calls were running", n, m))
		}
	}
	if w.closed {
		w.problems = append(w.problems, "Close called twice")
	}
	w.closed = true
	w.mu.Unlock()
	return w.Store.Close()
}

func (w *watchedStore) Get(ctx context.Context, kind, parent, id string) (store.Record, error) {
	defer w.enter("Get")()
	return w.Store.Get(ctx, kind, parent, id)
}

func (w *watchedStore) List(ctx context.Context, kind, parent string, opt store.ListOptions) ([]store.Record, int, error) {
	defer w.enter("List")()
	return w.Store.List(ctx, kind, parent, opt)
}

func (w *watchedStore) Links(ctx context.Context, rel, end string, reverse bool) ([]string, error) {
	defer w.enter("Links")()
	return w.Store.Links(ctx, rel, end, reverse)
}

func (w *watchedStore) HasLink(ctx context.Context, rel, a, b string) (bool, error) {
	defer w.enter("HasLink")()
	return w.Store.HasLink(ctx, rel, a, b)
}

func (w *watchedStore) AllLinks(ctx context.Context, rel string) ([][2]string, error) {
	defer w.enter("AllLinks")()
	return w.Store.AllLinks(ctx, rel)
}

func (w *watchedStore) SubscriptionByKeyHash(ctx context.Context, hash string) (string, string, error) {
	defer w.enter("SubscriptionByKeyHash")()
	return w.Store.SubscriptionByKeyHash(ctx, hash)
}

func (w *watchedStore) IngestBatch(ctx context.Context, b *telemetry.Batch) (bool, error) {
	defer w.enter("IngestBatch")()
	return w.Store.IngestBatch(ctx, b)
}

func (w *watchedStore) Report(ctx context.Context, q store.ReportQuery) ([]store.ReportRow, int, error) {
	defer w.enter("Report")()
	return w.Store.Report(ctx, q)
}

func (w *watchedStore) RequestLog(ctx context.Context, q store.RequestQuery) ([]telemetry.Record, int, error) {
	defer w.enter("RequestLog")()
	return w.Store.RequestLog(ctx, q)
}

func (w *watchedStore) PruneTelemetry(ctx context.Context, before time.Time) (int64, error) {
	defer w.enter("PruneTelemetry")()
	return w.Store.PruneTelemetry(ctx, before)
}

func (w *watchedStore) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	defer w.enter("Update")()
	return w.Store.Update(ctx, fn)
}

func (w *watchedStore) View(ctx context.Context, fn func(store.Reader) error) error {
	defer w.enter("View")()
	return w.Store.View(ctx, fn)
}

func (w *watchedStore) Revision(ctx context.Context) (int64, error) {
	defer w.enter("Revision")()
	return w.Store.Revision(ctx)
}

func (w *watchedStore) AuditLog(ctx context.Context, top, skip int) ([]store.AuditEntry, int, error) {
	defer w.enter("AuditLog")()
	return w.Store.AuditLog(ctx, top, skip)
}

func (w *watchedStore) RecordInstance(ctx context.Context, in store.Instance) error {
	defer w.enter("RecordInstance")()
	return w.Store.RecordInstance(ctx, in)
}

func (w *watchedStore) Instances(ctx context.Context, gatewayID string) ([]store.Instance, error) {
	defer w.enter("Instances")()
	return w.Store.Instances(ctx, gatewayID)
}

func (w *watchedStore) DeleteInstances(ctx context.Context, gatewayID string) error {
	defer w.enter("DeleteInstances")()
	return w.Store.DeleteInstances(ctx, gatewayID)
}

// logLines parses the JSON log lines of a command.
func logLines(t *testing.T, raw string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// stopped lists the components the log says stopped (or stopped
// incompletely), in order, and the lines logged at error level.
func stopped(t *testing.T, raw string) (components, errors []string) {
	t.Helper()
	for _, l := range logLines(t, raw) {
		switch {
		case l["msg"] == "component stopped" || l["msg"] == "component stop incomplete":
			components = append(components, fmt.Sprint(l["component"]))
		case l["level"] == "ERROR":
			errors = append(errors, fmt.Sprint(l))
		}
	}
	return components, errors
}

// TestServeJoinsEverythingBeforeClosingTheStore runs serve on a watched
// store, uses it (gateway requests whose records are stored, a
// configuration change, the telemetry retention), shuts it down, and
// checks that every goroutine that called the store was one the lifecycle
// joins, that none called it during or after Close, and that the
// components stopped in the documented order, the store last.
func TestServeJoinsEverythingBeforeClosingTheStore(t *testing.T) {
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	var watched *watchedStore
	o := &options{dataDir: t.TempDir(), mgmtAddr: freeAddr(t), gatewayAddr: freeAddr(t), opsAddr: freeAddr(t), echoAddr: "127.0.0.1:0",
		portalAddr: freeAddr(t), shutdown: 5 * time.Second, telemetryRetention: defaultTelemetryRetention,
		openStore: func(ctx context.Context, dsn string) (store.Store, error) {
			st, err := store.Open(ctx, dsn)
			if err != nil {
				return nil, err
			}
			watched = newWatchedStore(st,
				"github.com/portico-gw/portico/cmd/portico.TestServeJoinsEverythingBeforeClosingTheStore", // the goroutine running serve
				"net/http.", // HTTP handlers
				"github.com/portico-gw/portico/internal/lifecycle.") // components' goroutines
			return watched, nil
		}}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, log, &syncBuffer{}, true) }()
	s := &stack{t: t, mgmtURL: "http://" + o.mgmtAddr, gwURL: "http://" + o.gatewayAddr, client: &http.Client{}}
	defer s.client.CloseIdleConnections()
	s.poll("readyz", func() bool {
		select {
		case err := <-errc:
			t.Fatalf("serve stopped: %v\n%s", err, logs)
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
	if r := s.mustCall("/echo/resource", key); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	s.admin(201, "PUT", "/api/v1/apis/late", map[string]any{"displayName": "Late", "path": "late", "protocols": []string{"http"}, "serviceUrl": "http://127.0.0.1:1", "subscriptionRequired": false})
	s.poll("the records to be stored and the retention to have run", func() bool {
		return watched.count("IngestBatch") > 0 && watched.count("PruneTelemetry") > 0
	})
	if r := s.mustCall("/echo/resource", key); r.status != 200 { // a record left for the last batch
		t.Fatalf("%d %s", r.status, r.body)
	}

	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v", err)
	}
	watched.mu.Lock()
	defer watched.mu.Unlock()
	if !watched.closed {
		t.Fatal("serve returned without closing the store")
	}
	if len(watched.problems) > 0 {
		sort.Strings(watched.problems)
		t.Fatalf("the store was used by goroutines that outlive it:\n%s", strings.Join(slices.Compact(watched.problems), "\n"))
	}
	components, errs := stopped(t, logs.String())
	want := []string{"gateway sync", "servers", "config reloader", "request records", "telemetry spool", "gateway", "rate-limit counters",
		"telemetry retention", "revision poll", "revision notifications", "echo backend", "store"}
	if !slices.Equal(components, want) {
		t.Fatalf("components stopped in the order\n %q, want\n %q", components, want)
	}
	if len(errs) > 0 {
		t.Fatalf("errors logged: %q", errs)
	}
}
