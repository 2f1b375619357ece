package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

func testBatch(id string, n int) *Batch {
	b := &Batch{ID: id}
	for i := range n {
		b.Records = append(b.Records, Record{RequestID: fmt.Sprintf("%s-%d", id, i), URL: "http://gw/some/path", ResponseCode: 200})
	}
	return b
}

func openTestSpool(t *testing.T, dir string, maxBytes int64) (*Spool, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics("edge", reg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenSpool(SpoolConfig{Dir: dir, MaxBytes: maxBytes, Metrics: m, Registerer: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// TestSpoolBound: beyond its bound the spool drops its oldest batches and
// counts their records; what it keeps is found again after a reopen, in
// order, and an interrupted write left behind is removed.
func TestSpoolBound(t *testing.T) {
	dir := t.TempDir()
	s, reg := openTestSpool(t, dir, 1<<20)
	if err := s.Add(testBatch("b0", 3)); err != nil {
		t.Fatal(err)
	}
	one := s.Bytes()
	// Room for three batches of this size.
	s.maxBytes = 3*one + one/2
	for i := 1; i < 6; i++ {
		if err := s.Add(testBatch(fmt.Sprintf("b%d", i), 3)); err != nil {
			t.Fatal(err)
		}
	}
	if got := counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", DropBufferFull); got != 9 {
		t.Fatalf("dropped %v records, want 9 (three batches)", got)
	}
	if got := gaugeValue(t, reg, "portico_telemetry_buffer_records"); got != 9 {
		t.Fatalf("buffer_records %v, want 9", got)
	}
	if got := gaugeValue(t, reg, "portico_telemetry_buffer_bytes"); got != float64(s.Bytes()) || got > float64(s.maxBytes) {
		t.Fatalf("buffer_bytes %v (size %d, bound %d)", got, s.Bytes(), s.maxBytes)
	}
	if err := os.WriteFile(filepath.Join(dir, ".00000000000000000007-3-b6.json.gz.123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, _ := openTestSpool(t, dir, 1<<20)
	var ids []string
	for _, f := range s2.files {
		ids = append(ids, f.Name[len(f.Name)-len("b0.json.gz"):])
	}
	if fmt.Sprint(ids) != "[b3.json.gz b4.json.gz b5.json.gz]" || s2.Bytes() != s.Bytes() || s2.Records() != 9 || s2.seq != 6 {
		t.Fatalf("reopened: %v size %d/%d records %d seq %d", ids, s2.Bytes(), s.Bytes(), s2.Records(), s2.seq)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d files after reopening, want 3 (the interrupted write removed)", len(entries))
	}
}

// fakeStore is an idempotent destination: it keeps each batch id once, and
// refuses everything while down, and the batches named in poison always.
type fakeStore struct {
	mu       sync.Mutex
	down     bool
	poison   map[string]bool
	batches  map[string]int // batch id -> times accepted (a duplicate is ignored, like the store)
	records  map[string]int // request id -> times stored
	attempts int
}

func newFakeStore() *fakeStore {
	return &fakeStore{poison: map[string]bool{}, batches: map[string]int{}, records: map[string]int{}}
}

func (f *fakeStore) Ship(_ context.Context, b *Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.down {
		return errors.New("store unreachable")
	}
	if f.poison[b.ID] {
		return errors.New("store refuses this batch")
	}
	f.batches[b.ID]++
	if f.batches[b.ID] > 1 {
		return nil // ingested before: nothing counted again
	}
	for _, r := range b.Records {
		f.records[r.RequestID]++
	}
	return nil
}

func (f *fakeStore) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// stored returns how many distinct records are stored and whether any was
// stored twice.
func (f *fakeStore) stored() (n int, twice []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, c := range f.records {
		if c > 1 {
			twice = append(twice, id)
		}
	}
	sort.Strings(twice)
	return len(f.records), twice
}

func spoolSend(dst Shipper) SendFunc {
	return func(ctx context.Context, body []byte) error {
		b, err := DecodeBatch(body)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrRejected, err)
		}
		return dst.Ship(ctx, b)
	}
}

// TestSpoolForward: batches wait while the destination is down, are
// delivered oldest first once it is back, exactly once; a batch the
// destination refuses while it takes the others is dropped (counted as
// rejected) instead of blocking the spool, and so is a file that is not a
// batch.
func TestSpoolForward(t *testing.T) {
	s, reg := openTestSpool(t, t.TempDir(), 1<<20)
	dst := newFakeStore()
	dst.down = true
	dst.poison["poison"] = true
	var delivered atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Forward(ctx, spoolSend(dst), ForwardOptions{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			Delivered: func(n int) { delivered.Add(int64(n)) }})
	}()
	for i := range 3 {
		if err := s.Add(testBatch(fmt.Sprintf("a%d", i), 4)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Add(testBatch("poison", 2)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Add(testBatch(fmt.Sprintf("b%d", i), 4)); err != nil {
			t.Fatal(err)
		}
	}
	// A file with a batch's name that is not one.
	if err := os.WriteFile(filepath.Join(s.Dir(), "00000000000000000099-5-garbage.json.gz"), []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.files = append(s.files, SpoolFile{Name: "00000000000000000099-5-garbage.json.gz", Size: 8, Records: 5})
	s.records += 5
	s.mu.Unlock()
	testenv.Eventually(t, "delivery attempts while the store is down", func() bool {
		dst.mu.Lock()
		defer dst.mu.Unlock()
		return dst.attempts >= 5
	})
	if n, _ := dst.stored(); n != 0 || s.Records() != 31 {
		t.Fatalf("while down: %d stored, %d spooled", n, s.Records())
	}
	dst.setDown(false)
	testenv.Eventually(t, "the spool to empty", func() bool { return s.Len() == 0 })
	n, twice := dst.stored()
	if n != 24 || len(twice) > 0 {
		t.Fatalf("%d records stored (want 24), twice: %v", n, twice)
	}
	if got := counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", DropRejected); got != 7 {
		t.Fatalf("rejected %v records, want 7 (the poison batch and the garbage file)", got)
	}
	if got := counterValue(t, reg, "portico_telemetry_ship_failures_total"); got < 1 {
		t.Fatalf("ship failures %v", got)
	}
	cancel()
	<-done
	if got := delivered.Load(); got != 24 {
		t.Fatalf("Delivered heard of %d records, want 24", got)
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 0 {
		t.Fatalf("%d files left", len(entries))
	}
}

// TestSpoolShipperOutage runs a queue into a SpoolShipper whose store goes
// down: no record is dropped, the batches made during the outage wait on
// disk (also across a restart of the process, simulated by reopening the
// spool), and every record is stored exactly once when the store is back.
func TestSpoolShipperOutage(t *testing.T) {
	dir := t.TempDir()
	dst := newFakeStore()
	log := slog.New(slog.DiscardHandler)

	start := func() (q *Queue, reg *prometheus.Registry, sp *Spool, stop func()) {
		reg = prometheus.NewRegistry()
		m, err := NewMetrics("managed", reg)
		if err != nil {
			t.Fatal(err)
		}
		sp, err = OpenSpool(SpoolConfig{Dir: dir, Metrics: m, Registerer: reg, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		ss := NewSpoolShipper(dst, sp, log)
		q, err = NewQueue(QueueConfig{GatewayID: "managed", BatchSize: 10, FlushInterval: 5 * time.Millisecond, Shipper: ss, Metrics: m, Registerer: reg, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		qctx, qcancel := context.WithCancel(context.Background())
		sctx, scancel := context.WithCancel(context.Background())
		qdone, sdone := make(chan struct{}), make(chan struct{})
		go func() { defer close(qdone); q.Run(qctx) }()
		go func() { defer close(sdone); ss.Run(sctx) }()
		return q, reg, sp, func() { qcancel(); <-qdone; scancel(); <-sdone }
	}
	next := 0
	record := func(q *Queue, n int) {
		for range n {
			r := NewRecord()
			r.RequestID = fmt.Sprintf("r%d", next)
			next++
			q.Record(r)
		}
	}

	q, reg, sp, stop := start()
	record(q, 25)
	testenv.Eventually(t, "the first records to be stored", func() bool { n, _ := dst.stored(); return n == 25 })

	dst.setDown(true)
	record(q, 40)
	testenv.Eventually(t, "the outage's records to be spooled", func() bool { return sp.Records() == 40 })
	stop() // a restart while the store is still down
	if n, _ := dst.stored(); n != 25 {
		t.Fatalf("%d stored during the outage", n)
	}
	for _, reason := range []string{DropQueueFull, DropShipFailed, DropBufferFull, DropRejected} {
		if got := counterValue(t, reg, "portico_telemetry_dropped_records_total", "reason", reason); got != 0 {
			t.Fatalf("%v records dropped (%s)", got, reason)
		}
	}

	q, reg, sp, stop = start()
	defer stop()
	if sp.Records() != 40 {
		t.Fatalf("the restarted spool holds %d records, want 40", sp.Records())
	}
	record(q, 15) // joins the spool: the store is still down
	testenv.Eventually(t, "the new records to be spooled", func() bool { return sp.Records() == 55 })
	dst.setDown(false)
	testenv.Eventually(t, "every record to be stored", func() bool { n, _ := dst.stored(); return n == 80 })
	testenv.Eventually(t, "the spool to empty", func() bool { return sp.Len() == 0 })
	record(q, 5) // straight to the store again
	testenv.Eventually(t, "the last records to be stored", func() bool { n, _ := dst.stored(); return n == 85 })
	if n, twice := dst.stored(); n != 85 || len(twice) > 0 {
		t.Fatalf("%d stored, twice: %v", n, twice)
	}
	if got := counterValue(t, reg, "portico_telemetry_shipped_records_total"); got != 20 {
		t.Fatalf("shipped %v records in the second run, want 20", got)
	}
}
