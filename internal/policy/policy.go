// Package policy is Portico's policy engine: it compiles Azure API
// Management policy documents (XML with <inbound>, <backend>, <outbound> and
// <on-error> sections) into ordered steps, composes the documents of the
// global, product, API and operation scopes through <base/>, and runs the
// result for one request.
//
// The life of a policy, in order:
//
//   - CompileDocument parses one scope's document (line and column of every
//     element and attribute), substitutes {{named values}}, splices
//     <include-fragment> fragments and compiles each element with the
//     factory registered under its name (registry.go, one explicit list).
//     A factory parses, provisions and validates in one go; any problem is a
//     *CompileError with the XML line, column and a path such as
//     "inbound/choose/when[2]/set-header". <base/> stays in the compiled
//     document as a marker.
//   - Compose splices the documents of the four scopes into one Pipeline,
//     replacing each <base/> by the parent scope's section, as APIM does:
//     a section without <base/> drops the parent's policies, a missing
//     document or section inherits them, and the backend section of the
//     root is <forward-request/>. This happens when a snapshot is built,
//     never per request.
//   - Pipeline.Run executes inbound, backend and outbound in order for one
//     request Context. A step that answers (return-response, a limit that
//     rejects) stops the pipeline; a step that fails jumps to on-error with
//     Context.LastError set.
//
// A step fails with an *Error (errors.go), the one error model of the
// whole data plane: the gateway's own failures are *Error values too, with
// the same reasons, and WriteError writes them all.
//
// Compiled documents and pipelines are immutable and safe for concurrent
// use; state that outlives a snapshot (rate-limit and quota counters) lives
// in a Counters value the caller keeps, keyed by stable ids.
package policy

import (
	"fmt"
)

// Section names.
const (
	SectionInbound  = "inbound"
	SectionBackend  = "backend"
	SectionOutbound = "outbound"
	SectionOnError  = "on-error"
)

var sectionNames = [...]string{SectionInbound, SectionBackend, SectionOutbound, SectionOnError}

// section indexes sectionNames.
type section int

const (
	inbound section = iota
	backend
	outbound
	onError
	numSections
)

func (s section) String() string { return sectionNames[s] }

// Step is one compiled policy. Apply runs it on a request; it must not keep
// c after returning and must not modify the step (steps are shared by every
// request and every pipeline composed from the same document).
type Step interface {
	// Info describes where the step comes from.
	Info() *StepInfo
	// Apply runs the step. A non-nil error jumps to on-error; a step that
	// answers the request calls c.Stop.
	Apply(c *Context) error
}

// StepInfo locates a compiled policy in its document.
type StepInfo struct {
	// Name is the element name, e.g. "set-header".
	Name string
	// Scope is the scope of the document ("global", "products/{id}", …).
	Scope string
	// Path is the element's path in its document, e.g. "inbound/choose/when[2]/set-header".
	Path string
	// ID is the element's id attribute, reported as LastError.PolicyId.
	ID string
	// Line and Col locate the element's '<'.
	Line, Col int
}

// Info returns i; embedding StepInfo gives a step its Info method.
func (i *StepInfo) Info() *StepInfo { return i }

// CompileError is a problem in a policy document, located by line, column
// and path.
type CompileError struct {
	// Scope is the document's scope, or "" when it is implied.
	Scope string
	// Path is the path of the element at fault, "" for the document.
	Path string
	// Line and Col locate the problem; 0 when unknown.
	Line, Col int
	// Msg says what is wrong. It never holds the value of a secret named value.
	Msg string
}

// Error renders "path: msg (line L, column C)".
func (e *CompileError) Error() string {
	s := e.Msg
	if e.Path != "" {
		s = e.Path + ": " + s
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d, column %d)", e.Line, e.Col)
	}
	return s
}
