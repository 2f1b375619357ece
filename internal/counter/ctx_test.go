package counter

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/testenv"
)

// endedContexts are the two ways a request's context ends: the client
// goes away (cancelled) and --request-timeout runs out (expired).
func endedContexts(t *testing.T) map[string]context.Context {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	t.Cleanup(cancel2)
	return map[string]context.Context{"cancelled": cancelled, "expired": expired}
}

// TestRedisCallsEndWithTheRequest: with Redis, a counter or cache call
// under a request's context that has ended returns that context's error
// without counting, storing or reading anything, and is not taken for a
// Redis failure (the counters do not fall back to local counting).
func TestRedisCallsEndWithTheRequest(t *testing.T) {
	url, prefix := testenv.Redis(t)
	r := newTestRedis(t, url, prefix)
	c := newTestCache(t, url, prefix)
	live := context.Background()
	now := time.Now()
	if ok, _, _, err := r.Take(live, "seen", 1, 10, time.Minute, now); !ok || err != nil {
		t.Fatalf("take = %v %v", ok, err)
	}
	if err := c.Set(live, "seen", []byte("v"), time.Minute, now); err != nil {
		t.Fatal(err)
	}
	for name, ctx := range endedContexts(t) {
		t.Run(name, func(t *testing.T) {
			want := ctx.Err()
			for i := range failuresToFallBack + 1 { // more than would trip the fallback
				if _, _, _, err := r.Take(ctx, "k", 1, 10, time.Minute, now); !errors.Is(err, want) {
					t.Fatalf("take %d: err = %v, want %v", i, err, want)
				}
			}
			if _, _, err := r.Peek(ctx, "seen", time.Minute, now); !errors.Is(err, want) {
				t.Fatalf("peek: err = %v, want %v", err, want)
			}
			if _, err := r.Acquire(ctx, "slot", 1); !errors.Is(err, want) {
				t.Fatalf("acquire: err = %v, want %v", err, want)
			}
			if _, _, err := c.Get(ctx, "seen", now); !errors.Is(err, want) {
				t.Fatalf("cache get: err = %v, want %v", err, want)
			}
			if err := c.Set(ctx, "new", []byte("v"), time.Minute, now); !errors.Is(err, want) {
				t.Fatalf("cache set: err = %v, want %v", err, want)
			}
			if err := c.Delete(ctx, "seen"); !errors.Is(err, want) {
				t.Fatalf("cache delete: err = %v, want %v", err, want)
			}
			if r.Fallback() || c.Fallback() {
				t.Fatal("ended requests were taken for Redis failures: fell back to local")
			}
			if n, _, err := r.Peek(live, "k", time.Minute, now); n != 0 || err != nil {
				t.Fatalf("the counter holds %d (%v) after calls under an ended context", n, err)
			}
			if ok, err := r.Acquire(live, "slot", 1); !ok || err != nil {
				t.Fatalf("the slot was taken under an ended context: %v %v", ok, err)
			}
			r.Release(ctx, "slot") // released even though ctx has ended
			if ok, err := r.Acquire(live, "slot", 1); !ok || err != nil {
				t.Fatalf("Release under an ended context kept the slot: %v %v", ok, err)
			}
			r.Release(live, "slot")
			if _, ok, _ := c.Get(live, "new", now); ok {
				t.Fatal("a value was stored under an ended context")
			}
			if n, _, _ := r.Peek(live, "seen", time.Minute, now); n != 1 {
				t.Fatalf("counter = %d, want 1", n)
			}
		})
	}
}

// TestPoliciesWhenTheRequestEnds: what rate-limit, quota, limit-concurrency
// and the cache policies do when the request's context ends during their
// Redis call (the request ends: 499 when the client went away, 504 Timeout
// when its time ran out), and that a Redis failure is still answered by
// the local fallback as before (the policy neither admits nor refuses
// because Redis failed).
func TestPoliciesWhenTheRequestEnds(t *testing.T) {
	url, prefix := testenv.Redis(t)
	r := newTestRedis(t, url, prefix)
	c := newTestCache(t, url, prefix)
	// Nothing listens on port 1; Retry keeps the fallback for the test.
	down, err := NewRedis(context.Background(), Options{URL: "redis://127.0.0.1:1/0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Retry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { down.Close() })
	downCache := newTestCache(t, "redis://127.0.0.1:1/0", "portico-test-down:")
	docs := map[string]string{
		"rate-limit":         `<rate-limit calls="2" renewal-period="60"/>`,
		"rate-limit-by-key":  `<rate-limit-by-key calls="2" renewal-period="60" counter-key="k"/>`,
		"quota":              `<quota calls="2" renewal-period="60"/>`,
		"quota-by-key":       `<quota-by-key calls="2" renewal-period="60" counter-key="k"/>`,
		"limit-concurrency":  `<limit-concurrency key="k" max-count="1"><set-variable name="in" value="1"/></limit-concurrency>`,
		"cache-lookup-value": `<cache-lookup-value key="k" variable-name="v"/>`,
		"cache-store-value":  `<cache-store-value key="k" value="v" duration="60"/>`,
		"cache-remove-value": `<cache-remove-value key="k"/>`,
		"cache-lookup":       `<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"/>`,
	}
	run := func(t *testing.T, ctx context.Context, counters policy.Counters, cache policy.Cache, src string) (int, *policy.Error) {
		t.Helper()
		doc, err := policy.CompileDocument("<policies><inbound>"+src+"<return-response/></inbound></policies>", &policy.Env{Scope: "apis/" + prefix})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/api/x", nil).WithContext(ctx)
		pc := &policy.Context{In: req, Counters: counters, Cache: cache, Request: policy.Request{Method: "GET", Header: req.Header.Clone()},
			Subscription: policy.SubscriptionInfo{ID: "s-" + prefix}}
		policy.Compose(doc).Run(pc)
		return pc.Response.StatusCode, pc.LastError
	}
	for name, src := range docs {
		t.Run(name, func(t *testing.T) {
			for how, ctx := range endedContexts(t) {
				status, reason := 499, policy.ReasonClientConnectionFailure
				if how == "expired" {
					status, reason = http.StatusGatewayTimeout, policy.ReasonTimeout
				}
				if got, le := run(t, ctx, r, c, src); got != status || le == nil || le.Reason != reason {
					t.Fatalf("%s request: %d %+v, want %d %s", how, got, le, status, reason)
				}
			}
			if got, le := run(t, context.Background(), r, c, src); got != 200 {
				t.Fatalf("live request: %d %+v", got, le)
			}
			// Redis unreachable: answered locally, whatever the request's
			// context (no Redis call is made while the fallback lasts).
			for how, ctx := range endedContexts(t) {
				if got, le := run(t, ctx, down, downCache, src); got != 200 {
					t.Fatalf("%s request with Redis down: %d %+v, want 200 (local fallback)", how, got, le)
				}
			}
		})
	}
	t.Run("limits are still enforced locally while Redis is down", func(t *testing.T) {
		for i, want := range []int{200, 200, 429} {
			if got, le := run(t, context.Background(), down, downCache, `<rate-limit-by-key calls="2" renewal-period="60" counter-key="local"/>`); got != want {
				t.Fatalf("call %d: %d %+v, want %d", i+1, got, le, want)
			}
		}
	})
}

// hangingRedis is a Redis server that completes the client's handshake and
// then never answers a data command; each data command it receives is
// sent on the returned channel.
func hangingRedis(t *testing.T) (url string, stuck <-chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 16)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() { serveHanging(conn, ch) })
		}
	})
	return "redis://" + ln.Addr().String() + "/0", ch
}

func serveHanging(conn net.Conn, stuck chan<- string) {
	rd := bufio.NewReader(conn)
	for {
		args, err := readCommand(rd)
		if err != nil {
			return
		}
		switch name := strings.ToUpper(args[0]); name {
		case "HELLO":
			io.WriteString(conn, "-ERR unknown command 'HELLO'\r\n")
		case "PING":
			io.WriteString(conn, "+PONG\r\n")
		case "EVALSHA", "EVAL", "GET", "SET", "DEL", "PTTL":
			stuck <- name // and never answer
		default:
			io.WriteString(conn, "+OK\r\n")
		}
	}
}

// readCommand reads one RESP array of bulk strings.
func readCommand(rd *bufio.Reader) ([]string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("unexpected %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("unexpected %q", line)
	}
	args := make([]string, n)
	for i := range args {
		if line, err = rd.ReadString('\n'); err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "$")))
		if err != nil {
			return nil, err
		}
		b := make([]byte, size+2)
		if _, err := io.ReadFull(rd, b); err != nil {
			return nil, err
		}
		args[i] = string(b[:size])
	}
	return args, nil
}

// TestCallReturnsWhenTheRequestEnds: while Redis does not answer, a call
// returns as soon as the request's context is cancelled or its deadline
// passes, with that context's error, long before the call's own timeout
// (a minute here), and it is not counted as a Redis failure.
func TestCallReturnsWhenTheRequestEnds(t *testing.T) {
	url, stuck := hangingRedis(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := NewRedis(context.Background(), Options{URL: url, Logger: log, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c, err := NewCache(context.Background(), CacheOptions{Options: Options{URL: url, Logger: log, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if r.Fallback() || c.Fallback() {
		t.Fatal("the fake Redis was not accepted")
	}
	calls := map[string]func(ctx context.Context) error{
		"take": func(ctx context.Context) error {
			_, _, _, err := r.Take(ctx, "k", 1, 10, time.Minute, time.Now())
			return err
		},
		"peek": func(ctx context.Context) error {
			_, _, err := r.Peek(ctx, "k", time.Minute, time.Now())
			return err
		},
		"acquire": func(ctx context.Context) error {
			_, err := r.Acquire(ctx, "k", 1)
			return err
		},
		"cache get": func(ctx context.Context) error {
			_, _, err := c.Get(ctx, "k", time.Now())
			return err
		},
		"cache set": func(ctx context.Context) error { return c.Set(ctx, "k", []byte("v"), time.Minute, time.Now()) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- call(ctx) }()
			select {
			case <-stuck: // Redis holds the call
			case err := <-done:
				t.Fatalf("returned before Redis got the call: %v", err)
			case <-time.After(10 * time.Second): // a guard against a hang
				t.Fatal("Redis never got the call")
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second): // a guard, far below the call's minute
				t.Fatal("the call still waits for Redis after its request was cancelled")
			}
		})
	}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- calls["take"](ctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
		case <-time.After(10 * time.Second): // a guard, far below the call's minute
			t.Fatal("the call outlived its request's deadline")
		}
	})
	if r.Fallback() || c.Fallback() {
		t.Fatal("ended requests were taken for Redis failures: fell back to local")
	}
}
