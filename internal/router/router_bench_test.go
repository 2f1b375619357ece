package router

import (
	"fmt"
	"runtime"
	"testing"
)

// benchTemplates are the 10 operations every benchmark API has: a mix of
// literal, parameter, mixed and wildcard templates.
var benchTemplates = []string{
	"GET /orders",
	"POST /orders",
	"GET /orders/{orderId}",
	"PUT /orders/{orderId}",
	"DELETE /orders/{orderId}",
	"GET /users/{userId}",
	"GET /users/{userId}/orders/{orderId}",
	"GET /health",
	"GET /items/{id}.json",
	"GET /files/{*path}",
}

// benchAPIs returns n host-less APIs "api0".."api<n-1>" with benchTemplates.
func benchAPIs(n int) []API {
	apis := make([]API, n)
	for i := range apis {
		apis[i] = API{ID: fmt.Sprint("api", i), Path: fmt.Sprint("api", i), Operations: ops(benchTemplates...)}
	}
	return apis
}

// benchRequests returns 64 requests spread over n APIs, cycling through the
// kinds of operation and including a few misses.
func benchRequests(n int) []struct{ method, path string } {
	suffixes := []struct{ method, path string }{
		{"GET", "/orders"},
		{"DELETE", "/orders/12345"},
		{"GET", "/users/u-17/orders/99"},
		{"GET", "/health/"},
		{"GET", "/items/42.json"},
		{"GET", "/files/a/b/c.txt"},
		{"PATCH", "/orders/1"},      // method miss
		{"GET", "/unknown/segment"}, // operation miss
	}
	reqs := make([]struct{ method, path string }, 64)
	for i := range reqs {
		s := suffixes[i%len(suffixes)]
		reqs[i].method = s.method
		reqs[i].path = fmt.Sprintf("/api%d%s", i*n/len(reqs), s.path)
	}
	return reqs
}

func BenchmarkMatch(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprint("apis=", n), func(b *testing.B) {
			r, errs := Build(benchAPIs(n))
			if len(errs) != 0 {
				b.Fatal(errs)
			}
			reqs := benchRequests(n)
			var m Match
			// Settle the garbage of Build and warm the caches so that a short
			// -benchtime=Nx run measures the steady state.
			runtime.GC()
			for _, q := range reqs {
				r.Match("", q.method, q.path, &m)
			}
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				q := &reqs[i%len(reqs)]
				if ok, _ := r.Match("", q.method, q.path, &m); !ok {
					b.Fatalf("no API for %s", q.path)
				}
				i++
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	apis := benchAPIs(100)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Build(apis); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
