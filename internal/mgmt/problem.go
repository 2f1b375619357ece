package mgmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
	"github.com/portico-gw/portico/internal/store"
)

// Problem is an RFC 9457 problem document. Errors names the fields (JSON
// paths) or document locations that were wrong; Code is APIM's error code.
type Problem struct {
	Type   string             `json:"type"`
	Title  string             `json:"title"`
	Status int                `json:"status"`
	Code   string             `json:"code,omitempty"`
	Detail string             `json:"detail,omitempty"`
	Errors []model.FieldError `json:"errors,omitempty"`

	accept     string // 415: the media types accepted (the Accept header)
	retryAfter int    // 503: seconds for Retry-After
}

// retryAfterUnavailable is the Retry-After of a 503 for an unreachable
// store, in seconds.
const retryAfterUnavailable = 5

func (p *Problem) Error() string {
	if len(p.Errors) > 0 {
		return p.Detail + ": " + model.FieldErrors(p.Errors).Error()
	}
	return p.Detail
}

func problem(status int, code, detail string, fields ...model.FieldError) *Problem {
	return &Problem{
		Type:   "https://portico.dev/problems/" + strings.ToLower(code),
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
		Errors: fields,
	}
}

func badRequest(detail string, fields ...model.FieldError) *Problem {
	return problem(http.StatusBadRequest, "ValidationError", detail, fields...)
}

func fieldError(field, format string, args ...any) *Problem {
	msg := fmt.Sprintf(format, args...)
	return badRequest("invalid "+field+": "+msg, model.FieldError{Field: field, Message: msg})
}

func notFound(what string) *Problem {
	return problem(http.StatusNotFound, "ResourceNotFound", what+" was not found")
}

func conflict(field, format string, args ...any) *Problem {
	msg := fmt.Sprintf(format, args...)
	p := problem(http.StatusConflict, "Conflict", msg)
	if field != "" {
		p.Errors = []model.FieldError{{Field: field, Message: msg}}
	}
	return p
}

func preconditionFailed(detail string) *Problem {
	return problem(http.StatusPreconditionFailed, "PreconditionFailed", detail)
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if p.accept != "" {
		w.Header().Set("Accept", p.accept)
	}
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// asProblem turns any error into a Problem: validation errors become 400s
// naming their fields, an unreachable store a 503 with Retry-After; it
// returns nil for anything unexpected (a 500 without internals).
func asProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	err = store.Classify(err)
	if errors.Is(err, store.ErrUnavailable) {
		p := problem(http.StatusServiceUnavailable, "ServiceUnavailable",
			"the store is unavailable; nothing was changed: retry in a few seconds")
		p.retryAfter = retryAfterUnavailable
		return p
	}
	if errors.Is(err, store.ErrInvalidText) {
		return badRequest("a value holds a character the store cannot keep (the NUL character)",
			model.FieldError{Field: "", Message: "must not contain the NUL character"})
	}
	var fe model.FieldErrors
	if errors.As(err, &fe) {
		return badRequest("the resource is invalid", fe...)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("the request body exceeds %d bytes", mbe.Limit))
	}
	return nil
}

// decodeStrict decodes a JSON object into v, refusing unknown fields and
// trailing data, and reports where the body was wrong.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("the request body holds data after the JSON value", model.FieldError{Field: "", Message: "unexpected data after the JSON value"})
	}
	return nil
}

func jsonProblem(data []byte, err error) *Problem {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("the request body is empty; a JSON object is required", model.FieldError{Field: "", Message: "body is empty"})
	case errors.As(err, &se):
		l, c := lineCol(data, int(se.Offset))
		msg := fmt.Sprintf("invalid JSON at line %d, column %d: %s", l, c, se.Error())
		return badRequest(msg, model.FieldError{Field: "", Message: msg})
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "(root)"
		}
		msg := fmt.Sprintf("must be %s, got %s", jsonTypeName(te.Type.Kind().String()), te.Value)
		return badRequest("invalid "+field+": "+msg, model.FieldError{Field: field, Message: msg})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest("unknown field "+name, model.FieldError{Field: name, Message: "is not a known property"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the JSON body ends unexpectedly", model.FieldError{Field: "", Message: "unexpected end of JSON"})
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return asProblem(err)
	}
	return badRequest("invalid JSON: "+err.Error(), model.FieldError{Field: "", Message: err.Error()})
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return kind
}

func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	line, col := 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
