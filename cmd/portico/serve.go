package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portico-gw/portico/internal/console"
	"github.com/portico-gw/portico/internal/echo"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/portal"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/store"
)

// listener is one server of the process, started and stopped together.
type listener struct {
	name  string
	srv   *http.Server
	ln    net.Listener
	https bool // srv.TLSConfig is set: serve TLS (read this, not TLSConfig, which net/http writes while serving)
}

func listen(name, addr string, h http.Handler) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen on %s: %w", name, addr, err)
	}
	return &listener{name: name, ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}}, nil
}

// url renders the listener's address for people: localhost for wildcard hosts.
func (l *listener) url() string {
	host, port, _ := net.SplitHostPort(l.ln.Addr().String())
	if ip := net.ParseIP(host); host == "" || ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http"
	if l.https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// startServers serves every listener in its own goroutine; the channel
// receives the first server that fails (not one that was shut down).
func startServers(servers []*listener) <-chan error {
	errc := make(chan error, len(servers))
	for _, l := range servers {
		go func(l *listener) {
			var err error
			if l.https {
				err = l.srv.ServeTLS(l.ln, "", "")
			} else {
				err = l.srv.Serve(l.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", l.name, err)
			}
		}(l)
	}
	return errc
}

// stopServers shuts every server down gracefully, together, letting
// in-flight requests finish within timeout.
func stopServers(servers []*listener, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, l := range servers {
		wg.Add(1)
		go func(l *listener) {
			defer wg.Done()
			if err := l.srv.Shutdown(ctx); err != nil {
				log.Warn("shutdown incomplete", "server", l.name, "err", err)
			}
		}(l)
	}
	wg.Wait()
}

// readiness is what /readyz reports: every registered check must pass.
type readiness struct {
	mu     sync.Mutex
	checks map[string]func() error
}

func (r *readiness) add(name string, check func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]func() error{}
	}
	r.checks[name] = check
}

func (r *readiness) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var failed []string
	for name, c := range r.checks {
		if err := c(); err != nil {
			failed = append(failed, name+": "+err.Error())
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(failed) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, strings.Join(failed, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}

func opsHandler(reg *prometheus.Registry, ready *readiness) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", ready)
	return mux
}

// serve runs the management plane, the ops endpoints, the built-in echo
// backend and (withGateway) the built-in gateway until ctx ends, then shuts
// them down gracefully.
func serve(ctx context.Context, o *options, log *slog.Logger, stdout io.Writer, withGateway bool) error {
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if dataDirTooOpen(o.dataDir) {
		log.Warn("the data dir can be read by other users; it holds the admin token and the store: chmod 700 it", "dir", o.dataDir)
	}
	mgmtTLSConfig, err := mgmtTLS(o)
	if err != nil {
		return err
	}
	dsn := o.store
	if dsn == "" {
		dsn = filepath.Join(o.dataDir, "portico.db")
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store opened", "dialect", st.Dialect())

	token, tokenSource, tokenCreated, err := adminToken(o)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ready := &readiness{}

	echoL, err := listen("echo backend", o.echoAddr, echo.Handler())
	if err != nil {
		return err
	}
	echoURL := "http://" + echoL.ln.Addr().String()

	o.accessLogOut = stdout
	if o.debugger, err = newDebugger(o, withGateway); err != nil {
		return err
	}
	gw, err := newBuiltinGateway(ctx, o, log, st, reg, ready, withGateway)
	if err != nil {
		return err
	}
	rev, err := st.Revision(ctx)
	if err != nil {
		return err
	}
	// Self-hosted gateways long-poll /gateway/v1/config; the watcher wakes
	// them on local commits at once, on other replicas' through PostgreSQL
	// notifications, and polls the revision every second as a safety net.
	watcher := gwsync.NewWatcher(rev)
	go watcher.Listen(ctx, st, log) // PostgreSQL: other replicas' commits at once
	go watcher.Poll(ctx, st, time.Second)
	go runTelemetryRetention(ctx, st, o.telemetryRetention, log)
	onCommit := func(rev int64) {
		watcher.Set(rev)
		if gw != nil {
			gw.notify(rev)
		}
	}
	mcfg := mgmt.Config{Store: st, AdminToken: token, Logger: log, OnCommit: onCommit, GatewayURL: gatewayPublicURL(o), Version: versionString()}
	o.debugger.configureMgmt(&mcfg)
	m := mgmt.New(mcfg)
	seeded, err := m.Seed(ctx, echoURL)
	if err != nil {
		return err
	}
	if seeded {
		log.Info("default objects seeded: groups, admin user, products starter and unlimited, Echo API")
	}

	mgmtMux := http.NewServeMux()
	syncSrv := gwsync.NewServer(st, watcher, log)
	syncSrv.SetTraces(o.debugger.traces) // traces of self-hosted gateways
	mgmtMux.Handle("/gateway/v1/", syncSrv)
	// Developer portal (own address) and admin console (management address,
	// beside /api/): both call the management API in-process.
	mailer := &web.Mailer{SMTP: smtpConfig(o), Log: log}
	dev := portal.New(portal.Config{Mgmt: m.Handler(), AdminToken: token, Store: st, GatewayURL: gatewayPublicURL(o),
		PublicURL: os.Getenv("PORTICO_PORTAL_URL"), Mailer: mailer, Logger: log})
	mgmtMux.Handle("/api/", m.Handler())
	// Session cookies are Secure over TLS, and behind a trusted proxy that
	// says (X-Forwarded-Proto: https) the browser came over TLS.
	mgmtMux.Handle("/", web.ForwardedTLS(o.trustedProxies, console.New(console.Config{Mgmt: m.Handler(), AdminToken: token, Store: st, Mailer: mailer, Logger: log,
		PortalURL: publicURL(os.Getenv("PORTICO_PORTAL_URL"), o.portalAddr), GatewayURL: gatewayPublicURL(o)}).Handler()))
	mgmtL, err := listen("management API", o.mgmtAddr, mgmtMux)
	if err != nil {
		return err
	}
	if mgmtTLSConfig != nil {
		mgmtL.srv.TLSConfig, mgmtL.https = mgmtTLSConfig, true
	}
	opsL, err := listen("ops", o.opsAddr, opsHandler(reg, ready))
	if err != nil {
		return err
	}
	portalL, err := listen("developer portal", o.portalAddr, web.ForwardedTLS(o.trustedProxies, dev.Handler()))
	if err != nil {
		return err
	}
	servers := []*listener{echoL, mgmtL, opsL, portalL}
	if gw != nil {
		gwL, err := gw.listen()
		if err != nil {
			return err
		}
		servers = append(servers, gwL)
	}

	errc := startServers(servers)
	if gw != nil {
		gw.start(ctx)
	}

	fmt.Fprintf(stdout, "Portico %s is running (store: %s, data: %s)\n", versionString(), st.Dialect(), o.dataDir)
	fmt.Fprintf(stdout, "  management API    %s/api/v1   (admin token: %s)\n", mgmtL.url(), tokenSource)
	if gw != nil {
		fmt.Fprintf(stdout, "  gateway           %s         (Echo API: %s/echo/resource)\n", servers[len(servers)-1].url(), servers[len(servers)-1].url())
	} else {
		fmt.Fprintf(stdout, "  gateway           none (mgmt mode: run self-hosted gateways)\n")
	}
	fmt.Fprintf(stdout, "  ops               %s/metrics  /healthz  /readyz\n", opsL.url())
	fmt.Fprintf(stdout, "  developer portal  %s/\n", portalL.url())
	fmt.Fprintf(stdout, "  admin console     %s/          (sign in with the admin token)\n", mgmtL.url())
	if tokenCreated {
		fmt.Fprintf(stdout, "Admin token (shown once; also in %s): %s\n", tokenSource, token)
	}
	if tokenSource != "PORTICO_ADMIN_TOKEN" {
		fmt.Fprintf(stdout, "Get the Starter key:  curl -s -X POST -H \"Authorization: Bearer $(cat %s)\" %s/api/v1/subscriptions/admin-starter/listSecrets\n",
			tokenSource, mgmtL.url())
	} else {
		fmt.Fprintf(stdout, "Get the Starter key:  curl -s -X POST -H \"Authorization: Bearer $PORTICO_ADMIN_TOKEN\" %s/api/v1/subscriptions/admin-starter/listSecrets\n", mgmtL.url())
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", o.shutdown)
	case runErr = <-errc:
		log.Error("server failed; shutting down", "err", runErr)
	}
	syncSrv.Close() // answer held long-polls now
	stopServers(servers, o.shutdown, log)
	if gw != nil {
		gw.stop()
	}
	log.Info("stopped")
	return runErr
}

// gatewayPublicURL is the gateway's URL as shown to people and written into
// exported OpenAPI documents.
func gatewayPublicURL(o *options) string {
	if v := os.Getenv("PORTICO_GATEWAY_URL"); v != "" {
		return v
	}
	host, port, err := net.SplitHostPort(o.gatewayAddr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// smtpConfig configures the portal's e-mail delivery from --smtp-addr,
// --smtp-from, --smtp-username and --smtp-password (or their PORTICO_SMTP_*
// variables); nil (messages only logged and kept in the console's outbox)
// when no server is set.
func smtpConfig(o *options) *web.SMTPConfig {
	if o.smtpAddr == "" {
		return nil
	}
	return &web.SMTPConfig{Addr: o.smtpAddr, From: o.smtpFrom, Username: o.smtpUsername, Password: o.smtpPassword}
}

// publicURL is explicit when set, else http://localhost:<port> of addr.
func publicURL(explicit, addr string) string {
	if explicit != "" {
		return explicit
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
