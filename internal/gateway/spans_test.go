package gateway

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/portico-gw/portico/internal/testenv"
	"github.com/portico-gw/portico/internal/trace"
)

// spanSink keeps the spans it gets.
type spanSink struct {
	mu    sync.Mutex
	spans [][]trace.Span
}

func (s *spanSink) Add(spans []trace.Span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, spans)
}

func (s *spanSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.spans)
}

// next waits for the spans of the request after the first n (they are
// handed over once the response is complete, possibly after the client
// read it).
func (s *spanSink) next(t *testing.T, n int) []trace.Span {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("span %d", n), func() bool { return s.len() > n })
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spans[n]
}

func attrOf(sp trace.Span, key string) (trace.Attr, bool) {
	for _, a := range sp.Attrs {
		if a.Key == key {
			return a, true
		}
	}
	return trace.Attr{}, false
}

func TestSpans(t *testing.T) {
	be := newBackend(t, func(http.ResponseWriter, *http.Request) {})
	sink := &spanSink{}
	cfg := policyConfig(be.URL, map[string]string{
		"apis/echo": `<policies><inbound><set-header name="X-P" exists-action="override"><value>1</value></set-header></inbound>
			<backend><forward-request/></backend><outbound><set-header name="X-O" exists-action="override"><value>1</value></set-header></outbound></policies>`,
	})
	e := newEnv(t, Config{Spans: sink}, cfg)
	const tid, pid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"

	t.Run("continues the caller's trace", func(t *testing.T) {
		n := sink.len()
		r := e.do("GET", "/echo/users/7", nil, "Ocp-Apim-Subscription-Key", keyAll, "Traceparent", "00-"+tid+"-"+pid+"-01", "Tracestate", "v=1")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		spans := sink.next(t, n)
		names := []string{}
		for _, sp := range spans {
			names = append(names, sp.Name)
		}
		if strings.Join(names, ",") != "inbound,backend,GET,outbound,GET /echo/users/{id}" {
			t.Fatalf("spans %v", names)
		}
		server := spans[4]
		if hex.EncodeToString(server.TraceID[:]) != tid || hex.EncodeToString(server.ParentID[:]) != pid || server.Kind != trace.KindServer || server.Error != "" {
			t.Fatalf("server span %+v", server)
		}
		if a, _ := attrOf(server, "http.response.status_code"); a.Int != 200 {
			t.Errorf("status attr %+v", a)
		}
		if a, _ := attrOf(server, "portico.api_id"); a.Str != "echo" {
			t.Errorf("api attr %+v", a)
		}
		for _, i := range []int{0, 1, 3} {
			if spans[i].ParentID != server.SpanID || spans[i].TraceID != server.TraceID || spans[i].Kind != trace.KindInternal || spans[i].End.Before(spans[i].Start) {
				t.Errorf("section span %d %+v", i, spans[i])
			}
		}
		client := spans[2]
		if client.ParentID != spans[1].SpanID || client.Kind != trace.KindClient {
			t.Errorf("client span %+v", client)
		}
		h := be.last(t).header
		if h.Get("Traceparent") != "00-"+tid+"-"+hex.EncodeToString(client.SpanID[:])+"-01" || h.Get("Tracestate") != "v=1" {
			t.Errorf("backend trace context %q %q", h.Get("Traceparent"), h.Get("Tracestate"))
		}
	})
	t.Run("starts a trace", func(t *testing.T) {
		n := sink.len()
		e.do("GET", "/open/resource", nil, "Traceparent", "garbage", "Tracestate", "v=1")
		spans := sink.next(t, n)
		if len(spans) != 2 || spans[0].Name != "GET" || spans[1].ParentID != ([8]byte{}) || spans[0].ParentID != spans[1].SpanID {
			t.Fatalf("spans %+v", spans)
		}
		h := be.last(t).header
		if !strings.HasPrefix(h.Get("Traceparent"), "00-"+hex.EncodeToString(spans[1].TraceID[:])+"-") || h.Get("Tracestate") != "" {
			t.Errorf("backend trace context %q %q", h.Get("Traceparent"), h.Get("Tracestate"))
		}
	})
	t.Run("not sampled", func(t *testing.T) {
		n := sink.len()
		e.do("GET", "/open/resource", nil, "Traceparent", "00-"+tid+"-"+pid+"-00")
		e.do("GET", "/open/resource", nil, "Traceparent", "00-"+tid+"-"+pid+"-01")
		if spans := sink.next(t, n); spans[len(spans)-1].ParentID == ([8]byte{}) || sink.len() != n+1 {
			t.Fatal("spans of an unsampled trace exported")
		}
		n = sink.len()
		e.do("GET", "/open/resource", nil, "Traceparent", "00-"+tid+"-"+pid+"-00")
		if tp := be.last(t).header.Get("Traceparent"); !strings.HasPrefix(tp, "00-"+tid+"-") || !strings.HasSuffix(tp, "-00") {
			t.Errorf("traceparent %q", tp)
		}
	})
	t.Run("errors", func(t *testing.T) {
		n := sink.len()
		e.do("GET", "/nothing", nil)
		spans := sink.next(t, n)
		if len(spans) != 1 || spans[0].Name != "GET" {
			t.Fatalf("spans %+v", spans)
		}
		if a, _ := attrOf(spans[0], "portico.last_error.reason"); a.Str != "OperationNotFound" && a.Str != "ResourceNotFound" && !strings.Contains(a.Str, "NotFound") {
			t.Errorf("reason %+v", a)
		}
	})
}

// discardSpans drops spans, for benchmarks.
type discardSpans struct{}

func (discardSpans) Add([]trace.Span) {}

// BenchmarkServeHTTPSpans is BenchmarkServeHTTP with span export on and a
// caller's traceparent: the server and client spans and the backend's
// traceparent (compare with BenchmarkServeHTTP for the cost).
func BenchmarkServeHTTPSpans(b *testing.B) {
	gw, err := New(Config{Logger: discardLogger(), Spans: discardSpans{}, Transport: func(string, string) http.RoundTripper { return staticBackend{} }})
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, gw: gw}
	e.publish(testConfig("http://backend.invalid"))
	req := httptest.NewRequest("GET", "http://gw.example/echo/users/42?a=1&subscription-key="+keyP1, nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status = 0
		gw.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}
