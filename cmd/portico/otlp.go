package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/trace"
)

// spanExporter sends the gateway's spans to the OTLP/HTTP collector of
// --otlp-endpoint. A nil *spanExporter (no endpoint) does nothing.
type spanExporter struct {
	exp    *trace.Exporter
	cancel context.CancelFunc
	done   chan struct{}
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

// start runs the exporter until stop.
func (s *spanExporter) start() {
	if s == nil {
		return
	}
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.exp.Run(ctx)
	}()
}

// stop sends the spans still queued and ends the exporter; call it after
// the gateway's servers have shut down.
func (s *spanExporter) stop() {
	if s == nil || s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
}
