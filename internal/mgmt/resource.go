package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// kindSpec describes one resource kind and the rules the management plane
// enforces on it. Hooks run inside the write transaction, so a refusal leaves
// the store untouched.
type kindSpec struct {
	kind       model.Kind // store kind, e.g. model.KindAPI
	collection string     // URL collection, e.g. "apis"
	title      string     // for messages, e.g. "API"
	parent     *kindSpec  // set for nested kinds (operations under APIs)
	newObj     func() model.Resource
	display    func(model.Resource) string
	readOnly   []string // input properties that are ignored (server-owned)
	filterable []string // document properties usable in $filter besides name/displayName
	// prepare enforces cross-resource rules on a create or replace and may
	// complete obj (generate keys, hash passwords). op.old is nil on create.
	prepare func(ctx context.Context, tx store.Tx, op *writeOp) error
	// cascade runs before a delete: remove dependants or refuse.
	cascade func(ctx context.Context, tx store.Tx, op *deleteOp) error
	// after runs inside the transaction once the change is written, with
	// the new object (nil after a delete) and the previous one (nil on
	// create): it may still refuse the change, e.g. because a policy that
	// uses the object would no longer compile.
	after func(ctx context.Context, tx store.Tx, id string, obj, old model.Resource) error
	// redact clears write-only and secret fields before output.
	redact func(model.Resource)
	// guard refuses any change to an id (built-in objects); nil allows all.
	guard func(id string) error
	// input, when set, handles a PUT body that is not the resource itself
	// (API import); handled reports whether it did.
	input func(w http.ResponseWriter, r *http.Request, parentID, id string, body []byte) (handled bool)
}

type writeOp struct {
	r        *http.Request
	parentID string
	id       string
	obj      model.Resource
	old      model.Resource // nil on create
}

type deleteOp struct {
	r        *http.Request
	parentID string
	id       string
	obj      model.Resource
}

func (k *kindSpec) idParam() string { return string(k.kind) + "Id" }

// pattern returns the mux pattern of one item, e.g. /api/v1/apis/{apiId}.
func (k *kindSpec) pattern() string {
	p := "/" + k.collection + "/{" + k.idParam() + "}"
	if k.parent != nil {
		p = k.parent.pattern() + p
	}
	return p
}

func (k *kindSpec) collectionPattern() string {
	p := "/" + k.collection
	if k.parent != nil {
		p = k.parent.pattern() + p
	}
	return p
}

// resourcePath is the APIM-style id of an item, e.g. /apis/echo/operations/get.
func (k *kindSpec) resourcePath(parentID, id string) string {
	p := "/" + k.collection + "/" + id
	if k.parent != nil {
		p = "/" + k.parent.collection + "/" + parentID + p
	}
	return p
}

func (k *kindSpec) ids(r *http.Request) (parentID, id string, err error) {
	id = r.PathValue(k.idParam())
	if k.parent != nil {
		parentID = r.PathValue(k.parent.idParam())
		if !model.ValidID(parentID) {
			return "", "", fieldError(k.parent.idParam(), "must be 1 to 80 lowercase letters, digits, '-' or '_', got %q", parentID)
		}
	}
	if id != "" && !model.ValidID(id) {
		return "", "", fieldError(k.idParam(), "must be 1 to 80 lowercase letters, digits, '-' or '_', got %q", id)
	}
	return parentID, id, nil
}

func (s *Server) routeKind(k *kindSpec) {
	base := "/api/v1"
	s.mux.HandleFunc("GET "+base+k.collectionPattern(), func(w http.ResponseWriter, r *http.Request) { s.handleList(w, r, k) })
	s.mux.HandleFunc("GET "+base+k.pattern(), func(w http.ResponseWriter, r *http.Request) { s.handleGet(w, r, k) })
	s.mux.HandleFunc("PUT "+base+k.pattern(), func(w http.ResponseWriter, r *http.Request) { s.handlePut(w, r, k, false) })
	s.mux.HandleFunc("PATCH "+base+k.pattern(), func(w http.ResponseWriter, r *http.Request) { s.handlePut(w, r, k, true) })
	s.mux.HandleFunc("DELETE "+base+k.pattern(), func(w http.ResponseWriter, r *http.Request) { s.handleDelete(w, r, k) })
}

// record turns a resource into its store record: the JSON document, the
// display name, and the filterable properties as indexed attributes.
func (k *kindSpec) record(parentID, id string, obj model.Resource) (store.Record, error) {
	doc, err := json.Marshal(obj)
	if err != nil {
		return store.Record{}, err
	}
	rec := store.Record{Kind: string(k.kind), Parent: parentID, ID: id, DisplayName: k.display(obj), Doc: doc}
	if len(k.filterable) > 0 {
		var props map[string]json.RawMessage
		if err := json.Unmarshal(doc, &props); err != nil {
			return store.Record{}, err
		}
		rec.Attrs = map[string]string{}
		for _, f := range k.filterable {
			var v string
			if raw, ok := props[f]; ok && json.Unmarshal(raw, &v) != nil {
				v = string(raw) // non-string values are indexed in their JSON form
			}
			rec.Attrs[f] = v
		}
	}
	return rec, nil
}

// decodeRecord unmarshals a stored document.
func (k *kindSpec) decodeRecord(rec store.Record) (model.Resource, error) {
	obj := k.newObj()
	if err := json.Unmarshal(rec.Doc, obj); err != nil {
		return nil, fmt.Errorf("stored %s %q is corrupt: %w", k.kind, rec.ID, err)
	}
	return obj, nil
}

// render produces the output JSON of a resource: APIM's id (the resource
// path) and name, then its properties, with secrets removed.
func (k *kindSpec) render(parentID, id string, obj model.Resource) (json.RawMessage, error) {
	if k.redact != nil {
		// redact a copy
		raw, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		cp := k.newObj()
		if err := json.Unmarshal(raw, cp); err != nil {
			return nil, err
		}
		k.redact(cp)
		obj = cp
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	head, _ := json.Marshal(struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}{k.resourcePath(parentID, id), id})
	if len(body) <= 2 {
		return head, nil
	}
	out := make([]byte, 0, len(head)+len(body))
	out = append(out, head[:len(head)-1]...)
	out = append(out, ',')
	out = append(out, body[1:]...)
	return out, nil
}

func (s *Server) checkParent(ctx context.Context, rd store.Reader, k *kindSpec, parentID string) error {
	if k.parent == nil {
		return nil
	}
	return existsOr404(ctx, rd, k.parent, parentID)
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, k *kindSpec) {
	parentID, _, err := k.ids(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.checkParent(r.Context(), s.store, k, parentID); err != nil {
		s.fail(w, r, err)
		return
	}
	top, skip, err := paging(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	filters, err := parseFilter(r, k.filterable)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, total, err := s.store.List(r.Context(), string(k.kind), parentID, store.ListOptions{Top: top, Skip: skip, Filters: filters})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]json.RawMessage, 0, len(recs))
	for _, rec := range recs {
		obj, err := k.decodeRecord(rec)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := k.render(parentID, rec.ID, obj)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		items = append(items, out)
	}
	writeJSON(w, http.StatusOK, listPage(r, items, total, top, skip))
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, k *kindSpec) {
	parentID, id, err := k.ids(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.store.Get(r.Context(), string(k.kind), parentID, id)
	if errors.Is(err, store.ErrNotFound) {
		if perr := s.checkParent(r.Context(), s.store, k, parentID); perr != nil {
			s.fail(w, r, perr)
			return
		}
		s.fail(w, r, notFound(k.title+" "+strconv.Quote(id)))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if k.kind == model.KindAPI && r.URL.Query().Get("export") != "" {
		s.exportAPI(w, r, id, rec)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, rec.ETag) {
		w.Header().Set("ETag", rec.ETag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	obj, err := k.decodeRecord(rec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := k.render(parentID, id, obj)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", rec.ETag)
	writeJSON(w, http.StatusOK, out)
}

// etagMatch implements the If-Match / If-None-Match list comparison.
func etagMatch(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || strings.TrimPrefix(v, "W/") == etag {
			return true
		}
	}
	return false
}

// checkPreconditions applies If-Match and If-None-Match to the current
// record (exists=false when absent).
func checkPreconditions(r *http.Request, exists bool, etag string) error {
	if im := r.Header.Get("If-Match"); im != "" {
		if !exists {
			return preconditionFailed("If-Match was given but the resource does not exist")
		}
		if !etagMatch(im, etag) {
			return preconditionFailed("the resource has changed: its ETag is " + etag + ", not " + im)
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && exists && (r.Method != http.MethodGet) {
		if strings.TrimSpace(inm) == "*" || etagMatch(inm, etag) {
			return preconditionFailed("the resource already exists and If-None-Match forbids overwriting it")
		}
	}
	return nil
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if p := asProblem(err); p != nil {
			return nil, p
		}
		return nil, badRequest("cannot read the request body: " + err.Error())
	}
	return body, nil
}

// inputObject parses a request body into a JSON object, unwrapping APIM's
// {"properties": {...}} envelope and dropping the read-only id, name and
// server-owned properties (after checking id and name agree with the URL).
func inputObject(body []byte, k *kindSpec, parentID, id string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := decodeStrict(body, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, badRequest("the request body must be a JSON object", model.FieldError{Field: "", Message: "must be a JSON object"})
	}
	if props, ok := m["properties"]; ok && len(m) <= 4 {
		var inner map[string]json.RawMessage
		if err := decodeStrict(props, &inner); err != nil {
			return nil, err
		}
		for key := range m {
			if key != "properties" && key != "id" && key != "name" && key != "type" {
				return nil, fieldError(key, "is not a known property")
			}
		}
		delete(m, "type")
		for key, v := range inner {
			m[key] = v
		}
		delete(m, "properties")
	}
	if raw, ok := m["name"]; ok {
		var name string
		if json.Unmarshal(raw, &name) != nil || name != id {
			return nil, fieldError("name", "must equal the id in the URL (%q)", id)
		}
		delete(m, "name")
	}
	if raw, ok := m["id"]; ok {
		var rid string
		if json.Unmarshal(raw, &rid) != nil || (rid != id && rid != k.resourcePath(parentID, id)) {
			return nil, fieldError("id", "must equal the resource id in the URL (%q)", k.resourcePath(parentID, id))
		}
		delete(m, "id")
	}
	for _, ro := range k.readOnly {
		delete(m, ro)
	}
	return m, nil
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(target, patch map[string]json.RawMessage) {
	for key, pv := range patch {
		if string(pv) == "null" {
			delete(target, key)
			continue
		}
		var pm map[string]json.RawMessage
		var tm map[string]json.RawMessage
		if json.Unmarshal(pv, &pm) == nil && pm != nil {
			if tv, ok := target[key]; ok && json.Unmarshal(tv, &tm) == nil && tm != nil {
				mergePatch(tm, pm)
				merged, _ := json.Marshal(tm)
				target[key] = merged
				continue
			}
		}
		target[key] = pv
	}
}

func (s *Server) handlePut(w http.ResponseWriter, r *http.Request, k *kindSpec, patch bool) {
	parentID, id, err := k.ids(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if k.guard != nil {
		if err := k.guard(id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	body, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !patch && k.input != nil && k.input(w, r, parentID, id, body) {
		return
	}
	in, err := inputObject(body, k, parentID, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var (
		status int
		saved  store.Record
		obj    model.Resource
	)
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		if err := s.checkParent(ctx, tx, k, parentID); err != nil {
			return err
		}
		cur, err := tx.Get(ctx, string(k.kind), parentID, id)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := checkPreconditions(r, exists, cur.ETag); err != nil {
			return err
		}
		var old model.Resource
		if exists {
			if old, err = k.decodeRecord(cur); err != nil {
				return err
			}
		}
		doc := in
		if patch {
			if !exists {
				return notFound(k.title + " " + strconv.Quote(id))
			}
			var base map[string]json.RawMessage
			if err := json.Unmarshal(cur.Doc, &base); err != nil {
				return err
			}
			// server-owned properties were stripped from the input, so the
			// stored values survive the merge.
			mergePatch(base, in)
			doc = base
		}
		raw, _ := json.Marshal(doc)
		obj = k.newObj()
		if err := decodeStrict(raw, obj); err != nil {
			return err
		}
		obj.Normalize()
		if fe := obj.Validate(); len(fe) > 0 {
			return badRequest(fmt.Sprintf("the %s is invalid", k.title), fe...)
		}
		op := &writeOp{r: r, parentID: parentID, id: id, obj: obj, old: old}
		if k.prepare != nil {
			if err := k.prepare(ctx, tx, op); err != nil {
				return err
			}
		}
		rec, err := k.record(parentID, id, obj)
		if err != nil {
			return err
		}
		if saved, err = tx.Put(ctx, rec); err != nil {
			return err
		}
		if k.after != nil {
			if err := k.after(ctx, tx, id, obj, old); err != nil {
				return err
			}
		}
		status = http.StatusOK
		action := "replace"
		if patch {
			action = "update"
		} else if !exists {
			status = http.StatusCreated
			action = "create"
		}
		return s.audit(ctx, tx, action, string(k.kind), k.resourcePath(parentID, id))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := k.render(parentID, id, obj)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", saved.ETag)
	if status == http.StatusCreated {
		w.Header().Set("Location", "/api/v1"+k.resourcePath(parentID, id))
	}
	writeJSON(w, status, out)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, k *kindSpec) {
	parentID, id, err := k.ids(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if k.guard != nil {
		if err := k.guard(id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	_, err = s.update(r.Context(), func(tx store.Tx) error {
		ctx := r.Context()
		cur, err := tx.Get(ctx, string(k.kind), parentID, id)
		if errors.Is(err, store.ErrNotFound) {
			if perr := s.checkParent(ctx, tx, k, parentID); perr != nil {
				return perr
			}
			return notFound(k.title + " " + strconv.Quote(id))
		}
		if err != nil {
			return err
		}
		if err := checkPreconditions(r, true, cur.ETag); err != nil {
			return err
		}
		obj, err := k.decodeRecord(cur)
		if err != nil {
			return err
		}
		if err := s.deleteWithChildren(ctx, tx, k, &deleteOp{r: r, parentID: parentID, id: id, obj: obj}); err != nil {
			return err
		}
		if k.after != nil {
			if err := k.after(ctx, tx, id, nil, obj); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "delete", string(k.kind), k.resourcePath(parentID, id))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteWithChildren deletes one resource inside tx: first the resources
// nested under it (operations of an API, hostname configurations of a
// gateway), each through its own kind's cascade, then its own cascade and
// the resource itself.
func (s *Server) deleteWithChildren(ctx context.Context, tx store.Tx, k *kindSpec, op *deleteOp) error {
	for _, child := range s.kinds {
		if child.parent != k {
			continue
		}
		recs, _, err := tx.List(ctx, string(child.kind), op.id, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			obj, err := child.decodeRecord(rec)
			if err != nil {
				return err
			}
			if err := s.deleteWithChildren(ctx, tx, child, &deleteOp{r: op.r, parentID: op.id, id: rec.ID, obj: obj}); err != nil {
				return err
			}
		}
	}
	if k.cascade != nil {
		if err := k.cascade(ctx, tx, op); err != nil {
			return err
		}
	}
	return tx.Delete(ctx, string(k.kind), op.parentID, op.id)
}

// listResult is the paged list shape: {"value": [...], "count": N, "nextLink": "..."}.
type listResult struct {
	Value    any    `json:"value"`
	Count    int    `json:"count"`
	NextLink string `json:"nextLink,omitempty"`
}

const (
	defaultTop = 100
	maxTop     = 1000
)

func queryParam(r *http.Request, name string) string {
	q := r.URL.Query()
	if v := q.Get(name); v != "" {
		return v
	}
	return q.Get("$" + name)
}

func paging(r *http.Request) (top, skip int, err error) {
	top, skip = defaultTop, 0
	if v := queryParam(r, "top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			return 0, 0, fieldError("top", "must be an integer from 1 to %d, got %q", maxTop, v)
		}
		top = n
	}
	if v := queryParam(r, "skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, fieldError("skip", "must be a non-negative integer, got %q", v)
		}
		skip = n
	}
	return top, skip, nil
}

func listPage[T any](r *http.Request, items []T, total, top, skip int) listResult {
	res := listResult{Value: items, Count: total}
	if skip+len(items) < total && len(items) > 0 {
		q := r.URL.Query()
		q.Del("$top")
		q.Del("$skip")
		q.Set("top", strconv.Itoa(top))
		q.Set("skip", strconv.Itoa(skip+len(items)))
		res.NextLink = r.URL.Path + "?" + q.Encode()
	}
	return res
}

var (
	filterFunc = regexp.MustCompile(`^(?i:(contains|startswith))\(\s*(?:properties/)?([A-Za-z]+)\s*,\s*'((?:[^']|'')*)'\s*\)$`)
	filterCmp  = regexp.MustCompile(`^(?:properties/)?([A-Za-z]+)\s+(?i:(eq|ne))\s+'((?:[^']|'')*)'$`)
)

// parseFilter parses the OData subset Portico accepts in filter/$filter:
// clauses "field eq|ne 'v'", "contains(field,'v')", "startswith(field,'v')"
// joined by "and", over name, displayName and the kind's filterable fields.
func parseFilter(r *http.Request, allowed []string) ([]store.Filter, error) {
	expr := strings.TrimSpace(queryParam(r, "filter"))
	if expr == "" {
		return nil, nil
	}
	var out []store.Filter
	for _, clause := range splitAnd(expr) {
		clause = strings.TrimSpace(clause)
		var field, op, val string
		if m := filterFunc.FindStringSubmatch(clause); m != nil {
			op, field, val = strings.ToLower(m[1]), m[2], m[3]
		} else if m := filterCmp.FindStringSubmatch(clause); m != nil {
			field, op, val = m[1], strings.ToLower(m[2]), m[3]
		} else {
			return nil, fieldError("filter", "cannot parse %q: use name or displayName with eq, ne, contains(…) or startswith(…), joined by and", clause)
		}
		val = strings.ReplaceAll(val, "''", "'")
		switch {
		case field == "name" || field == "id":
			field = "id"
		case field == "displayName":
		default:
			ok := false
			for _, a := range allowed {
				ok = ok || a == field
			}
			if !ok {
				return nil, fieldError("filter", "cannot filter on %q; allowed: name, displayName%s", field, prefixJoin(", ", allowed))
			}
		}
		out = append(out, store.Filter{Field: field, Op: op, Value: val})
	}
	return out, nil
}

func prefixJoin(sep string, xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return sep + strings.Join(xs, sep)
}

// splitAnd splits on " and " outside quoted strings.
func splitAnd(s string) []string {
	var parts []string
	inQuote := false
	start := 0
	lower := strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			inQuote = !inQuote
			continue
		}
		if !inQuote && strings.HasPrefix(lower[i:], " and ") {
			parts = append(parts, s[start:i])
			start = i + 5
			i += 4
		}
	}
	return append(parts, s[start:])
}
