package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
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

// newTelemetryQueue builds the request-record queue of a gateway: records
// go to shipper and, with --access-log, one JSON line each to o.accessLogOut.
func newTelemetryQueue(o *options, log *slog.Logger, reg prometheus.Registerer, gatewayID, instanceID string, shipper telemetry.Shipper) (*telemetry.Queue, error) {
	cfg := telemetry.QueueConfig{GatewayID: gatewayID, InstanceID: instanceID, Shipper: shipper, Registerer: reg, Logger: log}
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

// storeShipper ships batches straight into the store (the built-in
// gateway's path).
func storeShipper(st store.Store) telemetry.Shipper {
	return telemetry.ShipperFunc(func(ctx context.Context, b *telemetry.Batch) error {
		_, err := st.IngestBatch(ctx, b)
		return err
	})
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
