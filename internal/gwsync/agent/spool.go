package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/telemetry"
)

// DefaultTelemetryBufferBytes bounds the on-disk telemetry buffer.
const DefaultTelemetryBufferBytes = telemetry.DefaultSpoolBytes

// spoolDir is the telemetry buffer's directory inside the backup dir.
const spoolDir = "telemetry"

// initTelemetry opens the telemetry buffer in the backup dir (a
// telemetry.Spool: every batch is on disk, synced, before the queue moves
// on) and registers its metrics.
func (a *Agent) initTelemetry() error {
	a.tm = a.cfg.TelemetryMetrics
	if a.tm == nil {
		var err error
		if a.tm, err = telemetry.NewMetrics(a.token.GatewayID, nil); err != nil {
			return err
		}
	}
	if a.cfg.TelemetryBufferBytes <= 0 {
		a.cfg.TelemetryBufferBytes = DefaultTelemetryBufferBytes
	}
	a.mUploaded = prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_telemetry_uploaded_records_total", Help: "Request records the management plane acknowledged."})
	if a.cfg.Registerer != nil {
		if err := a.cfg.Registerer.Register(a.mUploaded); err != nil {
			return err
		}
	}
	var err error
	a.spool, err = telemetry.OpenSpool(telemetry.SpoolConfig{Dir: filepath.Join(a.cfg.BackupDir, spoolDir), MaxBytes: a.cfg.TelemetryBufferBytes,
		Metrics: a.tm, Registerer: a.cfg.Registerer, Logger: a.log})
	return err
}

// Ship implements telemetry.Shipper: it writes b to the on-disk buffer,
// from which the agent sends it to the management plane.
func (a *Agent) Ship(_ context.Context, b *telemetry.Batch) error {
	b.GatewayID = a.token.GatewayID
	if b.InstanceID == "" {
		b.InstanceID = a.instance
	}
	return a.spool.Add(b)
}

// sendTelemetry posts one buffered batch (gzip-compressed JSON).
func (a *Agent) sendTelemetry(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req := a.request(ctx, http.MethodPost, "/gateway/v1/telemetry", nil, body)
	req.Header.Set("Content-Encoding", "gzip")
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusOK:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		err := readAuthError(res)
		if ae, ok := err.(*authError); ok {
			a.reportAuth(ae)
		}
		return err
	case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusRequestEntityTooLarge || res.StatusCode == http.StatusUnsupportedMediaType:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return fmt.Errorf("%w by the management plane: %s: %s", telemetry.ErrRejected, res.Status, strings.TrimSpace(string(msg)))
	default:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return fmt.Errorf("management plane answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
}

// uploadTelemetry sends buffered batches, oldest first, until ctx ends;
// failures back off (1 s doubling to MaxBackoff). When ctx ends it tries
// for a few seconds more to empty the buffer; what remains is sent by the
// next run.
func (a *Agent) uploadTelemetry(ctx context.Context) {
	a.spool.Forward(ctx, a.sendTelemetry, telemetry.ForwardOptions{MinBackoff: time.Second, MaxBackoff: a.cfg.MaxBackoff,
		FinalDrain: 3 * time.Second, Delivered: func(n int) { a.mUploaded.Add(float64(n)) }})
}
