// Package gateway is Portico's data plane: it routes API requests, checks
// subscription keys with Azure API Management's rules and proxies to the
// backends, serving from an immutable snapshot.Snapshot that it swaps
// atomically.
//
// The life of a Gateway, in order:
//
//   - New builds it from a Config (metrics are registered then).
//   - Publish hands it a snapshot; until the first one every API request
//     gets 503. A Reloader usually does this: it rebuilds the snapshot when
//     told the configuration changed, and on a timer.
//   - ServeHTTP (directly, or through the *http.Server of NewServer, which
//     sets the header limits, timeouts and HTTP/2 with and without TLS)
//     handles requests. Each request runs on the snapshot current when it
//     arrived, until it ends.
//   - Close, after the servers have shut down, closes idle backend
//     connections.
//
// One request goes through these steps in ServeHTTP, each of which may end
// it with an APIM-shaped JSON error: the status probe; the header size
// limit (431); the route: host and path to API, method and path to operation
// (404); the subscription key (401); the body size limit (413); then the
// operation's effective policy (composed and compiled with the snapshot):
// when it only forwards, the streaming proxy, whose failures are 502
// (backend unreachable) or 504 (timeout); otherwise the policy pipeline
// (inbound, backend with forward-request, outbound, on-error; see
// runPolicies). Both paths build the outbound request, pick the backend
// and map its failures with the one forwarding core (forward.go), and every
// error is a *policy.Error written by policy.WriteError. An operation whose
// policy does not compile answers 500.
// An authorised request that asks for it may be recorded by the policy
// debugger (debug.go), and a caller's W3C traceparent is continued towards
// the backend with a new parent id (traceparent.go).
//
// The package never imports the store: its configuration comes only from
// snapshots.
package gateway

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/policy"
	"github.com/portico-gw/portico/internal/router"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/trace"
)

// StatusPath is APIM's health probe path, answered on the gateway port.
const StatusPath = "/status-0123456789abcdef"

// Defaults of Config.
const (
	DefaultGatewayID              = model.ManagedGatewayID
	DefaultConnectTimeout         = 10 * time.Second
	DefaultResponseHeaderTimeout  = 300 * time.Second
	DefaultMaxHeaderBytes         = 32 << 10
	DefaultMaxRequestBodyBytes    = 100 << 20
	DefaultReadHeaderTimeout      = 10 * time.Second
	DefaultIdleTimeout            = 120 * time.Second
	DefaultMaxIdleConnsPerBackend = 256
)

// Config configures a Gateway. Zero values select the defaults above.
type Config struct {
	// GatewayID names the gateway in metrics; DefaultGatewayID when empty.
	GatewayID string
	// PublicURL is the gateway's base URL as clients know it, used as the
	// realm of WWW-Authenticate; when empty it is derived from each request.
	PublicURL string
	// Logger receives the gateway's logs; slog.Default() when nil.
	Logger *slog.Logger
	// Registerer receives the gateway's metrics; when nil they are kept but
	// not exported.
	Registerer prometheus.Registerer

	// ConnectTimeout bounds dialing a backend and its TLS handshake.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a backend's response headers
	// after the request was sent (negative: no limit).
	ResponseHeaderTimeout time.Duration
	// RequestTimeout bounds a whole proxied exchange, the response body
	// included (0: no limit). It does not apply to upgraded connections
	// (WebSocket). When it expires before the response headers, the client
	// gets 504; after them the response is cut.
	RequestTimeout time.Duration

	// MaxHeaderBytes limits the request line and headers; bigger requests
	// get 431. The server of NewServer refuses (with a plain 431 of its own)
	// anything beyond twice this size before it reaches the handler.
	MaxHeaderBytes int
	// MaxRequestBodyBytes is the body limit of APIs that set none: 413 when
	// Content-Length exceeds it, and a body without Content-Length is cut
	// there.
	MaxRequestBodyBytes int64
	// ReadHeaderTimeout and IdleTimeout are those of NewServer's server.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	// BodyReadTimeout is the longest wait for the next bytes of a request
	// body (each read gets this long; DefaultBodyReadTimeout when 0,
	// negative: no limit). A body that stalls is answered 408 when the
	// response has not started, and its connection is closed.
	BodyReadTimeout time.Duration

	// BackendTLS, when set, is the TLS client configuration towards
	// backends (e.g. extra root CAs); it is cloned per backend.
	BackendTLS *tls.Config
	// MaxIdleConnsPerBackend bounds the idle keep-alive connections kept per
	// backend origin.
	MaxIdleConnsPerBackend int
	// Counters keeps rate-limit, quota and concurrency counters. It must
	// outlive snapshots (it is kept for the Gateway's life, so a reload
	// never resets a limit); in-memory counters when nil.
	Counters policy.Counters
	// PortalOrigins are the developer portal's origins (scheme://host:port):
	// the gateway answers their CORS preflights and allows them on every
	// API, for the portal's try-it console.
	PortalOrigins []string
	// Cache holds the entries of the caching policies (cache-lookup,
	// cache-store, cache-*-value); an in-memory cache of 64 MiB kept for
	// the gateway's lifetime when nil, so reloads never empty it.
	Cache policy.Cache
	// Transport, when set, makes the transport of one backend origin
	// instead of the default pooled *http.Transport (tests, benchmarks).
	// Requests the proxy policy sends through an HTTP proxy always use the
	// default transport, with that proxy.
	// It is called once per origin and the result is kept across snapshots.
	Transport func(scheme, host string) http.RoundTripper

	// Telemetry, when set, receives one record per request once its
	// response is complete (nil: no records are built).
	Telemetry TelemetrySink
	// InstanceID names this gateway process in telemetry records.
	InstanceID string

	// Traces, when set, turns the policy debugger on: requests that ask for
	// a trace and may have one (see startTrace) are traced and their trace
	// handed to it when they end. Nil: Ocp-Apim-Trace is ignored.
	Traces TraceSink
	// TraceLocation is the prefix of Ocp-Apim-Trace-Location: the trace id
	// is appended to it (e.g. "https://mgmt.example/api/v1/traces/").
	TraceLocation string
	// DebugTokens checks Apim-Debug-Authorization tokens; when nil, the
	// key of the serving configuration (snapshot.Config.DebugTokenKey, a
	// self-hosted gateway's) checks them, and without one none is accepted
	// (only subscriptions that allow tracing can then ask for traces).
	DebugTokens *trace.Signer
	// TraceRedactHeaders names headers, besides Authorization,
	// Proxy-Authorization, Cookie, Set-Cookie, Apim-Debug-Authorization and
	// the subscription key headers, whose values policy debugger traces
	// show as "***" (names compared case-insensitively).
	TraceRedactHeaders []string
	// Spans, when set, receives the spans of every sampled request (see
	// spans.go): the request, each policy section and each backend attempt.
	// Requests without a traceparent then start a sampled trace, and
	// backends always get a traceparent.
	Spans SpanSink
}

// TelemetrySink receives the gateway's request records (a
// *telemetry.Queue). Record is called on the goroutine that served the
// request, so it must not block; it takes ownership of r.
type TelemetrySink interface {
	Record(r *telemetry.Record)
}

func (c *Config) defaults() {
	if c.GatewayID == "" {
		c.GatewayID = DefaultGatewayID
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ResponseHeaderTimeout == 0 {
		c.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxRequestBodyBytes <= 0 {
		c.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BodyReadTimeout == 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.MaxIdleConnsPerBackend <= 0 {
		c.MaxIdleConnsPerBackend = DefaultMaxIdleConnsPerBackend
	}
}

// Gateway serves API requests from the current snapshot. Create it with
// New; it is safe for concurrent use.
type Gateway struct {
	cfg      Config
	log      *slog.Logger
	snap     atomic.Pointer[snapshot.Snapshot]
	metrics  *metrics
	pool     *pool
	proxy    *httputil.ReverseProxy
	counters policy.Counters
	cache    policy.Cache
	// keys holds validate-jwt's OpenID keys for the gateway's lifetime:
	// the Reloader compiles every snapshot with it.
	keys *policy.KeyCache
}

// New builds a Gateway without a snapshot. It fails only when its metrics
// cannot be registered (e.g. twice for the same gateway id).
func New(cfg Config) (*Gateway, error) {
	cfg.defaults()
	m, err := newMetrics(cfg.GatewayID, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger.With("component", "gateway", "gateway", cfg.GatewayID), metrics: m}
	g.pool = &pool{m: map[origin]http.RoundTripper{}, make: g.newTransport, makeProxied: g.newProxiedTransport}
	if cfg.Transport != nil {
		g.pool.make = cfg.Transport
	}
	g.proxy = g.newProxy()
	g.counters = cfg.Counters
	g.cache = cfg.Cache
	if g.cache == nil {
		g.cache = policy.NewMemoryCache(64 << 20)
	}
	if g.counters == nil {
		g.counters = policy.NewMemoryCounters()
	}
	g.keys = policy.NewKeyCache(policy.KeyCacheOptions{})
	return g, nil
}

// Publish makes s the snapshot new requests run on; requests in flight
// finish on theirs. A nil s is ignored. Connection pools of backends that s
// still uses are kept.
func (g *Gateway) Publish(s *snapshot.Snapshot) {
	if s == nil {
		return
	}
	g.snap.Store(s)
	g.metrics.published(s)
	g.pool.retain(s)
}

// Snapshot returns the current snapshot, or nil before the first Publish.
func (g *Gateway) Snapshot() *snapshot.Snapshot { return g.snap.Load() }

// Close closes idle backend connections. Call it after the servers using
// the gateway have shut down.
func (g *Gateway) Close() { g.pool.closeIdle() }

// NewServer returns an *http.Server serving g with the gateway's limits:
// ReadHeaderTimeout, IdleTimeout, a hard header limit of twice
// MaxHeaderBytes, and HTTP/1.1 plus HTTP/2 over TLS and, on cleartext
// listeners, h2c with prior knowledge. Set TLSConfig for TLS.
func (g *Gateway) NewServer() *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           g,
		ReadHeaderTimeout: g.cfg.ReadHeaderTimeout,
		IdleTimeout:       g.cfg.IdleTimeout,
		MaxHeaderBytes:    2 * g.cfg.MaxHeaderBytes,
		Protocols:         &p,
		ConnContext:       framingContext,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
}

// statusWriter records the status of the response, when it started and
// how many body bytes it had, for metrics and telemetry.
type statusWriter struct {
	http.ResponseWriter
	status  int
	started time.Time // when the final status was written
	written int64
	// corsOrigin is the developer portal's origin when the request came
	// from it: the response allows that origin unless a policy already
	// answered for CORS.
	corsOrigin string
}

// allowPortal adds the portal's CORS response headers before the status
// line goes out.
func (w *statusWriter) allowPortal() {
	if w.corsOrigin == "" {
		return
	}
	h := w.Header()
	if h.Get("Access-Control-Allow-Origin") == "" {
		h.Set("Access-Control-Allow-Origin", w.corsOrigin)
		h.Set("Access-Control-Expose-Headers", "*")
		h.Add("Vary", "Origin")
	}
	w.corsOrigin = ""
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.started = time.Now()
		w.allowPortal()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.started = time.Now()
		w.allowPortal()
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// portalOrigin reports whether origin is one of the developer portal's
// origins (Config.PortalOrigins), compared without case.
func (g *Gateway) portalOrigin(origin string) bool {
	for _, o := range g.cfg.PortalOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// portalPreflight answers a CORS preflight from the developer portal, so
// that its try-it console can call every API without the admin writing a
// cors policy: the requested method and headers are allowed for that
// origin only.
func (g *Gateway) portalPreflight(w http.ResponseWriter, r *http.Request, origin string) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", r.Header.Get("Access-Control-Request-Method"))
	if hdrs := r.Header.Get("Access-Control-Request-Headers"); hdrs != "" {
		h.Set("Access-Control-Allow-Headers", hdrs)
	}
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	w.WriteHeader(http.StatusNoContent)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handled is a Request, its response writer and its body reader,
// allocated together.
type handled struct {
	Request
	w    statusWriter
	body clientBody
}

// ServeHTTP handles one API request; see the package comment for the steps.
func (g *Gateway) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := &handled{Request: Request{ID: requestID(r.Header), In: r, Start: time.Now(), Snapshot: g.snap.Load()}}
	req, w := &h.Request, &h.w
	w.ResponseWriter = rw
	rw.Header().Set("X-Request-Id", req.ID)
	if g.cfg.Spans != nil {
		req.spans = startSpans(r)
	}
	defer g.record(h)

	if e := framingError(r); e != nil {
		w.Header().Set("Connection", "close")
		g.fail(w, req, e)
		return
	}
	if r.URL.Path == StatusPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		g.serveStatus(w, req)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && g.portalOrigin(origin) {
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			g.portalPreflight(w, r, origin)
			return
		}
		w.corsOrigin = origin
	}
	if req.Snapshot == nil {
		g.fail(w, req, errNotReady())
		return
	}
	if headerSize(r) > g.cfg.MaxHeaderBytes {
		g.fail(w, req, errHeadersTooLarge(g.cfg.MaxHeaderBytes))
		return
	}
	// Route and forward one normalised path, so that no backend resolves
	// "/open/../protected" to another API's resource than the one whose
	// checks ran (see router.CleanPath).
	escaped := r.URL.EscapedPath()
	clean, encodedSlash, perr := router.CleanPath(escaped)
	if perr != nil {
		g.fail(w, req, errBadPath(perr))
		return
	}
	if clean != escaped {
		r = withPath(r, clean)
		req.In = r
	}
	api, op := req.Snapshot.Route(r.Host, r.Method, clean, &req.match)
	// An API is served only on the schemes of its protocols; on the others
	// it answers as if it did not exist, as APIM does. The scheme is the
	// one of the connection to the gateway (a TLS-terminating proxy in
	// front makes every request http here).
	if api == nil || !api.Schemes.Admits(r.TLS != nil, isWebSocketUpgrade(r)) {
		g.fail(w, req, errAPINotFound())
		return
	}
	req.API, req.Rest = api, req.match.Rest
	if encodedSlash && !api.AllowEncodedSlashes {
		g.fail(w, req, errBadPath(errEncodedSlash))
		return
	}
	if op == nil {
		g.fail(w, req, errOperationNotFound())
		return
	}
	req.Operation, req.Params = op, req.match.Params[:req.match.NParams]
	if e := g.authorize(req, r); e != nil {
		if e.Reason == policy.ReasonSubscriptionKeyNotFound {
			// Spelled as APIM spells it (HTTP/1.1 keeps the case; HTTP/2 lowercases).
			w.Header()["WWW-Authenticate"] = []string{g.wwwAuthenticate(r, api.KeyHeader)}
		}
		g.fail(w, req, e)
		return
	}
	limit := api.MaxRequestBodyBytes
	if limit <= 0 {
		limit = g.cfg.MaxRequestBodyBytes
	}
	if r.ContentLength > limit {
		g.fail(w, req, errBodyTooLarge(limit, nil))
		return
	}
	if g.cfg.Traces != nil {
		g.startTrace(w, req, r)
	}

	ctx := context.WithValue(r.Context(), ctxKey{}, req)
	if up := r.Header.Get("Upgrade"); g.cfg.RequestTimeout > 0 && (up == "" || strings.EqualFold(up, "h2c")) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.cfg.RequestTimeout)
		defer cancel()
	}
	out := r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		h.body.init(rw, r.Body, g.cfg.BodyReadTimeout)
		req.body = &h.body
		out.Body = &h.body
	}
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		// Cut a body of unknown length at the limit; the transport then
		// fails and proxyError answers 413 (or the backend sees the cut).
		out.Body = http.MaxBytesReader(rw, out.Body, limit)
	}
	pipe, err := op.Pipeline(req.Product)
	switch {
	case err != nil:
		g.fail(w, req, errPolicyNotCompiled(err))
	case pipe != nil:
		g.runPolicies(w, req, out, pipe, limit)
	default:
		g.proxy.ServeHTTP(w, out)
	}
}

// withPath returns a shallow copy of r whose URL has the escaped path
// clean; r is not modified.
func withPath(r *http.Request, clean string) *http.Request {
	u := *r.URL
	if p, err := url.PathUnescape(clean); err == nil {
		u.Path, u.RawPath = p, clean
	} else {
		u.Path, u.RawPath = clean, ""
	}
	r2 := r.WithContext(r.Context())
	r2.URL = &u
	return r2
}

// fail ends a request with e.
func (g *Gateway) fail(w http.ResponseWriter, req *Request, e *policy.Error) {
	req.Err = e
	policy.WriteError(w, e)
}

// serveStatus answers APIM's probe: 200 once a snapshot is loaded, else 503.
func (g *Gateway) serveStatus(w http.ResponseWriter, req *Request) {
	if req.Snapshot == nil {
		g.fail(w, req, errNotReady())
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// record counts a finished request and, with telemetry on, builds its
// record.
func (g *Gateway) record(h *handled) {
	req, w := &h.Request, &h.w
	end := time.Now()
	status := w.status
	switch {
	case req.Err != nil && req.Err.Status == policy.StatusClientClosedRequest:
		status = policy.StatusClientClosedRequest
	case status == 0 && req.BackendStatus == http.StatusSwitchingProtocols:
		status = http.StatusSwitchingProtocols
	case status == 0:
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
	}
	var api, op, product string
	if req.API != nil {
		api = req.API.ID
	}
	if req.Operation != nil {
		op = req.Operation.ID
	}
	if req.Product != nil {
		product = req.Product.ID
	}
	g.metrics.requests.WithLabelValues(api, op, product, statusClass(status)).Inc()
	g.metrics.duration.WithLabelValues(api).Observe(end.Sub(req.Start).Seconds())
	var client time.Duration
	if !w.started.IsZero() {
		client = end.Sub(w.started)
		g.metrics.client.WithLabelValues(api).Observe(client.Seconds())
	}
	if req.trace != nil {
		g.finishTrace(h, status, end)
	}
	if req.spans != nil {
		g.finishSpans(req, status, end)
	}
	if g.cfg.Telemetry == nil {
		return
	}
	rec := telemetry.NewRecord()
	rec.Time = req.Start.UTC().Truncate(time.Microsecond) // the store keeps microseconds
	rec.RequestID = req.ID
	rec.GatewayID, rec.InstanceID = g.cfg.GatewayID, g.cfg.InstanceID
	rec.APIID, rec.OperationID, rec.ProductID = api, op, product
	rec.SubscriptionID, rec.UserID = req.SubscriptionID, req.UserID
	rec.ClientIP = remoteHost(req.In.RemoteAddr)
	rec.Method = req.In.Method
	rec.URL = requestURL(req)
	rec.ResponseCode, rec.BackendResponseCode = status, req.BackendStatus
	rec.RequestSize, rec.ResponseSize = h.body.n, w.written
	rec.TotalTime, rec.BackendTime, rec.ClientTime = end.Sub(req.Start), req.BackendTime, client
	rec.Cache = telemetry.CacheNone
	if req.Cache != "" {
		rec.Cache = req.Cache
	}
	if e := req.Err; e != nil {
		rec.LastErrorSource, rec.LastErrorSection, rec.LastErrorReason = e.Source, e.Section, e.Reason
		rec.LastErrorMessage = e.Message
		if e.Err != nil {
			rec.LastErrorMessage = scrubKey(req, e.Message+": "+e.Err.Error())
		}
	}
	if req.BackendURL != nil {
		rec.BackendURL = maskURL(req, req.BackendURL.String())
	}
	g.cfg.Telemetry.Record(rec)
}

// requestURL is the request's URL as the client sent it (scheme, host,
// path and query) with the subscription key masked (see redact.go).
func requestURL(req *Request) string {
	r := req.In
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	path, query, hasQuery := strings.Cut(r.RequestURI, "?")
	if r.RequestURI == "" || strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		path, query, hasQuery = r.URL.EscapedPath(), r.URL.RawQuery, r.URL.RawQuery != "" || r.URL.ForceQuery
	}
	if !hasQuery {
		return scrubKey(req, scheme+r.Host+path)
	}
	return scrubKey(req, scheme+r.Host+path+"?"+maskQueryNames(req, query))
}

// defaultKeyQuery is APIM's subscription key query parameter, masked in
// every recorded URL besides the API's own.
const defaultKeyQuery = "subscription-key"

// remoteHost returns the host part of a "host:port" peer address without
// allocating.
func remoteHost(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && !strings.HasSuffix(addr, "]") {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}

// headerSize is the size of the request line and header fields as sent
// (name, ": ", value, CRLF per field).
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// requestID returns the inbound X-Request-Id when it is 1 to 128 letters,
// digits, '-', '_', '.' or ':' (so it is safe in logs and headers), else a
// new random id in UUID form.
func requestID(h http.Header) string {
	if vs := h["X-Request-Id"]; len(vs) > 0 && validRequestID(vs[0]) {
		return vs[0]
	}
	return newRequestID()
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// newRequestID returns a random version 4 UUID. Request ids need to be
// unique, not secret, so a fast non-cryptographic generator is enough.
func newRequestID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(56-8*i)), byte(lo>>(56-8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[c>>4], hexd[c&0xf]
		j += 2
	}
	return string(out[:])
}

// isWebSocketUpgrade tells whether r is a WebSocket opening handshake.
func isWebSocketUpgrade(r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}
