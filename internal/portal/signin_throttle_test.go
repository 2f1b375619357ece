package portal_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// browserFrom is a browser whose connections leave from the loopback
// address ip (127.0.0.x), so that the portal sees another client address.
func (s *stack) browserFrom(base, ip string) *browser {
	b := s.browser(base)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	b.c.Transport = &http.Transport{DialContext: d.DialContext}
	s.t.Cleanup(b.c.CloseIdleConnections)
	return b
}

// TestSignInThrottleSparesOwner is issue 11's lockout: an attacker who
// fails many times on an account from one address is refused there, while
// the owner signs in at once, with the right password, from another.
func TestSignInThrottleSparesOwner(t *testing.T) {
	s := newStack(t)
	const email, password = "owner@example.com", "correct horse battery"
	s.signUp(s.browser(s.portalURL), email, password)

	attacker := s.browserFrom(s.portalURL, "127.0.0.2")
	statuses := map[int]int{}
	for i := 0; i < 30; i++ {
		statuses[s.signIn(attacker, email, "guess "+string(rune('a'+i))).status]++
	}
	if statuses[http.StatusUnauthorized] == 0 || statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusUnauthorized] > 5 {
		t.Fatalf("attacker's statuses %v: want a few 401s, then 429s", statuses)
	}
	// Even the right password is refused from the attacker's address.
	p := s.signIn(attacker, email, password)
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || !strings.Contains(p.body, "Too many attempts") {
		t.Fatalf("attacker with the right password: %d Retry-After %q", p.status, p.header.Get("Retry-After"))
	}

	owner := s.browserFrom(s.portalURL, "127.0.0.3")
	if p := s.signIn(owner, email, password); p.status != http.StatusOK || !strings.Contains(p.body, "Sign out") {
		t.Fatalf("owner from another address: %d %s", p.status, p.url)
	}
	// The attacker is still refused after the owner signed in.
	if p := s.signIn(attacker, email, password); p.status != http.StatusTooManyRequests {
		t.Fatalf("attacker after the owner's sign-in: %d", p.status)
	}
}
