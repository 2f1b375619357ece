package web

import (
	"sync"
	"time"
)

// SignInGuard throttles password sign-in so that an attacker can neither
// guess at speed nor lock the real owner out of an account. It counts
// failures over a sliding Window per client address, per account (the
// e-mail address as typed, known or not) and per account and address:
//
//   - Per address: after AddressFree failures from one address, each
//     further attempt from it must wait a delay after its last failure,
//     doubling from one second up to MaxDelay; after AddressLimit failures
//     the address is refused until the oldest one leaves the window.
//   - Per account and address: after PairLimit failures on an account from
//     one address, that address may not try that account again until the
//     oldest one leaves the window.
//   - Per account: once an account has AccountFree failures from any
//     addresses, an address that has itself failed on it must wait a delay
//     after its own last failure on it, doubling with the account's
//     failures up to MaxDelay.
//
// Nothing is keyed on the account alone: an address that has not failed
// (the owner's, at home) is never slowed down by failures elsewhere, so an
// attacker cannot lock the owner out; a distributed attack gets one free
// guess per address and account, then slows down with the account's
// failures. A successful sign-in forgets the failures of its account and
// address pair only. It is safe for concurrent use.
type SignInGuard struct {
	Window       time.Duration
	MaxDelay     time.Duration
	AddressFree  int
	AddressLimit int
	PairLimit    int
	AccountFree  int

	now func() time.Time

	mu                  sync.Mutex
	addrs, accts, pairs map[string][]time.Time
}

// Defaults of NewSignInGuard.
const (
	DefaultSignInWindow   = 15 * time.Minute
	DefaultSignInMaxDelay = time.Minute
)

// NewSignInGuard returns a guard with a 15-minute window, delays up to one
// minute, 5 free failures per address (20 at most) and per account, and 5
// failures per account and address.
func NewSignInGuard() *SignInGuard {
	return &SignInGuard{Window: DefaultSignInWindow, MaxDelay: DefaultSignInMaxDelay,
		AddressFree: 5, AddressLimit: 20, PairLimit: 5, AccountFree: 5, now: time.Now,
		addrs: map[string][]time.Time{}, accts: map[string][]time.Time{}, pairs: map[string][]time.Time{}}
}

// maxKept bounds the failures kept per key: the counts that matter stop
// growing well before it.
const maxKept = 64

// recent returns the failures of key in m within the window, dropping
// older ones.
func (g *SignInGuard) recent(m map[string][]time.Time, key string, now time.Time) []time.Time {
	h := m[key]
	i := 0
	for i < len(h) && now.Sub(h[i]) >= g.Window {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(m, key)
		return nil
	}
	m[key] = h
	return h
}

// backoff is the delay after n failures when free were allowed without
// one: 0 below free, then 1 s, 2 s, 4 s … up to MaxDelay.
func (g *SignInGuard) backoff(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := time.Second
	for i := free; i < n && d < g.MaxDelay; i++ {
		d *= 2
	}
	return min(d, g.MaxDelay)
}

func pairKey(account, addr string) string { return account + "\x00" + addr }

// Check reports whether addr may try to sign in to account now and, when
// not, how long to wait.
func (g *SignInGuard) Check(account, addr string) (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var wait time.Duration
	until := func(t time.Time) {
		if d := t.Sub(now); d > wait {
			wait = d
		}
	}
	a := g.recent(g.addrs, addr, now)
	if len(a) >= g.AddressLimit {
		until(a[len(a)-g.AddressLimit].Add(g.Window))
	} else if len(a) > 0 {
		until(a[len(a)-1].Add(g.backoff(len(a), g.AddressFree)))
	}
	if p := g.recent(g.pairs, pairKey(account, addr), now); len(p) > 0 {
		if len(p) >= g.PairLimit {
			until(p[len(p)-g.PairLimit].Add(g.Window))
		}
		acct := g.recent(g.accts, account, now)
		until(p[len(p)-1].Add(g.backoff(len(acct), g.AccountFree)))
	}
	return wait <= 0, wait
}

// Fail records a failed attempt of addr on account.
func (g *SignInGuard) Fail(account, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for _, m := range []map[string][]time.Time{g.addrs, g.accts, g.pairs} {
		if len(m) > 100000 { // bound memory under a flood of distinct keys
			for k := range m {
				g.recent(m, k, now)
			}
		}
	}
	add := func(m map[string][]time.Time, key string) {
		h := append(g.recent(m, key, now), now)
		if len(h) > maxKept {
			h = h[len(h)-maxKept:]
		}
		m[key] = h
	}
	add(g.addrs, addr)
	add(g.accts, account)
	add(g.pairs, pairKey(account, addr))
}

// Succeed forgets the failures of addr on account after a correct
// password. The address's and the account's own counts stay: signing in
// to one's own account does not reset an attacker's budget.
func (g *SignInGuard) Succeed(account, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pairs, pairKey(account, addr))
}
