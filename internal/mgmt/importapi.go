package mgmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/store"
)

// importRequest is the body of PUT /apis/{id} that imports a definition, as
// APIM's "format"/"value" contract. API properties given here override those
// taken from the document.
type importRequest struct {
	Format                        string                   `json:"format"`
	Value                         string                   `json:"value"`
	Path                          *string                  `json:"path"`
	ServiceURL                    *string                  `json:"serviceUrl"`
	DisplayName                   *string                  `json:"displayName"`
	Description                   *string                  `json:"description"`
	Protocols                     []string                 `json:"protocols"`
	SubscriptionRequired          *bool                    `json:"subscriptionRequired"`
	SubscriptionKeyParameterNames *model.KeyParameterNames `json:"subscriptionKeyParameterNames"`
	APIVersion                    *string                  `json:"apiVersion"`
	APIVersionSetID               *string                  `json:"apiVersionSetId"`
	Tags                          []string                 `json:"tags"`
}

type apiDefinition struct {
	Format string `json:"format"`
	Value  string `json:"value"`
}

// importInput recognises an import body (one holding "format" and "value")
// and handles it; other bodies are left to the generic PUT.
func (s *Server) importInput(api *kindSpec) func(w http.ResponseWriter, r *http.Request, parentID, id string, body []byte) bool {
	return func(w http.ResponseWriter, r *http.Request, _, id string, body []byte) bool {
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) != nil {
			return false
		}
		if props, ok := probe["properties"]; ok { // APIM envelope
			var inner map[string]json.RawMessage
			if json.Unmarshal(props, &inner) == nil {
				if _, ok := inner["format"]; ok {
					body = props
					probe = inner
				}
			}
		}
		if _, ok := probe["format"]; !ok {
			return false
		}
		s.handleImport(w, r, api, id, body)
		return true
	}
}

func (s *Server) handleImport(w http.ResponseWriter, r *http.Request, apiKind *kindSpec, id string, body []byte) {
	var req importRequest
	if err := decodeStrict(body, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch req.Format {
	case openapi.FormatOpenAPI, openapi.FormatOpenAPIJSON, openapi.FormatSwaggerJSON, openapi.FormatSwaggerYAML:
	default:
		s.fail(w, r, fieldError("format", "must be one of openapi, openapi+json, swagger-json, swagger-yaml, got %q", req.Format))
		return
	}
	if len(req.Value) > openapi.MaxDocumentBytes {
		s.fail(w, r, problem(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("the document is %d bytes; at most %d bytes (4 MiB) are accepted", len(req.Value), openapi.MaxDocumentBytes),
			model.FieldError{Field: "value", Message: "exceeds 4 MiB"}))
		return
	}
	res, err := openapi.Import(req.Format, []byte(req.Value))
	if err != nil {
		var ie *openapi.ImportError
		if errors.As(err, &ie) {
			field := "value"
			if ie.Pointer != "" {
				field = "value#" + ie.Pointer
			}
			msg := ie.Error()
			s.fail(w, r, badRequest("the "+req.Format+" document is invalid: "+msg, model.FieldError{Field: field, Message: msg}))
			return
		}
		s.fail(w, r, err)
		return
	}
	a := res.API
	override := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	override(&a.ServiceURL, req.ServiceURL)
	override(&a.DisplayName, req.DisplayName)
	override(&a.Description, req.Description)
	override(&a.APIVersion, req.APIVersion)
	override(&a.APIVersionSetID, req.APIVersionSetID)
	if req.Protocols != nil {
		a.Protocols = req.Protocols
	}
	if req.SubscriptionRequired != nil {
		a.SubscriptionRequired = req.SubscriptionRequired
	}
	if req.SubscriptionKeyParameterNames != nil {
		a.SubscriptionKeyParameterNames = req.SubscriptionKeyParameterNames
	}
	if req.Tags != nil {
		a.Tags = req.Tags
	}
	opKind := s.kind(model.KindOperation)
	status := http.StatusOK
	var saved store.Record
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		cur, err := tx.Get(ctx, string(apiKind.kind), "", id)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := checkPreconditions(r, exists, cur.ETag); err != nil {
			return err
		}
		var old *model.API
		if exists {
			o, err := apiKind.decodeRecord(cur)
			if err != nil {
				return err
			}
			old = o.(*model.API)
		}
		switch {
		case req.Path != nil:
			a.Path = *req.Path
		case old != nil:
			a.Path = old.Path
		default:
			return fieldError("path", "is required when importing a new API")
		}
		if old != nil && req.SubscriptionRequired == nil {
			a.SubscriptionRequired = old.SubscriptionRequired
		}
		if old != nil && req.SubscriptionKeyParameterNames == nil {
			a.SubscriptionKeyParameterNames = old.SubscriptionKeyParameterNames
		}
		a.Normalize()
		if fe := a.Validate(); len(fe) > 0 {
			return badRequest("the imported API is invalid", fe...)
		}
		var oldObj model.Resource
		if old != nil {
			oldObj = old
		}
		if err := s.prepareAPI(ctx, tx, &writeOp{r: r, id: id, obj: &a, old: oldObj}); err != nil {
			return err
		}
		rec, err := apiKind.record("", id, &a)
		if err != nil {
			return err
		}
		if saved, err = tx.Put(ctx, rec); err != nil {
			return err
		}
		if !exists {
			status = http.StatusCreated
		}
		// Re-import: operations are matched by id and replaced; the rest go.
		keep := map[string]bool{}
		for _, io := range res.Operations {
			keep[io.ID] = true
		}
		existing, _, err := tx.List(ctx, string(opKind.kind), id, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, rec := range existing {
			if err := tx.ReleaseUniques(ctx, string(model.KindOperation), id+"/"+rec.ID); err != nil {
				return err
			}
			if !keep[rec.ID] {
				if err := tx.Delete(ctx, string(opKind.kind), id, rec.ID); err != nil {
					return err
				}
				if _, err := tx.DeleteIDPrefix(ctx, string(model.KindPolicy), "apis/"+id+"/operations/"+rec.ID); err != nil {
					return err
				}
			}
		}
		for i, io := range res.Operations {
			op := io.Operation
			op.Normalize()
			if !model.ValidID(io.ID) {
				return fieldError(fmt.Sprintf("value#operations[%d]", i), "operation id %q is invalid", io.ID)
			}
			if fe := op.Validate(); len(fe) > 0 {
				for j := range fe {
					fe[j].Field = "value#/paths/" + strings.ReplaceAll(strings.ReplaceAll(op.URLTemplate, "~", "~0"), "/", "~1") + "/" + strings.ToLower(op.Method) + ": " + fe[j].Field
				}
				return badRequest("the document holds an operation Portico cannot accept", fe...)
			}
			if err := prepareOperation(ctx, tx, &writeOp{r: r, parentID: id, id: io.ID, obj: &op}); err != nil {
				return err
			}
			rec, err := opKind.record(id, io.ID, &op)
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, rec); err != nil {
				return err
			}
		}
		def, _ := json.Marshal(apiDefinition{Format: req.Format, Value: req.Value})
		if _, err := tx.Put(ctx, store.Record{Kind: string(model.KindAPIDefinition), ID: id, Doc: def}); err != nil {
			return err
		}
		return s.audit(ctx, tx, "import", string(apiKind.kind), apiKind.resourcePath("", id))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, warn := range res.Warnings {
		s.log.Warn("openapi import", "api", id, "warning", warn)
	}
	w.Header().Set("Portico-Import-Operations", strconv.Itoa(len(res.Operations)))
	if len(res.Warnings) > 0 {
		w.Header().Set("Portico-Import-Warnings", strconv.Itoa(len(res.Warnings)))
	}
	out, err := apiKind.render("", id, &a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", saved.ETag)
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1/apis/"+id)
	}
	writeJSON(w, status, out)
}

// exportAPI answers GET /apis/{id}?export=openapi+json|openapi|original.
func (s *Server) exportAPI(w http.ResponseWriter, r *http.Request, id string, rec store.Record) {
	// "openapi+json" arrives as "openapi json" when the '+' is not escaped.
	format := strings.ReplaceAll(r.URL.Query().Get("export"), " ", "+")
	if format == "original" {
		def, err := s.store.Get(r.Context(), string(model.KindAPIDefinition), "", id)
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("the imported definition of API " + strconv.Quote(id))
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var d apiDefinition
		if err := json.Unmarshal(def.Doc, &d); err != nil {
			s.fail(w, r, err)
			return
		}
		ct := "application/yaml"
		if strings.HasPrefix(strings.TrimSpace(d.Value), "{") {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct+"; charset=utf-8")
		_, _ = w.Write([]byte(d.Value))
		return
	}
	if format != "openapi+json" && format != "openapi" && format != "openapi-link" {
		s.fail(w, r, fieldError("export", "must be openapi+json, openapi (YAML) or original, got %q", format))
		return
	}
	obj, err := s.kind(model.KindAPI).decodeRecord(rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := obj.(*model.API)
	opRecs, _, err := s.store.List(r.Context(), string(model.KindOperation), id, store.ListOptions{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ops := make([]openapi.ImportedOperation, 0, len(opRecs))
	for _, or := range opRecs {
		o, err := s.kind(model.KindOperation).decodeRecord(or)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ops = append(ops, openapi.ImportedOperation{ID: or.ID, Operation: *o.(*model.Operation)})
	}
	server := ""
	if s.cfg.GatewayURL != "" {
		server = strings.TrimRight(s.cfg.GatewayURL, "/")
		if a.Path != "" {
			server += "/" + a.Path
		}
	}
	yaml := format == "openapi"
	out, err := openapi.Export(*a, a.Path, ops, server, yaml)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if yaml {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("ETag", rec.ETag)
	_, _ = w.Write(out)
}
