package policy

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Pipeline is the effective policy of one operation (for one product): the
// steps of each section with every <base/> resolved. It is immutable.
type Pipeline struct {
	sections [numSections][]Step
}

// defaultForward is the root of the backend section: <forward-request/>.
var defaultForward Step = &forwardRequest{StepInfo: StepInfo{Name: "forward-request", Scope: "default", Path: "backend/forward-request"}}

// Compose splices documents ordered from the least to the most specific
// scope (global, product, API, operation; nil entries are skipped) into a
// Pipeline. In each section of each document, <base/> is replaced by the
// section composed so far; a section without <base/> discards it; a
// document without the section inherits it. Before the first document the
// backend section is <forward-request/> and the others are empty.
func Compose(docs ...*Document) *Pipeline {
	var cur [numSections][]Step
	cur[backend] = []Step{defaultForward}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for s := range numSections {
			if !d.present[s] {
				continue
			}
			next := make([]Step, 0, len(d.sections[s])+len(cur[s]))
			for _, st := range d.sections[s] {
				if _, ok := st.(*baseStep); ok {
					next = append(next, cur[s]...)
				} else {
					next = append(next, st)
				}
			}
			cur[s] = next
		}
	}
	return &Pipeline{sections: cur}
}

// Trivial reports whether the pipeline only forwards the request: no
// inbound, outbound or on-error policy and a backend section that is the
// default <forward-request/>. The gateway serves such requests on its plain
// streaming proxy path.
func (p *Pipeline) Trivial() bool {
	return len(p.sections[inbound]) == 0 && len(p.sections[outbound]) == 0 && len(p.sections[onError]) == 0 &&
		len(p.sections[backend]) == 1 && p.sections[backend][0] == defaultForward
}

// Run executes the pipeline for c: inbound, backend and outbound in order.
// When a step stops the pipeline the response in c is final; when a step
// fails, c.LastError is set, c.Response becomes the error's default
// response and on-error runs, and may rewrite it. After Run, c.Response is
// what the client gets (status 0 means nothing set it: 200 without a body),
// unless c.Response.Sent.
func (p *Pipeline) Run(c *Context) {
	defer c.runAfter()
	for s := inbound; s <= outbound; s++ {
		c.section = s
		if err := runSteps(c, p.sections[s]); err != nil {
			p.fail(c, err)
			return
		}
		if c.stopped {
			return
		}
	}
}

// located is a step's error with where it happened.
type located struct {
	info    *StepInfo
	section section
	err     *Error
}

func (l *located) Error() string { return l.info.Path + ": " + l.err.Error() }
func (l *located) Unwrap() error { return l.err }

// StepObserver sees every step the runner executes, nested ones (choose
// branches) included, in order: BeforeStep right before Apply, AfterStep
// right after it with Apply's error. The runner looks for it on
// Context.Backend (an optional interface, like http.Flusher), so a gateway
// turns it on per request by handing a Backend that implements it; the
// policy debugger does. Observers run on the request's goroutine, may read
// c but must not modify it, and cost nothing when absent.
type StepObserver interface {
	BeforeStep(c *Context, st *StepInfo)
	AfterStep(c *Context, st *StepInfo, err error)
}

// runSteps runs steps in order until one fails or stops the pipeline.
// Steps holding nested steps (choose) call it for their branches.
func runSteps(c *Context, steps []Step) error {
	obs, _ := c.Backend.(StepObserver)
	for _, st := range steps {
		if obs != nil {
			obs.BeforeStep(c, st.Info())
		}
		err := st.Apply(c)
		if obs != nil {
			obs.AfterStep(c, st.Info(), err)
		}
		if err != nil {
			var l *located
			if errors.As(err, &l) {
				return l
			}
			var e *Error
			if !errors.As(err, &e) {
				e = &Error{Status: http.StatusInternalServerError, Message: "Internal server error", Err: err}
			}
			return &located{info: st.Info(), section: c.section, err: e}
		}
		if c.stopped {
			return nil
		}
	}
	return nil
}

// fail records err as LastError, sets the default error response and runs
// on-error. LastError is a located copy of the step's error: steps may
// return shared *Error values, which are never modified.
func (p *Pipeline) fail(c *Context, err error) {
	l := err.(*located)
	le := *l.err
	if le.Source == "" {
		le.Source = l.info.Name
	}
	le.Status = le.StatusCode()
	le.Section, le.Path, le.PolicyID = l.section.String(), l.info.Path, l.info.ID
	c.LastError = &le
	setErrorResponse(c, &le)
	c.section, c.stopped = onError, false
	if err := runSteps(c, p.sections[onError]); err != nil {
		// A failing on-error answers with its own error, keeping LastError.
		setErrorResponse(c, err.(*located).err)
	}
	c.stopped = true
}

// describer is implemented by steps that describe their configuration in
// golden files.
type describer interface{ describe() string }

// parent is implemented by steps that hold nested steps.
type parent interface {
	branches() []branch
}

type branch struct {
	label string
	steps []Step
}

// Describe renders the pipeline one step per line, nested steps indented:
// the form golden tests compare. Values are shown as written, so secret
// named values never appear.
func (p *Pipeline) Describe() string {
	var b strings.Builder
	for s := range numSections {
		fmt.Fprintf(&b, "%s:\n", s)
		describeSteps(&b, p.sections[s], 1)
	}
	return b.String()
}

func describeSteps(b *strings.Builder, steps []Step, depth int) {
	for _, st := range steps {
		in := st.Info()
		fmt.Fprintf(b, "%s%s [%s %s", strings.Repeat("  ", depth), in.Name, in.Scope, in.Path)
		if in.ID != "" {
			fmt.Fprintf(b, " id=%s", in.ID)
		}
		b.WriteString("]")
		if d, ok := st.(describer); ok {
			if s := d.describe(); s != "" {
				b.WriteString(" " + s)
			}
		}
		b.WriteString("\n")
		if p, ok := st.(parent); ok {
			for _, br := range p.branches() {
				fmt.Fprintf(b, "%s%s\n", strings.Repeat("  ", depth+1), br.label)
				describeSteps(b, br.steps, depth+2)
			}
		}
	}
}

// q quotes a value for descriptions.
func q(v Value) string {
	if v.expr != nil {
		return "expr" + strconv.Quote(v.src)
	}
	return strconv.Quote(v.src)
}
