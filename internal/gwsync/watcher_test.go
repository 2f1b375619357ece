package gwsync

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/testenv"
)

// TestWatcherWakesWaiters: a Wait held for a newer revision returns it as
// soon as it is Set, and Waiting counts the held calls.
func TestWatcherWakesWaiters(t *testing.T) {
	t.Parallel()
	w := NewWatcher(3)
	if got := w.Wait(context.Background(), 2, time.Hour); got != 3 {
		t.Fatalf("Wait for a revision already seen = %d, want 3", got)
	}
	got := make(chan int64)
	go func() { got <- w.Wait(context.Background(), 3, time.Hour) }()
	testenv.Eventually(t, "the Wait to be held", func() bool { return w.Waiting() == 1 })
	w.Set(2) // older: ignored, the Wait stays held
	w.Set(4)
	if rev := <-got; rev != 4 {
		t.Fatalf("woken Wait = %d, want 4", rev)
	}
	if n := w.Waiting(); n != 0 {
		t.Fatalf("Waiting after the wake-up = %d, want 0", n)
	}
}
