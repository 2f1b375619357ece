package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/mgmt"
	"github.com/portico-gw/portico/internal/trace"
)

// debugger is the policy debugger of a serve process: the traces the
// built-in gateway records and self-hosted gateways send, kept in memory
// for the management API, and the key of the built-in gateway's debug
// tokens (nil without a built-in gateway). That key is random per process,
// so those tokens die with it; self-hosted gateways have keys of their own
// (gwsync.DebugTokenKey).
type debugger struct {
	traces        *trace.Store
	tokens        *trace.Signer
	traceLocation string // prefix of Ocp-Apim-Trace-Location
}

func newDebugger(o *options, withGateway bool) (*debugger, error) {
	if !withGateway {
		return &debugger{traces: trace.NewStore(trace.DefaultMaxTraces, trace.DefaultTTL)}, nil
	}
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

// traceSinkFunc adapts a function to gateway.TraceSink.
type traceSinkFunc func(t *trace.Trace)

// Put implements gateway.TraceSink.
func (f traceSinkFunc) Put(t *trace.Trace) { f(t) }

// parseHeaderList parses --trace-redact-headers: header names separated by
// commas (spaces around them are ignored).
func parseHeaderList(v string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		for i := 0; i < len(h); i++ {
			if c := h[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
				return nil, fmt.Errorf("%q is not a header name", h)
			}
		}
		out = append(out, h)
	}
	return out, nil
}
