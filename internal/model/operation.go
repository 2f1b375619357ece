package model

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/router"
)

// Parameter describes a template, query or header parameter of an operation.
type Parameter struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Type         string          `json:"type"`
	Required     bool            `json:"required"`
	DefaultValue string          `json:"defaultValue,omitempty"`
	Values       []string        `json:"values,omitempty"`
	Schema       json.RawMessage `json:"schema,omitempty"`
}

// Example is a named example payload of a representation.
type Example struct {
	Summary     string          `json:"summary,omitempty"`
	Description string          `json:"description,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
}

// Representation is one content type of a request or response body. Schema
// holds the JSON schema inline (references already resolved at import).
type Representation struct {
	ContentType string             `json:"contentType"`
	Schema      json.RawMessage    `json:"schema,omitempty"`
	TypeName    string             `json:"typeName,omitempty"`
	Examples    map[string]Example `json:"examples,omitempty"`
}

// RequestDescription documents an operation's request.
type RequestDescription struct {
	Description     string           `json:"description,omitempty"`
	QueryParameters []Parameter      `json:"queryParameters,omitempty"`
	Headers         []Parameter      `json:"headers,omitempty"`
	Representations []Representation `json:"representations,omitempty"`
}

// ResponseDescription documents one response of an operation.
type ResponseDescription struct {
	StatusCode      int              `json:"statusCode"`
	Description     string           `json:"description,omitempty"`
	Headers         []Parameter      `json:"headers,omitempty"`
	Representations []Representation `json:"representations,omitempty"`
}

// Operation is one method + URL template inside an API. URLTemplate is
// relative to the API path, starts with '/', and may hold {param} segments
// and a trailing {*rest} wildcard.
type Operation struct {
	DisplayName        string                `json:"displayName"`
	Method             string                `json:"method"`
	URLTemplate        string                `json:"urlTemplate"`
	Description        string                `json:"description,omitempty"`
	TemplateParameters []Parameter           `json:"templateParameters"`
	Request            *RequestDescription   `json:"request,omitempty"`
	Responses          []ResponseDescription `json:"responses,omitempty"`
	Tags               []string              `json:"tags,omitempty"`
}

// TemplateValidator checks a URL template and returns its parameter names in
// order. It is the gateway router's own parser, so that the management plane
// accepts exactly the templates the gateway can route.
var TemplateValidator = func(t string) ([]string, error) {
	if !strings.HasPrefix(t, "/") {
		return nil, fmt.Errorf("must start with '/', got %q", t)
	}
	tmpl, err := router.ParseTemplate(t)
	if err != nil {
		return nil, err
	}
	return append(tmpl.Params(), tmpl.QueryParams()...), nil
}

// Normalize upper-cases the method and fills declared template parameters
// for every {param} of the template that has none.
func (o *Operation) Normalize() {
	o.DisplayName = strings.TrimSpace(o.DisplayName)
	o.Method = strings.ToUpper(strings.TrimSpace(o.Method))
	o.URLTemplate = strings.TrimSpace(o.URLTemplate)
	if o.URLTemplate != "" && !strings.HasPrefix(o.URLTemplate, "/") {
		o.URLTemplate = "/" + o.URLTemplate
	}
	if o.TemplateParameters == nil {
		o.TemplateParameters = []Parameter{}
	}
	names, err := TemplateValidator(o.URLTemplate)
	if err != nil {
		return
	}
	declared := map[string]bool{}
	for i := range o.TemplateParameters {
		p := &o.TemplateParameters[i]
		if p.Type == "" {
			p.Type = "string"
		}
		declared[p.Name] = true
	}
	for _, n := range names {
		if !declared[n] {
			o.TemplateParameters = append(o.TemplateParameters, Parameter{Name: n, Type: "string", Required: true})
		}
	}
	if o.Request != nil {
		defaultTypes(o.Request.QueryParameters)
		defaultTypes(o.Request.Headers)
	}
	for i := range o.Responses {
		defaultTypes(o.Responses[i].Headers)
	}
}

func defaultTypes(ps []Parameter) {
	for i := range ps {
		if ps[i].Type == "" {
			ps[i].Type = "string"
		}
	}
}

// Validate checks the operation's own fields, including that every declared
// template parameter appears in the template and vice versa.
func (o *Operation) Validate() FieldErrors {
	var fe FieldErrors
	requireText(&fe, "displayName", o.DisplayName, 300)
	if o.Method == "" {
		fe.Add("method", "is required")
	} else if o.Method != "*" {
		ok := false
		for _, m := range HTTPMethods {
			ok = ok || m == o.Method
		}
		if !ok && !headerToken.MatchString(o.Method) {
			fe.Add("method", "must be an HTTP method, got %q", o.Method)
		}
	}
	maxLen(&fe, "description", o.Description, 10000)
	if o.URLTemplate == "" {
		fe.Add("urlTemplate", "is required")
	} else if names, err := TemplateValidator(o.URLTemplate); err != nil {
		fe.Add("urlTemplate", "%v", err)
	} else {
		inTemplate := map[string]bool{}
		for _, n := range names {
			inTemplate[n] = true
		}
		seen := map[string]bool{}
		for i, p := range o.TemplateParameters {
			f := fmt.Sprintf("templateParameters[%d].name", i)
			switch {
			case p.Name == "":
				fe.Add(f, "is required")
			case !inTemplate[p.Name]:
				fe.Add(f, "%q does not appear in urlTemplate %q", p.Name, o.URLTemplate)
			case seen[p.Name]:
				fe.Add(f, "duplicates parameter %q", p.Name)
			}
			seen[p.Name] = true
		}
	}
	validateParams(&fe, "templateParameters", o.TemplateParameters)
	if o.Request != nil {
		validateParams(&fe, "request.queryParameters", o.Request.QueryParameters)
		validateParams(&fe, "request.headers", o.Request.Headers)
		validateReps(&fe, "request.representations", o.Request.Representations)
	}
	codes := map[int]bool{}
	for i, r := range o.Responses {
		f := "responses[" + strconv.Itoa(i) + "]"
		if r.StatusCode < 100 || r.StatusCode > 599 {
			fe.Add(f+".statusCode", "must be an HTTP status code between 100 and 599, got %d", r.StatusCode)
		}
		if codes[r.StatusCode] {
			fe.Add(f+".statusCode", "duplicates status code %d", r.StatusCode)
		}
		codes[r.StatusCode] = true
		validateParams(&fe, f+".headers", r.Headers)
		validateReps(&fe, f+".representations", r.Representations)
	}
	validTags(&fe, "tags", o.Tags)
	return fe
}

func validateParams(fe *FieldErrors, field string, ps []Parameter) {
	for i, p := range ps {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(p.Name) == "" {
			fe.Add(f+".name", "is required")
		}
		if p.Type != "" {
			oneOf(fe, f+".type", p.Type, "string", "number", "integer", "boolean", "array", "object")
		}
		if len(p.Schema) > 0 && !json.Valid(p.Schema) {
			fe.Add(f+".schema", "is not valid JSON")
		}
	}
}

func validateReps(fe *FieldErrors, field string, rs []Representation) {
	for i, r := range rs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(r.ContentType) == "" {
			fe.Add(f+".contentType", "is required")
		}
		for _, name := range sortedKeys(r.Examples) {
			if v := r.Examples[name].Value; len(v) > 0 && !json.Valid(v) {
				fe.Add(f+".examples."+name+".value", "is not valid JSON")
			}
		}
	}
}
