// Package mgmt serves Portico's management REST API under /api/v1: idempotent
// PUT on resource ids, PATCH as JSON merge patch, ETags with If-Match, paged
// lists, application/problem+json errors naming the field, admin bearer-token
// authentication and an audit log naming the actor of each change (see
// Actor: in-process callers act on behalf of their signed-in users). Every
// change is one store transaction that bumps the config revision;
// Config.OnCommit hears of each committed revision.
package mgmt

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/trace"
)

// MaxBodyBytes bounds management request bodies (an imported OpenAPI document
// of 4 MiB, JSON-escaped, fits).
const MaxBodyBytes = 12 << 20

// Config configures a Server.
type Config struct {
	Store store.Store
	// AdminToken authorises /api/v1 calls as "Authorization: Bearer <token>".
	AdminToken string
	Logger     *slog.Logger
	// OnCommit, when set, is called after each committed change with its
	// revision. It must not block.
	OnCommit func(revision int64)
	// GatewayURL is the public base URL of the built-in gateway, used as the
	// server of exported OpenAPI documents.
	GatewayURL string
	// Version is reported by /api/v1/openapi.json.
	Version string
	// Traces holds the policy debugger traces of the built-in gateway and
	// of self-hosted gateways, served at /api/v1/traces/{id}; nil: none.
	Traces *trace.Store
	// DebugTokens signs the tokens of listDebugCredentials; it must be the
	// Signer the built-in gateway checks them with. Nil: none are issued.
	DebugTokens *trace.Signer
}

// Server is the management API. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cfg       Config
	store     store.Store
	log       *slog.Logger
	tokenHash [32]byte
	mux       *http.ServeMux
	kinds     []*kindSpec
	links     []*linkSpec
}

// New builds the management API over cfg.Store.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, tokenHash: sha256.Sum256([]byte(cfg.AdminToken)), mux: http.NewServeMux()}
	s.registerKinds()
	s.installRevalidation()
	s.routes()
	return s
}

// Handler returns the HTTP handler serving /api/v1.
func (s *Server) Handler() http.Handler { return s }

func (s *Server) routes() {
	for _, k := range s.kinds {
		s.routeKind(k)
	}
	for _, l := range s.links {
		s.routeLink(l)
	}
	s.routeSubscriptionActions()
	s.routeNamedValueActions()
	s.routePolicies()
	s.routeGatewayActions()
	s.routeReports()
	s.routeTraces()
	s.mux.HandleFunc("GET /api/v1/auditLog", s.handleAuditLog)
	s.mux.HandleFunc("GET /api/v1/revision", s.handleRevision)
	s.mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, problem(http.StatusNotFound, "ResourceNotFound", "no management endpoint "+r.Method+" "+r.URL.Path))
	})
}

// ServeHTTP authenticates the caller and dispatches to the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/v1/openapi.json" && r.Method == http.MethodGet {
		s.handleOpenAPI(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") && r.URL.Path != "/api/v1" {
		writeProblem(w, problem(http.StatusNotFound, "ResourceNotFound", "not found"))
		return
	}
	if !s.authenticate(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico"`)
		writeProblem(w, problem(http.StatusUnauthorized, "Unauthorized", "a valid admin token is required: send Authorization: Bearer <token>"))
		return
	}
	who, ok := ActorFrom(r.Context())
	if !ok || who.Kind == ActorAdminToken {
		who = Actor{Kind: ActorAdminToken, ID: s.tokenFingerprint()}
	} else if !who.valid() {
		s.log.Error("management request with an invalid actor", "method", r.Method, "path", r.URL.Path, "actorKind", who.Kind, "actorId", who.ID)
		writeProblem(w, problem(http.StatusInternalServerError, "InternalError", "the request names an invalid actor; see the server log"))
		return
	}
	if err := checkQuery(r); err != nil {
		s.fail(w, r, err)
		return
	}
	r = r.WithContext(WithActor(r.Context(), who))
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.log.Info("management request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "actor", who.String(), "duration", time.Since(start))
	}
}

// authenticate reports whether r presents the admin token.
func (s *Server) authenticate(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || s.cfg.AdminToken == "" {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) == 1
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail writes err as a problem; unexpected errors are logged and hidden.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p := asProblem(err); p != nil {
		if p.Status == http.StatusServiceUnavailable {
			s.log.Warn("management request failed: the store is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		writeProblem(w, p)
		return
	}
	s.log.Error("management request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, problem(http.StatusInternalServerError, "InternalError", "the request failed unexpectedly; see the server log"))
}

// update runs fn in a store transaction and announces the revision.
func (s *Server) update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	rev, err := s.store.Update(ctx, fn)
	if err == nil && s.cfg.OnCommit != nil {
		s.cfg.OnCommit(rev)
	}
	return rev, err
}

// audit records a change by the actor of ctx.
func (s *Server) audit(ctx context.Context, tx store.Tx, action, kind, path string) error {
	a := actor(ctx)
	return tx.Audit(ctx, store.AuditEntry{Actor: a.String(), ActorKind: string(a.Kind), ActorID: a.ID, Action: action, Kind: kind, Path: path})
}

func (s *Server) handleAuditLog(w http.ResponseWriter, r *http.Request) {
	top, skip, err := paging(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries, total, err := s.store.AuditLog(r.Context(), top, skip)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if entries == nil {
		entries = []store.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, listPage(r, entries, total, top, skip))
}

func (s *Server) handleRevision(w http.ResponseWriter, r *http.Request) {
	rev, err := s.store.Revision(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"revision": rev})
}
