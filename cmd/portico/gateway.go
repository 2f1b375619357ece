package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
)

// builtinGateway is the gateway of "portico serve": it serves every API
// (gateway id "managed") from snapshots built in-process from the store,
// rebuilt after each committed change and every 30 s.
type builtinGateway struct {
	o        *options
	gw       *gateway.Gateway
	reloader *gateway.Reloader
	cancel   context.CancelFunc
	done     chan struct{}

	closeCounters func()
	spans         *spanExporter // nil without --otlp-endpoint

	telemetry *telemetry.Queue // request records to the store (and --access-log)
	tstop     context.CancelFunc
	tdone     chan struct{}
	spool     *telemetry.SpoolShipper // retries the batches the store refused; nil without a data dir
	sstop     context.CancelFunc
	sdone     chan struct{}
}

// newBuiltinGateway wires the built-in gateway; nil when !enabled. Its
// readiness check fails until a first snapshot is loaded.
func newBuiltinGateway(ctx context.Context, o *options, log *slog.Logger, st store.Store, reg *prometheus.Registry, ready *readiness, enabled bool) (*builtinGateway, error) {
	if !enabled {
		return nil, nil
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("gateway: --tls-cert and --tls-key must be given together")
	}
	counters, cache, closeCounters, err := newCounters(ctx, o, log, reg)
	if err != nil {
		return nil, err
	}
	var tq *telemetry.Queue
	var spool *telemetry.SpoolShipper
	if !o.noTelemetry {
		tm, err := telemetry.NewMetrics(fromstore.ManagedGatewayID, reg)
		if err != nil {
			return nil, fmt.Errorf("telemetry: %w", err)
		}
		var shipper telemetry.Shipper
		if shipper, spool, err = storeShipper(o, log, reg, st, tm); err != nil {
			return nil, err
		}
		if tq, err = newTelemetryQueue(o, log, reg, telemetry.QueueConfig{GatewayID: fromstore.ManagedGatewayID, InstanceID: hostname(),
			Shipper: shipper, Metrics: tm}); err != nil {
			return nil, err
		}
	} else {
		log.Warn("request records are off (--telemetry=false): no reports, no access log")
	}
	gcfg := gateway.Config{
		PortalOrigins: portalOrigins(o),
		InstanceID:    hostname(),
		Counters:      counters,
		Cache:         cache,
		GatewayID:     fromstore.ManagedGatewayID,
		PublicURL:     gatewayPublicURL(o),
		Logger:        log,
		Registerer:    reg,

		ConnectTimeout:        o.backendConnectTimeout,
		ResponseHeaderTimeout: o.backendTimeout,
		RequestTimeout:        o.requestTimeout,
		MaxHeaderBytes:        o.maxHeaderBytes,
		MaxRequestBodyBytes:   o.maxBodyBytes,
		BodyReadTimeout:       gatewayBodyReadTimeout(o),
		TraceRedactHeaders:    o.traceRedactHeaders,
	}
	o.debugger.configure(&gcfg)
	spans, err := newSpanExporter(o, log, reg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	spans.configure(&gcfg)
	gw, err := gateway.New(withTelemetry(gcfg, tq))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	src := func(ctx context.Context, have int64) (*snapshot.Config, error) {
		if have >= 0 {
			rev, err := st.Revision(ctx)
			if err != nil {
				return nil, err
			}
			if rev == have {
				return nil, nil
			}
		}
		return fromstore.Load(ctx, st, fromstore.ManagedGatewayID)
	}
	b := &builtinGateway{o: o, gw: gw, closeCounters: closeCounters, telemetry: tq, spool: spool, spans: spans, reloader: gateway.NewReloader(gw, src, gateway.DefaultReloadInterval)}
	ready.add("gateway", func() error {
		if gw.Snapshot() == nil {
			return errors.New("no configuration snapshot loaded yet")
		}
		return nil
	})
	return b, nil
}

// notify hears of a committed revision; it never blocks.
func (b *builtinGateway) notify(rev int64) { b.reloader.Notify(rev) }

// listen opens the gateway's listener, with TLS when --tls-cert and
// --tls-key are set (HTTP/2 is negotiated over TLS, h2c accepted otherwise).
func (b *builtinGateway) listen() (*listener, error) {
	srv := b.gw.NewServer()
	if b.o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(b.o.tlsCert, b.o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("gateway: load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", b.o.gatewayAddr)
	if err != nil {
		return nil, fmt.Errorf("gateway: listen on %s: %w", b.o.gatewayAddr, err)
	}
	if srv.TLSConfig == nil {
		ln = gateway.WrapListener(ln) // the HTTP/1 framing guard (cleartext only)
	}
	return &listener{name: "gateway", srv: srv, ln: ln, https: srv.TLSConfig != nil}, nil
}

// start runs the snapshot reloader until ctx ends or stop is called, and
// the telemetry queue until stop.
func (b *builtinGateway) start(ctx context.Context) {
	ctx, b.cancel = context.WithCancel(ctx)
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		b.reloader.Run(ctx)
	}()
	if b.telemetry != nil {
		var tctx context.Context
		tctx, b.tstop = context.WithCancel(context.Background()) // outlives ctx: records of draining requests still count
		b.tdone = make(chan struct{})
		go func() {
			defer close(b.tdone)
			b.telemetry.Run(tctx)
		}()
	}
	if b.spool != nil {
		var sctx context.Context
		sctx, b.sstop = context.WithCancel(context.Background())
		b.sdone = make(chan struct{})
		go func() {
			defer close(b.sdone)
			b.spool.Run(sctx)
		}()
	}
	b.spans.start()
}

// stop ends the reloader and closes idle backend connections; serve calls it
// after the servers have shut down.
func (b *builtinGateway) stop() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
	b.gw.Close()
	b.closeCounters()
	if b.tstop != nil {
		b.tstop() // ships the last records
		<-b.tdone
	}
	if b.sstop != nil {
		b.sstop() // a last short try to store what is spooled; the rest waits for the next start
		<-b.sdone
	}
	b.spans.stop()
}

// withTelemetry sets the gateway's telemetry sink when there is one (a nil
// *telemetry.Queue must not become a non-nil interface).
func withTelemetry(c gateway.Config, q *telemetry.Queue) gateway.Config {
	if q != nil {
		c.Telemetry = q
	}
	return c
}

// portalOrigins are the origins the developer portal is reached at: its
// public URL, and for a portal listening on every interface or on loopback
// both localhost and 127.0.0.1.
func portalOrigins(o *options) []string {
	if v := os.Getenv("PORTICO_PORTAL_URL"); v != "" {
		return []string{strings.TrimSuffix(v, "/")}
	}
	host, port, err := net.SplitHostPort(o.portalAddr)
	if err != nil {
		return nil
	}
	switch host {
	case "", "0.0.0.0", "::", "localhost", "127.0.0.1":
		return []string{"http://localhost:" + port, "http://127.0.0.1:" + port}
	}
	return []string{"http://" + net.JoinHostPort(host, port)}
}
