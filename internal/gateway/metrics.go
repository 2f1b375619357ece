package gateway

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/snapshot"
)

// metrics are the gateway's Prometheus series. Every series carries the
// constant label gateway; label values are object ids from the snapshot, or
// "" when nothing matched, so their number is bounded by the configuration.
type metrics struct {
	requests      *prometheus.CounterVec   // api, operation, product, status_class
	duration      *prometheus.HistogramVec // api
	backend       *prometheus.HistogramVec // api
	client        *prometheus.HistogramVec // api
	revision      prometheus.Gauge
	buildFailures prometheus.Counter
	objectErrors  *prometheus.GaugeVec // kind, id
}

func newMetrics(gatewayID string, reg prometheus.Registerer) (*metrics, error) {
	cl := prometheus.Labels{"gateway": gatewayID}
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_gateway_requests_total", Help: "Requests handled by the gateway, by API, operation, product and status class.", ConstLabels: cl,
		}, []string{"api", "operation", "product", "status_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portico_gateway_request_duration_seconds", Help: "Time from receiving a request until its handler returned (the response body included).", ConstLabels: cl, Buckets: buckets,
		}, []string{"api"}),
		backend: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portico_gateway_backend_duration_seconds", Help: "Time from sending a request to a backend until its response headers arrived (or the attempt failed).", ConstLabels: cl, Buckets: buckets,
		}, []string{"api"}),
		client: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portico_gateway_client_duration_seconds", Help: "Time spent writing responses to clients, from the response headers until the handler returned.", ConstLabels: cl, Buckets: buckets,
		}, []string{"api"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_gateway_snapshot_revision", Help: "Config revision of the snapshot the gateway serves from (0 before the first).", ConstLabels: cl,
		}),
		buildFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portico_gateway_snapshot_build_failures_total", Help: "Snapshot builds that failed and left the previous snapshot in place.", ConstLabels: cl,
		}),
		objectErrors: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portico_gateway_snapshot_object_errors", Help: "Objects skipped by the current snapshot because they failed to compile (1 per object).", ConstLabels: cl,
		}, []string{"kind", "id"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.backend, m.client, m.revision, m.buildFailures, m.objectErrors} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if errors.As(err, &are) {
					return nil, fmt.Errorf("gateway metrics for gateway %q are already registered: %w", gatewayID, err)
				}
				return nil, fmt.Errorf("register gateway metrics: %w", err)
			}
		}
	}
	return m, nil
}

// published records a newly published snapshot.
func (m *metrics) published(s *snapshot.Snapshot) {
	m.revision.Set(float64(s.Revision()))
	m.objectErrors.Reset()
	for _, e := range s.Errors() {
		m.objectErrors.WithLabelValues(e.Kind, e.ID).Set(1)
	}
}

var statusClasses = [...]string{"", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(code int) string {
	if c := code / 100; c >= 1 && c <= 5 {
		return statusClasses[c]
	}
	return ""
}
