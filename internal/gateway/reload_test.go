package gateway

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/testenv"
)

// fakeSource serves testConfig at a settable revision and can hold calls.
type fakeSource struct {
	rev   atomic.Int64
	calls atomic.Int64
	fail  atomic.Int64 // the next n calls fail
	mu    sync.Mutex
	gate  chan struct{} // when set, calls wait for it to close
}

func (f *fakeSource) load(ctx context.Context, have int64) (*snapshot.Config, error) {
	f.calls.Add(1)
	f.mu.Lock()
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if f.fail.Load() > 0 {
		f.fail.Add(-1)
		return nil, errors.New("store unavailable")
	}
	rev := f.rev.Load()
	if rev == have {
		return nil, nil
	}
	c := testConfig("http://127.0.0.1:9")
	c.Revision = rev
	return c, nil
}

func revisionOf(g *Gateway) int64 {
	if s := g.Snapshot(); s != nil {
		return s.Revision()
	}
	return -1
}

func TestReloaderCoalescesBursts(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	src := &fakeSource{}
	src.rev.Store(1)
	r := NewReloader(e.gw, src.load, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	testenv.Eventually(t, "the first snapshot", func() bool { return revisionOf(e.gw) == 1 })
	if c := src.calls.Load(); c != 1 {
		t.Fatalf("%d loads for the first snapshot, want 1", c)
	}

	gate := make(chan struct{})
	src.mu.Lock()
	src.gate = gate
	src.mu.Unlock()
	src.rev.Store(2)
	r.Notify(2)
	testenv.Eventually(t, "the second load to start", func() bool { return src.calls.Load() == 2 })
	for rev := int64(3); rev <= 50; rev++ { // a burst while a build runs
		src.rev.Store(rev)
		r.Notify(rev)
	}
	src.mu.Lock()
	src.gate = nil
	src.mu.Unlock()
	close(gate)
	testenv.Eventually(t, "revision 50", func() bool { return revisionOf(e.gw) == 50 })
	if c := src.calls.Load(); c != 3 {
		t.Fatalf("%d loads for a burst of 48 notifications during a build, want 3 in all", c)
	}
	r.Notify(50) // already served: ignored
	r.Notify(10)
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(e.gw.metrics.revision); v != 50 {
		t.Fatalf("revision gauge %v", v)
	}
}

func TestReloaderKeepsGoodSnapshot(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	src := &fakeSource{}
	src.rev.Store(7)
	r := NewReloader(e.gw, src.load, time.Hour)
	ctx := context.Background()

	src.fail.Store(1)
	if err := r.Reload(ctx); err == nil || e.gw.Snapshot() != nil {
		t.Fatalf("a failed first build: err %v, snapshot %v", err, e.gw.Snapshot())
	}
	if err := r.Reload(ctx); err != nil || revisionOf(e.gw) != 7 {
		t.Fatalf("second build: err %v, revision %d", err, revisionOf(e.gw))
	}
	good := e.gw.Snapshot()
	src.rev.Store(8)
	src.fail.Store(1)
	if err := r.Reload(ctx); err == nil {
		t.Fatal("a failing source did not fail the build")
	}
	if e.gw.Snapshot() != good {
		t.Fatal("a failed build replaced the good snapshot")
	}
	if v := metricValue(e.gw.metrics.buildFailures); v != 2 {
		t.Fatalf("build failures %v, want 2", v)
	}
	if err := r.Reload(ctx); err != nil || revisionOf(e.gw) != 8 {
		t.Fatalf("recovery: err %v, revision %d", err, revisionOf(e.gw))
	}
}

func TestReloaderRetriesFirstBuild(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	src := &fakeSource{}
	src.rev.Store(3)
	src.fail.Store(2)
	r := NewReloader(e.gw, src.load, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testenv.Eventually(t, "a snapshot after two failed loads", func() bool { return revisionOf(e.gw) == 3 })
}
