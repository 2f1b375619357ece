package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// collector is a Shipper that keeps copies of what it was given; it fails
// the first failFirst attempts.
type collector struct {
	mu        sync.Mutex
	batches   []Batch
	attempts  []string // batch id per attempt
	failFirst int
}

func (c *collector) Ship(_ context.Context, b *Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts = append(c.attempts, b.ID)
	if len(c.attempts) <= c.failFirst {
		return errors.New("store unavailable")
	}
	cp := *b
	cp.Records = append([]Record(nil), b.Records...)
	c.batches = append(c.batches, cp)
	return nil
}

func (c *collector) records() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.batches {
		n += len(b.Records)
	}
	return n
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func newTestQueue(t *testing.T, cfg QueueConfig) (*Queue, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	cfg.Logger = slog.New(slog.DiscardHandler)
	if cfg.GatewayID == "" {
		cfg.GatewayID = "test"
	}
	q, err := NewQueue(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return q, reg
}

// TestFullQueueDropsWithoutBlocking offers more records than the queue
// holds while nothing drains it: Record returns every time, and the excess
// is counted as dropped.
func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	q, reg := newTestQueue(t, QueueConfig{Capacity: 3})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10 {
			r := NewRecord()
			r.RequestID = fmt.Sprint(i)
			q.Record(r)
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Record blocked on a full queue")
	}
	if got := counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", DropQueueFull); got != 7 {
		t.Fatalf("dropped %v, want 7", got)
	}
	if got := counterValue(t, reg, "portico_telemetry_queued_records_total"); got != 3 || q.Len() != 3 {
		t.Fatalf("queued %v (len %d), want 3", got, q.Len())
	}

	// Once drained, the three queued records are shipped.
	c := &collector{}
	q.cfg.Shipper = c
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { q.Run(ctx); close(stopped) }()
	testenv.Eventually(t, "the queued records to be shipped", func() bool { return c.records() == 3 })
	cancel()
	<-stopped
	// After Run, Record still never blocks: it drops.
	q.Record(NewRecord())
	if got := counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", DropQueueFull); got != 8 {
		t.Fatalf("dropped after stop %v, want 8", got)
	}
}

func TestQueueBatches(t *testing.T) {
	tests := []struct {
		name      string
		records   int
		batchSize int
		wantSizes []int
	}{
		{name: "by size", records: 10, batchSize: 4, wantSizes: []int{4, 4, 2}},
		{name: "one partial batch by interval", records: 3, batchSize: 100, wantSizes: []int{3}},
		{name: "exact", records: 6, batchSize: 3, wantSizes: []int{3, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{}
			var alog bytes.Buffer
			var alogMu sync.Mutex
			q, reg := newTestQueue(t, QueueConfig{GatewayID: "gw", InstanceID: "i1", BatchSize: tc.batchSize, FlushInterval: 20 * time.Millisecond,
				Shipper: c, AccessLog: lockedWriter{&alogMu, &alog}})
			// Fill the queue before Run so that size-triggered batches are
			// deterministic.
			for i := range tc.records {
				r := NewRecord()
				r.RequestID = fmt.Sprintf("r%d", i)
				r.ResponseCode = 200
				q.Record(r)
			}
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { q.Run(ctx); close(stopped) }()
			testenv.Eventually(t, "all records shipped", func() bool { return c.records() == tc.records })
			cancel()
			<-stopped

			var sizes []int
			seen := map[string]bool{}
			ids := map[string]bool{}
			for _, b := range c.batches {
				sizes = append(sizes, len(b.Records))
				if !ValidBatchID(b.ID) || ids[b.ID] || b.GatewayID != "gw" || b.InstanceID != "i1" {
					t.Fatalf("batch header %q %q %q (ids so far %v)", b.ID, b.GatewayID, b.InstanceID, ids)
				}
				ids[b.ID] = true
				for _, r := range b.Records {
					seen[r.RequestID] = true
				}
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.wantSizes) || len(seen) != tc.records {
				t.Fatalf("batch sizes %v (distinct records %d), want %v", sizes, len(seen), tc.wantSizes)
			}
			if got := counterValue(t, reg, "portico_telemetry_shipped_records_total"); got != float64(tc.records) {
				t.Fatalf("shipped counter %v", got)
			}
			alogMu.Lock()
			lines := strings.Split(strings.TrimSuffix(alog.String(), "\n"), "\n")
			alogMu.Unlock()
			if len(lines) != tc.records {
				t.Fatalf("%d access log lines, want %d", len(lines), tc.records)
			}
			for _, l := range lines {
				var r Record
				if err := json.Unmarshal([]byte(l), &r); err != nil || r.ResponseCode != 200 {
					t.Fatalf("access log line %q: %v", l, err)
				}
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestShipRetriesKeepTheBatchID: a batch that failed is offered again with
// the same id (so a store that committed it but failed to answer does not
// count it twice); after the attempts run out its records are dropped.
func TestShipRetriesKeepTheBatchID(t *testing.T) {
	tests := []struct {
		name        string
		failFirst   int
		wantShipped bool
	}{
		{name: "second attempt succeeds", failFirst: 1, wantShipped: true},
		{name: "all attempts fail", failFirst: 100, wantShipped: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &collector{failFirst: tc.failFirst}
			q, reg := newTestQueue(t, QueueConfig{BatchSize: 2, Shipper: c, ShipAttempts: 2})
			q.Record(NewRecord())
			q.Record(NewRecord())
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { q.Run(ctx); close(stopped) }()
			testenv.Eventually(t, "two attempts", func() bool {
				c.mu.Lock()
				defer c.mu.Unlock()
				return len(c.attempts) >= 2
			})
			testenv.Eventually(t, "the batch to be settled", func() bool {
				return counterValue(t, reg, "portico_telemetry_shipped_records_total")+
					counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", DropShipFailed) == 2
			})
			cancel()
			<-stopped
			if c.attempts[0] != c.attempts[1] {
				t.Fatalf("retry changed the batch id: %v", c.attempts)
			}
			if got := c.records(); (got == 2) != tc.wantShipped {
				t.Fatalf("shipped %d records", got)
			}
			if got := counterValue(t, reg, "portico_telemetry_ship_failures_total"); got != float64(min(tc.failFirst, 2)) {
				t.Fatalf("failures %v", got)
			}
		})
	}
}

// BenchmarkQueueRecord is the gateway's side of telemetry: take a pooled
// record, fill it, queue it. A goroutine drains the queue as Run would.
func BenchmarkQueueRecord(b *testing.B) {
	q, err := NewQueue(QueueConfig{GatewayID: "bench", Capacity: 1 << 16, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Run(ctx)
	src := sampleRecord()
	b.ReportAllocs()
	for b.Loop() {
		r := NewRecord()
		*r = src
		q.Record(r)
	}
}
