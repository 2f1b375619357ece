package gateway

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/policy"
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

	// emitted are the emit-metric policy's metrics; their series are capped
	// at maxEmittedSeries (the dimensions come from requests).
	emitted        *prometheus.CounterVec // namespace, name, dimensions
	emittedDropped prometheus.Counter
	emittedMu      sync.Mutex
	emittedSeries  map[string]bool
}

// maxEmittedSeries bounds the series emit-metric may create.
const maxEmittedSeries = 1000

// emit records one emit-metric value; beyond maxEmittedSeries new series
// are dropped and counted.
func (m *metrics) emit(pm policy.Metric) {
	var dims strings.Builder
	for i, d := range pm.Dimensions {
		if i > 0 {
			dims.WriteByte(',')
		}
		dims.WriteString(d.Name)
		dims.WriteByte('=')
		dims.WriteString(d.Value)
	}
	key := pm.Namespace + "\x00" + pm.Name + "\x00" + dims.String()
	m.emittedMu.Lock()
	known := m.emittedSeries[key]
	if !known && len(m.emittedSeries) < maxEmittedSeries {
		m.emittedSeries[key], known = true, true
	}
	m.emittedMu.Unlock()
	if !known {
		m.emittedDropped.Inc()
		return
	}
	if pm.Value > 0 {
		m.emitted.WithLabelValues(pm.Namespace, pm.Name, dims.String()).Add(pm.Value)
	}
}

func newMetrics(gatewayID string, reg prometheus.Registerer) (*metrics, error) {
	cl := prometheus.Labels{"gateway": gatewayID}
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &metrics{
		emitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_policy_emitted_total", Help: "Values added by the emit-metric policy, by namespace, metric name and dimensions (name=value pairs).", ConstLabels: cl,
		}, []string{"namespace", "name", "dimensions"}),
		emittedDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portico_policy_emitted_dropped_total", Help: "emit-metric values dropped because the number of distinct series reached its cap.", ConstLabels: cl,
		}),
		emittedSeries: map[string]bool{},
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
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.backend, m.client, m.revision, m.buildFailures, m.objectErrors, m.emitted, m.emittedDropped} {
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
