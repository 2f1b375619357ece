package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

// Request records survive a store outage and a crash of a self-hosted
// gateway (issue 11, point 7).

// startServeForRecords runs serve with o (addresses filled in when empty) and
// returns a client for it and its ops URL.
func startServeForRecords(t *testing.T, o *options) (s *stack, opsURL string) {
	t.Helper()
	t.Setenv("PORTICO_ADMIN_TOKEN", e2eToken)
	t.Setenv("PORTICO_GATEWAY_URL", "")
	o.mgmtAddr, o.gatewayAddr, o.opsAddr, o.portalAddr, o.echoAddr = freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), "127.0.0.1:0"
	o.shutdown, o.telemetryRetention = 5*time.Second, defaultTelemetryRetention
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- serve(ctx, o, slog.New(slog.DiscardHandler), io.Discard, true) }()
	s = &stack{t: t, mgmtURL: "http://" + o.mgmtAddr, gwURL: "http://" + o.gatewayAddr, client: &http.Client{}}
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.client.CloseIdleConnections()
	})
	opsURL = "http://" + o.opsAddr
	s.poll("serve to be ready", func() bool {
		select {
		case err := <-errc:
			errc <- err
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		res, err := http.Get(opsURL + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s, opsURL
}

// lossAPI creates the open API "loss" (GET /loss/r) on a backend of its own
// and returns that backend.
func lossAPI(t *testing.T, s *stack) {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(backend.Close)
	s.admin(201, "PUT", "/api/v1/apis/loss", map[string]any{"displayName": "loss", "path": "loss", "protocols": []string{"http"}, "serviceUrl": backend.URL, "subscriptionRequired": false})
	s.admin(201, "PUT", "/api/v1/apis/loss/operations/r", map[string]any{"displayName": "r", "method": "GET", "urlTemplate": "/r"})
}

// requestIDs collects the X-Request-Id of responses: each has one record.
type requestIDs struct {
	mu  sync.Mutex
	ids []string
}

// get calls url and keeps the response's request id; it returns the status
// (0 when the call failed).
func (r *requestIDs) get(t *testing.T, client *http.Client, u string) int {
	t.Helper()
	res, err := client.Get(u)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if id := res.Header.Get("X-Request-Id"); id != "" {
		r.mu.Lock()
		r.ids = append(r.ids, id)
		r.mu.Unlock()
	}
	return res.StatusCode
}

func (r *requestIDs) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

// sameIDs reports the difference between the request ids of responses and
// those stored (with how often each is stored): "" when each response has
// exactly one record.
func sameIDs(sent []string, stored map[string]int) string {
	var missing, twice []string
	seen := map[string]bool{}
	for _, id := range sent {
		seen[id] = true
		switch stored[id] {
		case 0:
			missing = append(missing, id)
		case 1:
		default:
			twice = append(twice, id)
		}
	}
	var extra []string
	for id := range stored {
		if !seen[id] {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(twice)+len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("%d responses: %d records missing, %d stored more than once, %d unknown (missing %.5q, twice %.5q)",
		len(sent), len(missing), len(twice), len(extra), missing, twice)
}

// outageRole gives a test a PostgreSQL role and a schema of its own, and
// the means to cut the role off (NOLOGIN and its connections terminated)
// and let it back.
type outageRole struct {
	su           *sql.DB
	role, schema string
	dsn          string // the role's DSN, on its schema
}

func newOutageRole(t *testing.T) *outageRole {
	t.Helper()
	base := os.Getenv("PORTICO_TEST_POSTGRES")
	if base == "" {
		base = testenv.DefaultPostgres
	}
	su, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := su.PingContext(ctx); err != nil {
		su.Close()
		testenv.Unavailable(t, "PostgreSQL is not reachable at %s (set PORTICO_TEST_POSTGRES): %v", base, err)
	}
	name := fmt.Sprintf("portico_outage_%d", time.Now().UnixNano()%1e12)
	o := &outageRole{su: su, role: name, schema: name}
	for _, q := range []string{"CREATE ROLE " + name + " LOGIN", "CREATE SCHEMA " + name + " AUTHORIZATION " + name} {
		if _, err := su.ExecContext(ctx, q); err != nil {
			su.Close()
			testenv.Unavailable(t, "PostgreSQL at %s: %s: %v (the test needs a superuser)", base, q, err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = su.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE")
		_, _ = su.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name)
		_, _ = su.ExecContext(ctx, "DROP ROLE "+name)
		su.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(name)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	o.dsn = u.String()
	return o
}

func (o *outageRole) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := o.su.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// cut makes the store unreachable for serve: no new session, none left.
func (o *outageRole) cut(t *testing.T) {
	o.exec(t, "ALTER ROLE "+o.role+" NOLOGIN")
	o.exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", o.role)
}

func (o *outageRole) restore(t *testing.T) { o.exec(t, "ALTER ROLE "+o.role+" LOGIN") }

// stored counts the request ids of the records in the store.
func (o *outageRole) stored(t *testing.T) map[string]int {
	t.Helper()
	rows, err := o.su.Query("SELECT request_id FROM " + o.schema + ".requests")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id]++
	}
	return out
}

// TestServeRecordsSurvivePostgresOutage runs portico serve on PostgreSQL,
// cuts the store off while requests keep coming, and checks that the
// records made meanwhile wait on disk and are all stored, exactly once,
// when the store is back.
func TestServeRecordsSurvivePostgresOutage(t *testing.T) {
	pg := newOutageRole(t)
	dataDir := t.TempDir()
	s, ops := startServeForRecords(t, &options{dataDir: dataDir, store: pg.dsn})
	lossAPI(t, s)
	var sent requestIDs
	client := &http.Client{}
	s.poll("the gateway to serve the API", func() bool { return sent.get(t, client, s.gwURL+"/loss/r") == 200 })
	call := func(n int) {
		for i := range n {
			if code := sent.get(t, client, s.gwURL+"/loss/r"); code != 200 {
				t.Fatalf("call %d: status %d", i, code)
			}
		}
	}
	call(20)
	beforeOutage := len(sent.all())
	s.poll("the first records to be stored", func() bool { return len(pg.stored(t)) >= beforeOutage })

	pg.cut(t)
	call(60) // the gateway does not need the store
	s.poll("the outage's records to wait on disk", func() bool {
		return metric(t, ops, "portico_telemetry_buffer_records") >= 60
	})
	before := len(pg.stored(t))
	pg.restore(t)

	s.poll("every record to be stored", func() bool { return len(pg.stored(t)) >= len(sent.all()) })
	s.poll("the spool to empty", func() bool { return metric(t, ops, "portico_telemetry_buffer_records") == 0 })
	call(5) // straight to the store again
	s.poll("the last records to be stored", func() bool { return len(pg.stored(t)) >= len(sent.all()) })
	if diff := sameIDs(sent.all(), pg.stored(t)); diff != "" {
		t.Fatal(diff)
	}
	if before > beforeOutage {
		t.Fatalf("%d records stored while the store was cut off: the outage was not one", before-beforeOutage)
	}
	t.Logf("%d records, %d of them made during the outage: each stored once", len(sent.all()), 60)
	for _, reason := range []string{"queue_full", "ship_failed", "buffer_full", "rejected"} {
		if got := metric(t, ops, "portico_telemetry_dropped_records_total", `reason="`+reason+`"`); got != 0 {
			t.Fatalf("%v records dropped (%s)", got, reason)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, telemetrySpoolDir))
	if err != nil || len(entries) != 0 {
		t.Fatalf("spool dir after recovery: %d files, %v", len(entries), err)
	}
}

// subprocessArgs names the environment variable that turns
// TestPorticoSubprocess into "portico <args>".
const subprocessArgs = "PORTICO_TEST_SUBPROCESS_ARGS"

// TestPorticoSubprocess is not a test: run as a child of another test with
// subprocessArgs set (a JSON array), it is the portico command.
func TestPorticoSubprocess(t *testing.T) {
	raw := os.Getenv(subprocessArgs)
	if raw == "" {
		t.Skip("runs only as a child process of another test")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// startPortico runs "portico args..." in a child process (this test binary)
// with its output in the test log dir.
func startPortico(t *testing.T, logName string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPorticoSubprocess$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), subprocessArgs+"="+string(raw)), env...)
	out, err := os.Create(filepath.Join(t.TempDir(), logName))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		out.Close()
		if t.Failed() {
			if b, err := os.ReadFile(out.Name()); err == nil {
				t.Logf("%s:\n%s", logName, b)
			}
		}
	})
	return cmd
}

// TestSelfHostedGatewayKilledKeepsItsRecords kills a self-hosted gateway
// process with SIGKILL once its records are in its on-disk buffer (the
// management plane refusing them meanwhile), restarts it, and checks that
// the management plane ends up with every record exactly once, although
// the first upload's acknowledgement is lost.
func TestSelfHostedGatewayKilledKeepsItsRecords(t *testing.T) {
	s, _ := startServeForRecords(t, &options{})
	lossAPI(t, s)
	s.admin(201, "PUT", "/api/v1/gateways/edge", map[string]any{"locationData": map[string]string{"name": "edge"}})
	s.admin(201, "PUT", "/api/v1/gateways/edge/apis/loss", nil)
	token := s.admin(200, "POST", "/api/v1/gateways/edge/generateToken", map[string]any{"keyType": "primary",
		"expiry": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})["value"].(string)

	// The gateway reaches the management plane through a proxy that can
	// refuse telemetry, or store a batch and lose the acknowledgement.
	mgmt, _ := url.Parse(s.mgmtURL)
	var refuse atomic.Bool
	var loseAcks atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(mgmt)
	rp.ErrorLog = log.New(io.Discard, "", 0) // the killed gateway's long-poll
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gateway/v1/telemetry" {
			if refuse.Load() {
				http.Error(w, "telemetry refused by the test", http.StatusServiceUnavailable)
				return
			}
			if loseAcks.Add(-1) >= 0 {
				rp.ServeHTTP(httptest.NewRecorder(), r) // stored, but the answer is lost
				http.Error(w, "acknowledgement lost by the test", http.StatusBadGateway)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	dataDir := t.TempDir()
	gwAddr, opsAddr := freeAddr(t), freeAddr(t)
	args := []string{"gateway", "--mgmt-url", proxy.URL, "--data-dir", dataDir, "--gateway-addr", gwAddr, "--ops-addr", opsAddr, "--log-level", "debug"}
	env := []string{"PORTICO_GATEWAY_TOKEN=" + token}
	edge := startPortico(t, "gateway-1.log", env, args...)

	var sent requestIDs
	client := &http.Client{}
	s.poll("the self-hosted gateway to serve the API", func() bool { return sent.get(t, client, "http://"+gwAddr+"/loss/r") == 200 })
	refuse.Store(true)
	const n = 50
	for i := range n {
		if code := sent.get(t, client, "http://"+gwAddr+"/loss/r"); code != 200 {
			t.Fatalf("call %d: status %d", i, code)
		}
	}
	// Every record the gateway made (the 404 probes too) is on disk.
	ops := "http://" + opsAddr
	s.poll("the records to reach the gateway's disk", func() bool {
		return metric(t, ops, "portico_telemetry_shipped_records_total") >= metric(t, ops, "portico_telemetry_queued_records_total") &&
			metric(t, ops, "portico_telemetry_queued_records_total") > n
	})
	if err := edge.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = edge.Wait()
	client.CloseIdleConnections()

	edgeStored := func() map[string]int {
		out := map[string]int{}
		res := s.admin(200, "GET", "/api/v1/reports/byRequest?top=1000&filter="+url.QueryEscape("gatewayId eq 'edge'"), nil)
		for _, v := range res["value"].([]any) {
			out[v.(map[string]any)["requestId"].(string)]++
		}
		return out
	}
	if got, max := len(edgeStored()), len(sent.all())-n; got > max {
		t.Fatalf("%d records reached the management plane while it refused them", got-max)
	}
	refuse.Store(false)
	loseAcks.Store(1)
	edge = startPortico(t, "gateway-2.log", env, args...)
	s.poll("every record to reach the management plane", func() bool { return len(edgeStored()) >= len(sent.all()) })
	if err := edge.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := edge.Wait(); err != nil {
		t.Fatalf("gateway stopped: %v", err)
	}
	if diff := sameIDs(sent.all(), edgeStored()); diff != "" {
		t.Fatal(diff)
	}
	t.Logf("%d records, %d of them made while the management plane refused them and the gateway was killed: each stored once", len(sent.all()), n)
	if loseAcks.Load() >= 0 {
		t.Fatal("no acknowledgement was lost: the duplicate delivery was not exercised")
	}
	entries, err := os.ReadDir(filepath.Join(dataDir, "gateway-backup", "telemetry"))
	if err != nil || len(entries) != 0 {
		t.Fatalf("buffer after the restart: %d files, %v", len(entries), err)
	}
}
