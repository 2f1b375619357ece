package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// gatewayRun is "portico gateway" run in-process through runContext, as
// the binary runs it (flags, setup, serve, shutdown).
type gatewayRun struct {
	cancel         context.CancelFunc
	code           chan int
	stdout, stderr *syncBuffer
}

func startGatewayCommand(t *testing.T, args ...string) *gatewayRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gatewayRun{cancel: cancel, code: make(chan int, 1), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() { g.code <- runContext(ctx, append([]string{"gateway"}, args...), g.stdout, g.stderr) }()
	t.Cleanup(func() {
		cancel()
		<-g.code
		if t.Failed() {
			t.Logf("portico gateway %s\nstdout:\n%s\nlog:\n%s", strings.Join(args, " "), g.stdout, g.stderr)
		}
	})
	return g
}

// exited fails the test when the command has returned already.
func (g *gatewayRun) exited(t *testing.T) {
	t.Helper()
	select {
	case code := <-g.code:
		g.code <- code
		t.Fatalf("portico gateway exited with %d:\n%s", code, g.stderr)
	default:
	}
}

// stop shuts the command down as SIGTERM does and returns its exit code.
func (g *gatewayRun) stop() int {
	g.cancel()
	code := <-g.code
	g.code <- code
	return code
}

// TestGatewayCommand runs "portico gateway" in-process against a
// management plane: it serves an API assigned to its gateway, finishes an
// in-flight request when shut down, exits 0 after stopping its components
// in order (the agent's last heartbeat reaching the management plane), and
// once restarted without the management plane serves from its backup.
func TestGatewayCommand(t *testing.T) {
	s := startServe(t)
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			arrived <- struct{}{}
			<-release
		}
		io.WriteString(w, "backend "+r.URL.Path)
	}))
	defer backend.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	s.admin(201, "PUT", "/api/v1/apis/edge", map[string]any{"displayName": "Edge", "path": "edge", "protocols": []string{"http"}, "serviceUrl": backend.URL, "subscriptionRequired": false})
	s.admin(201, "PUT", "/api/v1/apis/edge/operations/r", map[string]any{"displayName": "r", "method": "GET", "urlTemplate": "/r"})
	s.admin(201, "PUT", "/api/v1/apis/edge/operations/slow", map[string]any{"displayName": "slow", "method": "GET", "urlTemplate": "/slow"})
	s.admin(201, "PUT", "/api/v1/gateways/edge-gw", map[string]any{"locationData": map[string]string{"name": "edge"}})
	s.admin(201, "PUT", "/api/v1/gateways/edge-gw/apis/edge", nil)
	token := s.admin(200, "POST", "/api/v1/gateways/edge-gw/generateToken", map[string]any{"keyType": "primary",
		"expiry": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})["value"].(string)

	dataDir := t.TempDir()
	gwAddr, opsAddr := freeAddr(t), freeAddr(t)
	gwURL := "http://" + gwAddr
	args := func(mgmtURL string) []string {
		return []string{"--mgmt-url", mgmtURL, "--token", token, "--data-dir", dataDir, "--gateway-addr", gwAddr, "--ops-addr", opsAddr,
			"--shutdown-timeout", "30s", "--log-format", "json", "--log-level", "debug"}
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	get := func(path string) (int, string) {
		res, err := client.Get(gwURL + path)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}
	ready := func() bool {
		res, err := http.Get("http://" + opsAddr + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}

	g := startGatewayCommand(t, args(s.mgmtURL)...)
	s.poll("the self-hosted gateway to serve the API", func() bool {
		g.exited(t)
		code, _ := get("/edge/r")
		return code == 200
	})
	if code, body := get("/edge/r"); code != 200 || body != "backend /r" || !ready() {
		t.Fatalf("%d %q, ready %v", code, body, ready())
	}
	if out := g.stdout.String(); !strings.Contains(out, `self-hosted gateway "edge-gw"`) || !strings.Contains(out, "  gateway           "+gwURL) {
		t.Fatalf("stdout:\n%s", out)
	}

	// Shut down while a request is in flight: the listener closes, the
	// request finishes, the command exits 0.
	type result struct {
		code int
		body string
	}
	inflight := make(chan result, 1)
	go func() {
		code, body := get("/edge/slow")
		inflight <- result{code, body}
	}()
	<-arrived
	g.cancel()
	s.poll("the gateway to stop accepting connections", func() bool {
		c, err := net.Dial("tcp", gwAddr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	if r := <-inflight; r.code != 200 || r.body != "backend /slow" {
		t.Fatalf("in-flight request: %d %q", r.code, r.body)
	}
	if code := g.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	components, errs := stopped(t, g.stderr.String())
	if want := []string{"servers", "request records", "gateway agent", "gateway", "rate-limit counters", "management client"}; !slices.Equal(components, want) {
		t.Fatalf("components stopped in the order %q, want %q", components, want)
	}
	if len(errs) > 0 {
		t.Fatalf("errors logged: %q", errs)
	}
	ins := s.admin(200, "GET", "/api/v1/gateways/edge-gw/instances", nil)["value"].([]any)
	if len(ins) != 1 || ins[0].(map[string]any)["status"] != "disconnected" {
		t.Fatalf("instances after the stop: %v (want one, disconnected by its last heartbeat)", ins)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "gateway-backup")); err != nil {
		t.Fatal(err)
	}

	// Restarted with the management plane out of reach: the backup serves.
	g = startGatewayCommand(t, args("http://"+freeAddr(t))...)
	s.poll("the restarted gateway to serve from its backup", func() bool {
		g.exited(t)
		code, _ := get("/edge/r")
		return code == 200 && ready()
	})
	if !strings.Contains(g.stderr.String(), "serving the configuration from the backup directory") {
		t.Fatalf("log:\n%s", g.stderr)
	}
	if code := g.stop(); code != 0 {
		t.Fatalf("exit code %d after serving from the backup", code)
	}
}
