package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/portico-gw/portico/internal/mgmt/mgmtclient"
	"github.com/portico-gw/portico/internal/model"
)

// paramRow is one parameter of an operation as the reference shows it and
// the try-it form fills it.
type paramRow struct {
	Name, In, Type, Description, Default string
	Required                             bool
	Values                               []string
	Value                                string // try-it: the value to show in the form
}

// Field is the try-it form field carrying this parameter.
func (p paramRow) Field() string { return "p." + p.In + "." + p.Name }

// schemaRow is one property of a JSON schema, flattened for a table.
type schemaRow struct {
	Name, Type, Description string
	Depth                   int
	Required                bool
}

// Indent is the CSS class indenting nested properties.
func (r schemaRow) Indent() string { return fmt.Sprintf("d%d", min(r.Depth, 5)) }

type repView struct {
	ContentType, TypeName string
	Rows                  []schemaRow
	Example               string
}

type respView struct {
	Status      int
	Description string
	Headers     []paramRow
	Reps        []repView
}

type opView struct {
	mgmtclient.Operation
	URL       string
	Params    []paramRow
	Body      []repView
	Responses []respView
	// the curl sample around the key, which the page's script can fill in
	CurlBefore, CurlAfter string
	KeyHeader             string
}

func params(in string, ps []model.Parameter) []paramRow {
	out := make([]paramRow, 0, len(ps))
	for _, p := range ps {
		typ := p.Type
		if typ == "" {
			typ = schemaType(p.Schema)
		}
		out = append(out, paramRow{Name: p.Name, In: in, Type: typ, Description: p.Description, Default: p.DefaultValue, Required: p.Required || in == "template", Values: p.Values, Value: p.DefaultValue})
	}
	return out
}

func reps(rs []model.Representation) []repView {
	out := make([]repView, 0, len(rs))
	for _, r := range rs {
		v := repView{ContentType: r.ContentType, TypeName: r.TypeName, Rows: schemaRows(r.Schema)}
		names := make([]string, 0, len(r.Examples))
		for n := range r.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if ex := r.Examples[n]; len(ex.Value) > 0 {
				v.Example = prettyJSON(ex.Value)
				break
			}
		}
		if v.Example == "" && len(r.Schema) > 0 {
			var sch map[string]any
			if json.Unmarshal(r.Schema, &sch) == nil {
				if ex, ok := sch["example"]; ok {
					b, _ := json.MarshalIndent(ex, "", "  ")
					v.Example = string(b)
				} else if sample := sampleOf(sch, 0); sample != nil {
					b, _ := json.MarshalIndent(sample, "", "  ")
					v.Example = string(b)
				}
			}
		}
		out = append(out, v)
	}
	return out
}

func (s *Server) opView(a mgmtclient.API, o mgmtclient.Operation) opView {
	v := opView{Operation: o, URL: s.gatewayBase(a) + o.URLTemplate}
	v.Params = params("template", o.TemplateParameters)
	if o.Request != nil {
		v.Params = append(v.Params, params("query", o.Request.QueryParameters)...)
		v.Params = append(v.Params, params("header", o.Request.Headers)...)
		v.Body = reps(o.Request.Representations)
	}
	for _, r := range o.Responses {
		v.Responses = append(v.Responses, respView{Status: r.StatusCode, Description: r.Description, Headers: params("header", r.Headers), Reps: reps(r.Representations)})
	}
	sort.Slice(v.Responses, func(i, j int) bool { return v.Responses[i].Status < v.Responses[j].Status })
	v.KeyHeader = model.DefaultKeyHeader
	if a.SubscriptionKeyParameterNames != nil && a.SubscriptionKeyParameterNames.Header != "" {
		v.KeyHeader = a.SubscriptionKeyParameterNames.Header
	}
	// curl sample: required query parameters with their defaults.
	u, _ := expandURL(s.gatewayBase(a), o.URLTemplate, v.Params, func(p paramRow) string {
		if p.Default != "" {
			return p.Default
		}
		if p.In == "template" {
			return "{" + p.Name + "}"
		}
		return ""
	}, true)
	var b strings.Builder
	fmt.Fprintf(&b, "curl -X %s %s \\\n  -H %s", o.Method, shellQuote(u), shellQuote(v.KeyHeader+": "))
	v.CurlBefore = strings.TrimSuffix(b.String(), "'")
	b.Reset()
	b.WriteString("'")
	if len(v.Body) > 0 {
		fmt.Fprintf(&b, " \\\n  -H %s", shellQuote("Content-Type: "+v.Body[0].ContentType))
		if v.Body[0].Example != "" {
			fmt.Fprintf(&b, " \\\n  --data-raw %s", shellQuote(v.Body[0].Example))
		}
	}
	v.CurlAfter = b.String()
	return v
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

type operationPage struct {
	API  mgmtclient.API
	Ops  []mgmtclient.Operation
	Op   opView
	Subs []subView // the viewer's active subscriptions that admit this API
	Try  *tryResult
	Form tryForm
}

func (s *Server) handleOperation(w http.ResponseWriter, r *http.Request) {
	s.showOperation(w, r, nil, tryForm{})
}

func (s *Server) showOperation(w http.ResponseWriter, r *http.Request, res *tryResult, form tryForm) {
	u, sess := s.viewer(w, r)
	c, a, err := s.visibleAPI(r.Context(), u, r.PathValue("api"))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	ops, err := s.operations(r.Context(), a.Name)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	opID := r.PathValue("op")
	var op *mgmtclient.Operation
	for i := range ops {
		if ops[i].Name == opID {
			op = &ops[i]
		}
	}
	if op == nil {
		s.notFound(w, r)
		return
	}
	pg := operationPage{API: a, Ops: ops, Op: s.opView(a, *op), Try: res, Form: form}
	if u != nil {
		subs, err := s.ownSubscriptions(r.Context(), u, c)
		if err != nil {
			s.failed(w, r, err)
			return
		}
		for _, sv := range subs {
			if sv.State == model.SubActive && sv.admits(a.Name, c) {
				pg.Subs = append(pg.Subs, sv)
			}
		}
	}
	if form.Values != nil {
		for i := range pg.Op.Params {
			pg.Op.Params[i].Value = form.Values[pg.Op.Params[i].Field()]
		}
	} else {
		pg.Form.Headers = ""
		if len(pg.Op.Body) > 0 {
			pg.Form.ContentType = pg.Op.Body[0].ContentType
			pg.Form.Body = pg.Op.Body[0].Example
		}
	}
	status := http.StatusOK
	s.renderAs(w, r, u, sess, "operation", status, op.DisplayName+" · "+a.DisplayName, pg)
}

// schemaType names the type of a JSON schema for a table cell.
func schemaType(raw json.RawMessage) string {
	var sch map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &sch) != nil {
		return ""
	}
	return typeOf(sch)
}

func typeOf(s map[string]any) string {
	t := ""
	switch v := s["type"].(type) {
	case string:
		t = v
	case []any:
		var parts []string
		for _, x := range v {
			if str, ok := x.(string); ok && str != "null" {
				parts = append(parts, str)
			}
		}
		t = strings.Join(parts, " | ")
	}
	if t == "" {
		if _, ok := s["properties"]; ok {
			t = "object"
		}
	}
	if t == "array" {
		if items, ok := s["items"].(map[string]any); ok {
			if it := typeOf(items); it != "" {
				t = "array of " + it
			}
		}
	}
	if f, ok := s["format"].(string); ok && f != "" {
		t += " (" + f + ")"
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		var vals []string
		for _, e := range enum {
			vals = append(vals, fmt.Sprint(e))
		}
		t += ": " + strings.Join(vals, ", ")
	}
	if t == "" {
		t = "any"
	}
	return t
}

// schemaRows flattens a schema's properties (nested objects and array
// items indented) into table rows, at most 200.
func schemaRows(raw json.RawMessage) []schemaRow {
	var sch map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &sch) != nil {
		return nil
	}
	var rows []schemaRow
	if props := properties(sch); len(props) == 0 {
		return []schemaRow{{Name: "(body)", Type: typeOf(sch), Description: str(sch["description"])}}
	}
	walkSchema(sch, "", 0, &rows)
	return rows
}

func properties(s map[string]any) map[string]any {
	out := map[string]any{}
	if p, ok := s["properties"].(map[string]any); ok {
		for k, v := range p {
			out[k] = v
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if m, ok := sub.(map[string]any); ok {
				for k, v := range properties(m) {
					out[k] = v
				}
			}
		}
	}
	return out
}

func requiredSet(s map[string]any) map[string]bool {
	out := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if n, ok := r.(string); ok {
				out[n] = true
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if m, ok := sub.(map[string]any); ok {
				for k := range requiredSet(m) {
					out[k] = true
				}
			}
		}
	}
	return out
}

func walkSchema(s map[string]any, prefix string, depth int, rows *[]schemaRow) {
	if depth > 6 || len(*rows) >= 200 {
		return
	}
	props := properties(s)
	req := requiredSet(s)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, _ := props[n].(map[string]any)
		if p == nil {
			continue
		}
		name := n
		if prefix != "" {
			name = prefix + "." + n
		}
		*rows = append(*rows, schemaRow{Name: name, Type: typeOf(p), Description: str(p["description"]), Depth: depth, Required: req[n]})
		if len(properties(p)) > 0 {
			walkSchema(p, name, depth+1, rows)
		} else if items, ok := p["items"].(map[string]any); ok && len(properties(items)) > 0 {
			walkSchema(items, name+"[]", depth+1, rows)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// sampleOf builds a sample value from a schema for the try-it body.
func sampleOf(s map[string]any, depth int) any {
	if depth > 5 {
		return nil
	}
	if ex, ok := s["example"]; ok {
		return ex
	}
	if d, ok := s["default"]; ok {
		return d
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	if props := properties(s); len(props) > 0 {
		obj := map[string]any{}
		for n, p := range props {
			if pm, ok := p.(map[string]any); ok {
				obj[n] = sampleOf(pm, depth+1)
			}
		}
		return obj
	}
	t, _ := s["type"].(string)
	switch t {
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			return []any{sampleOf(items, depth+1)}
		}
		return []any{}
	case "integer", "number":
		return 0
	case "boolean":
		return true
	case "string":
		return "string"
	case "object":
		return map[string]any{}
	}
	return nil
}
