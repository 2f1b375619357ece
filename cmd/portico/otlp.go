package main

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/lifecycle"
	"github.com/portico-gw/portico/internal/trace"
)

// spanExporter sends the gateway's spans to the OTLP/HTTP collector of
// --otlp-endpoint. A nil *spanExporter (no endpoint) does nothing.
type spanExporter struct {
	exp *trace.Exporter
}

// newSpanExporter returns the exporter of --otlp-endpoint, or nil without
// one. Its counters are registered in reg as
// portico_otlp_exported_spans_total and portico_otlp_dropped_spans_total.
func newSpanExporter(o *options, log *slog.Logger, reg prometheus.Registerer) (*spanExporter, error) {
	if o.otlpEndpoint == "" {
		return nil, nil
	}
	exp, err := trace.NewExporter(o.otlpEndpoint, "portico", log.With("component", "otlp"))
	if err != nil {
		return nil, err
	}
	err = errors.Join(
		reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portico_otlp_exported_spans_total",
			Help: "Spans the OTLP collector accepted."}, func() float64 { return float64(exp.Sent()) })),
		reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "portico_otlp_dropped_spans_total",
			Help: "Spans lost: export queue full or the collector failed."}, func() float64 { return float64(exp.Dropped()) })))
	if err != nil {
		return nil, err
	}
	return &spanExporter{exp: exp}, nil
}

// configure makes the gateway export its spans.
func (s *spanExporter) configure(cfg *gateway.Config) {
	if s != nil {
		cfg.Spans = s.exp
	}
}

// register adds the exporter to lc: it runs until it stops, and then sends
// the spans still queued. Register it before the gateway's servers, so that
// it stops after them.
func (s *spanExporter) register(lc *lifecycle.Group) {
	if s != nil {
		lc.Go("span exporter", s.exp.Run)
	}
}
