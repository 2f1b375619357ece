package trace

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestExporter(t *testing.T) {
	var mu sync.Mutex
	var docs []map[string]any
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		docs, paths = append(docs, doc), append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	e, err := NewExporter(srv.URL, "portico-test", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1700000000, 5)
	e.Add([]Span{{TraceID: [16]byte{1}, SpanID: [8]byte{2}, ParentID: [8]byte{3}, Name: "GET /x", Kind: KindServer, Start: start, End: start.Add(time.Millisecond),
		Attrs: []Attr{String("url.full", "http://x"), Int("http.response.status_code", 502)}, Error: "bad gateway"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	cancel()
	<-done
	if e.Sent() != 1 || e.Dropped() != 0 || len(docs) != 1 || paths[0] != "/v1/traces" {
		t.Fatalf("sent %d dropped %d docs %d paths %v", e.Sent(), e.Dropped(), len(docs), paths)
	}
	got, _ := json.Marshal(docs[0])
	want := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"portico-test"}}]},"scopeSpans":[{"scope":{"name":"github.com/portico-gw/portico/internal/gateway"},"spans":[{"attributes":[{"key":"url.full","value":{"stringValue":"http://x"}},{"key":"http.response.status_code","value":{"intValue":"502"}}],"endTimeUnixNano":"1700000000001000005","kind":2,"name":"GET /x","parentSpanId":"0300000000000000","spanId":"0200000000000000","startTimeUnixNano":"1700000000000000005","status":{"code":2,"message":"bad gateway"},"traceId":"01000000000000000000000000000000"}]}]}]}`
	if string(got) != want {
		t.Fatalf("document\n got %s\nwant %s", got, want)
	}
}

func TestExporterBoundsAndFailures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	e, err := NewExporter(srv.URL+"/v1/traces", "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Add(make([]Span, DefaultMaxQueuedSpans+10))
	if e.Dropped() != 10 {
		t.Fatalf("dropped %d, want 10", e.Dropped())
	}
	e.flush(context.Background())
	if e.Sent() != 0 || e.Dropped() != 10+DefaultBatchSpans {
		t.Fatalf("sent %d dropped %d", e.Sent(), e.Dropped())
	}
	for _, bad := range []string{"", "localhost:4318", "ftp://x", "http://"} {
		if _, err := NewExporter(bad, "p", nil); err == nil {
			t.Errorf("endpoint %q accepted", bad)
		}
	}
}
