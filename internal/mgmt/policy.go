package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/snapshot/fromstore"
	"github.com/portico-gw/portico/internal/store"
)

// validatePolicy compiles a policy document or fragment with the real policy
// compiler, against the named values, fragments and backends in rd, as the
// gateway's snapshot will: a document that would not run is refused on save.
// scope is the policy's scope id ("global", "apis/{id}", …, or
// "fragment").
func validatePolicy(ctx context.Context, rd store.Reader, scope, xml string) error {
	return fromstore.ValidatePolicy(ctx, rd, scope, xml)
}

type policyScope struct {
	pattern string
	owners  func(r *http.Request) (scope string, check func(context.Context, store.Reader) error, err error)
}

func (s *Server) routePolicies() {
	api, op, product := s.kind(model.KindAPI), s.kind(model.KindOperation), s.kind(model.KindProduct)
	scopes := []policyScope{
		{"/api/v1/policy", func(r *http.Request) (string, func(context.Context, store.Reader) error, error) {
			return "global", func(context.Context, store.Reader) error { return nil }, nil
		}},
		{"/api/v1/apis/{apiId}/policy", func(r *http.Request) (string, func(context.Context, store.Reader) error, error) {
			_, id, err := api.ids(r)
			return "apis/" + id, func(ctx context.Context, rd store.Reader) error { return existsOr404(ctx, rd, api, id) }, err
		}},
		{"/api/v1/products/{productId}/policy", func(r *http.Request) (string, func(context.Context, store.Reader) error, error) {
			_, id, err := product.ids(r)
			return "products/" + id, func(ctx context.Context, rd store.Reader) error { return existsOr404(ctx, rd, product, id) }, err
		}},
		{"/api/v1/apis/{apiId}/operations/{operationId}/policy", func(r *http.Request) (string, func(context.Context, store.Reader) error, error) {
			apiID, id, err := op.ids(r)
			return "apis/" + apiID + "/operations/" + id, func(ctx context.Context, rd store.Reader) error {
				if err := existsOr404(ctx, rd, api, apiID); err != nil {
					return err
				}
				if _, err := rd.Get(ctx, string(model.KindOperation), apiID, id); errors.Is(err, store.ErrNotFound) {
					return notFound("operation " + strconv.Quote(id))
				} else if err != nil {
					return err
				}
				return nil
			}, err
		}},
	}
	for _, sc := range scopes {
		sc := sc
		s.mux.HandleFunc("GET "+sc.pattern, func(w http.ResponseWriter, r *http.Request) { s.handlePolicyGet(w, r, sc) })
		s.mux.HandleFunc("PUT "+sc.pattern, func(w http.ResponseWriter, r *http.Request) { s.handlePolicyPut(w, r, sc) })
		s.mux.HandleFunc("DELETE "+sc.pattern, func(w http.ResponseWriter, r *http.Request) { s.handlePolicyDelete(w, r, sc) })
	}
}

func wantsJSON(r *http.Request) bool {
	if f := r.URL.Query().Get("format"); f != "" {
		return f != "rawxml" && f != "xml"
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "xml")
}

func (s *Server) handlePolicyGet(w http.ResponseWriter, r *http.Request, sc policyScope) {
	scope, check, err := sc.owners(r)
	if err == nil {
		err = check(r.Context(), s.store)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.store.Get(r.Context(), string(model.KindPolicy), "", scope)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("policy at scope " + strconv.Quote(scope))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var p model.Policy
	if err := json.Unmarshal(rec.Doc, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", rec.ETag)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]string{"id": "/" + scope + "/policies/policy", "format": p.Format, "value": p.Value})
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write([]byte(p.Value))
}

func (s *Server) handlePolicyPut(w http.ResponseWriter, r *http.Request, sc policyScope) {
	scope, check, err := sc.owners(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var p model.Policy
	kind := bodyXML // an empty body is an empty (invalid) document
	if len(body) > 0 {
		if kind, err = bodyKindOf(r, true, policyTypes); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if kind == bodyJSON {
		if err := decodePolicyJSON(body, &p); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		if bytes.IndexByte(body, 0) >= 0 {
			s.fail(w, r, badRequest("invalid value: the NUL character is not allowed in a policy document",
				model.FieldError{Field: "value", Message: "must not contain the NUL character"}))
			return
		}
		p = model.Policy{Format: "rawxml", Value: string(body)}
	}
	p.Normalize()
	if fe := p.Validate(); len(fe) > 0 {
		s.fail(w, r, badRequest("the policy document is invalid: "+fe[0].Message, fe...))
		return
	}
	status := http.StatusOK
	var saved store.Record
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		if err := check(ctx, tx); err != nil {
			return err
		}
		cur, err := tx.Get(ctx, string(model.KindPolicy), "", scope)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := checkPreconditions(r, exists, cur.ETag); err != nil {
			return err
		}
		if err := validatePolicy(ctx, tx, scope, p.Value); err != nil {
			return err
		}
		if !exists {
			status = http.StatusCreated
		}
		doc, _ := json.Marshal(p)
		if saved, err = tx.Put(ctx, store.Record{Kind: string(model.KindPolicy), ID: scope, Doc: doc}); err != nil {
			return err
		}
		return s.audit(ctx, tx, "put", string(model.KindPolicy), "/"+scope+"/policy")
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", saved.ETag)
	if wantsJSON(r) || kind == bodyJSON {
		writeJSON(w, status, map[string]string{"id": "/" + scope + "/policies/policy", "format": p.Format, "value": p.Value})
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(p.Value))
}

// decodePolicyJSON decodes a policy sent as JSON: {"format", "value"}, or
// APIM's envelope {"properties": {"format", "value"}} (with its optional
// id, name and type), refusing repeated members and NUL like every JSON
// body.
func decodePolicyJSON(body []byte, p *model.Policy) error {
	if pr := checkJSON(body); pr != nil {
		return pr
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		if props, ok := m["properties"]; ok {
			for k := range m {
				if k != "properties" && k != "id" && k != "name" && k != "type" {
					return fieldError(k, "is not a known property")
				}
			}
			body = props
		}
	}
	return decodeStrict(body, p)
}

func (s *Server) handlePolicyDelete(w http.ResponseWriter, r *http.Request, sc policyScope) {
	scope, check, err := sc.owners(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		if err := check(ctx, tx); err != nil {
			return err
		}
		cur, err := tx.Get(ctx, string(model.KindPolicy), "", scope)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("policy at scope " + strconv.Quote(scope))
		} else if err != nil {
			return err
		}
		if err := checkPreconditions(r, true, cur.ETag); err != nil {
			return err
		}
		if err := tx.Delete(ctx, string(model.KindPolicy), "", scope); err != nil {
			return err
		}
		return s.audit(ctx, tx, "delete", string(model.KindPolicy), "/"+scope+"/policy")
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
