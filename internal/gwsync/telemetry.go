package gwsync

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot"
	"github.com/portico-gw/portico/internal/telemetry"
)

// Telemetry protocol limits.
const (
	// MaxTelemetryBytes bounds the decoded body of POST /gateway/v1/telemetry.
	MaxTelemetryBytes = 32 << 20
	// MaxTelemetryRecords bounds the records of one batch.
	MaxTelemetryRecords = 10000
)

// TelemetryAck is the answer to a telemetry batch: how many records it
// held and whether it had been ingested before (then nothing was counted
// again).
type TelemetryAck struct {
	ID string `json:"id"`
	// Records is how many records of the batch were accepted.
	Records   int  `json:"records"`
	Duplicate bool `json:"duplicate"`
	// Rejected is how many records were dropped because the gateway
	// cannot have served them (see Server.serveTelemetry).
	Rejected int `json:"rejected,omitempty"`
}

// serveTelemetry ingests a batch of request records of gateway gw: a
// telemetry.Batch as JSON, gzip-compressed when Content-Encoding says so.
// The records are attributed to gw whatever they say; records without an
// instance id get the batch's. Ingestion is idempotent on the batch id.
//
// A gateway token may only report requests its gateway can have served: a
// record naming an API that is not assigned to gw, a product that does not
// contain one of gw's APIs (or not the record's API), a subscription that
// cannot reach the record's API (or, without an API, any of gw's APIs), or
// a user who does not own the record's subscription is dropped, counted
// (TelemetryAck.Rejected, RejectedTelemetryRecords) and logged; the rest of
// the batch is stored. The batch is not refused as a whole, so that
// records buffered by a gateway before one of its APIs moved elsewhere
// do not keep the others waiting, and an honest gateway never sees an
// error. "Assigned" means in gw's current configuration or in one of the
// earlier ones this server still holds for deltas.
func (s *Server) serveTelemetry(w http.ResponseWriter, r *http.Request, gw string) {
	var body io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			problem(w, http.StatusBadRequest, "ValidationError", "invalid gzip body: "+err.Error())
			return
		}
		defer zr.Close()
		body = zr
	default:
		problem(w, http.StatusUnsupportedMediaType, "UnsupportedEncoding", "Content-Encoding must be gzip or absent, got "+enc)
		return
	}
	lr := &io.LimitedReader{R: body, N: MaxTelemetryBytes + 1}
	var b telemetry.Batch
	if err := json.NewDecoder(lr).Decode(&b); err != nil {
		if lr.N <= 0 {
			problem(w, http.StatusRequestEntityTooLarge, "TooLarge", fmt.Sprintf("a telemetry batch is limited to %d bytes", MaxTelemetryBytes))
			return
		}
		problem(w, http.StatusBadRequest, "ValidationError", "invalid telemetry batch: "+err.Error())
		return
	}
	switch {
	case !telemetry.ValidBatchID(b.ID):
		problem(w, http.StatusBadRequest, "ValidationError", "id must be 1 to 80 letters, digits, '.', '-' or '_'")
		return
	case len(b.Records) > MaxTelemetryRecords:
		problem(w, http.StatusRequestEntityTooLarge, "TooLarge", fmt.Sprintf("a telemetry batch is limited to %d records", MaxTelemetryRecords))
		return
	}
	c, err := s.configBody(r.Context(), gw)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		s.log.Error("telemetry batch: gateway configuration unavailable", "gateway", gw, "batch", b.ID, "err", err)
		problem(w, http.StatusServiceUnavailable, "ConfigUnavailable", "the gateway's configuration could not be read to check the batch; send it again later")
		return
	}
	b.GatewayID = gw
	b.InstanceID = truncate(b.InstanceID, telemetry.MaxIDLength)
	kept, rejected := b.Records[:0], 0
	reasons := map[string]int{}
	for i := range b.Records {
		rec := &b.Records[i]
		if why := c.admits(rec); why != "" {
			rejected++
			reasons[why]++
			continue
		}
		rec.GatewayID = gw
		kept = append(kept, *rec)
	}
	b.Records = kept
	if rejected > 0 {
		s.rejectedRecords.Add(int64(rejected))
		s.log.Warn("telemetry records dropped: they name what this gateway does not serve", "gateway", gw, "batch", b.ID,
			"rejected", rejected, "accepted", len(kept), "reasons", reasons)
	}
	inserted, err := s.st.IngestBatch(r.Context(), &b)
	if err != nil {
		if r.Context().Err() != nil {
			return // the gateway went away; it sends the batch again
		}
		s.log.Error("ingest telemetry batch", "gateway", gw, "batch", b.ID, "err", err)
		problem(w, http.StatusServiceUnavailable, "StoreUnavailable", "the telemetry batch could not be stored; send it again later")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(TelemetryAck{ID: b.ID, Records: len(b.Records), Duplicate: !inserted, Rejected: rejected})
}

// RejectedTelemetryRecords returns how many telemetry records gateways
// posted that were dropped because their gateway cannot have served them.
func (s *Server) RejectedTelemetryRecords() int64 { return s.rejectedRecords.Load() }

// admits returns "" when a gateway holding c (or one of the earlier
// configurations in its history) can have recorded rec, else what it names
// that the gateway does not serve.
func (c *cachedConfig) admits(rec *telemetry.Record) string {
	why := c.reach.admits(rec)
	for _, h := range c.history {
		if why == "" {
			break
		}
		if h.reach != nil {
			why = h.reach.admits(rec)
		}
	}
	return why
}

// reach indexes, once, the APIs, products and subscriptions of one
// gateway configuration.
type reach struct {
	cfg  *snapshot.Config
	once sync.Once

	apis     map[string]bool
	products map[string]map[string]bool // product id -> its API ids
	subs     map[string]snapshot.SubscriptionKey
}

func (r *reach) index() {
	r.apis = make(map[string]bool, len(r.cfg.APIs))
	for _, a := range r.cfg.APIs {
		r.apis[a.ID] = true
	}
	r.products = make(map[string]map[string]bool, len(r.cfg.Products))
	for _, p := range r.cfg.Products {
		ids := map[string]bool{}
		for _, id := range p.APIs {
			if r.apis[id] {
				ids[id] = true
			}
		}
		if len(ids) > 0 {
			r.products[p.ID] = ids
		}
	}
	r.subs = make(map[string]snapshot.SubscriptionKey, len(r.cfg.Subscriptions)/2+1)
	for _, k := range r.cfg.Subscriptions {
		r.subs[k.SubscriptionID] = k
	}
}

// admits is cachedConfig.admits for one configuration.
func (r *reach) admits(rec *telemetry.Record) string {
	r.once.Do(r.index)
	if rec.APIID != "" && !r.apis[rec.APIID] {
		return string(model.KindAPI)
	}
	if rec.ProductID != "" {
		apis, ok := r.products[rec.ProductID]
		if !ok || (rec.APIID != "" && !apis[rec.APIID]) {
			return string(model.KindProduct)
		}
	}
	if rec.SubscriptionID != "" {
		k, ok := r.subs[rec.SubscriptionID]
		if !ok || !r.subscriptionReaches(k, rec.APIID) {
			return string(model.KindSubscription)
		}
		if rec.UserID != "" && rec.UserID != k.OwnerID {
			return string(model.KindUser)
		}
	} else if rec.UserID != "" {
		return string(model.KindUser)
	}
	return ""
}

// subscriptionReaches reports whether a subscription of this scope can
// call api (any of the gateway's APIs when api is "").
func (r *reach) subscriptionReaches(k snapshot.SubscriptionKey, api string) bool {
	kind, id, ok := model.ScopeKind(k.Scope)
	if !ok {
		return false
	}
	switch kind {
	case model.KindAllAPIs:
		return true
	case model.KindAPI:
		return r.apis[id] && (api == "" || api == id)
	case model.KindProduct:
		apis := r.products[id]
		return len(apis) > 0 && (api == "" || apis[api])
	}
	return false
}
