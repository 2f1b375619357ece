package openapi

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// This file finds places in the document: JSON pointers and their lines.

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

var yamlLinePrefix = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses doc (JSON or YAML) into its top-level node, for version
// detection and line numbers.
func parseYAML(doc []byte) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLinePrefix.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		return nil, &ImportError{Line: line, Msg: "document is neither JSON nor YAML: " + msg}
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0], nil
	}
	return nil, &ImportError{Msg: "document is empty"}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "an array"
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			return "a string"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "an object"
}

// resolveAlias follows YAML aliases (bounded, in case of a cycle).
func resolveAlias(n *yaml.Node, depth int) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && depth < 100 {
		n = n.Alias
		depth++
	}
	return n
}

// escapeToken escapes one JSON pointer reference token.
func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// pointer builds a JSON pointer from unescaped tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// lineOf returns the 1-based line of the place ptr names in the document, or
// of the closest enclosing place found; 0 when the document was not parsed
// as YAML or ptr is empty.
func (im *importer) lineOf(ptr string) int {
	if im.root == nil || ptr == "" || ptr[0] != '/' {
		return 0
	}
	tokens := strings.Split(ptr[1:], "/")
	for i := range tokens {
		tokens[i] = unescapeToken(tokens[i])
	}
	if im.swagger {
		tokens = swaggerTokens(tokens)
	}
	n := im.root
	line := 0
	for _, tok := range tokens {
		n = resolveAlias(n, 0)
		if n == nil {
			break
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// swaggerTokens maps a pointer into the OpenAPI 3 conversion of a Swagger
// 2.0 document to the corresponding place of the original.
func swaggerTokens(t []string) []string {
	if len(t) >= 2 && t[0] == "components" {
		switch t[1] {
		case "schemas":
			return append([]string{"definitions"}, t[2:]...)
		case "parameters", "responses":
			return t[1:]
		case "securitySchemes":
			return append([]string{"securityDefinitions"}, t[2:]...)
		}
	}
	if len(t) >= 1 && t[0] == "servers" {
		return []string{"host"}
	}
	return t
}

var quotedRef = regexp.MustCompile(`"([^"]*)"`)

// findRef looks for the $ref that a loader error message quotes and returns
// the pointer to the object holding it and its line.
func (im *importer) findRef(msg string) (string, int) {
	if im.root == nil {
		return "", 0
	}
	var cands []string
	for _, m := range quotedRef.FindAllStringSubmatch(msg, -1) {
		if m[1] == "" {
			continue
		}
		cands = append(cands, m[1])
		if im.swagger {
			// The converted document's references, in Swagger 2.0 terms.
			for from, to := range map[string]string{
				"#/components/schemas/": "#/definitions/", "#/components/parameters/": "#/parameters/",
				"#/components/responses/": "#/responses/", "#/components/requestBodies/": "#/parameters/",
			} {
				if strings.HasPrefix(m[1], from) {
					cands = append(cands, to+strings.TrimPrefix(m[1], from))
				}
			}
		}
	}
	if len(cands) == 0 {
		return "", 0
	}
	var found []string
	line := 0
	var walk func(n *yaml.Node, path []string, depth int) bool
	walk = func(n *yaml.Node, path []string, depth int) bool {
		if n == nil || depth > 200 {
			return false
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && v.Kind == yaml.ScalarNode && v.Value != "" {
					for _, c := range cands {
						if v.Value == c || strings.HasSuffix(c, v.Value) {
							found, line = append([]string(nil), path...), k.Line
							return true
						}
					}
				}
				if walk(v, append(path, k.Value), depth+1) {
					return true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if walk(c, append(path, strconv.Itoa(i)), depth+1) {
					return true
				}
			}
		}
		return false
	}
	if !walk(im.root, nil, 0) {
		return "", 0
	}
	return pointer(found...), line
}

// validationPointer builds a JSON pointer from the context wrappers of a
// kin-openapi validation error, as deep as they go.
func (im *importer) validationPointer(err error) string {
	var tokens []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *openapi3.SectionValidationError:
			switch x.Section {
			case "info", "paths", "components", "security", "servers", "tags", "webhooks", "jsonSchemaDialect":
				if len(tokens) == 0 {
					tokens = append(tokens, x.Section)
					continue
				}
			case "external docs":
				tokens = append(tokens, "externalDocs")
			}
			return pointer(tokens...)
		case *openapi3.PathValidationError:
			tokens = append(tokens, x.Path)
		case *openapi3.OperationValidationError:
			tokens = append(tokens, strings.ToLower(x.Method))
		case *openapi3.PathParametersError:
			return pointer("paths", x.Path, strings.ToLower(x.Method))
		case *openapi3.ComponentValidationError:
			section := map[string]string{
				"schema": "schemas", "parameter": "parameters", "header": "headers",
				"request body": "requestBodies", "response": "responses",
				"security scheme": "securitySchemes", "example": "examples",
				"link": "links", "callback": "callbacks",
			}[x.Section]
			if section == "" {
				return pointer(tokens...)
			}
			tokens = append(tokens, section, x.Name)
		case *openapi3.ParameterFieldValidationError:
			return pointer(tokens...)
		}
	}
	return pointer(tokens...)
}
