package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/telemetry"
)

// Telemetry defaults.
const (
	defaultTelemetryRetention = 30 * 24 * time.Hour
	// pruneEvery is how often the management plane deletes request records
	// older than --telemetry-retention.
	pruneEvery = 10 * time.Minute
)

// newTelemetryQueue builds the request-record queue of a gateway from cfg
// (gateway and instance ids, shipper, shared metrics, flush interval):
// records go to cfg.Shipper and, with --access-log, one JSON line each to
// o.accessLogOut.
func newTelemetryQueue(o *options, log *slog.Logger, reg prometheus.Registerer, cfg telemetry.QueueConfig) (*telemetry.Queue, error) {
	cfg.Registerer, cfg.Logger = reg, log
	if o.accessLog {
		cfg.AccessLog = o.accessLogOut
		if cfg.AccessLog == nil {
			cfg.AccessLog = os.Stdout
		}
	}
	q, err := telemetry.NewQueue(cfg)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	return q, nil
}

// telemetrySpoolDir is where portico serve keeps the batches of request
// records its store refused, until the store takes them.
const telemetrySpoolDir = "telemetry"

// storeShipper ships batches into the store (the built-in gateway's path).
// Batches the store refuses (it is down) wait in <data-dir>/telemetry and
// are retried until it takes them; run the returned SpoolShipper to retry.
// Without a data dir (tests) there is no spool and the SpoolShipper is nil.
func storeShipper(o *options, log *slog.Logger, reg prometheus.Registerer, st store.Store, m *telemetry.Metrics) (telemetry.Shipper, *telemetry.SpoolShipper, error) {
	direct := telemetry.ShipperFunc(func(ctx context.Context, b *telemetry.Batch) error {
		_, err := st.IngestBatch(ctx, b)
		return err
	})
	if o.dataDir == "" {
		return direct, nil, nil
	}
	sp, err := telemetry.OpenSpool(telemetry.SpoolConfig{Dir: filepath.Join(o.dataDir, telemetrySpoolDir), Metrics: m, Registerer: reg, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	ss := telemetry.NewSpoolShipper(direct, sp, log)
	return ss, ss, nil
}

// hostname names this process in telemetry records.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "portico"
	}
	return h
}

// runTelemetryRetention deletes request records, rollups and batch ids
// older than retention now and every pruneEvery until ctx ends; a
// retention of 0 keeps everything.
func runTelemetryRetention(ctx context.Context, st store.Store, retention time.Duration, log *slog.Logger) {
	if retention <= 0 {
		return
	}
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		n, err := st.PruneTelemetry(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("telemetry retention: pruning failed", "err", err)
		case n > 0:
			log.Info("telemetry retention: old request records deleted", "records", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retentionFlag is a duration flag that also accepts whole days ("30d").
type retentionFlag struct{ d *time.Duration }

func (f retentionFlag) String() string {
	if f.d == nil {
		return ""
	}
	if *f.d%(24*time.Hour) == 0 && *f.d > 0 {
		return strconv.FormatInt(int64(*f.d/(24*time.Hour)), 10) + "d"
	}
	return f.d.String()
}

func (f retentionFlag) Set(v string) error {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("must be a number of days such as 30d, or a duration such as 720h, got %q", v)
		}
		*f.d = time.Duration(n) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("must be a number of days such as 30d, or a duration such as 720h, got %q", v)
	}
	*f.d = d
	return nil
}
