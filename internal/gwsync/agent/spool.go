package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/telemetry"
)

// DefaultTelemetryBufferBytes bounds the on-disk telemetry buffer.
const DefaultTelemetryBufferBytes = 64 << 20

// spoolDir is the telemetry buffer's directory inside the backup dir.
const spoolDir = "telemetry"

// spool is the bounded on-disk buffer of telemetry batches waiting to be
// sent: one gzip-compressed JSON file per batch, named
// <sequence>-<records>-<batch id>.json.gz so that they are sent in order
// and a dropped file is counted without reading it. Files are written
// atomically and removed once the management plane acknowledged them;
// batches keep their id, so one sent twice (an acknowledgement lost) is
// counted once. Beyond maxBytes the oldest batches are dropped.
type spool struct {
	dir      string
	maxBytes int64
	m        *telemetry.Metrics
	bytes    prometheus.Gauge

	mu    sync.Mutex
	files []spoolFile // oldest first
	size  int64
	seq   uint64
	wake  chan struct{}
}

type spoolFile struct {
	name    string
	size    int64
	records int
}

func parseSpoolName(name string) (seq uint64, records int, ok bool) {
	base, found := strings.CutSuffix(name, ".json.gz")
	if !found {
		return 0, 0, false
	}
	parts := strings.SplitN(base, "-", 3)
	if len(parts) != 3 || !telemetry.ValidBatchID(parts[2]) {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(parts[0], 10, 64)
	n, err2 := strconv.Atoi(parts[1])
	return seq, n, err1 == nil && err2 == nil
}

// openSpool opens (creating) the buffer in dir and lists the batches left
// by a previous run.
func openSpool(dir string, maxBytes int64, m *telemetry.Metrics, bytesGauge prometheus.Gauge) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("telemetry buffer: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("telemetry buffer: %w", err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, m: m, bytes: bytesGauge, wake: make(chan struct{}, 1)}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") { // an interrupted write
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		seq, n, ok := parseSpoolName(e.Name())
		info, err := e.Info()
		if !ok || err != nil || !e.Type().IsRegular() {
			continue
		}
		s.files = append(s.files, spoolFile{name: e.Name(), size: info.Size(), records: n})
		s.size += info.Size()
		s.seq = max(s.seq, seq)
	}
	slices.SortFunc(s.files, func(a, b spoolFile) int { return strings.Compare(a.name, b.name) })
	s.bytes.Set(float64(s.size))
	return s, nil
}

// add writes b as the newest batch and drops the oldest ones beyond the
// bound.
func (s *spool) add(b *telemetry.Batch) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	name := fmt.Sprintf("%020d-%d-%s.json.gz", s.seq, len(b.Records), b.ID)
	if err := writeAtomic(filepath.Join(s.dir, name), buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("telemetry buffer: %w", err)
	}
	s.files = append(s.files, spoolFile{name: name, size: int64(buf.Len()), records: len(b.Records)})
	s.size += int64(buf.Len())
	for s.size > s.maxBytes && len(s.files) > 1 {
		old := s.files[0]
		_ = os.Remove(filepath.Join(s.dir, old.name))
		s.files = s.files[1:]
		s.size -= old.size
		s.m.Dropped(telemetry.DropBufferFull, old.records)
	}
	s.bytes.Set(float64(s.size))
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// oldest returns the oldest batch file, if any.
func (s *spool) oldest() (spoolFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) == 0 {
		return spoolFile{}, false
	}
	return s.files[0], true
}

// remove forgets a sent (or refused) batch file.
func (s *spool) remove(f spoolFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.files, func(x spoolFile) bool { return x.name == f.name })
	if i < 0 {
		return // dropped meanwhile
	}
	_ = os.Remove(filepath.Join(s.dir, f.name))
	s.files = slices.Delete(s.files, i, i+1)
	s.size -= f.size
	s.bytes.Set(float64(s.size))
}

// initTelemetry opens the telemetry buffer in the backup dir and registers
// its metrics.
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
	buffered := prometheus.NewGauge(prometheus.GaugeOpts{Name: "portico_telemetry_buffer_bytes", Help: "Size of the on-disk buffer of telemetry batches waiting to be sent."})
	if a.cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{a.mUploaded, buffered} {
			if err := a.cfg.Registerer.Register(c); err != nil {
				return err
			}
		}
	}
	var err error
	a.spool, err = openSpool(filepath.Join(a.cfg.BackupDir, spoolDir), a.cfg.TelemetryBufferBytes, a.tm, buffered)
	return err
}

// Ship implements telemetry.Shipper: it writes b to the on-disk buffer,
// from which the agent sends it to the management plane.
func (a *Agent) Ship(_ context.Context, b *telemetry.Batch) error {
	b.GatewayID = a.token.GatewayID
	if b.InstanceID == "" {
		b.InstanceID = a.instance
	}
	return a.spool.add(b)
}

// errRejected marks a batch the management plane will never accept.
type errRejected struct{ status string }

func (e errRejected) Error() string { return "the management plane refused the batch: " + e.status }

// sendTelemetry posts one buffered batch.
func (a *Agent) sendTelemetry(ctx context.Context, f spoolFile) error {
	body, err := os.ReadFile(filepath.Join(a.spool.dir, f.name))
	if err != nil {
		return errRejected{status: "unreadable buffer file: " + err.Error()}
	}
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
		return errRejected{status: res.Status + ": " + strings.TrimSpace(string(msg))}
	default:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return fmt.Errorf("management plane answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
}

// uploadTelemetry sends buffered batches, oldest first, until ctx ends;
// failures back off (1 s doubling to MaxBackoff). When ctx ends it makes
// one last short attempt to empty the buffer; what remains is sent by the
// next run.
func (a *Agent) uploadTelemetry(ctx context.Context) {
	backoff := time.Second
	for {
		f, ok := a.spool.oldest()
		if !ok {
			select {
			case <-a.spool.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			a.drainTelemetry()
			return
		}
		err := a.sendTelemetry(ctx, f)
		var rej errRejected
		switch {
		case err == nil:
			a.spool.remove(f)
			a.mUploaded.Add(float64(f.records))
			backoff = time.Second
			continue
		case asRejected(err, &rej):
			a.log.Error("telemetry batch refused by the management plane; dropped", "file", f.name, "records", f.records, "err", err)
			a.spool.remove(f)
			a.tm.Dropped(telemetry.DropRejected, f.records)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		a.tm.ShipFailed()
		a.log.Debug("telemetry not delivered; kept in the buffer", "file", f.name, "err", err)
		if !sleep(ctx, jitter(backoff)) {
			a.drainTelemetry()
			return
		}
		backoff = min(2*backoff, a.cfg.MaxBackoff)
	}
}

// drainTelemetry tries, for a few seconds, to send what is buffered.
func (a *Agent) drainTelemetry() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		f, ok := a.spool.oldest()
		if !ok {
			return
		}
		err := a.sendTelemetry(ctx, f)
		var rej errRejected
		switch {
		case err == nil:
			a.spool.remove(f)
			a.mUploaded.Add(float64(f.records))
		case asRejected(err, &rej):
			a.spool.remove(f)
			a.tm.Dropped(telemetry.DropRejected, f.records)
		default:
			return // unreachable: keep the rest for the next run
		}
	}
}

func asRejected(err error, target *errRejected) bool {
	r, ok := err.(errRejected)
	if ok {
		*target = r
	}
	return ok
}
