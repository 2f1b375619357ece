package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is a slog handler keeping "LEVEL msg component=… took=…" lines.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, b.String())
	return nil
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// events records what the components did, in order.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, s)
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

// comp returns start and stop functions recording "start name" and "stop
// name"; start fails with startErr when it is not nil.
func (e *events) comp(name string, startErr error) (start, stop func(context.Context) error) {
	return func(context.Context) error {
			e.add("start " + name)
			return startErr
		}, func(context.Context) error {
			e.add("stop " + name)
			return nil
		}
}

func TestStartInOrderStopInReverse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		rec := &recorder{}
		g := New(slog.New(rec), time.Minute)
		for _, name := range []string{"store", "queue", "servers"} {
			start, stop := ev.comp(name, nil)
			g.Add(name, start, func(ctx context.Context) error {
				time.Sleep(time.Second) // synctest time: took=1s exactly
				return stop(ctx)
			})
		}
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A second phase: started after the first, stopped before it.
		start, stop := ev.comp("sync", nil)
		g.Add("sync", start, stop)
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := g.Stop(); err != nil { // a second Stop does nothing
			t.Fatal(err)
		}
		want := []string{"start store", "start queue", "start servers", "start sync", "stop sync", "stop servers", "stop queue", "stop store"}
		if got := ev.list(); !slices.Equal(got, want) {
			t.Fatalf("events\n got %q\nwant %q", got, want)
		}
		var stops []string
		for _, l := range rec.all() {
			if strings.HasPrefix(l, "INFO component stopped") {
				stops = append(stops, l)
			}
		}
		wantLog := []string{
			"INFO component stopped component=sync took=0s",
			"INFO component stopped component=servers took=1s",
			"INFO component stopped component=queue took=1s",
			"INFO component stopped component=store took=1s",
		}
		if !slices.Equal(stops, wantLog) {
			t.Fatalf("log\n got %q\nwant %q", stops, wantLog)
		}
	})
}

func TestStartFailureStopsWhatStarted(t *testing.T) {
	var ev events
	g := New(slog.New(slog.DiscardHandler), time.Minute)
	start, stop := ev.comp("store", nil)
	g.Add("store", start, stop)
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.Add("counters", nil, func(context.Context) error { ev.add("stop counters"); return nil })
	start, stop = ev.comp("queue", nil)
	g.Add("queue", start, stop)
	boom := errors.New("listen: address in use")
	start, stop = ev.comp("servers", boom)
	g.Add("servers", start, stop)
	start, stop = ev.comp("sync", nil)
	g.Add("sync", start, stop)
	if err := g.Start(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Start = %v, want %v", err, boom)
	}
	// servers failed: not stopped; sync never started; the rest stopped in
	// reverse, the store (an earlier Start) included.
	want := []string{"start store", "start queue", "start servers", "stop queue", "stop counters", "stop store"}
	if got := ev.list(); !slices.Equal(got, want) {
		t.Fatalf("events\n got %q\nwant %q", got, want)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(context.Background()); err == nil {
		t.Fatal("Start after a failed Start succeeded")
	}
	if got := ev.list(); len(got) != len(want) {
		t.Fatalf("components ran again: %q", got[len(want):])
	}
}

// A component without a start function holds a resource already acquired:
// Stop releases it even when Start never ran (the wiring failed before).
func TestAcquiredResourceReleasedWithoutStart(t *testing.T) {
	var ev events
	g := New(slog.New(slog.DiscardHandler), time.Minute)
	g.Add("store", nil, func(context.Context) error { ev.add("close store"); return nil })
	start, stop := ev.comp("servers", nil)
	g.Add("servers", start, stop)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if got, want := ev.list(), []string{"close store"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// Go's goroutine outlives the context of Start and is joined when it
// stops: components added before it are stopped only after it returned,
// even when it takes longer than the timeout.
func TestGoIsJoinedBeforeEarlierComponentsStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := New(slog.New(rec), 5*time.Second)
		var running, exited atomic.Bool
		var sawExited bool
		g.Add("store", nil, func(context.Context) error { sawExited = exited.Load(); return nil })
		g.Go("retention", func(ctx context.Context) {
			running.Store(true)
			<-ctx.Done()
			time.Sleep(time.Minute) // a last slow call, past the timeout
			exited.Store(true)
		})
		ctx, cancel := context.WithCancel(context.Background())
		if err := g.Start(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		synctest.Wait()
		if !running.Load() || exited.Load() {
			t.Fatalf("running %v, exited %v: the goroutine must run until Stop, not until Start's context ends", running.Load(), exited.Load())
		}
		began := time.Now()
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
		if !sawExited {
			t.Fatal("the store stopped while the goroutine was still running")
		}
		if took := time.Since(began); took != time.Minute {
			t.Fatalf("Stop took %v, want the goroutine's minute", took)
		}
		if !slices.Contains(rec.all(), "WARN component still running after the shutdown timeout; waiting for it component=retention") {
			t.Fatalf("log %q", rec.all())
		}
	})
}

// Stop gives every stop function one context ending timeout after Stop
// began: a stop that waits for it does not hold the others beyond it.
func TestStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := New(slog.New(rec), 5*time.Second)
		var storeCtxErr error
		var storeAt time.Duration
		began := time.Now()
		g.Add("store", nil, func(ctx context.Context) error {
			storeCtxErr, storeAt = ctx.Err(), time.Since(began)
			return nil
		})
		g.Add("servers", nil, func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			<-ctx.Done() // connections that do not finish
			return ctx.Err()
		})
		err := g.Stop()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "servers: ") {
			t.Fatalf("Stop = %v", err)
		}
		if storeAt != 5*time.Second || storeCtxErr == nil {
			t.Fatalf("store stopped at %v (context %v), want at the 5 s deadline", storeAt, storeCtxErr)
		}
		want := []string{
			"WARN component stop incomplete component=servers took=5s err=context deadline exceeded",
			"INFO component stopped component=store took=0s",
		}
		if got := rec.all(); !slices.Equal(got, want) {
			t.Fatalf("log\n got %q\nwant %q", got, want)
		}
	})
}
