// Command recordloss measures how many request records Portico loses in two
// failures (issue 11, point 7), with the real binary:
//
//   - outage: `portico serve` on PostgreSQL under steady load; the store
//     becomes unreachable for -outage (its role is made NOLOGIN and its
//     connections are terminated), then comes back. Every response's
//     X-Request-Id is then looked up in the store.
//   - kill: a self-hosted gateway (`portico gateway`, fed by `portico serve`
//     on SQLite) serves -requests requests, waits -pause, is killed with
//     SIGKILL and restarted; the management plane's records of the gateway
//     are then counted.
//
// Usage (from the repository root):
//
//	go build -o /tmp/portico ./cmd/portico
//	go run ./bench/recordloss -portico /tmp/portico -scenario outage
//	go run ./bench/recordloss -portico /tmp/portico -scenario kill -pause 1500ms
//	go run ./bench/recordloss -portico /tmp/portico -scenario kill -pause 0
//
// The outage scenario needs a PostgreSQL superuser (-postgres, default
// postgres://postgres@127.0.0.1:5432/test) to create, block and drop a
// throwaway role and schema.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

const adminToken = "recordloss-admin-token-0123456789abcdef"

func main() {
	bin := flag.String("portico", "", "path of the portico binary to measure (required)")
	scenario := flag.String("scenario", "outage", "outage or kill")
	pg := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "outage: PostgreSQL superuser DSN")
	rate := flag.Int("rate", 200, "outage: requests per second")
	before := flag.Duration("before", 5*time.Second, "outage: load before the outage")
	outage := flag.Duration("outage", 11*time.Second, "outage: length of the store outage")
	after := flag.Duration("after", 10*time.Second, "outage: load after the store is back")
	requests := flag.Int("requests", 350, "kill: requests served before the kill")
	pause := flag.Duration("pause", 1500*time.Millisecond, "kill: wait between the last request and the kill")
	killRate := flag.Int("kill-rate", 100, "kill: requests per second (0: back to back)")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs, data)")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-portico is required")
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "recordloss-")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		log.Printf("temporary directory: %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	r := &runner{bin: abs, dir: dir}
	defer r.stopAll()
	switch *scenario {
	case "outage":
		err = r.outage(*pg, *rate, *before, *outage, *after)
	case "kill":
		err = r.kill(*requests, *killRate, *pause)
	default:
		err = fmt.Errorf("unknown scenario %q", *scenario)
	}
	if err != nil {
		r.stopAll()
		log.Fatal(err)
	}
}

type runner struct {
	bin, dir string
	mu       sync.Mutex
	procs    []*exec.Cmd
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the binary with args; its output goes to <dir>/<name>.log.
func (r *runner) start(name string, env []string, args ...string) *exec.Cmd {
	out, err := os.OpenFile(filepath.Join(r.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(append(os.Environ(), "PORTICO_ADMIN_TOKEN="+adminToken), env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	r.mu.Lock()
	r.procs = append(r.procs, cmd)
	r.mu.Unlock()
	return cmd
}

func (r *runner) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.procs {
		if c.ProcessState == nil {
			_ = c.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = c.Process.Kill()
			}
		}
	}
	r.procs = nil
}

func waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

func ready(opsURL string) bool {
	res, err := http.Get(opsURL + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// admin calls the management API.
func admin(mgmt, method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, mgmt+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, res.Status, b)
	}
	out := map[string]any{}
	_ = json.Unmarshal(b, &out)
	return out, nil
}

// backend is a trivial backend for the API under load.
func backend() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"ok":true}`) }))
	return "http://" + ln.Addr().String()
}

// startServe runs portico serve and creates the open API "loss" (GET /r).
func (r *runner) startServe(name string, args ...string) (mgmt, gw string, err error) {
	mgmtAddr, gwAddr, opsAddr, portalAddr := freeAddr(), freeAddr(), freeAddr(), freeAddr()
	r.start(name, nil, append([]string{"serve", "--data-dir", filepath.Join(r.dir, name+"-data"), "--mgmt-addr", mgmtAddr, "--gateway-addr", gwAddr,
		"--ops-addr", opsAddr, "--portal-addr", portalAddr, "--log-level", "warn"}, args...)...)
	if err := waitFor("portico serve", 60*time.Second, func() bool { return ready("http://" + opsAddr) }); err != nil {
		return "", "", err
	}
	mgmt = "http://" + mgmtAddr
	if _, err := admin(mgmt, "PUT", "/apis/loss", map[string]any{"displayName": "loss", "path": "loss", "serviceUrl": backend(), "subscriptionRequired": false}); err != nil {
		return "", "", err
	}
	if _, err := admin(mgmt, "PUT", "/apis/loss/operations/r", map[string]any{"displayName": "r", "method": "GET", "urlTemplate": "/r"}); err != nil {
		return "", "", err
	}
	return mgmt, "http://" + gwAddr, nil
}

// load sends GET /loss/r at rate per second until ctx ends and returns the
// request ids of the responses received.
func load(ctx context.Context, gw string, rate int) []string {
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return ids
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // 64 in flight: the gateway is behind; skip this tick
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := client.Get(gw + "/loss/r")
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if id := res.Header.Get("X-Request-Id"); id != "" {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		}()
	}
}

func (r *runner) outage(pgDSN string, rate int, before, outage, after time.Duration) error {
	ctx := context.Background()
	su, err := sql.Open("pgx", pgDSN)
	if err != nil {
		return err
	}
	defer su.Close()
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1e9)
	role, schema := "recordloss_"+suffix, "recordloss_"+suffix
	for _, q := range []string{"CREATE ROLE " + role + " LOGIN", "CREATE SCHEMA " + schema + " AUTHORIZATION " + role} {
		if _, err := su.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	defer func() {
		_, _ = su.ExecContext(ctx, "ALTER ROLE "+role+" LOGIN")
		_, _ = su.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		_, _ = su.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role)
		time.Sleep(200 * time.Millisecond)
		_, _ = su.ExecContext(ctx, "DROP ROLE "+role)
	}()
	u, err := url.Parse(pgDSN)
	if err != nil {
		return err
	}
	u.User = url.User(role)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	_, gw, err := r.startServe("serve", "--store", u.String())
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the gateway serves the new API
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan []string)
	go func() { done <- load(lctx, gw, rate) }()
	time.Sleep(before)
	log.Printf("store outage: role %s NOLOGIN and its connections terminated for %s", role, outage)
	if _, err := su.ExecContext(ctx, "ALTER ROLE "+role+" NOLOGIN"); err != nil {
		return err
	}
	if _, err := su.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role); err != nil {
		return err
	}
	time.Sleep(outage)
	if _, err := su.ExecContext(ctx, "ALTER ROLE "+role+" LOGIN"); err != nil {
		return err
	}
	log.Printf("store back")
	time.Sleep(after)
	stop()
	ids := <-done
	count := func() (total, distinct int) {
		_ = su.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT request_id) FROM "+schema+".requests WHERE api_id = 'loss'").Scan(&total, &distinct)
		return
	}
	// Wait until the count stops moving (retries may take a while).
	last, stable := -1, 0
	_ = waitFor("the records to settle", 3*time.Minute, func() bool {
		n, _ := count()
		if n == last && n > 0 {
			stable++
		} else {
			stable = 0
		}
		last = n
		time.Sleep(400 * time.Millisecond)
		return stable >= 10 || n >= len(ids)
	})
	total, distinct := count()
	stored := map[string]bool{}
	rows, err := su.QueryContext(ctx, "SELECT request_id FROM "+schema+".requests WHERE api_id = 'loss'")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		stored[id] = true
	}
	rows.Close()
	lost := 0
	for _, id := range ids {
		if !stored[id] {
			lost++
		}
	}
	fmt.Printf("outage %s at %d req/s: %d responses, %d records stored (%d distinct), %d lost (%.1f%%), %d duplicates\n",
		outage, rate, len(ids), total, distinct, lost, 100*float64(lost)/float64(max(1, len(ids))), total-distinct)
	return nil
}

func (r *runner) kill(requests, rate int, pause time.Duration) error {
	mgmt, _, err := r.startServe("serve")
	if err != nil {
		return err
	}
	if _, err := admin(mgmt, "PUT", "/gateways/edge", map[string]any{"locationData": map[string]string{"name": "edge"}}); err != nil {
		return err
	}
	if _, err := admin(mgmt, "PUT", "/gateways/edge/apis/loss", nil); err != nil {
		return err
	}
	tok, err := admin(mgmt, "POST", "/gateways/edge/generateToken", map[string]any{"keyType": "primary", "expiry": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	gwAddr, opsAddr := freeAddr(), freeAddr()
	data := filepath.Join(r.dir, "edge-data")
	args := []string{"gateway", "--mgmt-url", mgmt, "--data-dir", data, "--gateway-addr", gwAddr, "--ops-addr", opsAddr, "--log-level", "warn"}
	env := []string{"PORTICO_GATEWAY_TOKEN=" + tok["value"].(string)}
	gw := r.start("gateway", env, args...)
	if err := waitFor("the self-hosted gateway", 60*time.Second, func() bool { return ready("http://" + opsAddr) }); err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if err := waitFor("the gateway to serve the API", 30*time.Second, func() bool {
		res, err := client.Get("http://" + gwAddr + "/loss/r")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}); err != nil {
		return err
	}
	// The probes above are records too: count from the store's total.
	countEdge := func() int {
		res, err := admin(mgmt, "GET", "/reports/byRequest?top=1&filter="+url.QueryEscape("gatewayId eq 'edge' and apiId eq 'loss'"), nil)
		if err != nil {
			return -1
		}
		n, _ := res["count"].(float64)
		return int(n)
	}
	probesDone := func() bool { return countEdge() >= 1 }
	if err := waitFor("the probe records", 30*time.Second, probesDone); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	base := countEdge()
	sent := 0
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		tick = t.C
	}
	for range requests {
		if tick != nil {
			<-tick
		}
		res, err := client.Get("http://" + gwAddr + "/loss/r")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		sent++
	}
	time.Sleep(pause)
	if err := gw.Process.Kill(); err != nil {
		return err
	}
	_ = gw.Wait()
	log.Printf("gateway killed (SIGKILL) %s after its last response; restarting it", pause)
	r.start("gateway", env, args...)
	var last, stable int
	err = waitFor("the records to settle", 2*time.Minute, func() bool {
		n := countEdge() - base
		if n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
		time.Sleep(400 * time.Millisecond)
		return n >= sent && stable >= 5 || stable >= 20
	})
	if err != nil {
		return err
	}
	got := countEdge() - base
	lost := max(0, sent-got)
	fmt.Printf("kill -9 %s after %d requests at %d req/s: %d records stored, %d lost, %d extra\n", pause, sent, rate, got, lost, max(0, got-sent))
	if got < 0 {
		return errors.New("could not count the records")
	}
	return nil
}

