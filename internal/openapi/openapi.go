// Package openapi imports OpenAPI 3.x and Swagger 2.0 documents into
// Portico's APIM-shaped model (an API and its operations) and exports an API
// and its operations back as an OpenAPI 3.0.3 document.
//
// Import accepts JSON or YAML for every format, resolves every local $ref
// (external references are refused), validates the document with
// kin-openapi and converts each path and method to a [model.Operation] whose
// schemas are inlined JSON. Everything the model cannot express is reported
// as a warning rather than silently dropped; anything that makes the document
// unusable is reported as an [*ImportError] that says what is wrong and where.
//
// Every operation in a successful [Result] has been normalized and passes
// [model.Operation.Validate] with the [model.TemplateValidator] installed at
// the time of the call, and carries a unique id that passes [model.ValidID].
package openapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/portico-gw/portico/internal/model"
)

// Formats accepted by Import, as APIM names them. Whatever the format, the
// document may be written in JSON or YAML; the format only tells which
// specification the caller expects (see Import for what happens when the
// document turns out to be of the other one).
const (
	// FormatOpenAPI is an OpenAPI 3.x document, usually YAML.
	FormatOpenAPI = "openapi"
	// FormatOpenAPIJSON is an OpenAPI 3.x document, usually JSON.
	FormatOpenAPIJSON = "openapi+json"
	// FormatSwaggerJSON is a Swagger (OpenAPI) 2.0 document, usually JSON.
	FormatSwaggerJSON = "swagger-json"
	// FormatSwaggerYAML is a Swagger (OpenAPI) 2.0 document, usually YAML.
	FormatSwaggerYAML = "swagger-yaml"
)

// MaxDocumentBytes is the size of the largest document Import accepts.
const MaxDocumentBytes = 4 << 20

// maxWarnings bounds the warnings about places in the document kept in
// Result.Warnings; further ones are counted only. Warnings about the
// document as a whole, of which there are few, are always kept.
const maxWarnings = 100

// ImportedOperation is one imported operation and the id it should be
// stored under. ID is unique within a Result and passes model.ValidID.
type ImportedOperation struct {
	ID        string
	Operation model.Operation
}

// Result is what Import makes of a document.
type Result struct {
	// API carries DisplayName (info.title), Description (info.description),
	// ServiceURL (the first server's URL with its variables set to their
	// defaults, or for Swagger 2.0 scheme://host+basePath, preferring https;
	// empty when that URL is relative or absent) and Tags (the names of the
	// document's top-level tags). Path and APIVersion are left empty: the
	// caller chooses the path, and info.version is the document's version,
	// not an APIM API version. Other fields are left for the caller's
	// Normalize.
	API model.API
	// Operations are in document order: paths sorted, then methods in the
	// order GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH, TRACE. Each is
	// normalized and valid.
	Operations []ImportedOperation
	// Document is a copy of the document exactly as it was given.
	Document []byte
	// Warnings says, one line each, what was accepted but changed, guessed
	// or left out. Each starts with a JSON pointer into the document when the
	// warning is about one place in it.
	Warnings []string
}

// ImportError says why a document cannot be imported and where: Pointer is a
// JSON pointer into the document (e.g. "/paths/~1users/get/parameters/0"),
// empty when the problem is with the document as a whole; Line is the
// 1-based line of that place, 0 when unknown. Msg is a lowercase
// description of the problem.
type ImportError struct {
	Pointer string
	Line    int
	Msg     string
}

// Error renders the error as "<pointer> (line N): <msg>", leaving out the
// parts that are unknown.
func (e *ImportError) Error() string {
	switch {
	case e.Pointer != "" && e.Line > 0:
		return fmt.Sprintf("%s (line %d): %s", e.Pointer, e.Line, e.Msg)
	case e.Pointer != "":
		return e.Pointer + ": " + e.Msg
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Import parses, validates and converts a document of the given format (one
// of the Format constants, compared case-insensitively). It returns an
// *ImportError, and no Result, when the format is unknown or the document is
// empty, larger than MaxDocumentBytes, not UTF-8 JSON or YAML, of an
// unsupported version, invalid according to kin-openapi (whose message is
// passed on), uses an external or dangling $ref, has no paths or
// operations, or holds an operation that cannot be made valid for the
// gateway (for instance a path template the gateway cannot route).
//
// A Swagger 2.0 document given with an OpenAPI format, or an OpenAPI 3
// document given with a Swagger format, is imported as what it declares
// itself to be (by its top-level "swagger" or "openapi" field), with a
// warning.
//
// Import never panics on malformed input.
func Import(format string, doc []byte) (*Result, error) {
	wantSwagger, err := parseFormat(format)
	if err != nil {
		return nil, err
	}
	if len(doc) > MaxDocumentBytes {
		return nil, &ImportError{Msg: fmt.Sprintf("document is %d bytes; the limit is %d bytes", len(doc), MaxDocumentBytes)}
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, &ImportError{Msg: "document is empty"}
	}
	if !utf8.Valid(doc) {
		off := invalidUTF8Offset(doc)
		return nil, &ImportError{Line: 1 + bytes.Count(doc[:off], []byte{'\n'}),
			Msg: fmt.Sprintf("document is not UTF-8 text (invalid byte at offset %d)", off)}
	}
	if i := bytes.IndexByte(doc, 0); i >= 0 {
		return nil, &ImportError{Line: 1 + bytes.Count(doc[:i], []byte{'\n'}),
			Msg: fmt.Sprintf("document is not text (NUL byte at offset %d)", i)}
	}

	original := doc
	im := &importer{}
	root, yamlErr := parseYAML(doc)
	im.root = root
	var ver docVersion
	if yamlErr != nil {
		// yaml.v3 refuses some JSON that kin-openapi reads (duplicate keys,
		// resolved last-one-wins): fall back to JSON, without line numbers.
		if ver, err = versionFromJSON(doc); err != nil {
			return nil, yamlErr
		}
	} else if ver, err = versionFromNode(root); err != nil {
		return nil, err
	}

	// Unquoted versions ("version: 1.0") are numbers in YAML and JSON, which
	// kin-openapi refuses to read as strings: quote them, with a warning.
	if root != nil && im.quoteVersions(root) {
		if doc, err = yaml.Marshal(root); err != nil {
			return nil, &ImportError{Msg: "cannot re-encode document: " + err.Error()}
		}
	}

	switch {
	case ver.swagger && !wantSwagger:
		im.warn("", "format %q was given but the document is Swagger %s; imported as Swagger 2.0", format, ver.text)
	case !ver.swagger && wantSwagger:
		im.warn("", "format %q was given but the document is OpenAPI %s; imported as OpenAPI %s", format, ver.text, ver.text)
	}
	im.swagger = ver.swagger

	ctx := context.Background()
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx

	var t *openapi3.T
	if ver.swagger {
		var d2 openapi2.T
		if err := openapi2.UnmarshalFromData(doc, &d2); err != nil {
			return nil, im.errorf("", "cannot read Swagger 2.0 document: %v", err)
		}
		if len(d2.Paths) == 0 {
			return nil, im.errorf("/paths", "document has no paths")
		}
		if t, err = openapi2conv.ToV3WithLoader(&d2, loader, nil); err != nil {
			return nil, im.loadError("cannot convert Swagger 2.0 document", err)
		}
	} else {
		if t, err = loader.LoadFromData(doc); err != nil {
			return nil, im.loadError("cannot load document", err)
		}
	}
	if t.Paths == nil || t.Paths.Len() == 0 {
		return nil, im.errorf("/paths", "document has no paths")
	}

	im.declareMissingPathParams(t)
	if err := im.validate(ctx, t); err != nil {
		return nil, err
	}

	if len(t.Webhooks) > 0 {
		im.warn("/webhooks", "webhooks are not imported")
	}
	res := &Result{Document: bytes.Clone(original)}
	res.API = im.api(t)
	ops, err := im.operations(t)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, im.errorf("/paths", "document has no operations that can be imported")
	}
	res.Operations = ops
	res.Warnings = im.finishWarnings()
	return res, nil
}

// parseFormat reports whether format names a Swagger 2.0 format.
func parseFormat(format string) (swagger bool, err error) {
	switch f := strings.ToLower(strings.TrimSpace(format)); f {
	case FormatOpenAPI, FormatOpenAPIJSON:
		return false, nil
	case FormatSwaggerJSON, FormatSwaggerYAML:
		return true, nil
	case "openapi-link", "openapi+json-link", "swagger-link-json":
		return false, &ImportError{Msg: fmt.Sprintf("format %q is not supported: fetch the document and import its content", format)}
	default:
		return false, &ImportError{Msg: fmt.Sprintf("unknown format %q; expected one of %s, %s, %s, %s",
			format, FormatOpenAPI, FormatOpenAPIJSON, FormatSwaggerJSON, FormatSwaggerYAML)}
	}
}

func invalidUTF8Offset(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// docVersion is what a document says it is.
type docVersion struct {
	swagger bool   // Swagger 2.0 rather than OpenAPI 3.x
	text    string // the version as written
}

func checkVersion(openapiV, swaggerV string, hasOpenAPI, hasSwagger bool) (docVersion, error) {
	switch {
	case hasOpenAPI && hasSwagger:
		return docVersion{}, &ImportError{Msg: `document declares both "openapi" and "swagger" versions; cannot tell which specification it follows`}
	case hasSwagger:
		if swaggerV != "2.0" {
			return docVersion{}, &ImportError{Pointer: "/swagger", Msg: fmt.Sprintf(`unsupported swagger version %q; expected "2.0"`, swaggerV)}
		}
		return docVersion{swagger: true, text: swaggerV}, nil
	case hasOpenAPI:
		ok := false
		for _, p := range []string{"3.0", "3.1", "3.2"} {
			ok = ok || openapiV == p || strings.HasPrefix(openapiV, p+".")
		}
		if !ok {
			return docVersion{}, &ImportError{Pointer: "/openapi", Msg: fmt.Sprintf(`unsupported openapi version %q; expected 3.0.x, 3.1.x or 3.2.x`, openapiV)}
		}
		return docVersion{text: openapiV}, nil
	}
	return docVersion{}, &ImportError{Msg: `document declares neither an "openapi" nor a "swagger" version; is it an OpenAPI document?`}
}

func versionFromNode(root *yaml.Node) (docVersion, error) {
	m := root
	if m.Kind != yaml.MappingNode {
		return docVersion{}, &ImportError{Line: m.Line, Msg: fmt.Sprintf("document must be a JSON or YAML object, not %s", kindName(m))}
	}
	var ov, sv string
	var hasO, hasS bool
	var oLine, sLine int
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolveAlias(m.Content[i+1], 0)
		switch k.Value {
		case "openapi":
			hasO, ov, oLine = true, scalarText(v), k.Line
		case "swagger":
			hasS, sv, sLine = true, scalarText(v), k.Line
		}
	}
	ver, err := checkVersion(ov, sv, hasO, hasS)
	var ie *ImportError
	if errors.As(err, &ie) {
		switch ie.Pointer {
		case "/openapi":
			ie.Line = oLine
		case "/swagger":
			ie.Line = sLine
		}
	}
	return ver, err
}

func scalarText(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func versionFromJSON(doc []byte) (docVersion, error) {
	var top map[string]any
	if err := jsonUnmarshal(doc, &top); err != nil {
		return docVersion{}, err
	}
	ov, hasO := top["openapi"]
	sv, hasS := top["swagger"]
	str := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	return checkVersion(str(ov), str(sv), hasO, hasS)
}

// quoteVersions turns the version fields (openapi, swagger, info.version)
// into strings where they are written as numbers, warning about each, and
// reports whether it changed any.
func (im *importer) quoteVersions(root *yaml.Node) bool {
	changed := false
	quote := func(ptr string, n *yaml.Node) {
		if n != nil && n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!int") {
			im.warn(ptr, "the number %s is read as the string %q", n.Value, n.Value)
			n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
			changed = true
		}
	}
	value := func(m *yaml.Node, key string) *yaml.Node {
		if m == nil || m.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		return nil
	}
	quote("/openapi", value(root, "openapi"))
	quote("/swagger", value(root, "swagger"))
	quote("/info/version", value(value(root, "info"), "version"))
	return changed
}

// importer carries the state of one Import call.
type importer struct {
	root     *yaml.Node // the parsed document, for line numbers; nil if unknown
	swagger  bool       // the document is Swagger 2.0, converted to OpenAPI 3
	warnings []string
	dropped  int // warnings beyond maxWarnings
	seenWarn map[string]bool

	schemaCache map[*openapi3.Schema]inlined // top-level schemas already inlined
	schemaBytes int                          // total size of the inlined schemas handed out
}

// warn records a warning about the place at pointer ("" for the document).
func (im *importer) warn(pointer, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if pointer != "" {
		msg = pointer + ": " + msg
	}
	if im.seenWarn == nil {
		im.seenWarn = map[string]bool{}
	}
	if im.seenWarn[msg] {
		return
	}
	im.seenWarn[msg] = true
	if len(im.warnings) >= maxWarnings && pointer != "" {
		im.dropped++
		return
	}
	im.warnings = append(im.warnings, msg)
}

func (im *importer) finishWarnings() []string {
	w := im.warnings
	if im.dropped > 0 {
		w = append(w, fmt.Sprintf("%d more warnings left out", im.dropped))
	}
	return w
}

// errorf makes an *ImportError at pointer, finding its line when it can.
func (im *importer) errorf(pointer, format string, args ...any) *ImportError {
	return &ImportError{Pointer: pointer, Line: im.lineOf(pointer), Msg: fmt.Sprintf(format, args...)}
}

// loadError turns an error of kin-openapi's loader or converter into an
// *ImportError, pointing at the $ref it complains about when one can be
// found in the document.
func (im *importer) loadError(what string, err error) *ImportError {
	msg := err.Error()
	var ext *openapi3.DisallowedExternalRefError
	if errors.As(err, &ext) {
		msg = "external references are not supported: " + msg
	}
	ptr, line := im.findRef(msg)
	if ptr == "" && im.swagger && strings.HasPrefix(msg, "invalid host") {
		ptr = "/host"
		line = im.lineOf(ptr)
	}
	return &ImportError{Pointer: ptr, Line: line, Msg: what + ": " + msg}
}

// validate runs kin-openapi's validation, leniently about examples, default
// values and regular expression dialects (warning about those), and turns a
// failure into an *ImportError located as precisely as the error allows.
func (im *importer) validate(ctx context.Context, t *openapi3.T) error {
	err := t.Validate(ctx,
		openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation(),
		openapi3.DisableSchemaPatternValidation(),
	)
	if err != nil {
		ptr := im.validationPointer(err)
		return &ImportError{Pointer: ptr, Line: im.lineOf(ptr), Msg: "invalid document: " + err.Error()}
	}
	if strict := t.Validate(ctx); strict != nil {
		ptr := im.validationPointer(strict)
		im.warn(ptr, "accepted although strict validation (of examples, defaults and patterns) fails: %v", strict)
	}
	return nil
}
