// Package agent runs on a self-hosted gateway: it keeps the gateway's
// snapshot current from the management plane (long-poll, falling back to
// polling every 10 s when long-polls are cut), persists the last good
// configuration in the backup directory and serves from it when the
// management plane cannot be reached, sends heartbeats, and sends the
// policy debugger's traces (traces.go, best effort). All connections are
// outbound.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
	"github.com/portico-gw/portico/internal/trace"
)

// Sync states, as reported in heartbeats and the portico_gateway_sync_state
// metric.
const (
	StateStarting     = "starting"
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
	StateUnauthorized = "unauthorized"
)

var states = []string{StateStarting, StateConnected, StateDisconnected, StateUnauthorized}

// Config configures an Agent.
type Config struct {
	MgmtURL   string // base URL of the management plane, e.g. https://mgmt.example:8001
	Token     string // gateway token ("GatewayKey …" or the bare token)
	BackupDir string
	Gateway   *gateway.Gateway
	// OnConfig, when set, is called with each configuration (from the
	// backup or the management plane) before the gateway compiles it, on
	// the goroutine that loads it: the counters take their Redis key
	// prefix from its InstallationID.
	OnConfig func(*snapshot.Config)
	// HTTPClient talks to the management plane; it must not have an overall
	// Timeout shorter than a long-poll (the agent sets per-request deadlines).
	HTTPClient *http.Client
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Version    string
	Hostname   string
	// Requests, when set, returns the number of requests served so far
	// (reported per heartbeat interval).
	Requests func() int64

	// TelemetryMetrics counts lost records (the telemetry queue's
	// metrics); TelemetryBufferBytes bounds the on-disk buffer of batches
	// waiting to be sent (DefaultTelemetryBufferBytes).
	TelemetryMetrics     *telemetry.Metrics
	TelemetryBufferBytes int64

	Wait              time.Duration // long-poll duration (30 s)
	PollInterval      time.Duration // polling fallback (10 s)
	HeartbeatInterval time.Duration // gwsync.HeartbeatInterval
	MaxBackoff        time.Duration // 30 s
}

// Agent keeps one gateway in sync. Create it with New, then Run it.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	base     *url.URL
	token    gwsync.Token
	auth     string // the Authorization header of the token
	backup   *backup
	instance string
	reloader *gateway.Reloader
	started  time.Time

	pending   atomic.Pointer[snapshot.Config]
	fromBack  atomic.Bool
	state     atomic.Value     // string
	have      atomic.Int64     // revision held (acknowledged by the server)
	etag      string           // content tag of held
	held      *snapshot.Config // the configuration being served (base of deltas)
	lastReqs  int64
	authWarn  sync.Mutex
	lastAuth  string
	lastAuthT time.Time

	mState   *prometheus.GaugeVec
	mExpiry  prometheus.Gauge
	mFails   *prometheus.CounterVec
	mBackups prometheus.Counter
	mDeltas  prometheus.Counter

	spool     *telemetry.Spool // telemetry batches waiting to be sent (spool.go)
	tm        *telemetry.Metrics
	mUploaded prometheus.Counter

	traceQ  chan *trace.Trace // policy debugger traces waiting to be sent (traces.go)
	mTraces *prometheus.CounterVec
}

// New validates cfg, opens the backup directory and reads the instance id.
func New(cfg Config) (*Agent, error) {
	if cfg.Gateway == nil {
		return nil, errors.New("agent: no gateway")
	}
	u, err := url.Parse(strings.TrimRight(cfg.MgmtURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--mgmt-url must be an http(s) URL of the management plane, got %q", cfg.MgmtURL)
	}
	tok, err := gwsync.ParseToken(cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("--token: %w", err)
	}
	if cfg.BackupDir == "" {
		return nil, errors.New("agent: no backup directory")
	}
	b, err := openBackup(cfg.BackupDir)
	if err != nil {
		return nil, err
	}
	id, err := b.instanceID()
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
			ResponseHeaderTimeout: 0, IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}}
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 30 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Second
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = gwsync.HeartbeatInterval
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	a := &Agent{cfg: cfg, log: cfg.Logger.With("gateway", tok.GatewayID, "instance", id), base: u, token: tok, auth: authHeader(cfg.Token), backup: b, instance: id, started: time.Now()}
	a.have.Store(-1)
	a.state.Store(StateStarting)
	a.reloader = gateway.NewReloader(cfg.Gateway, func(context.Context, int64) (*snapshot.Config, error) {
		c := a.pending.Swap(nil)
		if c != nil && a.cfg.OnConfig != nil {
			a.cfg.OnConfig(c)
		}
		return c, nil
	}, time.Hour)
	a.mState = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "portico_gateway_sync_state", Help: "1 for the gateway's current sync state with the management plane."}, []string{"state"})
	a.mExpiry = prometheus.NewGauge(prometheus.GaugeOpts{Name: "portico_gateway_token_expiry_timestamp_seconds", Help: "When the gateway token expires (Unix time)."})
	a.mFails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_gateway_sync_failures_total", Help: "Failed requests to the management plane, by reason."}, []string{"reason"})
	a.mBackups = prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_gateway_backup_writes_total", Help: "Configurations written to the backup directory."})
	a.mDeltas = prometheus.NewCounter(prometheus.CounterOpts{Name: "portico_gateway_config_deltas_total", Help: "Configuration deltas received and applied."})
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{a.mState, a.mExpiry, a.mFails, a.mBackups, a.mDeltas} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if err := a.initTelemetry(); err != nil {
		return nil, err
	}
	if err := a.initTraces(); err != nil {
		return nil, err
	}
	a.mExpiry.Set(float64(tok.Expiry.Unix()))
	a.setState(StateStarting)
	return a, nil
}

// InstanceID is this instance's stable id.
func (a *Agent) InstanceID() string { return a.instance }

// State is the current sync state.
func (a *Agent) State() string { return a.state.Load().(string) }

func (a *Agent) setState(s string) {
	a.state.Store(s)
	for _, st := range states {
		v := 0.0
		if st == s {
			v = 1
		}
		a.mState.WithLabelValues(st).Set(v)
	}
}

// Restore publishes the configuration of the backup directory, if any, so
// that the gateway serves before (or without) reaching the management plane.
func (a *Agent) Restore(ctx context.Context) error {
	cfg, err := a.backup.load()
	if err != nil || cfg == nil {
		return err
	}
	a.pending.Store(cfg)
	if err := a.reloader.Reload(ctx); err != nil {
		return err
	}
	if s := a.cfg.Gateway.Snapshot(); s != nil && s.Revision() == cfg.Revision {
		a.fromBack.Store(true)
		a.have.Store(cfg.Revision)
		a.held, a.etag = cfg, snapshot.ContentTag(cfg) // deltas can start from the backup
		a.log.Warn("serving the configuration from the backup directory until the management plane is reached", "revision", cfg.Revision, "dir", a.cfg.BackupDir)
	}
	return nil
}

// Run syncs and heartbeats until ctx ends, then sends a last heartbeat.
func (a *Agent) Run(ctx context.Context) {
	a.checkTokenExpiry()
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		a.heartbeats(ctx)
	}()
	go func() {
		defer wg.Done()
		a.uploadTraces(ctx)
	}()
	go func() {
		defer wg.Done()
		a.uploadTelemetry(ctx)
	}()
	a.syncLoop(ctx)
	wg.Wait()
}

// authError is a refusal of the gateway token by the management plane.
type authError struct{ code, detail string }

func (e *authError) Error() string { return e.code + ": " + e.detail }

// fetch asks for the configuration after revision have, long-polling for
// wait. It returns (nil, rev) when nothing changed for this gateway.
func (a *Agent) fetch(ctx context.Context, have int64, wait time.Duration) (*snapshot.Config, int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait+20*time.Second) // a stalled server must not hold us
	defer cancel()
	req := a.request(ctx, http.MethodGet, "/gateway/v1/config", url.Values{"revision": {strconv.FormatInt(have, 10)}, "wait": {wait.String()}}, nil)
	if a.etag != "" && have >= 0 {
		req.Header.Set("If-None-Match", a.etag)
	}
	req.Header.Set("Accept", gwsync.DeltaType+", application/json")
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, "", err
	}
	defer res.Body.Close()
	rev, _ := strconv.ParseInt(res.Header.Get(gwsync.RevisionHeader), 10, 64)
	switch res.StatusCode {
	case http.StatusNotModified:
		return nil, rev, res.Header.Get("ETag"), nil
	case http.StatusOK:
		if strings.HasPrefix(res.Header.Get("Content-Type"), gwsync.DeltaType) {
			var d snapshot.Delta
			if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
				return nil, 0, "", fmt.Errorf("decode configuration delta: %w", err)
			}
			if a.held == nil {
				return nil, 0, "", a.fullNext("a delta arrived without a base configuration")
			}
			cfg, err := d.Apply(a.held)
			if err != nil {
				return nil, 0, "", a.fullNext(err.Error())
			}
			a.mDeltas.Inc()
			return cfg, cfg.Revision, d.Tag, nil
		}
		var cfg snapshot.Config
		if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil {
			return nil, 0, "", fmt.Errorf("decode configuration: %w", err)
		}
		return &cfg, cfg.Revision, res.Header.Get("ETag"), nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, 0, "", readAuthError(res)
	default:
		body, _ := io.ReadAll(io.LimitReader(res.Body, 2048))
		return nil, 0, "", fmt.Errorf("management plane answered %s: %s", res.Status, strings.TrimSpace(string(body)))
	}
}

// fullNext makes the next request ask for a full configuration, after a
// delta that did not apply cleanly.
func (a *Agent) fullNext(why string) error {
	a.etag, a.held = "", nil
	a.have.Store(-1)
	return fmt.Errorf("configuration delta rejected (%s); asking for the full configuration", why)
}

func readAuthError(res *http.Response) error {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&p)
	if p.Code == "" {
		p.Code, p.Detail = "Unauthorized", res.Status
	}
	return &authError{code: p.Code, detail: p.Detail}
}

// authHeader is the Authorization value of the gateway token, with the
// GatewayKey scheme whether or not the token was given with it.
func authHeader(token string) string {
	t := strings.TrimSpace(token)
	if !strings.HasPrefix(strings.ToLower(t), strings.ToLower(gwsync.TokenScheme)+" ") {
		t = gwsync.TokenScheme + " " + t
	}
	return t
}

// request builds a request to the management plane's gateway endpoint path
// (e.g. "/gateway/v1/config"), authorised with the gateway token; a non-nil
// body is sent as JSON.
func (a *Agent) request(ctx context.Context, method, path string, query url.Values, body []byte) *http.Request {
	u := *a.base
	u.Path += path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, u.String(), rd)
	req.Header.Set("Authorization", a.auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// reportAuth logs a refused token loudly: at once, then every 5 minutes
// while it lasts.
func (a *Agent) reportAuth(err *authError) {
	a.authWarn.Lock()
	defer a.authWarn.Unlock()
	if err.Error() == a.lastAuth && time.Since(a.lastAuthT) < 5*time.Minute {
		return
	}
	a.lastAuth, a.lastAuthT = err.Error(), time.Now()
	rev := int64(-1)
	if s := a.cfg.Gateway.Snapshot(); s != nil {
		rev = s.Revision()
	}
	a.log.Error("THE MANAGEMENT PLANE REFUSED THIS GATEWAY'S TOKEN: configuration updates are stopped; still serving the last good configuration. Issue a new token (POST /api/v1/gateways/{id}/generateToken) and restart with it.",
		"code", err.code, "reason", err.detail, "servingRevision", rev)
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// syncLoop long-polls the management plane until ctx ends. Errors back off
// exponentially with jitter; a token refusal waits longer; long-polls that
// keep being cut (a proxy in the way) switch to polling every PollInterval
// for a while.
func (a *Agent) syncLoop(ctx context.Context) {
	backoff := time.Second
	cuts := 0
	var pollUntil time.Time
	for ctx.Err() == nil {
		wait := a.cfg.Wait
		polling := time.Now().Before(pollUntil)
		if polling {
			wait = 0
		}
		start := time.Now()
		cfg, rev, etag, err := a.fetch(ctx, a.have.Load(), wait)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ae *authError
			if errors.As(err, &ae) {
				a.setState(StateUnauthorized)
				a.mFails.WithLabelValues("unauthorized").Inc()
				a.reportAuth(ae)
				if !sleep(ctx, a.cfg.MaxBackoff) {
					return
				}
				continue
			}
			a.mFails.WithLabelValues("unreachable").Inc()
			if a.State() != StateDisconnected {
				a.log.Error("management plane unreachable; serving the last good configuration", "err", err)
			}
			a.setState(StateDisconnected)
			if !polling && wait > 0 && time.Since(start) > 5*time.Second && time.Since(start) < wait {
				if cuts++; cuts >= 3 {
					a.log.Warn("long-polls keep being cut; polling every " + a.cfg.PollInterval.String() + " for 5 minutes")
					pollUntil, cuts = time.Now().Add(5*time.Minute), 0
				}
			}
			if !sleep(ctx, jitter(backoff)) {
				return
			}
			backoff = min(2*backoff, a.cfg.MaxBackoff)
			continue
		}
		a.log.Debug("config fetched", "have", a.have.Load(), "revision", rev, "changed", cfg != nil, "etag", etag)
		backoff, cuts = time.Second, 0
		if a.State() != StateConnected {
			a.log.Info("connected to the management plane", "revision", rev)
		}
		a.setState(StateConnected)
		if cfg != nil {
			a.apply(ctx, cfg, etag)
		} else if rev > a.have.Load() {
			a.have.Store(rev)
		}
		if polling && !sleep(ctx, a.cfg.PollInterval) {
			return
		}
	}
}

// apply compiles and publishes a configuration and backs it up. A
// configuration that fails to compile is skipped (the previous snapshot
// stays) and not asked for again.
func (a *Agent) apply(ctx context.Context, cfg *snapshot.Config, etag string) {
	a.pending.Store(cfg)
	err := a.reloader.Reload(ctx)
	a.have.Store(max(a.have.Load(), cfg.Revision))
	s := a.cfg.Gateway.Snapshot()
	if err != nil || s == nil || s.Revision() != cfg.Revision {
		a.log.Error("configuration rejected; keeping the previous snapshot", "revision", cfg.Revision, "err", err)
		return
	}
	a.etag, a.held = etag, cfg
	a.fromBack.Store(false)
	if err := a.backup.save(cfg); err != nil {
		a.log.Error("cannot write the configuration backup", "dir", a.cfg.BackupDir, "err", err)
		return
	}
	a.mBackups.Inc()
}

func (a *Agent) checkTokenExpiry() {
	left := time.Until(a.token.Expiry)
	switch {
	case left <= 0:
		a.log.Error("the gateway token has expired; the management plane will refuse it", "expiry", a.token.Expiry)
	case left < gwsync.TokenWarning:
		a.log.Warn("the gateway token expires soon; issue a new one", "expiry", a.token.Expiry, "in", left.Round(time.Minute))
	}
}

func (a *Agent) heartbeat(ctx context.Context, event string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hb := gwsync.Heartbeat{InstanceID: a.instance, Hostname: a.cfg.Hostname, Version: a.cfg.Version,
		Revision: -1, UptimeSeconds: int64(time.Since(a.started).Seconds()), TokenExpiry: a.token.Expiry,
		Event: event, SyncState: a.State(), FromBackup: a.fromBack.Load()}
	if s := a.cfg.Gateway.Snapshot(); s != nil {
		hb.Revision = s.Revision()
	}
	var reqs int64
	if a.cfg.Requests != nil {
		reqs = a.cfg.Requests()
		hb.Requests = reqs - a.lastReqs
	}
	body, _ := json.Marshal(hb)
	req := a.request(ctx, http.MethodPost, "/gateway/v1/heartbeat", nil, body)
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		a.log.Debug("heartbeat not delivered", "err", err)
		return
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized {
		if ae, ok := readAuthError(res).(*authError); ok {
			a.reportAuth(ae)
		}
		return
	}
	if res.StatusCode == http.StatusNoContent {
		a.lastReqs = reqs
	}
}

func (a *Agent) heartbeats(ctx context.Context) {
	a.heartbeat(ctx, gwsync.EventStart)
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			stopCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			a.heartbeat(stopCtx, gwsync.EventStop)
			cancel()
			return
		case <-t.C:
			a.checkTokenExpiry()
			a.heartbeat(ctx, gwsync.EventBeat)
		}
	}
}
