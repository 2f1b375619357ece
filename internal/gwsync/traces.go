package gwsync

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/portico-gw/portico/internal/trace"
)

// MaxTraceBytes bounds the body of POST /gateway/v1/traces: one policy
// debugger trace as JSON.
const MaxTraceBytes = 4 << 20

// TraceStore keeps the policy debugger traces that self-hosted gateways
// send (a *trace.Store). Put must not block for long; it takes ownership
// of t. Get returns the trace with id, or nil.
type TraceStore interface {
	Put(t *trace.Trace)
	Get(id string) *trace.Trace
}

// SetTraces makes the server accept traces (POST /gateway/v1/traces) into
// ts; without it, the endpoint answers 404. Call it before serving.
func (s *Server) SetTraces(ts TraceStore) { s.traces = ts }

// serveTrace stores one trace recorded by gateway gw: a trace.Trace as
// JSON, at most MaxTraceBytes. The trace is attributed to gw whatever it
// says, and its id must be a trace.NewID (32 hex digits) so that the
// location the gateway already returned to its caller finds it; a stored
// trace is never replaced (409).
func (s *Server) serveTrace(w http.ResponseWriter, r *http.Request, gw string) {
	if s.traces == nil {
		problem(w, http.StatusNotFound, "NotFound", "this management plane does not keep traces")
		return
	}
	lr := &io.LimitedReader{R: r.Body, N: MaxTraceBytes + 1}
	var t trace.Trace
	if err := json.NewDecoder(lr).Decode(&t); err != nil {
		if lr.N <= 0 {
			problem(w, http.StatusRequestEntityTooLarge, "TooLarge", fmt.Sprintf("a trace is limited to %d bytes", MaxTraceBytes))
			return
		}
		problem(w, http.StatusBadRequest, "ValidationError", "invalid trace: "+err.Error())
		return
	}
	if !trace.ValidID(t.ID) {
		problem(w, http.StatusBadRequest, "ValidationError", "id must be 32 lowercase hex digits")
		return
	}
	if s.traces.Get(t.ID) != nil { // ids are random: only a replay or a guess collides
		problem(w, http.StatusConflict, "Conflict", "a trace with this id is already stored")
		return
	}
	t.GatewayID = gw
	s.traces.Put(&t)
	w.WriteHeader(http.StatusNoContent)
}
