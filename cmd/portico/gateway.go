package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
)

// gatewaySpec is what differs between the built-in gateway of portico
// serve and a self-hosted gateway; setupGateway does the rest, from the
// flags.
type gatewaySpec struct {
	id         string           // gateway id: model.ManagedGatewayID, or the token's
	instanceID string           // names this process in request records ("": the agent's uploads say)
	telemetry  *telemetry.Queue // where request records go; nil: none (--telemetry=false)
	// configure sets what only one command sets (policy debugger, portal
	// origins, trace sink); nil: nothing.
	configure func(*gateway.Config)
	// wrap wraps the gateway's handler in the servers (request counting);
	// nil: the gateway itself.
	wrap func(http.Handler) http.Handler
	// hostnameTLS serves --gateway-tls-addr with the certificates of the
	// gateway's hostname configurations (self-hosted gateways).
	hostnameTLS bool
}

// gatewaySetup is a gateway wired from the flags, with its listeners (not
// bound yet: add them to the process's servers).
type gatewaySetup struct {
	gw        *gateway.Gateway
	listeners []*listener // --gateway-addr, then --gateway-tls-addr when served
	// redisKeys sets the Redis key prefix of the counters and cache from
	// each configuration's installation id: snapshot sources call its
	// config before the gateway loads a configuration.
	redisKeys *redisPrefixer
}

// setupGateway builds the gateway of serve and of portico gateway from the
// flags: rate-limit counters and cache (--redis), the OTLP exporter, the
// gateway.Config (limits, timeouts, --tls-cert), and the listeners of
// --gateway-addr (TLS with --tls-cert, the HTTP/1 framing guard otherwise)
// and, with spec.hostnameTLS, --gateway-tls-addr. It adds to lc, in this
// order, the counters, the span exporter and the gateway (whose stop closes
// idle backend connections): what the caller adds afterwards (queues,
// reloader, agent, servers) stops before them.
func setupGateway(ctx context.Context, lc *lifecycle.Group, o *options, log *slog.Logger, reg prometheus.Registerer, spec gatewaySpec) (*gatewaySetup, error) {
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("gateway: --tls-cert and --tls-key must be given together")
	}
	var certs []tls.Certificate // --tls-cert: the listener's certificate, the default of --gateway-tls-addr
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("gateway: load TLS certificate: %w", err)
		}
		certs = []tls.Certificate{cert}
	}
	counters, cache, closeCounters, err := newCounters(ctx, o, log, reg)
	if err != nil {
		return nil, err
	}
	lc.Add("rate-limit counters", nil, func(context.Context) error { closeCounters(); return nil })
	spans, err := newSpanExporter(o, log, reg)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	spans.register(lc) // after the servers stopped: sends the last spans
	gcfg := gateway.Config{
		InstanceID: spec.instanceID,
		Counters:   counters,
		Cache:      cache,
		GatewayID:  spec.id,
		PublicURL:  gatewayPublicURL(o),
		Logger:     log,
		Registerer: reg,

		ConnectTimeout:        o.backendConnectTimeout,
		ResponseHeaderTimeout: o.backendTimeout,
		RequestTimeout:        o.requestTimeout,
		MaxHeaderBytes:        o.maxHeaderBytes,
		MaxRequestBodyBytes:   o.maxBodyBytes,
		BodyReadTimeout:       gatewayBodyReadTimeout(o),
		TraceRedactHeaders:    o.traceRedactHeaders,
	}
	if spec.configure != nil {
		spec.configure(&gcfg)
	}
	spans.configure(&gcfg)
	gw, err := gateway.New(withTelemetry(gcfg, spec.telemetry))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	lc.Add("gateway", nil, func(context.Context) error { gw.Close(); return nil })

	var h http.Handler = gw
	if spec.wrap != nil {
		h = spec.wrap(gw)
	}
	// HTTP/2 is negotiated over TLS, h2c accepted otherwise.
	srv := gw.NewServer()
	srv.Handler = h
	gl := &listener{name: "gateway", addr: o.gatewayAddr, srv: srv}
	if certs != nil {
		srv.TLSConfig, gl.https = &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}, true
	} else {
		gl.wrap = gateway.WrapListener // the HTTP/1 framing guard (cleartext only)
	}
	g := &gatewaySetup{gw: gw, listeners: []*listener{gl}, redisKeys: newRedisPrefixer(o, log, counters, cache)}
	if spec.hostnameTLS && o.gatewayTLS != "" {
		tsrv := gw.NewServer()
		tsrv.Handler = h
		tsrv.TLSConfig = gw.TLSConfig(certs)
		g.listeners = append(g.listeners, &listener{name: "gateway (TLS)", addr: o.gatewayTLS, srv: tsrv, https: true})
	}
	return g, nil
}

// builtinGateway is the gateway of "portico serve": it serves every API
// (gateway id "managed") from snapshots built in-process from the store,
// rebuilt after each committed change and every 30 s.
type builtinGateway struct {
	*gatewaySetup
	reloader *gateway.Reloader
}

// newBuiltinGateway wires the built-in gateway and adds its components to
// lc: those of setupGateway, then the telemetry spool (retrying the
// batches the store refused), the request-record queue and the snapshot
// reloader, which therefore stop in the reverse order, after the servers
// the caller adds. Its readiness check fails until a first snapshot is
// loaded.
func newBuiltinGateway(ctx context.Context, lc *lifecycle.Group, o *options, log *slog.Logger, st store.Store, reg *prometheus.Registry, ready *readiness) (*builtinGateway, error) {
	var tq *telemetry.Queue
	var spool *telemetry.SpoolShipper
	if !o.noTelemetry {
		tm, err := telemetry.NewMetrics(model.ManagedGatewayID, reg)
		if err != nil {
			return nil, fmt.Errorf("telemetry: %w", err)
		}
		var shipper telemetry.Shipper
		if shipper, spool, err = storeShipper(o, log, reg, st, tm); err != nil {
			return nil, err
		}
		if tq, err = newTelemetryQueue(o, log, reg, telemetry.QueueConfig{GatewayID: model.ManagedGatewayID, InstanceID: hostname(),
			Shipper: shipper, Metrics: tm}); err != nil {
			return nil, err
		}
	} else {
		log.Warn("request records are off (--telemetry=false): no reports, no access log")
	}
	g, err := setupGateway(ctx, lc, o, log, reg, gatewaySpec{
		id: model.ManagedGatewayID, instanceID: hostname(), telemetry: tq,
		configure: func(c *gateway.Config) {
			c.PortalOrigins = portalOrigins(o)
			o.debugger.configure(c)
		},
	})
	if err != nil {
		return nil, err
	}
	if spool != nil {
		lc.Go("telemetry spool", spool.Run) // a last short try to store what is spooled; the rest waits for the next start
	}
	if tq != nil {
		// Its context is not serve's: records of draining requests still
		// count; it ships the last ones as it stops.
		lc.Go("request records", tq.Run)
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
		return fromstore.Load(ctx, st, model.ManagedGatewayID)
	}
	b := &builtinGateway{gatewaySetup: g, reloader: gateway.NewReloader(g.gw, g.redisKeys.source(src), gateway.DefaultReloadInterval)}
	lc.Go("config reloader", b.reloader.Run)
	ready.add("gateway", func() error {
		if g.gw.Snapshot() == nil {
			return errors.New("no configuration snapshot loaded yet")
		}
		return nil
	})
	return b, nil
}

// notify hears of a committed revision; it never blocks.
func (b *builtinGateway) notify(rev int64) { b.reloader.Notify(rev) }

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
