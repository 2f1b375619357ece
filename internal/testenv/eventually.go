package testenv

import (
	"testing"
	"time"
)

// EventuallyTimeout bounds how long Eventually and EventuallyErr wait. It is
// a guard against a hang, not a measurement: a condition that holds at all
// holds long before it.
const EventuallyTimeout = time.Minute

// pollInterval is how often Eventually re-checks its condition.
const pollInterval = 2 * time.Millisecond

// Eventually polls cond until it returns true and reports how long that
// took. It fails t with "timed out waiting for <what>" after
// EventuallyTimeout. It is for conditions observable only by looking (a
// counter, a file, a server's answer); a test that can be told when the
// event happens (a channel, a hook) waits for that instead.
func Eventually(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > EventuallyTimeout {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollInterval)
	}
	return time.Since(start)
}

// EventuallyErr is Eventually for a check that explains itself: it polls
// check until it returns nil, and on timeout fails t with the last error.
func EventuallyErr(t testing.TB, what string, check func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > EventuallyTimeout {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(pollInterval)
	}
}
