package mgmt

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/secret"
	"github.com/portico-gw/portico/internal/store"
)

func (s *Server) routeSubscriptionActions() {
	sub := s.kind(model.KindSubscription)
	s.mux.HandleFunc("POST /api/v1/subscriptions/{subscriptionId}/listSecrets", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := sub.ids(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rec, err := s.store.Get(r.Context(), string(sub.kind), "", id)
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("subscription " + strconv.Quote(id))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		obj, err := sub.decodeRecord(rec)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		m := obj.(*model.Subscription)
		w.Header().Set("ETag", rec.ETag)
		writeJSON(w, http.StatusOK, map[string]string{"primaryKey": m.PrimaryKey, "secondaryKey": m.SecondaryKey})
	})
	regen := func(which string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, id, err := sub.ids(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			_, err = s.update(r.Context(), func(tx store.Tx) error {
				ctx := r.Context()
				rec, err := tx.Get(ctx, string(sub.kind), "", id)
				if errors.Is(err, store.ErrNotFound) {
					return notFound("subscription " + strconv.Quote(id))
				} else if err != nil {
					return err
				}
				if err := checkPreconditions(r, true, rec.ETag); err != nil {
					return err
				}
				obj, err := sub.decodeRecord(rec)
				if err != nil {
					return err
				}
				m := obj.(*model.Subscription)
				if which == "primary" {
					m.PrimaryKey = secret.NewKey()
				} else {
					m.SecondaryKey = secret.NewKey()
				}
				if err := setKeyHashes(ctx, tx, id, m); err != nil {
					return err
				}
				rec, err = sub.record("", id, m)
				if err != nil {
					return err
				}
				if _, err := tx.Put(ctx, rec); err != nil {
					return err
				}
				return s.audit(ctx, tx, "regenerate"+which+"Key", string(sub.kind), sub.resourcePath("", id))
			})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	s.mux.HandleFunc("POST /api/v1/subscriptions/{subscriptionId}/regeneratePrimaryKey", regen("primary"))
	s.mux.HandleFunc("POST /api/v1/subscriptions/{subscriptionId}/regenerateSecondaryKey", regen("secondary"))

	// Subscriptions seen from their product or owner.
	for _, v := range []struct {
		owner *kindSpec
		field string
		value func(id string) string
	}{
		{s.kind(model.KindProduct), "scope", func(id string) string { return "/products/" + id }},
		{s.kind(model.KindUser), "ownerId", func(id string) string { return "/users/" + id }},
	} {
		v := v
		s.mux.HandleFunc("GET /api/v1"+v.owner.pattern()+"/subscriptions", func(w http.ResponseWriter, r *http.Request) {
			_, id, err := v.owner.ids(r)
			if err == nil {
				err = existsOr404(r.Context(), s.store, v.owner, id)
			}
			if err != nil {
				s.fail(w, r, err)
				return
			}
			q := r.URL.Query()
			clause := v.field + " eq '" + v.value(id) + "'"
			if f := queryParam(r, "filter"); f != "" {
				clause += " and " + f
			}
			q.Del("$filter")
			q.Set("filter", clause)
			r2 := r.Clone(r.Context())
			r2.URL.RawQuery = q.Encode()
			s.handleList(w, r2, sub)
		})
	}
}

func (s *Server) routeNamedValueActions() {
	nv := s.kind(model.KindNamedValue)
	s.mux.HandleFunc("POST /api/v1/namedValues/{namedValueId}/listValue", func(w http.ResponseWriter, r *http.Request) {
		_, id, err := nv.ids(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rec, err := s.store.Get(r.Context(), string(nv.kind), "", id)
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("named value " + strconv.Quote(id))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		obj, err := nv.decodeRecord(rec)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"value": obj.(*model.NamedValue).Value})
	})
}
