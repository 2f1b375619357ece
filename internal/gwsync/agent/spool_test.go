package agent

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/portico-gw/portico/internal/telemetry"
)

// TestSpoolBound: beyond its bound the buffer drops its oldest batches and
// counts their records; what it keeps is found again after a reopen, in
// order.
func TestSpoolBound(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	m, err := telemetry.NewMetrics("edge", reg)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(i int) *telemetry.Batch {
		b := &telemetry.Batch{ID: fmt.Sprintf("b%d", i)}
		for range 3 {
			b.Records = append(b.Records, telemetry.Record{RequestID: fmt.Sprint(i), URL: "http://gw/some/path", ResponseCode: 200})
		}
		return b
	}
	s, err := openSpool(dir, 1<<20, m, prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.add(batch(0)); err != nil {
		t.Fatal(err)
	}
	one := s.size
	// Room for three batches of this size.
	s.maxBytes = 3*one + one/2
	for i := 1; i < 6; i++ {
		if err := s.add(batch(i)); err != nil {
			t.Fatal(err)
		}
	}
	var dropped dto.Metric
	if err := m.DroppedCounter(telemetry.DropBufferFull).Write(&dropped); err != nil {
		t.Fatal(err)
	}
	if got := dropped.GetCounter().GetValue(); got != 9 {
		t.Fatalf("dropped %v records, want 9 (three batches)", got)
	}
	s2, err := openSpool(dir, 1<<20, m, prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range s2.files {
		ids = append(ids, f.name[len(f.name)-len("b0.json.gz"):])
	}
	if fmt.Sprint(ids) != "[b3.json.gz b4.json.gz b5.json.gz]" || s2.size != s.size || s2.seq != 6 {
		t.Fatalf("reopened: %v size %d/%d seq %d", ids, s2.size, s.size, s2.seq)
	}
}
