package testenv

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestEventually(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	Eventually(t, "the third call", func() bool { return n.Add(1) == 3 })
	if got := n.Load(); got != 3 {
		t.Fatalf("cond called %d times, want 3", got)
	}
}

func TestEventuallyErr(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	EventuallyErr(t, "the third call", func() error {
		if n.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if got := n.Load(); got != 3 {
		t.Fatalf("check called %d times, want 3", got)
	}
}
