// Command stdproxy is the reference Go reverse proxy of the gateway load test
// (bench/run.sh): net/http's server and httputil.ReverseProxy with a pooled
// keep-alive transport and nothing else — no routing, no key check, no
// metrics, only a copy-buffer pool as Portico has. The distance between it and Portico is what Portico adds; the
// distance between it and nginx is what net/http costs.
//
//	go run ./bench/stdproxy -addr 127.0.0.1:18081 -backend http://127.0.0.1:18080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// bufferPool recycles the proxy's body copy buffers.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	backend := flag.String("backend", "http://127.0.0.1:18080", "backend base URL")
	flag.Parse()

	target, err := url.Parse(*backend)
	if err != nil || target.Scheme == "" || target.Host == "" {
		log.Fatalf("-backend %q: want an absolute http URL", *backend)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = ""
		},
		// The same pool sizes as Portico's gateway uses towards a backend.
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		// Reuse the 32 KiB copy buffers (Portico does too); without a pool
		// every response allocates one.
		BufferPool: &bufferPool{},
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Printf("stdproxy listening on http://%s -> %s\n", ln.Addr(), target)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
