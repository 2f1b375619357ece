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
	"github.com/portico-gw/portico/internal/lifecycle"
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
//
// Its components start in this order and stop in the reverse one, within
// --shutdown-timeout: the management plane's HTTP client, the counters,
// span exporter and gateway of setupGateway, the agent (which sends a last
// heartbeat as it stops), the request-record queue (whose last records go
// to the agent's buffer) and the servers.
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
	lc := lifecycle.New(log, o.shutdown)
	defer lc.Stop() //nolint:errcheck // releases what the wiring acquired when it fails; a no-op after the Stop below
	// Stopped after the agent: closes its connections to the management
	// plane (one dialled for a call cancelled by the stop included).
	lc.Add("management client", nil, func(context.Context) error { client.CloseIdleConnections(); return nil })

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
	counter := &countRequests{}
	g, err := setupGateway(ctx, lc, o, log, reg, gatewaySpec{
		id: tok.GatewayID, telemetry: tq, hostnameTLS: true,
		// Policy debugger traces go to the management plane through the
		// agent (POST /gateway/v1/traces); debug tokens are checked with the
		// key of the gateway's configuration.
		configure: func(c *gateway.Config) {
			c.Traces, c.TraceLocation = traceSinkFunc(func(t *trace.Trace) { shipTo.Put(t) }), agent.TraceLocation(o.mgmtURL)
		},
		wrap: func(h http.Handler) http.Handler { counter.h = h; return counter },
	})
	if err != nil {
		return err
	}
	hostname, _ := os.Hostname()
	ag, err := agent.New(agent.Config{
		MgmtURL: o.mgmtURL, Token: o.token, BackupDir: backupDir, Gateway: g.gw, OnConfig: g.redisKeys.config, HTTPClient: client,
		Logger: log, Registerer: reg, Version: versionString(), Hostname: hostname, Requests: counter.n.Load,
		TelemetryMetrics: tq.Metrics(),
	})
	if err != nil {
		return err
	}
	shipTo = ag
	if err := ag.Restore(ctx); err != nil {
		log.Error("cannot restore the configuration backup; waiting for the management plane", "dir", backupDir, "err", err)
	}
	ready.add("gateway", func() error {
		if g.gw.Snapshot() == nil {
			return errors.New("no configuration yet: neither a backup nor the management plane")
		}
		return nil
	})
	lc.Go("gateway agent", ag.Run) // syncs and heartbeats; sends the stop heartbeat and what is buffered as it stops
	// Its context is not ctx: records of draining requests still count; the
	// last ones go to the buffer, which the agent tries to send as it stops.
	lc.Go("request records", tq.Run)
	errc := make(chan error, 1) // the first server that fails
	srvs := newServers(log, errc)
	srvs.add(g.listeners...)
	opsL := newListener("ops", o.opsAddr, opsHandler(reg, ready))
	srvs.add(opsL)
	lc.Add("servers", srvs.start, srvs.stop)
	if err := lc.Start(ctx); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "Portico %s self-hosted gateway %q (instance %s)\n", versionString(), tok.GatewayID, ag.InstanceID())
	fmt.Fprintf(stdout, "  gateway           %s\n", g.listeners[0].url())
	if len(g.listeners) > 1 {
		fmt.Fprintf(stdout, "  gateway (TLS)     %s  (certificates of the hostname configurations)\n", g.listeners[1].url())
	}
	fmt.Fprintf(stdout, "  ops               %s/metrics  /healthz  /readyz\n", opsL.url())
	fmt.Fprintf(stdout, "  management plane  %s (token expires %s)\n", o.mgmtURL, tok.Expiry.Format(time.RFC3339))
	fmt.Fprintf(stdout, "  backup            %s\n", backupDir)

	runErr := waitForShutdown(ctx, errc, o, log)
	_ = lc.Stop() // each incomplete stop is logged
	log.Info("stopped")
	return runErr
}
