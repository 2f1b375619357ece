package telemetry

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Batch is a group of records shipped together. ID is stable: a batch sent
// again after a lost acknowledgement carries the same id, and the store
// counts it once.
type Batch struct {
	// ID identifies the batch: 1 to 80 letters, digits, '.', '-', '_'.
	ID string `json:"id"`
	// GatewayID and InstanceID name the sender; the management plane
	// replaces GatewayID with the gateway its token names and fills empty
	// record instance ids with InstanceID.
	GatewayID  string   `json:"gatewayId,omitempty"`
	InstanceID string   `json:"instanceId,omitempty"`
	Records    []Record `json:"records"`
}

// NewBatchID returns a random batch id (32 hex digits).
func NewBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidBatchID reports whether id is 1 to 80 letters, digits, '.', '-' or '_'.
func ValidBatchID(id string) bool {
	if len(id) == 0 || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Shipper takes a complete batch away: the store of the management plane,
// or a self-hosted gateway's on-disk buffer. Ship is called from one
// goroutine at a time and must not keep b (or its Records) after it
// returns; an error means the batch was not taken and may be offered again
// with the same id.
type Shipper interface {
	Ship(ctx context.Context, b *Batch) error
}

// ShipperFunc adapts a function to Shipper.
type ShipperFunc func(ctx context.Context, b *Batch) error

// Ship calls f.
func (f ShipperFunc) Ship(ctx context.Context, b *Batch) error { return f(ctx, b) }

// Defaults of QueueConfig.
const (
	DefaultCapacity      = 10000
	DefaultBatchSize     = 500
	DefaultFlushInterval = time.Second
	DefaultShipAttempts  = 4
)

// QueueConfig configures a Queue. Zero values select the defaults.
type QueueConfig struct {
	// GatewayID and InstanceID are stamped on batches and label metrics.
	GatewayID  string
	InstanceID string
	// Capacity bounds the records waiting for the queue's goroutine; a
	// record offered to a full queue is dropped.
	Capacity int
	// BatchSize and FlushInterval: a batch is shipped when it holds
	// BatchSize records or FlushInterval after its first record.
	BatchSize     int
	FlushInterval time.Duration
	// Shipper receives the batches; nil ships nothing (access log only).
	Shipper Shipper
	// ShipAttempts bounds the tries of one batch (with backoff from 250 ms)
	// before its records are dropped and counted.
	ShipAttempts int
	// AccessLog, when set, receives one JSON line per record.
	AccessLog io.Writer
	// Registerer receives the portico_telemetry_* metrics; nil keeps them
	// unexported.
	Registerer prometheus.Registerer
	// Metrics, when set, are the counters the queue uses (built with
	// NewMetrics and shared with a Spool); Registerer then only receives
	// the queue length.
	Metrics *Metrics
	Logger  *slog.Logger
}

// Queue is a bounded, non-blocking sink of records: Record never waits,
// and Run moves the records to the access log and the Shipper. Create it
// with NewQueue. Record is safe for concurrent use; Run must be called
// once.
type Queue struct {
	cfg QueueConfig
	ch  chan *Record
	log *slog.Logger
	m   *Metrics

	stopped chan struct{} // closed when Run has returned
	once    sync.Once
}

// Metrics are the portico_telemetry_* counters of one gateway. Label
// values are fixed (reason is one of the Drop* constants), so the number of
// series is bounded.
type Metrics struct {
	queued  prometheus.Counter
	shipped prometheus.Counter
	batches prometheus.Counter
	failed  prometheus.Counter
	dropped *prometheus.CounterVec // reason
}

// Reasons of portico_telemetry_dropped_records_total.
const (
	DropQueueFull  = "queue_full"  // the queue was full: the request did not wait
	DropShipFailed = "ship_failed" // the batch could not be shipped after its attempts
	DropBufferFull = "buffer_full" // the on-disk spool (Spool) overflowed
	DropRejected   = "rejected"    // the management plane refused the batch as invalid
)

// NewMetrics builds the telemetry metrics of gatewayID and registers them
// on reg when it is not nil.
func NewMetrics(gatewayID string, reg prometheus.Registerer) (*Metrics, error) {
	cl := prometheus.Labels{"gateway": gatewayID}
	m := &Metrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_telemetry_queued_records_total",
			Help: "Request records accepted into the telemetry queue.", ConstLabels: cl}),
		shipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_telemetry_shipped_records_total",
			Help: "Request records shipped: stored by the management plane or, when the store refused them, written to the on-disk spool (built-in gateway); written to the on-disk buffer (self-hosted gateway; see portico_telemetry_uploaded_records_total).", ConstLabels: cl}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_telemetry_shipped_batches_total",
			Help: "Batches of request records shipped.", ConstLabels: cl}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_telemetry_ship_failures_total",
			Help: "Failed attempts to ship a batch (it is retried).", ConstLabels: cl}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_telemetry_dropped_records_total",
			Help: "Request records lost, by reason: queue_full, ship_failed, buffer_full, rejected.", ConstLabels: cl}, []string{"reason"}),
	}
	for _, r := range []string{DropQueueFull, DropShipFailed, DropBufferFull, DropRejected} {
		m.dropped.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.queued, m.shipped, m.batches, m.failed, m.dropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register telemetry metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Shipped counts n records of one batch as shipped.
func (m *Metrics) Shipped(n int) {
	m.shipped.Add(float64(n))
	m.batches.Inc()
}

// Dropped counts n lost records.
func (m *Metrics) Dropped(reason string, n int) { m.dropped.WithLabelValues(reason).Add(float64(n)) }

// ShipFailed counts one failed attempt.
func (m *Metrics) ShipFailed() { m.failed.Inc() }

// NewQueue builds a queue; start it with Run.
func NewQueue(cfg QueueConfig) (*Queue, error) {
	if cfg.Capacity <= 0 {
		cfg.Capacity = DefaultCapacity
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.ShipAttempts <= 0 {
		cfg.ShipAttempts = DefaultShipAttempts
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := cfg.Metrics
	if m == nil {
		var err error
		if m, err = NewMetrics(cfg.GatewayID, cfg.Registerer); err != nil {
			return nil, err
		}
	}
	q := &Queue{cfg: cfg, ch: make(chan *Record, cfg.Capacity), log: cfg.Logger.With("component", "telemetry"), m: m, stopped: make(chan struct{})}
	if cfg.Registerer != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portico_telemetry_queue_length", Help: "Request records waiting in the telemetry queue.",
			ConstLabels: prometheus.Labels{"gateway": cfg.GatewayID}}, func() float64 { return float64(len(q.ch)) })
		if err := cfg.Registerer.Register(g); err != nil {
			return nil, fmt.Errorf("register telemetry metrics: %w", err)
		}
	}
	return q, nil
}

// Metrics returns the queue's counters (shared with the shipper of a
// self-hosted gateway).
func (q *Queue) Metrics() *Metrics { return q.m }

// Record takes ownership of r and queues it; it never blocks. When the
// queue is full, or Run has ended, r is dropped and counted.
func (q *Queue) Record(r *Record) {
	select {
	case <-q.stopped:
		q.m.Dropped(DropQueueFull, 1)
		Release(r)
		return
	default:
	}
	select {
	case q.ch <- r:
		q.m.queued.Inc()
	default:
		q.m.Dropped(DropQueueFull, 1)
		Release(r)
	}
}

// Len returns the number of records waiting.
func (q *Queue) Len() int { return len(q.ch) }

// drainEvery is how often Run takes the queued records. Polling, rather
// than waiting on the channel, means a request queueing a record never has
// to wake another goroutine up: it only appends to the buffer.
const drainEvery = 10 * time.Millisecond

// Run moves records to the access log and the shipper until ctx ends, then
// drains what is queued, ships the last batch (allowing it a few seconds)
// and returns. Records offered after Run returned are dropped and counted;
// stop Run after whatever feeds the queue (the servers), since a record
// offered while Run is returning may be neither shipped nor counted.
func (q *Queue) Run(ctx context.Context) {
	defer q.once.Do(func() { close(q.stopped) })
	var alog *bufio.Writer
	if q.cfg.AccessLog != nil {
		alog = bufio.NewWriterSize(q.cfg.AccessLog, 64<<10)
	}
	var line []byte
	b := &Batch{GatewayID: q.cfg.GatewayID, InstanceID: q.cfg.InstanceID, Records: make([]Record, 0, q.cfg.BatchSize)}
	var first time.Time // when the current batch got its first record
	flushLog := func() {
		if alog != nil && alog.Buffered() > 0 {
			if err := alog.Flush(); err != nil {
				q.log.Debug("access log flush failed", "err", err)
			}
		}
	}
	ship := func(ctx context.Context) {
		if len(b.Records) == 0 {
			return
		}
		flushLog()
		b.ID = NewBatchID()
		q.ship(ctx, b)
		clear(b.Records)
		b.Records = b.Records[:0]
	}
	// drain takes the records queued now, shipping full batches.
	drain := func(ctx context.Context) {
		for n := len(q.ch); n > 0; n-- {
			r := <-q.ch
			if len(b.Records) == 0 {
				first = time.Now()
			}
			if alog != nil {
				line = append(r.AppendJSON(line[:0]), '\n')
				if _, err := alog.Write(line); err != nil {
					q.log.Debug("access log write failed", "err", err)
				}
			}
			b.Records = append(b.Records, *r)
			Release(r)
			if len(b.Records) >= q.cfg.BatchSize {
				ship(ctx)
			}
		}
		flushLog()
	}
	tick := time.NewTicker(drainEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			drain(ctx)
			if len(b.Records) > 0 && time.Since(first) >= q.cfg.FlushInterval {
				ship(ctx)
			}
		case <-ctx.Done():
			q.once.Do(func() { close(q.stopped) })
			final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			drain(final)
			ship(final)
			cancel()
			return
		}
	}
}

// ship offers b to the shipper up to ShipAttempts times; then its records
// are dropped and counted.
func (q *Queue) ship(ctx context.Context, b *Batch) {
	if q.cfg.Shipper == nil {
		return
	}
	backoff := 250 * time.Millisecond
	var err error
	for attempt := 1; attempt <= q.cfg.ShipAttempts; attempt++ {
		if err = q.cfg.Shipper.Ship(ctx, b); err == nil {
			q.m.Shipped(len(b.Records))
			return
		}
		q.m.ShipFailed()
		if attempt == q.cfg.ShipAttempts || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		backoff *= 2
	}
	q.m.Dropped(DropShipFailed, len(b.Records))
	if errors.Is(err, context.Canceled) {
		err = fmt.Errorf("shutting down: %w", err)
	}
	q.log.Error("telemetry batch dropped: it could not be shipped", "batch", b.ID, "records", len(b.Records), "err", err)
}

// DroppedCounter returns the dropped-records counter of reason (tests).
func (m *Metrics) DroppedCounter(reason string) prometheus.Counter {
	return m.dropped.WithLabelValues(reason)
}
