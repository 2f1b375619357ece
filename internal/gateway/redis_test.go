package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/counter"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/testenv"
)

// TestRateLimitSharedThroughRedis: three gateways sharing one Redis admit
// exactly the product's rate limit between them under concurrent load.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	url, prefix := testenv.Redis(t)
	be := newBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	cfg := policyConfig(be.URL, map[string]string{
		"products/p1": `<policies><inbound><base/><rate-limit calls="25" renewal-period="60"/></inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`,
	})
	var gws []*env
	for i := 0; i < 3; i++ {
		r, err := counter.NewRedis(context.Background(), counter.Options{URL: url, Prefix: prefix, Timeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		s, errs := snapshot.Compile(cfg)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		e := newEnv(t, Config{Counters: r}, nil)
		e.gw.Publish(s)
		gws = append(gws, e)
	}
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 120; i++ {
		wg.Add(1)
		go func(e *env) {
			defer wg.Done()
			switch r := e.do("GET", "/echo/resource", nil, "Ocp-Apim-Subscription-Key", keyP1); r.status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				other.Add(1)
			}
		}(gws[i%3])
	}
	wg.Wait()
	if ok.Load() != 25 || limited.Load() != 95 || other.Load() != 0 {
		t.Fatalf("3 gateways admitted %d, limited %d, other %d; want exactly 25 admitted", ok.Load(), limited.Load(), other.Load())
	}
	t.Logf("120 concurrent calls through 3 gateways sharing Redis: %d admitted, %d answered 429", ok.Load(), limited.Load())
}
