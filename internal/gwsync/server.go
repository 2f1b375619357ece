package gwsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
)

// KeysKind is the store kind holding a gateway's two signing keys (record
// id = gateway id), written by the management API.
const KeysKind = "gatewayKeys"

// Keys are a gateway's two signing keys.
type Keys struct {
	Primary   string `json:"primary"`
	Secondary string `json:"secondary"`
}

// LoadKeys reads a gateway's keys; store.ErrNotFound when the gateway or its
// keys do not exist.
func LoadKeys(ctx context.Context, rd store.Reader, gatewayID string) (Keys, error) {
	if _, err := rd.Get(ctx, string(model.KindGateway), "", gatewayID); err != nil {
		return Keys{}, err
	}
	rec, err := rd.Get(ctx, KeysKind, "", gatewayID)
	if err != nil {
		return Keys{}, err
	}
	var k Keys
	if err := json.Unmarshal(rec.Doc, &k); err != nil {
		return Keys{}, fmt.Errorf("gateway %q keys: %w", gatewayID, err)
	}
	return k, nil
}

// Protocol constants.
const (
	// RevisionHeader carries the config revision of a config response.
	RevisionHeader = "Portico-Revision"
	// MaxWait bounds a long-poll.
	MaxWait = 55 * time.Second
)

// Watcher tracks the latest committed config revision and wakes the
// long-polls waiting for a newer one. Set it from the local commit hook; Poll
// follows commits made by other management replicas sharing the store.
type Watcher struct {
	mu      sync.Mutex
	rev     int64
	ch      chan struct{}
	waiting int // calls of Wait in progress
}

// NewWatcher starts at revision rev.
func NewWatcher(rev int64) *Watcher { return &Watcher{rev: rev, ch: make(chan struct{})} }

// Set records a committed revision; older ones are ignored. It never blocks.
func (w *Watcher) Set(rev int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rev > w.rev {
		w.rev = rev
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// Current returns the latest revision seen.
func (w *Watcher) Current() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rev
}

// Waiting returns how many calls of Wait are blocked or about to block:
// tests use it to know that a long-poll is held before they make a change.
func (w *Watcher) Waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waiting
}

// Wait blocks until a revision newer than after is seen, timeout passes or
// ctx ends, and returns the latest revision.
func (w *Watcher) Wait(ctx context.Context, after int64, timeout time.Duration) int64 {
	w.mu.Lock()
	w.waiting++
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.waiting--
		w.mu.Unlock()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		w.mu.Lock()
		rev, ch := w.rev, w.ch
		w.mu.Unlock()
		if rev > after {
			return rev
		}
		select {
		case <-ch:
		case <-t.C:
			return w.Current()
		case <-ctx.Done():
			return w.Current()
		}
	}
}

// Poll reads the store's revision every interval until ctx ends, so that a
// change committed by another management replica wakes the long-polls held
// here within about that interval.
func (w *Watcher) Poll(ctx context.Context, st store.Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if rev, err := st.Revision(ctx); err == nil {
				w.Set(rev)
			}
		}
	}
}

// RevisionNotifier is a store that reports committed revisions as they
// commit, in every process sharing it (PostgreSQL LISTEN/NOTIFY).
type RevisionNotifier interface {
	WatchRevisions(ctx context.Context, fn func(rev int64)) error
}

// Listen follows the store's revision notifications until ctx ends,
// reconnecting after a second when the connection fails, so that a change
// committed by another management replica wakes the long-polls held here at
// once. Stores without notifications are left to Poll.
func (w *Watcher) Listen(ctx context.Context, st store.Store, log *slog.Logger) {
	n, ok := st.(RevisionNotifier)
	if !ok {
		return
	}
	for ctx.Err() == nil {
		err := n.WatchRevisions(ctx, w.Set)
		if ctx.Err() != nil {
			return
		}
		log.Warn("revision notifications interrupted; retrying (polling continues meanwhile)", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Server is the management plane's side of the protocol, mounted at
// /gateway/v1/. It is safe for concurrent use.
type Server struct {
	st      store.Store
	log     *slog.Logger
	watcher *Watcher
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]*cachedConfig // by gateway id

	traces TraceStore // nil: no POST /gateway/v1/traces

	// rejectedRecords counts the telemetry records dropped because they
	// name an API, product, subscription or user the posting gateway
	// cannot have served.
	rejectedRecords atomic.Int64

	base  context.Context // cancelled by Close: ends held long-polls
	close context.CancelFunc
}

type cachedConfig struct {
	rev     int64
	etag    string
	body    []byte
	cfg     *snapshot.Config
	reach   *reach          // what cfg lets the gateway report telemetry for
	history []*cachedConfig // earlier versions, newest first (no body)

	mu     sync.Mutex
	deltas map[string][]byte // encoded deltas by base tag
}

// NewServer serves the protocol from st; w wakes its long-polls.
func NewServer(st store.Store, w *Watcher, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	base, cancel := context.WithCancel(context.Background())
	return &Server{st: st, log: log, watcher: w, now: time.Now, cache: map[string]*cachedConfig{}, base: base, close: cancel}
}

// Close answers the long-polls being held at once (with 304) so that a
// graceful shutdown does not wait for them.
func (s *Server) Close() { s.close() }

// problem writes an error document; gateways log its detail.
func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": http.StatusText(status), "code": code, "detail": detail})
}

// authenticate verifies the gateway token of r and returns the gateway id.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		problem(w, http.StatusUnauthorized, "TokenMissing", "a gateway token is required: Authorization: GatewayKey <token>")
		return "", false
	}
	tok, err := ParseToken(h)
	if err != nil {
		problem(w, http.StatusUnauthorized, "TokenMalformed", err.Error())
		return "", false
	}
	keys, err := LoadKeys(r.Context(), s.st, tok.GatewayID)
	if errors.Is(err, store.ErrNotFound) {
		problem(w, http.StatusUnauthorized, "GatewayNotFound", fmt.Sprintf("gateway %q does not exist", tok.GatewayID))
		return "", false
	}
	if err != nil {
		s.log.Error("gateway auth failed", "gateway", tok.GatewayID, "err", err)
		problem(w, http.StatusServiceUnavailable, "StoreUnavailable", "cannot read the gateway's keys")
		return "", false
	}
	key := keys.Primary
	if tok.KeyType == KeySecondary {
		key = keys.Secondary
	}
	if err := tok.Verify(key, s.now()); err != nil {
		code := "TokenInvalid"
		if errors.Is(err, ErrTokenExpired) {
			code = "TokenExpired"
		}
		s.log.Warn("gateway token refused", "gateway", tok.GatewayID, "reason", err)
		problem(w, http.StatusUnauthorized, code, err.Error())
		return "", false
	}
	return tok.GatewayID, true
}

// ServeHTTP serves GET /gateway/v1/config, POST /gateway/v1/heartbeat,
// POST /gateway/v1/telemetry and POST /gateway/v1/traces.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/gateway/v1/config" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		if gw, ok := s.authenticate(w, r); ok {
			s.serveConfig(w, r, gw)
		}
	case r.URL.Path == "/gateway/v1/heartbeat" && r.Method == http.MethodPost:
		if gw, ok := s.authenticate(w, r); ok {
			s.serveHeartbeat(w, r, gw)
		}
	case r.URL.Path == "/gateway/v1/telemetry" && r.Method == http.MethodPost:
		if gw, ok := s.authenticate(w, r); ok {
			s.serveTelemetry(w, r, gw)
		}
	case r.URL.Path == "/gateway/v1/traces" && r.Method == http.MethodPost:
		if gw, ok := s.authenticate(w, r); ok {
			s.serveTrace(w, r, gw)
		}
	default:
		problem(w, http.StatusNotFound, "NotFound", "no gateway endpoint "+r.Method+" "+r.URL.Path)
	}
}

// configBody returns the configuration of gw at the latest revision,
// building it at most once per (gateway, revision). The previous versions
// stay in the entry's history so that a gateway holding one of them gets a
// delta.
func (s *Server) configBody(ctx context.Context, gw string) (*cachedConfig, error) {
	rev := s.watcher.Current()
	s.mu.Lock()
	c := s.cache[gw]
	s.mu.Unlock()
	if c != nil && c.rev >= rev {
		return c, nil
	}
	cfg, err := fromstore.Load(ctx, s.st, gw)
	if err != nil {
		return nil, err
	}
	keys, err := LoadKeys(ctx, s.st, gw)
	if err != nil {
		return nil, err
	}
	cfg.DebugTokenKey = DebugTokenKey(gw, keys.Primary)
	s.watcher.Set(cfg.Revision)
	etag := snapshot.ContentTag(cfg)
	var next *cachedConfig
	if c != nil && c.etag == etag { // nothing for this gateway changed
		next = &cachedConfig{rev: cfg.Revision, etag: etag, body: c.body, cfg: c.cfg, reach: c.reach, history: c.history}
	} else {
		body, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		next = &cachedConfig{rev: cfg.Revision, etag: etag, body: body, cfg: cfg, reach: &reach{cfg: cfg}}
		if c != nil {
			next.history = append([]*cachedConfig{{rev: c.rev, etag: c.etag, cfg: c.cfg, reach: c.reach}}, c.history...)
			if len(next.history) > historyDepth {
				next.history = next.history[:historyDepth]
			}
		}
	}
	s.mu.Lock()
	if old := s.cache[gw]; old == nil || old.rev < next.rev {
		s.cache[gw] = next
	}
	s.mu.Unlock()
	return next, nil
}

// historyDepth is how many earlier configurations per gateway are kept to
// compute deltas from.
const historyDepth = 8

// DeltaType is the media type of a configuration delta (snapshot.Delta).
// A gateway that sends it in Accept gets deltas when the server still has
// the configuration it holds.
const DeltaType = "application/vnd.portico.delta+json"

// delta returns the encoded delta from the configuration tagged held to c,
// computing it once per base; nil when the base is not in c's history.
func (c *cachedConfig) delta(held string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if body, ok := c.deltas[held]; ok {
		return body
	}
	for _, h := range c.history {
		if h.etag == held && h.cfg != nil && c.cfg != nil {
			body, err := json.Marshal(snapshot.Diff(h.cfg, c.cfg))
			if err != nil {
				return nil
			}
			if c.deltas == nil {
				c.deltas = map[string][]byte{}
			}
			c.deltas[held] = body
			return body
		}
	}
	return nil
}

func (s *Server) serveConfig(w http.ResponseWriter, r *http.Request, gw string) {
	q := r.URL.Query()
	have := int64(-1)
	if v := q.Get("revision"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 {
			problem(w, http.StatusBadRequest, "ValidationError", "revision must be an integer >= -1")
			return
		}
		have = n
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			problem(w, http.StatusBadRequest, "ValidationError", "wait must be a duration such as 30s")
			return
		}
		wait = min(d, MaxWait)
	}
	held := r.Header.Get("If-None-Match")
	deadline := s.now().Add(wait)
	waitCtx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.base, cancel)()
	for {
		if left := deadline.Sub(s.now()); have >= 0 && s.watcher.Current() <= have && left > 0 {
			s.watcher.Wait(waitCtx, have, left)
		}
		if r.Context().Err() != nil {
			return
		}
		if s.base.Err() != nil {
			deadline = s.now() // shutting down: answer now
		}
		c, err := s.configBody(r.Context(), gw)
		if err != nil {
			s.log.Error("gateway config build failed", "gateway", gw, "err", err)
			problem(w, http.StatusServiceUnavailable, "ConfigUnavailable", "the configuration could not be built; retry later")
			return
		}
		if c.rev > have && (held == "" || held != c.etag) {
			w.Header().Set(RevisionHeader, strconv.FormatInt(c.rev, 10))
			w.Header().Set("ETag", c.etag)
			body, ctype := c.body, "application/json"
			if held != "" && strings.Contains(r.Header.Get("Accept"), DeltaType) {
				if d := c.delta(held); d != nil {
					body, ctype = d, DeltaType
				}
			}
			w.Header().Set("Content-Type", ctype)
			if r.Method == http.MethodHead {
				return
			}
			_, _ = w.Write(body)
			return
		}
		// Nothing new for this gateway (other gateways' configuration may
		// have moved the revision): keep waiting out the long-poll.
		have = max(have, c.rev)
		if have < 0 || !s.now().Before(deadline) {
			w.Header().Set(RevisionHeader, strconv.FormatInt(have, 10))
			w.Header().Set("ETag", c.etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
}

var instanceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,80}$`)

func (s *Server) serveHeartbeat(w http.ResponseWriter, r *http.Request, gw string) {
	var hb Heartbeat
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hb); err != nil {
		problem(w, http.StatusBadRequest, "ValidationError", "invalid heartbeat: "+err.Error())
		return
	}
	if !instanceIDPattern.MatchString(hb.InstanceID) {
		problem(w, http.StatusBadRequest, "ValidationError", "instanceId must be 1 to 80 letters, digits, '.', '-' or '_'")
		return
	}
	hb.Hostname = truncate(hb.Hostname, 255)
	hb.Version = truncate(hb.Version, 100)
	doc, _ := json.Marshal(hb)
	if err := s.st.RecordInstance(r.Context(), store.Instance{GatewayID: gw, InstanceID: hb.InstanceID, Doc: doc, LastSeen: s.now().UTC()}); err != nil {
		s.log.Error("record heartbeat", "gateway", gw, "err", err)
		problem(w, http.StatusServiceUnavailable, "StoreUnavailable", "the heartbeat could not be recorded")
		return
	}
	if hb.Event != EventBeat {
		s.log.Info("gateway instance "+hb.Event, "gateway", gw, "instance", hb.InstanceID, "hostname", hb.Hostname, "revision", hb.Revision)
	}
	w.WriteHeader(http.StatusNoContent)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
