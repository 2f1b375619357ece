package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/snapshot"
)

// TestRequestTimeoutStopsExpression: an expression that would loop for
// minutes is stopped by the request's deadline (RequestTimeout): the
// gateway answers 504 without calling the backend, on-error sees the
// Timeout, and a graceful shutdown then completes. The timeout is 1 ns so
// that it has certainly passed when the expression first checks its
// context (every 1024 steps): no timing threshold is involved.
func TestRequestTimeoutStopsExpression(t *testing.T) {
	be := newBackend(t, nil)
	cfg := policyConfig(be.URL, map[string]string{"apis/open": `<policies>
		<inbound>
			<base/>
			<set-variable name="n" value="@{ long i = 0; while (true) { i++; } }" />
		</inbound>
		<on-error>
			<base/>
			<set-header name="X-Reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
		</on-error>
	</policies>`})
	gw, err := New(Config{Logger: discardLogger(), Registerer: prometheus.NewRegistry(), RequestTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	s, errs := snapshot.Compile(cfg)
	if s == nil || len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	gw.Publish(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gw.NewServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	res, err := client.Get("http://" + ln.Addr().String() + "/open/resource")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if res.StatusCode != http.StatusGatewayTimeout || doc.StatusCode != http.StatusGatewayTimeout || !strings.Contains(doc.Message, "expression") {
		t.Fatalf("got %d %s", res.StatusCode, body)
	}
	if got := res.Header.Get("X-Reason"); got != "Timeout" {
		t.Fatalf("on-error saw reason %q, want Timeout", got)
	}
	if n := be.received(); n != 0 {
		t.Fatalf("the backend was called %d times", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
}

// signalHandler is a slog handler that signals each "policy trace" record.
type signalHandler struct{ traced chan struct{} }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "policy trace" {
		select {
		case h.traced <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// TestShutdownWithExpressionInFlight: a graceful shutdown that begins while
// an endless expression runs (without a request timeout) completes: the
// step budget ends the expression, the client gets APIM's 500, and
// Shutdown returns without reaching its deadline.
func TestShutdownWithExpressionInFlight(t *testing.T) {
	be := newBackend(t, nil)
	cfg := policyConfig(be.URL, map[string]string{"apis/open": `<policies><inbound><base/>
		<set-variable name="n" value="@{ context.Trace(&quot;loop&quot;, &quot;started&quot;); long i = 0; while (true) { i++; } }" />
	</inbound></policies>`})
	h := signalHandler{traced: make(chan struct{}, 1)}
	gw, err := New(Config{Logger: slog.New(h), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	s, errs := snapshot.Compile(cfg)
	if s == nil || len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	gw.Publish(s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gw.NewServer()
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := client.Get("http://" + ln.Addr().String() + "/open/resource")
		if err != nil {
			done <- answer{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- answer{status: res.StatusCode, body: string(b)}
	}()
	<-h.traced // the expression is running
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	a := <-done
	if a.err != nil || a.status != http.StatusInternalServerError || !strings.Contains(a.body, "Internal server error") {
		t.Fatalf("client got %d %q %v", a.status, a.body, a.err)
	}
}
