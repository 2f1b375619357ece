package main

import (
	"crypto/rand"
	"os"
	"strings"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/trace"
)

// debugger is the policy debugger of a serve process: the traces the
// built-in gateway records, kept in memory for the management API, and the
// key of the debug tokens both check. The key is random per process, so
// tokens die with it and cannot be verified by self-hosted gateways.
type debugger struct {
	traces        *trace.Store
	tokens        *trace.Signer
	traceLocation string // prefix of Ocp-Apim-Trace-Location
}

func newDebugger(o *options) (*debugger, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	signer, err := trace.NewSigner(key)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(publicURL(os.Getenv("PORTICO_MGMT_URL"), o.mgmtAddr), "/")
	return &debugger{traces: trace.NewStore(trace.DefaultMaxTraces, trace.DefaultTTL), tokens: signer,
		traceLocation: base + "/api/v1/traces/"}, nil
}

// configureMgmt lets the management API serve the traces and issue debug
// tokens; d may be nil (no built-in gateway).
func (d *debugger) configureMgmt(cfg *mgmt.Config) {
	if d == nil {
		return
	}
	cfg.Traces, cfg.DebugTokens = d.traces, d.tokens
}

// configure turns the debugger on in a gateway configuration; d may be nil
// (no debugger).
func (d *debugger) configure(cfg *gateway.Config) {
	if d == nil {
		return
	}
	cfg.Traces, cfg.DebugTokens, cfg.TraceLocation = d.traces, d.tokens, d.traceLocation
}
