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
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/portal"
	"github.com/portico-gw/portico/internal/portal/web"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
)

// listener is one HTTP server of the process and its address, bound when
// the servers start.
type listener struct {
	name  string
	addr  string // to listen on
	srv   *http.Server
	https bool // srv.TLSConfig is set: serve TLS (read this, not TLSConfig, which net/http writes while serving)
	// wrap, when set, wraps the bound listener (the gateway's HTTP/1
	// framing guard).
	wrap func(net.Listener) net.Listener
	ln   net.Listener // set by bind
}

// newListener is a server of h on addr with the process's usual timeouts.
func newListener(name, addr string, h http.Handler) *listener {
	return &listener{name: name, addr: addr, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}}
}

func (l *listener) bind() error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", l.name, l.addr, err)
	}
	if l.wrap != nil {
		ln = l.wrap(ln)
	}
	l.ln = ln
	return nil
}

// url renders the bound address for people: localhost for wildcard hosts.
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

// servers are HTTP servers started and stopped together: one lifecycle
// component (add it with lc.Add(name, s.start, s.stop)).
type servers struct {
	log  *slog.Logger
	list []*listener
	errc chan<- error // the first server that fails (not one that was shut down)
	wg   sync.WaitGroup
}

// newServers returns an empty set reporting a failed server on errc
// (without blocking: give it room for one).
func newServers(log *slog.Logger, errc chan<- error) *servers {
	return &servers{log: log, errc: errc}
}

// add adds servers, to be bound and served when the set starts.
func (s *servers) add(ls ...*listener) { s.list = append(s.list, ls...) }

// start binds every address (closing those already bound when one fails),
// then serves each server in a goroutine of its own.
func (s *servers) start(context.Context) error {
	for i, l := range s.list {
		if err := l.bind(); err != nil {
			for _, b := range s.list[:i] {
				b.ln.Close()
			}
			return err
		}
	}
	for _, l := range s.list {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			var err error
			if l.https {
				err = l.srv.ServeTLS(l.ln, "", "")
			} else {
				err = l.srv.Serve(l.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				select {
				case s.errc <- fmt.Errorf("%s: %w", l.name, err):
				default:
				}
			}
		}()
	}
	return nil
}

// stop shuts every server down gracefully, together: they stop accepting
// connections and let in-flight requests finish until ctx ends, when the
// connections left are closed. It returns once every server has stopped
// serving.
func (s *servers) stop(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.list))
	for i, l := range s.list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.srv.Shutdown(ctx); err != nil {
				s.log.Warn("shutdown incomplete", "server", l.name, "err", err)
				errs[i] = fmt.Errorf("%s: %w", l.name, err)
				l.srv.Close()
			}
		}()
	}
	wg.Wait()
	s.wg.Wait()
	return errors.Join(errs...)
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
//
// Its components start in this order and stop in the reverse one, within
// --shutdown-timeout (docs/architecture.md, "Lifecycle"): the store, the
// echo backend, the revision watcher and the telemetry retention; with a
// gateway its counters, span exporter, gateway, telemetry spool, request
// record queue and snapshot reloader; the servers; the gateway sync server
// (stopped first: it answers held long-polls). Every goroutine has stopped
// when the store closes.
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
	lc := lifecycle.New(log, o.shutdown)
	defer lc.Stop() //nolint:errcheck // releases what the wiring acquired when it fails; a no-op after the Stop below
	st, err := openStore(ctx, o)
	if err != nil {
		return err
	}
	lc.Add("store", nil, func(context.Context) error { return st.Close() })
	log.Info("store opened", "dialect", st.Dialect())
	// The installation id, generated once per store, prefixes the Redis
	// keys of every gateway of this installation (--redis-prefix).
	installation, err := fromstore.EnsureInstallationID(ctx, st)
	if err != nil {
		return err
	}
	log.Info("installation", "id", installation)

	token, tokenSource, tokenCreated, err := adminToken(o)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ready := &readiness{}
	errc := make(chan error, 1) // the first server that fails

	// The echo backend serves before the seeding names its address.
	echoSrv := newServers(log, errc)
	echoL := newListener("echo backend", o.echoAddr, echo.Handler())
	echoSrv.add(echoL)
	lc.Add("echo backend", echoSrv.start, echoSrv.stop)
	if err := lc.Start(ctx); err != nil {
		return err
	}
	echoURL := "http://" + echoL.ln.Addr().String()

	rev, err := st.Revision(ctx)
	if err != nil {
		return err
	}
	// Self-hosted gateways long-poll /gateway/v1/config; the watcher wakes
	// them on local commits at once, on other replicas' through PostgreSQL
	// notifications, and polls the revision every second as a safety net.
	watcher := gwsync.NewWatcher(rev)
	lc.Go("revision notifications", func(ctx context.Context) { watcher.Listen(ctx, st, log) }) // PostgreSQL: other replicas' commits at once
	lc.Go("revision poll", func(ctx context.Context) { watcher.Poll(ctx, st, time.Second) })
	lc.Go("telemetry retention", func(ctx context.Context) { runTelemetryRetention(ctx, st, o.telemetryRetention, log) })

	o.accessLogOut = stdout
	if o.debugger, err = newDebugger(o, withGateway); err != nil {
		return err
	}
	var gw *builtinGateway
	if withGateway {
		if gw, err = newBuiltinGateway(ctx, lc, o, log, st, reg, ready); err != nil {
			return err
		}
	}
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
	mgmtL := newListener("management API", o.mgmtAddr, mgmtMux)
	if mgmtTLSConfig != nil {
		mgmtL.srv.TLSConfig, mgmtL.https = mgmtTLSConfig, true
	}
	opsL := newListener("ops", o.opsAddr, opsHandler(reg, ready))
	portalL := newListener("developer portal", o.portalAddr, web.ForwardedTLS(o.trustedProxies, dev.Handler()))
	srvs := newServers(log, errc)
	srvs.add(mgmtL, opsL, portalL)
	if gw != nil {
		srvs.add(gw.listeners...)
	}
	lc.Add("servers", srvs.start, srvs.stop)
	lc.Add("gateway sync", nil, func(context.Context) error { syncSrv.Close(); return nil }) // answers held long-polls before the servers wait for them
	if err := lc.Start(ctx); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Portico %s is running (store: %s, data: %s)\n", versionString(), st.Dialect(), o.dataDir)
	fmt.Fprintf(stdout, "  management API    %s/api/v1   (admin token: %s)\n", mgmtL.url(), tokenSource)
	if gw != nil {
		gwURL := gw.listeners[0].url()
		fmt.Fprintf(stdout, "  gateway           %s         (Echo API: %s/echo/resource)\n", gwURL, gwURL)
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

	runErr := waitForShutdown(ctx, errc, o, log)
	_ = lc.Stop() // each incomplete stop is logged
	log.Info("stopped")
	return runErr
}

// waitForShutdown waits until ctx ends (a signal) or a server fails, which
// it returns.
func waitForShutdown(ctx context.Context, errc <-chan error, o *options, log *slog.Logger) error {
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", o.shutdown)
		return nil
	case err := <-errc:
		log.Error("server failed; shutting down", "err", err)
		return err
	}
}

// openStore opens the store of --store (or the data dir's SQLite file)
// with o.openStore when set (tests), else store.Open.
func openStore(ctx context.Context, o *options) (store.Store, error) {
	dsn := o.store
	if dsn == "" {
		dsn = filepath.Join(o.dataDir, "portico.db")
	}
	if o.openStore != nil {
		return o.openStore(ctx, dsn)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return st, nil
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
