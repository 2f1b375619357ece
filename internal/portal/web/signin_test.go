package web

import (
	"testing"
	"time"
)

// guardAt is a guard on a clock the test moves.
func guardAt(now *time.Time) *SignInGuard {
	g := NewSignInGuard()
	g.now = func() time.Time { return *now }
	return g
}

func TestSignInGuardOwnerNeverLockedOut(t *testing.T) {
	now := time.Unix(1000, 0)
	g := guardAt(&now)
	const acct, attacker, owner = "victim@example.com", "198.51.100.7", "203.0.113.9"
	// The attacker fails as fast as the guard lets it, for 14 minutes.
	fails := 0
	for end := now.Add(14 * time.Minute); now.Before(end); now = now.Add(time.Second) {
		if ok, _ := g.Check(acct, attacker); ok {
			g.Fail(acct, attacker)
			fails++
		}
	}
	if fails != g.PairLimit {
		t.Fatalf("the attacker got %d guesses on one account in 14 minutes, want %d", fails, g.PairLimit)
	}
	if ok, wait := g.Check(acct, attacker); ok || wait <= 0 {
		t.Fatalf("the attacker may try again: %v %v", ok, wait)
	}
	// The owner, from an address that has not failed, is let in at once.
	if ok, wait := g.Check(acct, owner); !ok {
		t.Fatalf("owner refused for %v", wait)
	}
	// An owner who mistypes while the account is under attack waits a
	// delay, never the window.
	g.Fail(acct, owner)
	ok, wait := g.Check(acct, owner)
	if ok || wait > g.MaxDelay {
		t.Fatalf("owner after one typo: %v, wait %v (at most %v)", ok, wait, g.MaxDelay)
	}
	now = now.Add(wait)
	if ok, wait := g.Check(acct, owner); !ok {
		t.Fatalf("owner still refused after the delay: %v", wait)
	}
	g.Succeed(acct, owner)
	if ok, _ := g.Check(acct, owner); !ok {
		t.Fatal("owner refused after signing in")
	}
}

func TestSignInGuardSlowsDown(t *testing.T) {
	t.Run("per address", func(t *testing.T) {
		now := time.Unix(1000, 0)
		g := guardAt(&now)
		const addr = "198.51.100.7"
		// Spraying one password over many accounts: the first AddressFree
		// failures are free, then each waits a doubling delay.
		var waits []time.Duration
		for i := 0; i < g.AddressLimit; i++ {
			acct := string(rune('a'+i)) + "@example.com"
			ok, wait := g.Check(acct, addr)
			if !ok {
				waits = append(waits, wait)
				now = now.Add(wait)
				if ok, wait := g.Check(acct, addr); !ok {
					t.Fatalf("attempt %d refused after its delay: %v", i, wait)
				}
			}
			g.Fail(acct, addr)
		}
		want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60, 60}
		if len(waits) != len(want) {
			t.Fatalf("waits %v", waits)
		}
		for i := range want {
			if waits[i] != want[i]*time.Second {
				t.Fatalf("waits %v, want %v s", waits, want)
			}
		}
		// AddressLimit failures: refused until the oldest leaves the window.
		now = now.Add(g.MaxDelay)
		if ok, wait := g.Check("new@example.com", addr); ok || wait <= g.MaxDelay {
			t.Fatalf("after %d failures: %v %v", g.AddressLimit, ok, wait)
		}
		now = now.Add(g.Window)
		if ok, wait := g.Check("new@example.com", addr); !ok {
			t.Fatalf("after the window: %v", wait)
		}
	})
	t.Run("per account, distributed", func(t *testing.T) {
		now := time.Unix(1000, 0)
		g := guardAt(&now)
		const acct = "victim@example.com"
		// Many addresses, one guess each: each first guess is free.
		for i := 0; i < 10; i++ {
			addr := "198.51.100." + string(rune('0'+i))
			if ok, wait := g.Check(acct, addr); !ok {
				t.Fatalf("first guess from a new address refused: %v", wait)
			}
			g.Fail(acct, addr)
		}
		// A second guess from one of them waits the account's delay (10
		// failures: 32 s), although that address failed only once.
		if ok, wait := g.Check(acct, "198.51.100.0"); ok || wait != 32*time.Second {
			t.Fatalf("second guess: %v %v, want a 32 s wait", ok, wait)
		}
		// Another account from the same address is not slowed down.
		if ok, wait := g.Check("other@example.com", "198.51.100.0"); !ok {
			t.Fatalf("other account: %v", wait)
		}
	})
}
