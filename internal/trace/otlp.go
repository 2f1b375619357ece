package trace

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SpanKind is OTLP's span kind.
type SpanKind int

// Span kinds used by the gateway.
const (
	KindInternal SpanKind = 1
	KindServer   SpanKind = 2
	KindClient   SpanKind = 3
)

// Span is one finished span to export. Attribute values are strings or
// ints.
type Span struct {
	TraceID    [16]byte
	SpanID     [8]byte
	ParentID   [8]byte // zero for a root span
	Name       string
	Kind       SpanKind
	Start, End time.Time
	Attrs      []Attr
	// Error, when not empty, marks the span failed with this message.
	Error string
}

// Attr is one span attribute.
type Attr struct {
	Key string
	Str string
	Int int64
	// IsInt says Int is the value (else Str).
	IsInt bool
}

// String makes a string attribute.
func String(k, v string) Attr { return Attr{Key: k, Str: v} }

// Int makes an integer attribute.
func Int(k string, v int64) Attr { return Attr{Key: k, Int: v, IsInt: true} }

// Defaults of Exporter.
const (
	DefaultMaxQueuedSpans = 8192
	DefaultBatchSpans     = 512
	DefaultFlushInterval  = time.Second
)

// Exporter sends spans to an OTLP/HTTP collector with the JSON encoding
// (POST <endpoint>/v1/traces, Content-Type application/json), without
// OpenTelemetry's SDK. Add never blocks: spans wait in a bounded queue and
// are dropped (and counted) when it is full or when the collector fails;
// Run sends them in batches. It is safe for concurrent use.
//
// Its life: NewExporter, then Run on a goroutine until its context ends
// (which sends what is queued, once), Add from any goroutine meanwhile.
type Exporter struct {
	url     string
	service string
	client  *http.Client
	log     *slog.Logger

	mu      sync.Mutex
	queue   []Span
	wake    chan struct{}
	dropped atomic.Int64
	sent    atomic.Int64
}

// NewExporter returns an exporter to endpoint, the collector's base URL
// (http://collector:4318; "/v1/traces" is appended unless the URL already
// ends with it), naming the process service in the spans' resource.
func NewExporter(endpoint, service string, log *slog.Logger) (*Exporter, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otlp endpoint %q: must be an http or https URL such as http://localhost:4318", endpoint)
	}
	full := strings.TrimSuffix(endpoint, "/")
	if !strings.HasSuffix(full, "/v1/traces") {
		full += "/v1/traces"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Exporter{url: full, service: service, client: &http.Client{Timeout: 10 * time.Second}, log: log,
		wake: make(chan struct{}, 1)}, nil
}

// Add queues spans for export; spans beyond DefaultMaxQueuedSpans are
// dropped. The Exporter takes ownership of spans.
func (e *Exporter) Add(spans []Span) {
	e.mu.Lock()
	room := DefaultMaxQueuedSpans - len(e.queue)
	if room < len(spans) {
		e.dropped.Add(int64(len(spans) - max(room, 0)))
		spans = spans[:max(room, 0)]
	}
	e.queue = append(e.queue, spans...)
	full := len(e.queue) >= DefaultBatchSpans
	e.mu.Unlock()
	if full {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// Dropped counts the spans lost (queue full or export failed).
func (e *Exporter) Dropped() int64 { return e.dropped.Load() }

// Sent counts the spans the collector accepted.
func (e *Exporter) Sent() int64 { return e.sent.Load() }

// Run sends queued spans every DefaultFlushInterval, or sooner when a
// batch is full, until ctx ends; then it sends what is left, once.
func (e *Exporter) Run(ctx context.Context) {
	t := time.NewTicker(DefaultFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			e.flush(sctx)
			cancel()
			return
		case <-t.C:
		case <-e.wake:
		}
		e.flush(ctx)
	}
}

func (e *Exporter) flush(ctx context.Context) {
	for {
		e.mu.Lock()
		n := min(len(e.queue), DefaultBatchSpans)
		batch := e.queue[:n:n]
		e.queue = e.queue[n:]
		if len(e.queue) == 0 {
			e.queue = nil
		}
		e.mu.Unlock()
		if n == 0 {
			return
		}
		if err := e.send(ctx, batch); err != nil {
			e.dropped.Add(int64(n))
			e.log.Warn("otlp export failed; spans dropped", "spans", n, "err", err)
			return
		}
		e.sent.Add(int64(n))
	}
}

func (e *Exporter) send(ctx context.Context, spans []Span) error {
	body, err := json.Marshal(e.document(spans))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("collector answered %s", res.Status)
	}
	return nil
}

// The OTLP JSON encoding (opentelemetry-proto, ExportTraceServiceRequest):
// ids are lowercase hex, 64-bit integers decimal strings, enums numbers.
type (
	otlpDoc struct {
		ResourceSpans []otlpResourceSpans `json:"resourceSpans"`
	}
	otlpResourceSpans struct {
		Resource   otlpResource     `json:"resource"`
		ScopeSpans []otlpScopeSpans `json:"scopeSpans"`
	}
	otlpResource struct {
		Attributes []otlpAttr `json:"attributes"`
	}
	otlpScopeSpans struct {
		Scope otlpScope  `json:"scope"`
		Spans []otlpSpan `json:"spans"`
	}
	otlpScope struct {
		Name string `json:"name"`
	}
	otlpSpan struct {
		TraceID      string     `json:"traceId"`
		SpanID       string     `json:"spanId"`
		ParentSpanID string     `json:"parentSpanId,omitempty"`
		Name         string     `json:"name"`
		Kind         SpanKind   `json:"kind"`
		Start        string     `json:"startTimeUnixNano"`
		End          string     `json:"endTimeUnixNano"`
		Attributes   []otlpAttr `json:"attributes,omitempty"`
		Status       otlpStatus `json:"status"`
	}
	otlpStatus struct {
		Code    int    `json:"code,omitempty"`
		Message string `json:"message,omitempty"`
	}
	otlpAttr struct {
		Key   string    `json:"key"`
		Value otlpValue `json:"value"`
	}
	otlpValue struct {
		StringValue *string `json:"stringValue,omitempty"`
		IntValue    *string `json:"intValue,omitempty"`
	}
)

func attr(a Attr) otlpAttr {
	if a.IsInt {
		v := strconv.FormatInt(a.Int, 10)
		return otlpAttr{Key: a.Key, Value: otlpValue{IntValue: &v}}
	}
	v := a.Str
	return otlpAttr{Key: a.Key, Value: otlpValue{StringValue: &v}}
}

func (e *Exporter) document(spans []Span) otlpDoc {
	out := make([]otlpSpan, len(spans))
	for i, s := range spans {
		o := otlpSpan{TraceID: hex.EncodeToString(s.TraceID[:]), SpanID: hex.EncodeToString(s.SpanID[:]), Name: s.Name, Kind: s.Kind,
			Start: strconv.FormatInt(s.Start.UnixNano(), 10), End: strconv.FormatInt(s.End.UnixNano(), 10)}
		if s.ParentID != ([8]byte{}) {
			o.ParentSpanID = hex.EncodeToString(s.ParentID[:])
		}
		for _, a := range s.Attrs {
			o.Attributes = append(o.Attributes, attr(a))
		}
		if s.Error != "" {
			o.Status = otlpStatus{Code: 2, Message: s.Error}
		}
		out[i] = o
	}
	return otlpDoc{ResourceSpans: []otlpResourceSpans{{
		Resource:   otlpResource{Attributes: []otlpAttr{attr(String("service.name", e.service))}},
		ScopeSpans: []otlpScopeSpans{{Scope: otlpScope{Name: "github.com/portico-gw/portico/internal/gateway"}, Spans: out}},
	}}}
}
