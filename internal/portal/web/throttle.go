package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Throttle counts failures per key over a sliding window: once a key has
// Limit failures within Window it is refused until the oldest one ages out.
// It is safe for concurrent use.
type Throttle struct {
	Limit  int
	Window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	hits map[string][]time.Time
}

// NewThrottle returns a throttle of limit failures per window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{Limit: limit, Window: window, now: time.Now, hits: map[string][]time.Time{}}
}

func (t *Throttle) prune(key string, now time.Time) []time.Time {
	h := t.hits[key]
	i := 0
	for i < len(h) && now.Sub(h[i]) >= t.Window {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(t.hits, key)
		return nil
	}
	t.hits[key] = h
	return h
}

// Allow reports whether key may try now and, when not, how long to wait.
func (t *Throttle) Allow(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	h := t.prune(key, now)
	if len(h) < t.Limit {
		return true, 0
	}
	return false, t.Window - now.Sub(h[len(h)-t.Limit])
}

// Fail records one failure of key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.hits) > 100000 { // bound memory under a flood of distinct keys
		for k := range t.hits {
			t.prune(k, now)
		}
	}
	t.hits[key] = append(t.prune(key, now), now)
}

// Reset forgets key's failures (after a success).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.hits, key)
}

// ClientIP is the address of the client that sent r (the TCP peer; proxies'
// X-Forwarded-For is not trusted).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
