package mgmt

import (
	"encoding/base64"
	"net/http"
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/trace"
)

// routeTraces serves the policy debugger: debug credentials for a gateway
// and the traces the built-in gateway recorded or self-hosted gateways
// sent (POST /gateway/v1/traces).
//
//	POST /api/v1/gateways/{gatewayId}/listDebugCredentials
//	     {"apiId": "...", "purposes": ["tracing"], "credentialsExpireAfter": "PT1H"} -> {"token": "..."}
//	GET  /api/v1/traces/{traceId}
//
// Traces answer 404 when Config.Traces is not set. Debug credentials for
// the built-in gateway answer 501 when Config.DebugTokens is not set (no
// built-in gateway in this process); those of a self-hosted gateway are
// signed with gwsync.DebugTokenKey of its primary key.
func (s *Server) routeTraces() {
	s.mux.HandleFunc("POST /api/v1/gateways/{gatewayId}/listDebugCredentials", s.handleListDebugCredentials)
	s.mux.HandleFunc("GET /api/v1/traces/{traceId}", func(w http.ResponseWriter, r *http.Request) {
		var t *trace.Trace
		if s.cfg.Traces != nil {
			t = s.cfg.Traces.Get(r.PathValue("traceId"))
		}
		if t == nil {
			writeProblem(w, notFound("trace "+r.PathValue("traceId")+" (traces are kept for a limited time)"))
			return
		}
		writeJSON(w, http.StatusOK, t)
	})
}

func (s *Server) handleListDebugCredentials(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	gw := s.kind(model.KindGateway)
	id := r.PathValue("gatewayId")
	if id != model.ManagedGatewayID {
		if err := existsOr404(ctx, s.store, gw, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var req struct {
		APIID                  string   `json:"apiId"`
		Purposes               []string `json:"purposes"`
		CredentialsExpireAfter string   `json:"credentialsExpireAfter"`
	}
	body, err := readJSON(r)
	if err == nil {
		err = decodeStrict(body, &req)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ttl := trace.MaxTokenLifetime
	switch {
	case req.APIID == "":
		err = fieldError("apiId", "is required")
	case len(req.Purposes) == 0 || slices.ContainsFunc(req.Purposes, func(p string) bool { return p != trace.PurposeTracing }):
		err = fieldError("purposes", "must be [\"tracing\"], the only purpose Portico supports")
	case req.CredentialsExpireAfter != "":
		ttl, err = parseISODuration(req.CredentialsExpireAfter)
		if err != nil || ttl <= 0 || ttl > trace.MaxTokenLifetime {
			err = fieldError("credentialsExpireAfter", "must be an ISO 8601 duration from PT1S to PT1H, got %q", req.CredentialsExpireAfter)
		}
	}
	if err == nil {
		err = existsOr404(ctx, s.store, s.kind(model.KindAPI), req.APIID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	signer := s.cfg.DebugTokens
	if id != model.ManagedGatewayID {
		// A self-hosted gateway checks its tokens with a key derived from
		// its primary key, which its configuration carries.
		keys, err := gwsync.LoadKeys(ctx, s.store, id)
		if err == nil {
			var key []byte
			if key, err = base64.RawURLEncoding.DecodeString(gwsync.DebugTokenKey(id, keys.Primary)); err == nil {
				signer, err = trace.NewSigner(key)
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if signer == nil {
		writeProblem(w, problem(http.StatusNotImplemented, "NotImplemented",
			"debug credentials for the built-in gateway (\""+model.ManagedGatewayID+"\") are available only from a portico serve process that runs it"))
		return
	}
	token := signer.Issue(trace.Claims{GatewayID: id, APIID: req.APIID, Purposes: []string{trace.PurposeTracing},
		Expires: time.Now().Add(ttl)})
	s.log.Info("debug credentials issued", "gateway", id, "api", req.APIID, "expires_in", ttl, "actor", actor(ctx).String())
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}
