package policy

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/model"
)

// Env is what compiling a document may refer to. Every field may be nil.
type Env struct {
	// Scope is the scope of the document ("global", "products/{id}",
	// "apis/{id}", "apis/{id}/operations/{opId}", or "fragment"). It names
	// counters, so it must be stable across snapshots.
	Scope string
	// NamedValue returns the value of the named value called name (compared
	// ignoring case) and whether it is secret.
	NamedValue func(name string) (value string, secret, ok bool)
	// Fragment returns the XML of the policy fragment with this id.
	Fragment func(id string) (xml string, ok bool)
	// Backend returns the URL of the named backend with this id.
	Backend func(id string) (*url.URL, bool)
	// Expressions compiles expressions; DefaultExpressions() when nil.
	Expressions ExpressionCompiler
	// Keys holds the keys validate-jwt fetches from OpenID configurations.
	// The gateway passes its own, so that they outlive snapshots; when nil
	// each validate-jwt keeps its own.
	Keys *KeyCache
}

// Document is one scope's compiled policy document. <base/> is kept as a
// marker that Compose replaces.
type Document struct {
	Scope    string
	sections [numSections][]Step
	present  [numSections]bool
}

// baseStep marks where <base/> was.
type baseStep struct{ StepInfo }

func (*baseStep) Apply(*Context) error { return nil }

// MaxDocumentBytes is the largest policy document or fragment the compiler
// accepts (APIM's limit, 256 KiB); the management API refuses larger ones
// on save.
const MaxDocumentBytes = model.MaxPolicyBytes

// MaxExpandedBytes bounds a document with its included fragments expanded
// (each inclusion counted), so that a small document including large
// fragments many times cannot make compiling a configuration expensive.
const MaxExpandedBytes = 4 * MaxDocumentBytes

// checkSize refuses a document or fragment larger than MaxDocumentBytes.
func checkSize(src string) error {
	if err := model.CheckPolicySize(src); err != nil {
		return &CompileError{Line: 1, Col: 1, Msg: err.Error()}
	}
	return nil
}

// CompileDocument compiles the <policies> document src of env.Scope. The
// error is a *CompileError with the line, column and path of the first
// problem found.
func CompileDocument(src string, env *Env) (*Document, error) {
	if env == nil {
		env = &Env{}
	}
	if err := checkSize(src); err != nil {
		return nil, withScope(err, env.Scope)
	}
	root, err := parseXML(src, "policies")
	if err != nil {
		return nil, withScope(err, env.Scope)
	}
	c := &compiler{env: env, expanded: len(src)}
	doc := &Document{Scope: env.Scope}
	if a := firstAttr(root); a != nil {
		return nil, &CompileError{Scope: env.Scope, Line: a.Line, Col: a.Col, Msg: fmt.Sprintf("attribute %q is not allowed on <policies>", a.Name)}
	}
	for _, n := range root.Children {
		s := sectionIndex(n.Name)
		if s < 0 {
			return nil, &CompileError{Scope: env.Scope, Path: n.Name, Line: n.Line, Col: n.Col,
				Msg: fmt.Sprintf("unexpected element <%s>: a policy document holds only <inbound>, <backend>, <outbound> and <on-error>", n.Name)}
		}
		if doc.present[s] {
			return nil, &CompileError{Scope: env.Scope, Path: n.Name, Line: n.Line, Col: n.Col, Msg: fmt.Sprintf("section <%s> appears twice", n.Name)}
		}
		if a := firstAttr(n); a != nil {
			return nil, &CompileError{Scope: env.Scope, Path: n.Name, Line: a.Line, Col: a.Col, Msg: fmt.Sprintf("attribute %q is not allowed on <%s>", a.Name, n.Name)}
		}
		doc.present[s] = true
		steps, err := c.list(n.Children, n.Name, section(s), true)
		if err != nil {
			return nil, withScope(err, env.Scope)
		}
		doc.sections[s] = steps
	}
	return doc, nil
}

// CompileFragment compiles a <fragment> document on its own, allowing every
// policy of every section, to validate it before it is saved.
func CompileFragment(src string, env *Env) error {
	if env == nil {
		env = &Env{}
	}
	if err := checkSize(src); err != nil {
		return err
	}
	root, err := parseXML(src, "fragment")
	if err != nil {
		return err
	}
	c := &compiler{env: env, expanded: len(src)}
	_, err = c.list(root.Children, "fragment", anySection, false)
	return err
}

func firstAttr(n *Node) *Attr {
	if len(n.Attrs) > 0 {
		return &n.Attrs[0]
	}
	return nil
}

func withScope(err error, scope string) error {
	var ce *CompileError
	if errors.As(err, &ce) && ce.Scope == "" {
		ce.Scope = scope
	}
	return err
}

func sectionIndex(name string) int {
	for i, n := range sectionNames {
		if n == name {
			return i
		}
	}
	return -1
}

// anySection compiles a fragment validated on its own.
const anySection section = -1

type compiler struct {
	env      *Env
	frags    []string // fragments being included, to refuse cycles
	expanded int      // bytes compiled: the document and every fragment inclusion
}

// list compiles sibling policy elements. top tells whether they sit
// directly in a section, the only place <base/> may appear.
func (c *compiler) list(nodes []*Node, parent string, sec section, top bool) ([]Step, error) {
	steps := make([]Step, 0, len(nodes))
	seen := map[string]int{}
	bases := 0
	for _, n := range nodes {
		seen[n.Name]++
		path := parent + "/" + n.Name
		if k := seen[n.Name]; k > 1 {
			path += "[" + strconv.Itoa(k) + "]"
		}
		switch n.Name {
		case "base":
			if !top || sec == anySection {
				return nil, &CompileError{Path: path, Line: n.Line, Col: n.Col, Msg: "<base/> may appear only directly inside a section"}
			}
			if bases++; bases > 1 {
				return nil, &CompileError{Path: path, Line: n.Line, Col: n.Col, Msg: "<base/> may appear only once in a section"}
			}
			if a := firstAttr(n); a != nil || len(n.Children) > 0 {
				return nil, &CompileError{Path: path, Line: n.Line, Col: n.Col, Msg: "<base/> takes no attributes and no content"}
			}
			steps = append(steps, &baseStep{StepInfo{Name: "base", Scope: c.env.Scope, Path: path, Line: n.Line, Col: n.Col}})
			continue
		case "include-fragment":
			inc, err := c.include(n, path, sec)
			if err != nil {
				return nil, err
			}
			steps = append(steps, inc...)
			continue
		}
		st, err := c.element(n, path, sec)
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// include compiles <include-fragment fragment-id="…"/> into the fragment's
// steps, spliced in place.
func (c *compiler) include(n *Node, path string, sec section) ([]Step, error) {
	b := c.builder(n, path, sec)
	id := b.Str("fragment-id", true)
	b.NoChildren()
	if err := b.finish(); err != nil {
		return nil, err
	}
	if strings.ContainsAny(id, "@{") {
		return nil, b.errAt("fragment-id", "fragment-id must be a literal fragment id")
	}
	var src string
	ok := false
	if c.env.Fragment != nil {
		src, ok = c.env.Fragment(id)
	}
	if !ok {
		return nil, b.errAt("fragment-id", fmt.Sprintf("policy fragment %q does not exist", id))
	}
	for _, f := range c.frags {
		if f == id {
			return nil, b.errAt("fragment-id", fmt.Sprintf("policy fragment %q includes itself", id))
		}
	}
	if len(c.frags) >= 16 {
		return nil, b.errAt("fragment-id", "policy fragments are nested too deeply")
	}
	if len(src) > MaxDocumentBytes {
		return nil, b.errAt("fragment-id", fmt.Sprintf("policy fragment %q is %d bytes; a fragment may hold at most %d bytes (256 KiB)", id, len(src), MaxDocumentBytes))
	}
	if c.expanded += len(src); c.expanded > MaxExpandedBytes {
		return nil, b.errAt("fragment-id", fmt.Sprintf("with its included fragments expanded the document exceeds %d bytes (1 MiB)", MaxExpandedBytes))
	}
	root, err := parseXML(src, "fragment")
	if err == nil {
		c.frags = append(c.frags, id)
		var steps []Step
		steps, err = c.list(root.Children, path, sec, false)
		c.frags = c.frags[:len(c.frags)-1]
		if err == nil {
			return steps, nil
		}
	}
	var ce *CompileError
	if errors.As(err, &ce) && !strings.HasPrefix(ce.Msg, "in policy fragment ") {
		ce.Msg = fmt.Sprintf("in policy fragment %q: %s", id, ce.Msg)
		if ce.Path == "" {
			ce.Path = path
		}
	}
	return nil, err
}

// element compiles one policy element with its registered factory.
func (c *compiler) element(n *Node, path string, sec section) (Step, error) {
	e, ok := lookup(n.Name)
	if !ok {
		msg := fmt.Sprintf("policy '%s' is not supported by Portico", n.Name)
		if knownAPIM[n.Name] {
			msg = fmt.Sprintf("policy '%s' is not supported by Portico yet", n.Name)
		}
		return nil, &CompileError{Path: path, Line: n.Line, Col: n.Col, Msg: msg}
	}
	if sec != anySection && e.sections&(1<<sec) == 0 {
		return nil, &CompileError{Path: path, Line: n.Line, Col: n.Col,
			Msg: fmt.Sprintf("policy '%s' is not allowed in the %s section (allowed in: %s)", n.Name, sec, e.sections)}
	}
	b := c.builder(n, path, sec)
	b.info.ID = b.Str("id", false)
	st, err := e.factory(b)
	if err == nil {
		err = b.finish()
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

func (c *compiler) builder(n *Node, path string, sec section) *Builder {
	return &Builder{c: c, n: n, path: path, sec: sec,
		info: StepInfo{Name: n.Name, Scope: c.env.Scope, Path: path, Line: n.Line, Col: n.Col}}
}

// Builder reads one element for its factory. Its methods record the first
// problem and return zero values after it; the factory returns b.Err() (or
// any error of its own) and the compiler then refuses attributes the
// factory did not read.
type Builder struct {
	c    *compiler
	n    *Node
	path string
	sec  section
	used []string
	err  error
	info StepInfo
}

// Info is the location of the element, for the step to embed.
func (b *Builder) Info() StepInfo { return b.info }

// Node returns the element.
func (b *Builder) Node() *Node { return b.n }

// Err returns the first problem recorded.
func (b *Builder) Err() error { return b.err }

// Env returns the compile environment.
func (b *Builder) Env() *Env { return b.c.env }

// Errorf records a problem with the attribute attr ("" for the element).
func (b *Builder) Errorf(attr, format string, args ...any) {
	if b.err == nil {
		b.err = b.errAt(attr, fmt.Sprintf(format, args...))
	}
}

func (b *Builder) errAt(attr, msg string) *CompileError {
	e := &CompileError{Path: b.path, Line: b.n.Line, Col: b.n.Col, Msg: msg}
	if a := b.n.Attr(attr); a != nil {
		e.Line, e.Col = a.Line, a.Col
	}
	return e
}

// finish refuses attributes nobody read.
func (b *Builder) finish() error {
	if b.err != nil {
		return b.err
	}
	for _, a := range b.n.Attrs {
		known := false
		for _, u := range b.used {
			if u == a.Name {
				known = true
				break
			}
		}
		if !known {
			return &CompileError{Path: b.path, Line: a.Line, Col: a.Col, Msg: fmt.Sprintf("attribute %q is not allowed on <%s>", a.Name, b.n.Name)}
		}
	}
	return nil
}

// Has reports whether the element has the attribute.
func (b *Builder) Has(name string) bool { return b.n.Attr(name) != nil }

// raw returns an attribute with named values substituted.
func (b *Builder) raw(name string, required bool) (string, bool) {
	b.used = append(b.used, name)
	a := b.n.Attr(name)
	if a == nil {
		if required {
			b.Errorf("", "attribute %q is required", name)
		}
		return "", false
	}
	v, err := b.c.substitute(a.Value)
	if err != nil {
		b.Errorf(name, "attribute %q: %v", name, err)
		return "", false
	}
	return v, true
}

// Str reads a literal attribute (expressions refused).
func (b *Builder) Str(name string, required bool) string {
	v, ok := b.raw(name, required)
	if ok && IsExpression(v) {
		b.Errorf(name, "attribute %q does not accept policy expressions", name)
		return ""
	}
	return v
}

// Val reads an attribute that accepts expressions.
func (b *Builder) Val(name string, required bool) Value {
	v, ok := b.raw(name, required)
	if !ok {
		return Value{}
	}
	a := b.n.Attr(name)
	return b.value(v, a.Value, name, a.Line, a.Col)
}

// value makes a Value of text v (written as src) found at line and col.
func (b *Builder) value(v, src, attr string, line, col int) Value {
	if !IsExpression(v) {
		return Value{lit: v, src: src}
	}
	comp := b.c.env.Expressions
	if comp == nil {
		comp = DefaultExpressions()
	}
	x, err := comp(strings.TrimSpace(v), line, col)
	if err != nil {
		if b.err == nil {
			what := "text"
			if attr != "" {
				what = fmt.Sprintf("attribute %q", attr)
			}
			e := &CompileError{Path: b.path, Line: line, Col: col, Msg: fmt.Sprintf("%s: invalid expression: %v", what, err)}
			b.err = e
		}
		return Value{}
	}
	return Value{expr: x, src: src}
}

// Text reads the element's text, which accepts expressions.
func (b *Builder) Text() Value {
	v, err := b.c.substitute(b.n.Text)
	if err != nil {
		b.Errorf("", "%v", err)
		return Value{}
	}
	return b.value(v, b.n.Text, "", b.n.Line, b.n.Col)
}

// Enum reads a literal attribute that must be one of opts; def when absent.
func (b *Builder) Enum(name, def string, opts ...string) string {
	v, ok := b.raw(name, false)
	if !ok {
		return def
	}
	for _, o := range opts {
		if strings.EqualFold(v, o) {
			return o
		}
	}
	b.Errorf(name, "attribute %q must be one of %s", name, strings.Join(opts, ", "))
	return def
}

// Int reads a literal integer attribute of at least lo; def when absent.
func (b *Builder) Int(name string, required bool, def, lo int64) int64 {
	v, ok := b.raw(name, required)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < lo {
		b.Errorf(name, "attribute %q must be an integer of at least %d", name, lo)
		return def
	}
	return n
}

// Bool reads a literal boolean attribute; def when absent.
func (b *Builder) Bool(name string, def bool) bool {
	v, ok := b.raw(name, false)
	if !ok {
		return def
	}
	p, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v)))
	if err != nil {
		b.Errorf(name, "attribute %q must be true or false", name)
		return def
	}
	return p
}

// NoChildren refuses child elements.
func (b *Builder) NoChildren() {
	if len(b.n.Children) > 0 {
		c := b.n.Children[0]
		if b.err == nil {
			b.err = &CompileError{Path: b.path + "/" + c.Name, Line: c.Line, Col: c.Col, Msg: fmt.Sprintf("<%s> takes no child elements", b.n.Name)}
		}
	}
}

// Children returns the child elements, refusing names not in allowed, each
// with its builder.
func (b *Builder) Children(allowed ...string) []*Builder {
	var out []*Builder
	seen := map[string]int{}
	for _, c := range b.n.Children {
		seen[c.Name]++
		path := b.path + "/" + c.Name
		if k := seen[c.Name]; k > 1 {
			path += "[" + strconv.Itoa(k) + "]"
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == c.Name
		}
		if !ok {
			if b.err == nil {
				b.err = &CompileError{Path: path, Line: c.Line, Col: c.Col,
					Msg: fmt.Sprintf("unexpected element <%s> in <%s> (allowed: %s)", c.Name, b.n.Name, strings.Join(allowed, ", "))}
			}
			continue
		}
		out = append(out, b.c.builder(c, path, b.sec))
	}
	return out
}

// Close finishes a child builder from Children, recording its problems
// (unknown attributes included) on b.
func (b *Builder) Close(child *Builder) {
	if err := child.finish(); err != nil && b.err == nil {
		b.err = err
	}
}

// Steps compiles the element's children as nested policies (the body of
// <when>, <otherwise>, …) in the current section.
func (b *Builder) Steps() []Step {
	steps, err := b.c.list(b.n.Children, b.path, b.sec, false)
	if err != nil && b.err == nil {
		b.err = err
	}
	return steps
}

// substitute replaces {{name}} references with named values. Errors name
// the reference, never a value.
func (c *compiler) substitute(s string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var out strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			break
		}
		name := s[i+2 : i+2+j]
		if !validNamedValueName(name) {
			out.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		var v string
		ok := false
		if c.env.NamedValue != nil {
			v, _, ok = c.env.NamedValue(name)
		}
		if !ok {
			return "", fmt.Errorf("named value %q does not exist", name)
		}
		out.WriteString(s[:i])
		out.WriteString(v)
		s = s[i+2+j+2:]
	}
	out.WriteString(s)
	return out.String(), nil
}

func validNamedValueName(n string) bool {
	if n == "" || len(n) > 256 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
