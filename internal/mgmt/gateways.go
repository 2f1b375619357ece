package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/gwsync"
	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

func newGatewayKeys(ctx context.Context, tx store.Tx, id string) error {
	doc, _ := json.Marshal(gwsync.Keys{Primary: gwsync.NewKey(), Secondary: gwsync.NewKey()})
	_, err := tx.Put(ctx, store.Record{Kind: gwsync.KeysKind, ID: id, Doc: doc})
	return err
}

func (s *Server) routeGatewayActions() {
	gw := s.kind(model.KindGateway)
	loadKeys := func(ctx context.Context, tx store.Tx, id string) (gwsync.Keys, error) {
		if err := existsOr404(ctx, tx, gw, id); err != nil {
			return gwsync.Keys{}, err
		}
		rec, err := tx.Get(ctx, gwsync.KeysKind, "", id)
		if errors.Is(err, store.ErrNotFound) {
			if err := newGatewayKeys(ctx, tx, id); err != nil {
				return gwsync.Keys{}, err
			}
			rec, err = tx.Get(ctx, gwsync.KeysKind, "", id)
		}
		if err != nil {
			return gwsync.Keys{}, err
		}
		var k gwsync.Keys
		err = json.Unmarshal(rec.Doc, &k)
		return k, err
	}
	s.mux.HandleFunc("POST /api/v1/gateways/{gatewayId}/listKeys", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := gw.ids(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var keys gwsync.Keys
		_, err = s.update(r.Context(), func(tx store.Tx) error {
			keys, err = loadKeys(r.Context(), tx, id)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, keys)
	})
	s.mux.HandleFunc("POST /api/v1/gateways/{gatewayId}/regenerateKey", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := gw.ids(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var req struct {
			KeyType string `json:"keyType"`
		}
		body, err := readJSON(r)
		if err == nil {
			err = decodeStrict(body, &req)
		}
		if err == nil && req.KeyType != gwsync.KeyPrimary && req.KeyType != gwsync.KeySecondary {
			err = fieldError("keyType", "must be primary or secondary, got %q", req.KeyType)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		_, err = s.update(r.Context(), func(tx store.Tx) error {
			ctx := r.Context()
			keys, err := loadKeys(ctx, tx, id)
			if err != nil {
				return err
			}
			if req.KeyType == gwsync.KeyPrimary {
				keys.Primary = gwsync.NewKey()
			} else {
				keys.Secondary = gwsync.NewKey()
			}
			doc, _ := json.Marshal(keys)
			if _, err := tx.Put(ctx, store.Record{Kind: gwsync.KeysKind, ID: id, Doc: doc}); err != nil {
				return err
			}
			return s.audit(ctx, tx, "regenerate"+req.KeyType+"Key", string(gw.kind), gw.resourcePath("", id))
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("POST /api/v1/gateways/{gatewayId}/generateToken", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := gw.ids(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var req struct {
			KeyType string    `json:"keyType"`
			Expiry  time.Time `json:"expiry"`
		}
		body, err := readJSON(r)
		if err == nil {
			err = decodeStrict(body, &req)
		}
		now := time.Now()
		switch {
		case err != nil:
		case req.KeyType == "":
			req.KeyType = gwsync.KeyPrimary
			fallthrough
		default:
			if req.KeyType != gwsync.KeyPrimary && req.KeyType != gwsync.KeySecondary {
				err = fieldError("keyType", "must be primary or secondary, got %q", req.KeyType)
			} else if req.Expiry.IsZero() {
				err = fieldError("expiry", "is required: an RFC 3339 time at most 30 days ahead")
			} else if !req.Expiry.After(now) {
				err = fieldError("expiry", "must be in the future")
			} else if req.Expiry.Sub(now) > gwsync.MaxTokenLifetime+time.Minute {
				err = fieldError("expiry", "must be at most 30 days ahead")
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var keys gwsync.Keys
		_, err = s.update(r.Context(), func(tx store.Tx) error {
			ctx := r.Context()
			if keys, err = loadKeys(ctx, tx, id); err != nil {
				return err
			}
			return s.audit(ctx, tx, "generateToken", string(gw.kind), gw.resourcePath("", id))
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		key := keys.Primary
		if req.KeyType == gwsync.KeySecondary {
			key = keys.Secondary
		}
		tok := gwsync.Sign(id, req.KeyType, key, req.Expiry)
		writeJSON(w, http.StatusOK, map[string]string{"value": gwsync.TokenScheme + " " + tok, "expiry": req.Expiry.UTC().Truncate(time.Second).Format(time.RFC3339)})
	})
	s.mux.HandleFunc("GET /api/v1/gateways/{gatewayId}/instances", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := gw.ids(r)
		if err == nil {
			err = existsOr404(r.Context(), s.store, gw, id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ins, err := s.store.Instances(r.Context(), id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := time.Now()
		out := make([]gwsync.InstanceView, 0, len(ins))
		for _, in := range ins {
			var hb gwsync.Heartbeat
			if json.Unmarshal(in.Doc, &hb) != nil {
				continue
			}
			out = append(out, gwsync.InstanceView{Heartbeat: hb, LastHeartbeat: in.LastSeen, Status: gwsync.Status(hb, in.LastSeen, now)})
		}
		writeJSON(w, http.StatusOK, listResult{Value: out, Count: len(out)})
	})
}
