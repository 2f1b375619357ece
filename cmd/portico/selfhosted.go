package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/gwsync/agent"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/trace"
)

// mgmtClient is the HTTP client towards the management plane, trusting
// --mgmt-ca in addition to the system roots when given.
func mgmtClient(caFile string) (*http.Client, error) {
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout: 90 * time.Second, MaxIdleConnsPerHost: 4}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--mgmt-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--mgmt-ca %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// countRequests counts the requests a handler serves, for heartbeats.
type countRequests struct {
	h http.Handler
	n atomic.Int64
}

func (c *countRequests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// selfHostedFlushInterval is how long a self-hosted gateway's request
// records wait in memory, at most, before their batch is written (and
// synced) to the on-disk buffer.
const selfHostedFlushInterval = 500 * time.Millisecond

// runSelfHosted runs "portico gateway": a gateway fed by a remote
// management plane, serving from its backup when that plane is unreachable.
func runSelfHosted(ctx context.Context, o *options, log *slog.Logger, stdout io.Writer) error {
	if o.mgmtURL == "" {
		return errors.New("--mgmt-url (or PORTICO_MGMT_URL) is required: the URL of the management plane, e.g. https://portico-mgmt.example.com:8001")
	}
	if o.token == "" {
		return errors.New("--token (or PORTICO_GATEWAY_TOKEN) is required: create one with POST /api/v1/gateways/{id}/generateToken")
	}
	tok, err := gwsync.ParseToken(o.token)
	if err != nil {
		return fmt.Errorf("--token: %w", err)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key must be given together")
	}
	backupDir := o.backupDir
	if backupDir == "" {
		backupDir = filepath.Join(o.dataDir, "gateway-backup")
	}
	client, err := mgmtClient(o.mgmtCA)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ready := &readiness{}
	counters, cache, closeCounters, err := newCounters(ctx, o, log, reg)
	if err != nil {
		return err
	}
	defer closeCounters()
	// Request records go to the agent's on-disk buffer, which sends them to
	// the management plane (POST /gateway/v1/telemetry).
	var shipTo *agent.Agent // set below, before the queue runs
	// Batches are flushed every half second, so that a record is on disk
	// well within a second of its request: a crash loses at most that.
	tq, err := newTelemetryQueue(o, log, reg, telemetry.QueueConfig{GatewayID: tok.GatewayID, FlushInterval: selfHostedFlushInterval,
		Shipper: telemetry.ShipperFunc(func(ctx context.Context, b *telemetry.Batch) error { return shipTo.Ship(ctx, b) })})
	if err != nil {
		return err
	}
	spans, err := newSpanExporter(o, log, reg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	gcfg := gateway.Config{
		Telemetry: tq,
		Counters:  counters,
		Cache:     cache,
		GatewayID: tok.GatewayID, PublicURL: gatewayPublicURL(o), Logger: log, Registerer: reg,
		ConnectTimeout: o.backendConnectTimeout, ResponseHeaderTimeout: o.backendTimeout, RequestTimeout: o.requestTimeout,
		MaxHeaderBytes: o.maxHeaderBytes, MaxRequestBodyBytes: o.maxBodyBytes, BodyReadTimeout: gatewayBodyReadTimeout(o),
		TraceRedactHeaders: o.traceRedactHeaders,
	}
	// Policy debugger traces go to the management plane through the agent
	// (POST /gateway/v1/traces); debug tokens are checked with the key of
	// the gateway's configuration.
	gcfg.Traces, gcfg.TraceLocation = traceSinkFunc(func(t *trace.Trace) { shipTo.Put(t) }), agent.TraceLocation(o.mgmtURL)
	spans.configure(&gcfg)
	spans.start()
	defer spans.stop() // after the servers shut down: sends the last spans
	gw, err := gateway.New(gcfg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	defer gw.Close()
	hostname, _ := os.Hostname()
	counter := &countRequests{h: gw}
	ag, err := agent.New(agent.Config{
		MgmtURL: o.mgmtURL, Token: o.token, BackupDir: backupDir, Gateway: gw, HTTPClient: client,
		Logger: log, Registerer: reg, Version: versionString(), Hostname: hostname, Requests: counter.n.Load,
		TelemetryMetrics: tq.Metrics(),
	})
	if err != nil {
		return err
	}
	shipTo = ag
	telemetryCtx, stopTelemetry := context.WithCancel(context.Background())
	defer stopTelemetry()
	telemetryDone := make(chan struct{})
	go func() {
		defer close(telemetryDone)
		tq.Run(telemetryCtx)
	}()
	if err := ag.Restore(ctx); err != nil {
		log.Error("cannot restore the configuration backup; waiting for the management plane", "dir", backupDir, "err", err)
	}
	ready.add("gateway", func() error {
		if gw.Snapshot() == nil {
			return errors.New("no configuration yet: neither a backup nor the management plane")
		}
		return nil
	})

	srv := gw.NewServer()
	srv.Handler = counter
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	gwL, err := listen("gateway", o.gatewayAddr, nil)
	if err != nil {
		return err
	}
	gwL.srv, gwL.https = srv, srv.TLSConfig != nil
	if !gwL.https {
		gwL.ln = gateway.WrapListener(gwL.ln) // the HTTP/1 framing guard (cleartext only)
	}
	opsL, err := listen("ops", o.opsAddr, opsHandler(reg, ready))
	if err != nil {
		return err
	}
	servers := []*listener{gwL, opsL}
	if o.gatewayTLS != "" {
		var fallback []tls.Certificate
		if o.tlsCert != "" {
			cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
			if err != nil {
				return fmt.Errorf("load TLS certificate: %w", err)
			}
			fallback = []tls.Certificate{cert}
		}
		tlsL, err := listen("gateway (TLS)", o.gatewayTLS, nil)
		if err != nil {
			return err
		}
		tsrv := gw.NewServer()
		tsrv.Handler = counter
		tsrv.TLSConfig = gw.TLSConfig(fallback)
		tlsL.srv, tlsL.https = tsrv, true
		servers = append(servers, tlsL)
	}
	errc := startServers(servers)
	agentCtx, stopAgent := context.WithCancel(context.Background())
	agentDone := make(chan struct{})
	go func() {
		defer close(agentDone)
		ag.Run(agentCtx)
	}()

	fmt.Fprintf(stdout, "Portico %s self-hosted gateway %q (instance %s)\n", versionString(), tok.GatewayID, ag.InstanceID())
	fmt.Fprintf(stdout, "  gateway           %s\n", gwL.url())
	if o.gatewayTLS != "" {
		fmt.Fprintf(stdout, "  gateway (TLS)     %s  (certificates of the hostname configurations)\n", servers[len(servers)-1].url())
	}
	fmt.Fprintf(stdout, "  ops               %s/metrics  /healthz  /readyz\n", opsL.url())
	fmt.Fprintf(stdout, "  management plane  %s (token expires %s)\n", o.mgmtURL, tok.Expiry.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  backup            %s\n", backupDir)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", o.shutdown)
	case runErr = <-errc:
		log.Error("server failed; shutting down", "err", runErr)
	}
	stopServers(servers, o.shutdown, log)
	stopTelemetry() // the last records go to the buffer, which the agent tries to send as it stops
	<-telemetryDone
	stopAgent() // sends the stop heartbeat
	<-agentDone
	log.Info("stopped")
	return runErr
}
