package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/trace"
)

// traceQueueLen bounds the policy debugger traces waiting to be sent.
const traceQueueLen = 64

// Results of the portico_gateway_traces_total metric.
const (
	traceSent    = "sent"
	traceDropped = "dropped"
)

// initTraces sets up the queue of policy debugger traces and its metric.
func (a *Agent) initTraces() error {
	a.traceQ = make(chan *trace.Trace, traceQueueLen)
	a.mTraces = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "portico_gateway_traces_total",
		Help: "Policy debugger traces sent to the management plane, or dropped (queue full, plane unreachable or refusing)."},
		[]string{"result"})
	if a.cfg.Registerer != nil {
		return a.cfg.Registerer.Register(a.mTraces)
	}
	return nil
}

// TraceLocation is the prefix of Ocp-Apim-Trace-Location for the traces
// a self-hosted gateway records (gateway.Config.TraceLocation): the
// management plane's /api/v1/traces/ under mgmtURL, where they are read
// once sent.
func TraceLocation(mgmtURL string) string { return strings.TrimRight(mgmtURL, "/") + "/api/v1/traces/" }

// Put implements gateway.TraceSink: it queues t to be sent to the
// management plane (POST /gateway/v1/traces) and never blocks. When the
// queue is full the trace is dropped and counted.
func (a *Agent) Put(t *trace.Trace) {
	select {
	case a.traceQ <- t:
	default:
		a.mTraces.WithLabelValues(traceDropped).Inc()
		a.log.Warn("policy debugger trace dropped: too many waiting to be sent", "trace", t.ID)
	}
}

// uploadTraces sends the queued traces until ctx ends, then tries the ones
// still queued for a few seconds. A trace that cannot be sent is dropped:
// traces are for a person debugging now, not worth a disk buffer.
func (a *Agent) uploadTraces(ctx context.Context) {
	for {
		select {
		case t := <-a.traceQ:
			a.sendTrace(ctx, t)
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for {
				select {
				case t := <-a.traceQ:
					a.sendTrace(last, t)
				default:
					return
				}
			}
		}
	}
}

// sendTrace posts one trace, counting it sent or dropped.
func (a *Agent) sendTrace(ctx context.Context, t *trace.Trace) {
	err := a.postTrace(ctx, t)
	if err != nil {
		a.mTraces.WithLabelValues(traceDropped).Inc()
		a.log.Warn("policy debugger trace dropped: cannot send it to the management plane", "trace", t.ID, "err", err)
		return
	}
	a.mTraces.WithLabelValues(traceSent).Inc()
}

func (a *Agent) postTrace(ctx context.Context, t *trace.Trace) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if len(body) > gwsync.MaxTraceBytes {
		return fmt.Errorf("the trace is %d bytes, more than the %d the management plane accepts", len(body), gwsync.MaxTraceBytes)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req := a.request(ctx, http.MethodPost, "/gateway/v1/traces", nil, body)
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode/100 == 2:
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		err := readAuthError(res)
		if ae, ok := err.(*authError); ok {
			a.reportAuth(ae)
		}
		return err
	default:
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s: %s", res.Status, bytes.TrimSpace(msg))
	}
}
