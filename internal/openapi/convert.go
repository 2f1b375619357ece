package openapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/model"
)

// This file converts a loaded, validated openapi3.T into the model.

// Limits taken from model validation.
const (
	maxDisplayName = 300
	maxDescription = 10000
	maxTag         = 160
)

// methodOrder is the order in which a path item's operations are imported.
var methodOrder = []string{
	http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete,
	http.MethodOptions, http.MethodHead, http.MethodPatch, http.MethodTrace,
}

// kinTemplateVars returns the names of the {variables} of an OpenAPI path
// the way kin-openapi's validation reads them.
func kinTemplateVars(path string) []string {
	var names []string
	in := false
	var cur strings.Builder
	for _, c := range path {
		switch {
		case in && c == '}':
			in = false
			n := cur.String()
			if i := strings.IndexByte(n, ':'); i >= 0 {
				n = n[:i]
			}
			n = strings.TrimSuffix(n, "*")
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
			cur.Reset()
		case in:
			cur.WriteRune(c)
		case c == '{':
			in = true
		}
	}
	return names
}

// declareMissingPathParams adds a required string path parameter to every
// operation whose path has a {variable} that neither the operation nor its
// path item declares, with a warning.
func (im *importer) declareMissingPathParams(t *openapi3.T) {
	for _, path := range t.Paths.Keys() {
		item := t.Paths.Value(path)
		if item == nil {
			continue
		}
		vars := kinTemplateVars(path)
		if len(vars) == 0 {
			continue
		}
		common := declaredPathParams(item.Parameters)
		for _, m := range methodOrder {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			own := declaredPathParams(op.Parameters)
			for _, v := range vars {
				if common[v] || own[v] {
					continue
				}
				im.warn(pointer("paths", path, strings.ToLower(m)),
					"path parameter %q is not declared; added as a required string", v)
				op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: &openapi3.Parameter{
					Name: v, In: openapi3.ParameterInPath, Required: true,
					Schema: openapi3.NewStringSchema().NewRef(),
				}})
			}
		}
	}
}

func declaredPathParams(ps openapi3.Parameters) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		if p != nil && p.Value != nil && p.Value.In == openapi3.ParameterInPath {
			m[p.Value.Name] = true
		}
	}
	return m
}

// api converts the document-wide fields.
func (im *importer) api(t *openapi3.T) model.API {
	var a model.API
	if t.Info != nil {
		a.DisplayName = strings.TrimSpace(t.Info.Title)
		a.Description = t.Info.Description
	}
	if a.DisplayName == "" {
		im.warn("/info/title", "document has no title; the API is called \"Imported API\"")
		a.DisplayName = "Imported API"
	}
	if len(a.DisplayName) > maxDisplayName {
		im.warn("/info/title", "title cut to %d bytes", maxDisplayName)
		a.DisplayName = strings.TrimSpace(truncate(a.DisplayName, maxDisplayName))
	}
	if len(a.Description) > maxDescription {
		im.warn("/info/description", "description cut to %d bytes", maxDescription)
		a.Description = truncate(a.Description, maxDescription)
	}
	a.ServiceURL = im.serviceURL(t)
	var names []string
	for _, tag := range t.Tags {
		if tag != nil {
			names = append(names, tag.Name)
		}
	}
	a.Tags = im.cleanTags("/tags", names)
	return a
}

// serviceURL picks the backend URL from the document's servers.
func (im *importer) serviceURL(t *openapi3.T) string {
	if len(t.Servers) == 0 {
		if im.swagger {
			im.warn("", "document names no host; serviceUrl left empty")
		} else {
			im.warn("", "document has no servers; serviceUrl left empty")
		}
		return ""
	}
	s := t.Servers[0]
	if im.swagger {
		for _, c := range t.Servers {
			if c != nil && strings.HasPrefix(c.URL, "https:") {
				s = c
				break
			}
		}
	}
	if s == nil {
		return ""
	}
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	ptr := "/servers/0/url"
	if strings.ContainsAny(u, "{}") {
		im.warn(ptr, "server URL %q has variables without defaults; serviceUrl left empty", s.URL)
		return ""
	}
	parsed, err := url.Parse(u)
	if err != nil || !parsed.IsAbs() || parsed.Host == "" {
		im.warn(ptr, "server URL %q is relative; serviceUrl left empty", u)
		return ""
	}
	u = strings.TrimSuffix(u, "/")
	var fe model.FieldErrors
	model.ValidateURL(&fe, "serviceUrl", u)
	if len(fe) > 0 {
		im.warn(ptr, "server URL %q cannot be a service URL (%v); serviceUrl left empty", u, fe)
		return ""
	}
	return u
}

// cleanTags trims tags and drops empty, overlong and duplicate ones (case
// insensitively), warning about the overlong ones.
func (im *importer) cleanTags(ptr string, tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if len(t) > maxTag {
			im.warn(ptr, "tag %q is longer than %d bytes; left out", truncate(t, 40)+"...", maxTag)
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// operations converts every operation, in document order.
func (im *importer) operations(t *openapi3.T) ([]ImportedOperation, error) {
	paths := t.Paths.Keys()
	sort.Strings(paths)
	used := map[string]bool{}
	routes := map[string]string{} // "METHOD shape" -> pointer of the first
	var out []ImportedOperation
	for _, path := range paths {
		item := t.Paths.Value(path)
		if item == nil {
			continue
		}
		for method, op := range item.Operations() {
			if op != nil && !slices.Contains(methodOrder, method) {
				im.warn(pointer("paths", path), "method %s is not supported; operation left out", method)
			}
		}
		for _, method := range methodOrder {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			ptr := pointer("paths", path, strings.ToLower(method))
			o, err := im.operation(ptr, path, method, item, op)
			if err != nil {
				return nil, err
			}
			// The gateway routes literals case-insensitively and ignores
			// parameter names, so such operations would collide there.
			route := o.Method + " " + strings.ToLower(pathShape(o.URLTemplate))
			if first, dup := routes[route]; dup {
				im.warn(ptr, "%s %s is equivalent to the operation already imported from %s; operation left out", o.Method, o.URLTemplate, first)
				continue
			}
			routes[route] = ptr
			out = append(out, ImportedOperation{
				ID:        operationID(op.OperationID, method, path, used),
				Operation: o,
			})
		}
	}
	return out, nil
}

// urlTemplate makes the operation's URL template from an OpenAPI path.
func urlTemplate(path string) string {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return path
}

type namedParam struct {
	ptr string
	p   *openapi3.Parameter
}

// mergeParams merges path-level and operation-level parameters; an
// operation parameter replaces the path one of the same location and name
// (header names compared case-insensitively).
func mergeParams(pathPtr, opPtr string, item *openapi3.PathItem, op *openapi3.Operation) []namedParam {
	var out []namedParam
	idx := map[string]int{}
	add := func(ptr string, p *openapi3.Parameter) {
		name := p.Name
		if p.In == openapi3.ParameterInHeader {
			name = strings.ToLower(name)
		}
		key := p.In + "\x00" + name
		if i, ok := idx[key]; ok {
			out[i] = namedParam{ptr, p}
			return
		}
		idx[key] = len(out)
		out = append(out, namedParam{ptr, p})
	}
	for i, pr := range item.Parameters {
		if pr != nil && pr.Value != nil {
			add(pathPtr+"/parameters/"+strconv.Itoa(i), pr.Value)
		}
	}
	for i, pr := range op.Parameters {
		if pr != nil && pr.Value != nil {
			add(opPtr+"/parameters/"+strconv.Itoa(i), pr.Value)
		}
	}
	return out
}

// ignoredHeaders are header parameters OpenAPI says to ignore.
var ignoredHeaders = map[string]bool{"content-type": true, "accept": true, "authorization": true}

// operation converts one operation.
func (im *importer) operation(ptr, path, method string, item *openapi3.PathItem, op *openapi3.Operation) (model.Operation, error) {
	o := model.Operation{
		Method:      method,
		URLTemplate: urlTemplate(path),
		Description: op.Description,
	}
	o.DisplayName = strings.TrimSpace(op.Summary)
	if o.DisplayName == "" {
		o.DisplayName = strings.TrimSpace(op.OperationID)
	}
	if o.DisplayName == "" {
		o.DisplayName = method + " " + o.URLTemplate
	}
	if len(o.DisplayName) > maxDisplayName {
		o.DisplayName = strings.TrimSpace(truncate(o.DisplayName, maxDisplayName))
	}
	if len(o.Description) > maxDescription {
		im.warn(ptr+"/description", "description cut to %d bytes", maxDescription)
		o.Description = truncate(o.Description, maxDescription)
	}
	o.Tags = im.cleanTags(ptr+"/tags", op.Tags)
	if len(op.Callbacks) > 0 {
		im.warn(ptr+"/callbacks", "callbacks are not imported")
	}

	names, err := model.TemplateValidator(o.URLTemplate)
	if err != nil {
		return o, im.errorf(pointer("paths", path), "path %q cannot be a gateway URL template: %v", path, err)
	}
	inTemplate := map[string]bool{}
	for _, n := range names {
		inTemplate[n] = true
	}
	declared := map[string]model.Parameter{}
	req := &model.RequestDescription{}
	for _, np := range mergeParams(pointer("paths", path), ptr, item, op) {
		p := np.p
		if strings.TrimSpace(p.Name) == "" {
			im.warn(np.ptr, "parameter without a name left out")
			continue
		}
		switch p.In {
		case openapi3.ParameterInPath:
			if !inTemplate[p.Name] {
				im.warn(np.ptr, "path parameter %q is not in URL template %q; left out", p.Name, o.URLTemplate)
				continue
			}
			mp := im.param(np.ptr, p)
			mp.Required = true
			declared[p.Name] = mp
		case openapi3.ParameterInQuery:
			req.QueryParameters = append(req.QueryParameters, im.param(np.ptr, p))
		case openapi3.ParameterInHeader:
			if ignoredHeaders[strings.ToLower(p.Name)] {
				continue
			}
			req.Headers = append(req.Headers, im.param(np.ptr, p))
		default:
			im.warn(np.ptr, "%s parameter %q is not supported; left out", p.In, p.Name)
		}
	}
	o.TemplateParameters = []model.Parameter{}
	for _, n := range names {
		mp, ok := declared[n]
		if !ok {
			im.warn(ptr, "path parameter %q is not declared; added as a required string", n)
			mp = model.Parameter{Name: n, Type: "string", Required: true}
		}
		o.TemplateParameters = append(o.TemplateParameters, mp)
		delete(declared, n)
	}

	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		req.Description = rb.Value.Description
		req.Representations = im.representations(ptr+"/requestBody", rb.Value.Content)
	}
	if req.Description != "" || len(req.QueryParameters) > 0 || len(req.Headers) > 0 || len(req.Representations) > 0 {
		o.Request = req
	}
	o.Responses = im.responses(ptr+"/responses", op.Responses)

	o.Normalize()
	if fe := o.Validate(); len(fe) > 0 {
		return o, im.errorf(ptr, "operation %s %s cannot be imported: %v", method, path, fe)
	}
	return o, nil
}

// responses converts the responses with a numeric status code; "default"
// and ranges such as "2XX" are left out with a warning.
func (im *importer) responses(ptr string, rs *openapi3.Responses) []model.ResponseDescription {
	if rs == nil {
		return nil
	}
	type coded struct {
		code int
		key  string
	}
	var codes []coded
	for key, r := range rs.Map() {
		if r == nil || r.Value == nil {
			continue
		}
		rptr := ptr + "/" + escapeToken(key)
		code, err := strconv.Atoi(key)
		switch {
		case key == "default":
			im.warn(rptr, "default response left out: the model needs a status code")
		case err != nil:
			im.warn(rptr, "response %q left out: the model needs a single status code", key)
		case code < 100 || code > 599:
			im.warn(rptr, "response %q left out: not an HTTP status code", key)
		default:
			codes = append(codes, coded{code, key})
		}
	}
	sort.Slice(codes, func(i, j int) bool {
		if codes[i].code != codes[j].code {
			return codes[i].code < codes[j].code
		}
		return codes[i].key < codes[j].key
	})
	var out []model.ResponseDescription
	for i, c := range codes {
		if i > 0 && codes[i-1].code == c.code {
			im.warn(ptr+"/"+escapeToken(c.key), "response %q duplicates status code %d; left out", c.key, c.code)
			continue
		}
		r := rs.Value(c.key).Value
		rptr := ptr + "/" + escapeToken(c.key)
		d := model.ResponseDescription{StatusCode: c.code}
		if r.Description != nil {
			d.Description = *r.Description
		}
		for _, name := range sortedKeys(r.Headers) {
			h := r.Headers[name]
			hptr := rptr + "/headers/" + escapeToken(name)
			if h == nil || h.Value == nil || strings.EqualFold(name, "Content-Type") {
				continue
			}
			if strings.TrimSpace(name) == "" {
				im.warn(hptr, "header without a name left out")
				continue
			}
			hp := h.Value.Parameter
			hp.Name = name
			d.Headers = append(d.Headers, im.param(hptr, &hp))
		}
		d.Representations = im.representations(rptr, r.Content)
		out = append(out, d)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// representations converts a content map, one representation per content
// type, sorted by content type.
func (im *importer) representations(ptr string, content openapi3.Content) []model.Representation {
	var out []model.Representation
	for _, ct := range sortedKeys(content) {
		cptr := ptr + "/content/" + escapeToken(ct)
		if strings.TrimSpace(ct) == "" {
			im.warn(cptr, "content without a media type left out")
			continue
		}
		rep := model.Representation{ContentType: ct}
		mt := content[ct]
		if mt == nil {
			out = append(out, rep)
			continue
		}
		rep.Schema = im.schemaJSON(cptr+"/schema", mt.Schema)
		rep.Examples = im.examples(cptr, mt.Example, mt.Examples)
		out = append(out, rep)
	}
	return out
}

// examples converts a media type's example (named "default") and examples.
func (im *importer) examples(ptr string, example any, examples openapi3.Examples) map[string]model.Example {
	out := map[string]model.Example{}
	if example != nil {
		if v, err := jsonValue(example); err != nil {
			im.warn(ptr+"/example", "example left out: %v", err)
		} else {
			out["default"] = model.Example{Value: v}
		}
	}
	for _, name := range sortedKeys(examples) {
		er := examples[name]
		if er == nil || er.Value == nil {
			continue
		}
		ex := model.Example{Summary: er.Value.Summary, Description: er.Value.Description}
		if er.Value.Value != nil {
			v, err := jsonValue(er.Value.Value)
			if err != nil {
				im.warn(ptr+"/examples/"+escapeToken(name), "example value left out: %v", err)
			}
			ex.Value = v
		}
		out[name] = ex
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// jsonValue marshals a value read from the document as JSON.
func jsonValue(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("not representable as JSON: %v", err)
	}
	return b, nil
}

// modelTypes are the parameter types the model accepts.
var modelTypes = []string{"string", "number", "integer", "boolean", "array", "object"}

// schemaType gives the model type of a schema: its first non-null type, or
// one inferred from its shape, "string" by default.
func schemaType(sr *openapi3.SchemaRef) string {
	if sr == nil || sr.Value == nil {
		return "string"
	}
	s := sr.Value
	if s.Type != nil {
		for _, t := range *s.Type {
			if slices.Contains(modelTypes, t) {
				return t
			}
		}
	}
	switch {
	case s.Items != nil:
		return "array"
	case len(s.Properties) > 0:
		return "object"
	}
	return "string"
}

// param converts a parameter or header.
func (im *importer) param(ptr string, p *openapi3.Parameter) model.Parameter {
	mp := model.Parameter{Name: p.Name, Description: p.Description, Required: p.Required}
	sr := p.Schema
	sptr := ptr + "/schema"
	if sr == nil && len(p.Content) > 0 {
		ct := sortedKeys(p.Content)[0]
		if mt := p.Content[ct]; mt != nil {
			sr = mt.Schema
			sptr = ptr + "/content/" + escapeToken(ct) + "/schema"
		}
	}
	mp.Type = schemaType(sr)
	if sr != nil && sr.Value != nil {
		if d, ok := valueString(sr.Value.Default); ok {
			mp.DefaultValue = d
		}
		for _, e := range sr.Value.Enum {
			if s, ok := valueString(e); ok {
				mp.Values = append(mp.Values, s)
			}
		}
		mp.Schema = im.schemaJSON(sptr, sr)
	}
	return mp
}

// valueString renders a default or enum value as text: strings as they are,
// other values as JSON. It reports false for nil and unrepresentable values.
func valueString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Schema inlining limits. A schema repeated within itself is cut at its
// first repetition; beyond maxSchemaDepth nesting levels or maxSchemaNodes
// subschemas, the rest of a schema is replaced by {}. Once the inlined
// schemas of a document add up to maxSchemaBytes, the remaining schemas are
// left out: inlining a document whose schemas share subschemas can
// otherwise grow exponentially.
const (
	maxSchemaDepth = 32
	maxSchemaNodes = 2000
	maxSchemaBytes = 32 << 20
)

// inlined is a schema rendered by schemaJSON, kept for reuse.
type inlined struct {
	json      json.RawMessage
	recursive []string
	truncated bool
}

// schemaJSON renders a schema as JSON with every $ref inlined.
func (im *importer) schemaJSON(ptr string, sr *openapi3.SchemaRef) json.RawMessage {
	if sr == nil {
		return nil
	}
	if im.schemaBytes >= maxSchemaBytes {
		im.warn("", "the document's schemas exceed %d MiB once inlined; further schemas are left out", maxSchemaBytes>>20)
		return nil
	}
	r, ok := im.schemaCache[sr.Value]
	if !ok {
		in := inliner{budget: maxSchemaNodes}
		s := in.inline(sr, 0, nil)
		b, err := json.Marshal(openapi3.SchemaRef{Value: s})
		if err != nil {
			im.warn(ptr, "schema left out: not representable as JSON: %v", err)
			return nil
		}
		r = inlined{json: b, recursive: in.recursive, truncated: in.truncated}
		if sr.Value != nil {
			if im.schemaCache == nil {
				im.schemaCache = map[*openapi3.Schema]inlined{}
			}
			im.schemaCache[sr.Value] = r
		}
	}
	if len(r.recursive) > 0 {
		im.warn(ptr, "recursive schema %s cut and replaced by {}", strings.Join(r.recursive, ", "))
	}
	if r.truncated {
		im.warn(ptr, "schema is too large or too deep; its deepest parts are replaced by {}")
	}
	im.schemaBytes += len(r.json)
	return r.json
}

// inliner copies a schema tree with references replaced by their values.
type inliner struct {
	budget    int
	truncated bool
	recursive []string
}

func (in *inliner) inline(sr *openapi3.SchemaRef, depth int, stack []*openapi3.Schema) *openapi3.Schema {
	if sr == nil || sr.Value == nil {
		return &openapi3.Schema{}
	}
	v := sr.Value
	if slices.Contains(stack, v) {
		name := sr.Ref
		if name == "" {
			name = "(inline)"
		}
		if !slices.Contains(in.recursive, strconv.Quote(name)) && len(in.recursive) < 10 {
			in.recursive = append(in.recursive, strconv.Quote(name))
		}
		return &openapi3.Schema{}
	}
	if depth >= maxSchemaDepth || in.budget <= 0 {
		in.truncated = true
		return &openapi3.Schema{}
	}
	in.budget--
	stack = append(stack, v)
	c := *v
	c.Origin = nil
	one := func(x *openapi3.SchemaRef) *openapi3.SchemaRef {
		if x == nil {
			return nil
		}
		return &openapi3.SchemaRef{Value: in.inline(x, depth+1, stack)}
	}
	list := func(xs openapi3.SchemaRefs) openapi3.SchemaRefs {
		if xs == nil {
			return nil
		}
		out := make(openapi3.SchemaRefs, len(xs))
		for i, x := range xs {
			out[i] = &openapi3.SchemaRef{Value: in.inline(x, depth+1, stack)}
		}
		return out
	}
	named := func(m openapi3.Schemas) openapi3.Schemas {
		if m == nil {
			return nil
		}
		out := make(openapi3.Schemas, len(m))
		for _, k := range sortedKeys(m) {
			out[k] = &openapi3.SchemaRef{Value: in.inline(m[k], depth+1, stack)}
		}
		return out
	}
	boolSchema := func(b openapi3.BoolSchema) openapi3.BoolSchema {
		return openapi3.BoolSchema{Has: b.Has, Schema: one(b.Schema)}
	}
	c.OneOf, c.AnyOf, c.AllOf = list(v.OneOf), list(v.AnyOf), list(v.AllOf)
	c.Not = one(v.Not)
	c.Items = one(v.Items)
	c.Properties = named(v.Properties)
	c.AdditionalProperties = boolSchema(v.AdditionalProperties)
	c.PrefixItems = list(v.PrefixItems)
	c.Contains = one(v.Contains)
	c.PatternProperties = named(v.PatternProperties)
	c.DependentSchemas = named(v.DependentSchemas)
	c.PropertyNames = one(v.PropertyNames)
	c.UnevaluatedItems = boolSchema(v.UnevaluatedItems)
	c.UnevaluatedProperties = boolSchema(v.UnevaluatedProperties)
	c.If, c.Then, c.Else = one(v.If), one(v.Then), one(v.Else)
	c.Defs = named(v.Defs)
	c.ContentSchema = one(v.ContentSchema)
	return &c
}
