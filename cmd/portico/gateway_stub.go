package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/store"
)

// builtinGateway wires the built-in gateway into serve. (Replaced when the
// gateway lands.)
type builtinGateway struct{}

func newBuiltinGateway(ctx context.Context, o *options, log *slog.Logger, st store.Store, reg *prometheus.Registry, ready *readiness, enabled bool) (*builtinGateway, error) {
	return nil, nil
}

func (g *builtinGateway) notify(rev int64)           {}
func (g *builtinGateway) listen() (*listener, error) { return nil, nil }
func (g *builtinGateway) start(ctx context.Context)  {}
func (g *builtinGateway) stop()                      {}
