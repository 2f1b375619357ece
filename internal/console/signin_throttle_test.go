package console_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// clientFrom is a client whose connections leave from the loopback
// address ip (127.0.0.x), so that the console sees another client address.
func (e *env) clientFrom(ip string) *client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &client{t: e.t, e: e, c: &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: tr}}
}

// TestConsoleSignInThrottleSparesOwner: failures from one address on an
// administrator's account, or with wrong admin tokens, get that address
// refused; the administrator, from another address, signs in at once.
func TestConsoleSignInThrottleSparesOwner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.api.Call(ctx, "PUT", "/api/v1/users/ops", map[string]any{"email": "ops@example.com", "firstName": "Op", "lastName": "S", "password": "admin password"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.api.Call(ctx, "PUT", "/api/v1/groups/administrators/users/ops", nil, nil); err != nil {
		t.Fatal(err)
	}
	attacker := e.clientFrom("127.0.0.2")
	tok := attacker.token("/signin")
	for i := 0; i < 12; i++ {
		attacker.post("/signin", tok, url.Values{"email": {"ops@example.com"}, "password": {"guess"}})
		attacker.post("/signin", tok, url.Values{"token": {"guessed-token"}})
	}
	for _, form := range []url.Values{{"email": {"ops@example.com"}, "password": {"admin password"}}, {"token": {token}}} {
		if p := attacker.post("/signin", tok, form); p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" {
			t.Fatalf("attacker with the right credentials: %d Retry-After %q", p.status, p.header.Get("Retry-After"))
		}
	}
	for _, form := range []url.Values{{"email": {"ops@example.com"}, "password": {"admin password"}}, {"token": {token}}} {
		admin := e.clientFrom("127.0.0.3")
		if p := admin.post("/signin", admin.token("/signin"), form); p.status != http.StatusOK || !strings.Contains(p.body, "Dashboard") {
			t.Fatalf("administrator from another address: %d %s", p.status, p.url)
		}
	}
}
