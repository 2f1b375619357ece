package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/portico-gw/portico/internal/model"
)

// Export renders an OpenAPI 3.0.3 document for an API and its operations.
// yaml=false gives indented JSON, yaml=true YAML.
//
// info.title is api.DisplayName, info.description api.Description and
// info.version api.APIVersion ("1.0" when empty). The only server is
// serverURL when it is not empty (the caller passes the full gateway URL of
// the API, path included), else "/" + apiPath when apiPath is not empty (a
// relative server), else none. The API's tags become the document's tags.
//
// Each operation becomes paths[template][method] with operationId = its ID
// (slugged and made unique if it is not a valid, unused id), summary =
// DisplayName, its description, tags, template, query and header parameters,
// request body (when it has representations) and responses; an operation
// without responses gets a "default" one so that the document is valid.
// Parameter and body schemas are the stored inline JSON schemas, brought
// down to OpenAPI 3.0 (type arrays with "null" become nullable, const
// becomes enum, 3.1-only keywords are dropped); a schema that still does not
// validate is replaced by one made from the parameter's type. A wildcard
// template segment {*name} is written as {name}, and the parameters of a
// template's query part become query parameters.
//
// Operations whose method OpenAPI cannot express (such as "*") are left
// out. An operation whose path differs from an earlier one's only in
// parameter names (which OpenAPI forbids) is filed under the earlier path,
// its parameters renamed by position. Export fails when two operations end
// up with the same method and path, or when the result does not pass
// kin-openapi's validation.
func Export(api model.API, apiPath string, ops []ImportedOperation, serverURL string, yaml bool) ([]byte, error) {
	title := strings.TrimSpace(api.DisplayName)
	if title == "" {
		title = "API"
	}
	version := strings.TrimSpace(api.APIVersion)
	if version == "" {
		version = "1.0"
	}
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info:    &openapi3.Info{Title: title, Description: api.Description, Version: version},
		Paths:   openapi3.NewPaths(),
	}
	switch p := strings.Trim(strings.TrimSpace(apiPath), "/"); {
	case strings.TrimSpace(serverURL) != "":
		doc.Servers = openapi3.Servers{{URL: strings.TrimSpace(serverURL)}}
	case p != "":
		doc.Servers = openapi3.Servers{{URL: "/" + p}}
	}
	seenTag := map[string]bool{}
	for _, t := range api.Tags {
		if t = strings.TrimSpace(t); t != "" && !seenTag[strings.ToLower(t)] {
			seenTag[strings.ToLower(t)] = true
			doc.Tags = append(doc.Tags, &openapi3.Tag{Name: t})
		}
	}

	used := map[string]bool{}
	shapes := map[string]string{} // path with parameter names removed -> path
	for _, io := range ops {
		op := io.Operation
		method := strings.ToUpper(strings.TrimSpace(op.Method))
		if !slices.Contains(methodOrder, method) {
			continue
		}
		path, query, _ := strings.Cut(strings.TrimSpace(op.URLTemplate), "?")
		path = exportPath(path)
		shape := pathShape(path)
		if other, ok := shapes[shape]; ok && other != path {
			// OpenAPI does not allow paths that differ only in parameter
			// names: file the operation under the first one, renaming its
			// parameters by position.
			op.TemplateParameters = renameParams(op.TemplateParameters, templateNames(path), templateNames(other))
			path = other
		}
		shapes[shape] = path
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(path, item)
		}
		if item.GetOperation(method) != nil {
			return nil, fmt.Errorf("operation %q: another operation is already %s %s", io.ID, method, path)
		}
		id := io.ID
		if !model.ValidID(id) || used[id] {
			id = operationID(id, method, path, used)
		} else {
			used[id] = true
		}
		item.SetOperation(method, exportOperation(id, path, query, op))
	}
	if doc.Paths.Len() == 0 {
		// A 3.0 document needs paths; an empty object is valid.
		doc.Paths = openapi3.NewPaths()
	}

	ctx := context.Background()
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableSchemaPatternValidation()); err != nil {
		return nil, fmt.Errorf("exported document is not valid: %w", err)
	}
	compact, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cannot render document: %w", err)
	}
	out, err := orderedJSON(compact)
	if err != nil {
		return nil, err
	}
	if !yaml {
		return out, nil
	}
	return jsonToYAML(out)
}

// topLevelOrder is the order of the document's top-level fields in the
// output; others follow alphabetically.
var topLevelOrder = []string{"openapi", "info", "servers", "tags", "paths", "components"}

// orderedJSON indents a compact JSON object, putting its top-level fields in
// topLevelOrder (nested objects keep their sorted keys).
func orderedJSON(compact []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(compact, &m); err != nil {
		return nil, fmt.Errorf("cannot render document: %w", err)
	}
	keys := slices.Clone(topLevelOrder)
	for _, k := range sortedKeys(m) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { _, ok := m[k]; return !ok })
	var buf bytes.Buffer
	buf.WriteString("{\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		buf.WriteString("  ")
		buf.Write(kb)
		buf.WriteString(": ")
		if err := json.Indent(&buf, m[k], "  ", "  "); err != nil {
			return nil, fmt.Errorf("cannot render document: %w", err)
		}
		if i < len(keys)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// exportPath turns a URL template's path part into an OpenAPI path:
// leading '/', no trailing '/', and {*name} written as {name}.
func exportPath(p string) string {
	p = strings.ReplaceAll(p, "{*", "{")
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// pathShape is path with the names of its parameters removed.
func pathShape(path string) string {
	var b strings.Builder
	in := false
	for _, c := range path {
		switch {
		case c == '{':
			in = true
			b.WriteString("{}")
		case c == '}':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// renameParams renames parameters from names in from to the name at the
// same position in to.
func renameParams(ps []model.Parameter, from, to []string) []model.Parameter {
	out := slices.Clone(ps)
	for i := range out {
		if j := slices.Index(from, out[i].Name); j >= 0 && j < len(to) {
			out[i].Name = to[j]
		}
	}
	return out
}

// templateNames returns the {names} in s, without a leading '*'.
func templateNames(s string) []string {
	var names []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return names
		}
		if n := strings.TrimPrefix(s[i+1:i+j], "*"); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
		s = s[i+j+1:]
	}
}

func exportOperation(id, path, query string, op model.Operation) *openapi3.Operation {
	o := &openapi3.Operation{
		OperationID: id,
		Summary:     op.DisplayName,
		Description: op.Description,
		Tags:        op.Tags,
		Responses:   openapi3.NewResponses(),
	}
	declared := map[string]model.Parameter{}
	for _, p := range op.TemplateParameters {
		declared[p.Name] = p
	}
	for _, n := range templateNames(path) {
		p, ok := declared[n]
		if !ok {
			p = model.Parameter{Name: n, Type: "string"}
		}
		o.Parameters = append(o.Parameters, exportParam(openapi3.ParameterInPath, p, true))
	}
	var req model.RequestDescription
	if op.Request != nil {
		req = *op.Request
	}
	seen := map[string]bool{}
	for _, p := range req.QueryParameters {
		if strings.TrimSpace(p.Name) == "" || seen["q"+p.Name] {
			continue
		}
		seen["q"+p.Name] = true
		o.Parameters = append(o.Parameters, exportParam(openapi3.ParameterInQuery, p, p.Required))
	}
	for _, n := range templateNames(query) {
		if !seen["q"+n] {
			seen["q"+n] = true
			o.Parameters = append(o.Parameters, exportParam(openapi3.ParameterInQuery, model.Parameter{Name: n, Type: "string"}, true))
		}
	}
	for _, p := range req.Headers {
		k := "h" + strings.ToLower(p.Name)
		if strings.TrimSpace(p.Name) == "" || seen[k] || ignoredHeaders[strings.ToLower(p.Name)] {
			continue
		}
		seen[k] = true
		o.Parameters = append(o.Parameters, exportParam(openapi3.ParameterInHeader, p, p.Required))
	}
	if content := exportContent(req.Representations); len(content) > 0 {
		o.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{
			Description: req.Description,
			Content:     content,
		}}
	}
	for _, r := range op.Responses {
		if r.StatusCode < 100 || r.StatusCode > 599 {
			continue
		}
		code := strconv.Itoa(r.StatusCode)
		if o.Responses.Value(code) != nil {
			continue
		}
		desc := r.Description
		if desc == "" {
			desc = http.StatusText(r.StatusCode)
		}
		if desc == "" {
			desc = "response " + code
		}
		resp := &openapi3.Response{Description: &desc, Content: exportContent(r.Representations)}
		for _, h := range r.Headers {
			if strings.TrimSpace(h.Name) == "" || strings.EqualFold(h.Name, "Content-Type") {
				continue
			}
			if resp.Headers == nil {
				resp.Headers = openapi3.Headers{}
			}
			p := exportParam("", h, h.Required).Value
			p.Name, p.In = "", ""
			resp.Headers[h.Name] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: *p}}
		}
		o.Responses.Set(code, &openapi3.ResponseRef{Value: resp})
	}
	if o.Responses.Len() == 0 {
		desc := "default response"
		o.Responses.Set("default", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &desc}})
	}
	return o
}

func exportParam(in string, p model.Parameter, required bool) *openapi3.ParameterRef {
	return &openapi3.ParameterRef{Value: &openapi3.Parameter{
		Name:        p.Name,
		In:          in,
		Description: p.Description,
		Required:    required,
		Schema:      exportSchema(p.Schema, p),
	}}
}

func exportContent(reps []model.Representation) openapi3.Content {
	if len(reps) == 0 {
		return nil
	}
	content := openapi3.Content{}
	for _, r := range reps {
		ct := strings.TrimSpace(r.ContentType)
		if ct == "" || content[ct] != nil {
			continue
		}
		mt := &openapi3.MediaType{}
		if len(r.Schema) > 0 {
			mt.Schema = exportSchema(r.Schema, model.Parameter{})
		}
		exportExamples(mt, r.Examples)
		content[ct] = mt
	}
	return content
}

// exportExamples writes a lone plain "default" example as example, others
// as examples, which is how Import reads them back.
func exportExamples(mt *openapi3.MediaType, exs map[string]model.Example) {
	if d, ok := exs["default"]; ok && len(exs) == 1 && d.Summary == "" && d.Description == "" {
		var v any
		if len(d.Value) > 0 && json.Unmarshal(d.Value, &v) == nil && v != nil {
			mt.Example = v
		}
		return
	}
	for _, name := range sortedKeys(exs) {
		ex := exs[name]
		var v any
		if len(ex.Value) == 0 || json.Unmarshal(ex.Value, &v) != nil || v == nil {
			continue
		}
		if mt.Examples == nil {
			mt.Examples = openapi3.Examples{}
		}
		mt.Examples[name] = &openapi3.ExampleRef{Value: &openapi3.Example{
			Summary: ex.Summary, Description: ex.Description, Value: v,
		}}
	}
}

// exportSchema turns a stored schema into an OpenAPI 3.0 schema, or makes
// one from the parameter's type, default and values when there is none or
// it is not valid in OpenAPI 3.0.
func exportSchema(raw json.RawMessage, p model.Parameter) *openapi3.SchemaRef {
	if len(raw) > 0 {
		var s openapi3.Schema
		if json.Unmarshal(raw, &s) == nil {
			downgrade(&s, 0)
			if s.Validate(context.Background(), openapi3.DisableSchemaDefaultsValidation(),
				openapi3.DisableSchemaPatternValidation(), openapi3.DisableExamplesValidation()) == nil {
				return s.NewRef()
			}
		}
	}
	t := p.Type
	if !slices.Contains(modelTypes, t) {
		t = "string"
	}
	s := &openapi3.Schema{Type: &openapi3.Types{t}}
	if t == "array" {
		s.Items = openapi3.NewStringSchema().NewRef()
	}
	if v, ok := typedValue(t, p.DefaultValue); ok && p.DefaultValue != "" {
		s.Default = v
	}
	for _, e := range p.Values {
		if v, ok := typedValue(t, e); ok {
			s.Enum = append(s.Enum, v)
		}
	}
	return s.NewRef()
}

// typedValue reads text as a value of a model type.
func typedValue(t, s string) (any, bool) {
	switch t {
	case "string":
		return s, true
	case "integer":
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	case "number":
		f, err := strconv.ParseFloat(s, 64)
		return f, err == nil
	case "boolean":
		b, err := strconv.ParseBool(s)
		return b, err == nil
	}
	return nil, false
}

// downgrade rewrites an OpenAPI 3.1 (JSON Schema 2020-12) schema into its
// closest OpenAPI 3.0 form, in place.
func downgrade(s *openapi3.Schema, depth int) {
	if s == nil || depth > maxSchemaDepth*4 {
		return
	}
	if s.Always != nil {
		if !*s.Always {
			s.Not = (&openapi3.Schema{}).NewRef()
		}
		s.Always = nil
	}
	if s.Type != nil {
		var ts openapi3.Types
		for _, t := range *s.Type {
			if t == "null" {
				s.Nullable = true
			} else {
				ts = append(ts, t)
			}
		}
		if len(ts) == 1 {
			s.Type = &ts
		} else {
			s.Type = nil
		}
	}
	if s.Const != nil {
		if len(s.Enum) == 0 {
			s.Enum = []any{s.Const}
		}
		s.Const = nil
	}
	if len(s.Examples) > 0 {
		if s.Example == nil {
			s.Example = s.Examples[0]
		}
		s.Examples = nil
	}
	if v := s.ExclusiveMin.Value; v != nil {
		t := true
		s.Min, s.ExclusiveMin = v, openapi3.ExclusiveBound{Bool: &t}
	}
	if v := s.ExclusiveMax.Value; v != nil {
		t := true
		s.Max, s.ExclusiveMax = v, openapi3.ExclusiveBound{Bool: &t}
	}
	s.PrefixItems, s.Contains, s.MinContains, s.MaxContains = nil, nil, nil, nil
	s.PatternProperties, s.DependentSchemas, s.PropertyNames = nil, nil, nil
	s.UnevaluatedItems, s.UnevaluatedProperties = openapi3.BoolSchema{}, openapi3.BoolSchema{}
	s.If, s.Then, s.Else, s.DependentRequired, s.Defs = nil, nil, nil, nil, nil
	s.SchemaDialect, s.Comment, s.SchemaID, s.Anchor, s.DynamicRef, s.DynamicAnchor = "", "", "", "", "", ""
	s.ContentMediaType, s.ContentEncoding, s.ContentSchema = "", "", nil

	sub := func(r *openapi3.SchemaRef) {
		if r != nil {
			downgrade(r.Value, depth+1)
		}
	}
	for _, r := range s.OneOf {
		sub(r)
	}
	for _, r := range s.AnyOf {
		sub(r)
	}
	for _, r := range s.AllOf {
		sub(r)
	}
	for _, r := range s.Properties {
		sub(r)
	}
	sub(s.Not)
	sub(s.Items)
	sub(s.AdditionalProperties.Schema)
	if s.Type != nil && s.Type.Is("array") && s.Items == nil {
		s.Items = (&openapi3.Schema{}).NewRef()
	}
}

// jsonToYAML re-renders a JSON document as block-style YAML, keeping the
// order of its keys.
func jsonToYAML(j []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(j, &n); err != nil {
		return nil, fmt.Errorf("cannot render document as YAML: %w", err)
	}
	var plain func(*yaml.Node)
	plain = func(n *yaml.Node) {
		n.Style = 0
		for _, c := range n.Content {
			plain(c)
		}
	}
	plain(&n)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("cannot render document as YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("cannot render document as YAML: %w", err)
	}
	return buf.Bytes(), nil
}
