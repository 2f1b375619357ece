package gwsync

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

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
	ID        string `json:"id"`
	Records   int    `json:"records"`
	Duplicate bool   `json:"duplicate"`
}

// serveTelemetry ingests a batch of request records of gateway gw: a
// telemetry.Batch as JSON, gzip-compressed when Content-Encoding says so.
// The records are attributed to gw whatever they say; records without an
// instance id get the batch's. Ingestion is idempotent on the batch id.
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
	b.GatewayID = gw
	b.InstanceID = truncate(b.InstanceID, telemetry.MaxIDLength)
	for i := range b.Records {
		b.Records[i].GatewayID = gw
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
	_ = json.NewEncoder(w).Encode(TelemetryAck{ID: b.ID, Records: len(b.Records), Duplicate: !inserted})
}
