// Package trace holds Portico's request tracing: the policy debugger's
// traces (APIM's Ocp-Apim-Trace) — the Trace document a gateway records
// for one request, the bounded in-memory Store the management plane keeps
// them in, and the short-lived debug tokens (Apim-Debug-Authorization) that
// let a caller ask for one — and the OTLP/HTTP JSON Exporter of
// distributed-tracing spans (otlp.go).
//
// The life of a trace, in order:
//
//   - A gateway decides a request is traced (Ocp-Apim-Trace: true with a
//     key of a subscription that allows tracing, or a valid debug token for
//     the API) and picks its id with NewID, so the response can carry
//     Ocp-Apim-Trace-Location before anything is written.
//   - The gateway fills a Trace while the request runs (steps, backend
//     exchange, last error), redacting secrets as it goes: a Trace never
//     holds a subscription key, an Authorization value or the value of a
//     secret named value.
//   - Once the response is complete the Trace is handed to a Store with Put
//     and is immutable from then on; GET /api/v1/traces/{id} reads it with
//     Get until it expires or is evicted by newer traces.
//
// The package depends on nothing else of Portico's.
package trace

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Trace is the record of one traced request. Times are in milliseconds.
type Trace struct {
	ID             string    `json:"id"`
	RequestID      string    `json:"requestId"`
	Time           time.Time `json:"time"`
	GatewayID      string    `json:"gatewayId"`
	APIID          string    `json:"apiId"`
	OperationID    string    `json:"operationId"`
	ProductID      string    `json:"productId"`
	SubscriptionID string    `json:"subscriptionId"`
	// Authorized says how tracing was allowed: "subscription" (the
	// subscription's allowTracing) or "debugToken".
	Authorized string `json:"authorizedBy"`
	// Request is the inbound request, redacted.
	Request Message `json:"request"`
	// Steps are the policy steps in the order they ran, nested ones (choose
	// branches) with a greater Depth after their parent.
	Steps []Step `json:"steps"`
	// Messages are the outputs of <trace> policies.
	Messages []Output `json:"messages,omitempty"`
	// Backend is the last exchange with the backend, or nil when the request
	// was not forwarded.
	Backend *Exchange `json:"backend,omitempty"`
	// Response is the response sent to the client.
	Response Message `json:"response"`
	// LastError is APIM's context.LastError, or nil.
	LastError *Error `json:"lastError,omitempty"`
	// TotalTime is the time from receiving the request to the end of the
	// response.
	TotalTime float64 `json:"totalTime"`
	// Truncated says that steps beyond MaxSteps were not recorded.
	Truncated bool `json:"truncated,omitempty"`
}

// MaxSteps bounds the steps recorded in one Trace.
const MaxSteps = 1000

// Message is a request or a response: method and URL (requests) or status
// (responses), and headers.
type Message struct {
	Method  string              `json:"method,omitempty"`
	URL     string              `json:"url,omitempty"`
	Status  int                 `json:"status,omitempty"`
	Headers map[string][]string `json:"headers"`
}

// Step is one policy step that ran.
type Step struct {
	Section string `json:"section"`
	Scope   string `json:"scope"`
	Policy  string `json:"policy"`
	Path    string `json:"path"`
	ID      string `json:"id,omitempty"`
	Depth   int    `json:"depth"`
	// Start is when the step started, after the request started; Elapsed
	// is how long it ran (nested steps included).
	Start   float64 `json:"start"`
	Elapsed float64 `json:"elapsed"`
	// Changes are what the step changed in the request, the response or the
	// variables, in a stable order.
	Changes []Change `json:"changes,omitempty"`
	// Stopped says the step ended the pipeline (return-response, a limit).
	Stopped bool `json:"stopped,omitempty"`
	// Error is the step's failure, or nil.
	Error *Error `json:"error,omitempty"`
}

// Change is one value a step changed: Field names it
// ("request.header.X-Foo", "request.url", "request.method",
// "response.status", "response.header.X-Foo", "variable.name"); Before and
// After are nil when the value was absent.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// Output is one <trace> policy message.
type Output struct {
	Section  string `json:"section"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Exchange is a request sent to the backend and its outcome.
type Exchange struct {
	Request  Message `json:"request"`
	Response Message `json:"response"`
	// Elapsed is the wait for the response headers.
	Elapsed float64 `json:"elapsed"`
	// Error is why the exchange failed, or "".
	Error string `json:"error,omitempty"`
}

// Error is an error as APIM's context.LastError describes it.
type Error struct {
	Source  string `json:"source,omitempty"`
	Section string `json:"section,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// Millis converts d to fractional milliseconds (microsecond precision).
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// NewID returns a new random trace id (32 hex digits). Ids are unguessable:
// they are the only thing a trace location reveals.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID tells whether id has the form of NewID's ids.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Defaults of Store.
const (
	DefaultMaxTraces = 1000
	DefaultTTL       = time.Hour
)

// Store keeps traces in memory, at most Max of them and each for TTL; the
// oldest go first. It is safe for concurrent use; Put never blocks for
// long, so a gateway may call it on the request's goroutine.
type Store struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	m     map[string]stored
	order []string // ids, oldest first
}

type stored struct {
	t       *Trace
	expires time.Time
}

// NewStore returns a Store of at most max traces kept for ttl (defaults
// when zero or negative).
func NewStore(max int, ttl time.Duration) *Store {
	if max <= 0 {
		max = DefaultMaxTraces
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{max: max, ttl: ttl, now: time.Now, m: map[string]stored{}}
}

// Put stores t under t.ID, evicting expired traces and, beyond the bound,
// the oldest. The caller must not modify t afterwards.
func (s *Store) Put(t *Trace) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	drop := 0
	for drop < len(s.order) {
		e, ok := s.m[s.order[drop]]
		if ok && now.Before(e.expires) && len(s.order)-drop < s.max {
			break
		}
		delete(s.m, s.order[drop])
		drop++
	}
	if drop > 0 {
		s.order = append(s.order[:0:0], s.order[drop:]...)
	}
	if _, dup := s.m[t.ID]; !dup {
		s.order = append(s.order, t.ID)
	}
	s.m[t.ID] = stored{t: t, expires: now.Add(s.ttl)}
}

// Get returns the trace with id, or nil when it is unknown or expired.
// The result must not be modified.
func (s *Store) Get(id string) *Trace {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok || !s.now().Before(e.expires) {
		return nil
	}
	return e.t
}

// Len returns the number of traces held (expired ones not yet evicted
// included).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
