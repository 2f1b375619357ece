package router

import (
	"fmt"
	"slices"
	"strings"
)

// MaxParams is the largest number of path parameters a template may declare.
// It equals the capacity of [Match.Params], so a matched operation always
// reports all of its parameters without allocating.
const MaxParams = 16

// segKind tells how one template path segment matches a request segment.
type segKind uint8

const (
	segLiteral  segKind = iota // whole segment is literal text
	segParam                   // prefix + {name} + suffix, capture non-empty
	segWildcard                // {*name}: zero or more remaining segments
)

// segment is one parsed path segment of a template.
type segment struct {
	kind   segKind
	prefix string // the literal text (segLiteral) or the text before the parameter (segParam)
	suffix string // the text after the parameter (segParam only)
	name   string // the parameter name (segParam and segWildcard)
}

// Template is a parsed operation URL template such as "/users/{id}",
// "/files/{*path}", "/items/{id}.json" or "/search?q={q}".
//
// The path part is a sequence of segments; each is either literal text, a
// parameter "{name}" optionally surrounded by literal text in the same
// segment ("v{version}", "{id}.json"), or, as the last segment only, a
// wildcard "{*name}" that matches zero or more remaining segments. The query
// part, if any, is validated and kept for String but never used for matching.
//
// The zero Template is the root template "/". Templates are immutable values
// and safe to copy and share between goroutines.
type Template struct {
	segs    []segment
	query   string   // the query part without the leading '?'; "" if none
	params  []string // path parameter names in order; nil if none
	qparams []string // query parameter names in order; nil if none
}

// TemplateError reports why a template does not parse. Column is the 1-based
// byte position in Template where the problem was found.
type TemplateError struct {
	Template string // the template text as given
	Column   int    // 1-based byte column of the offending character
	Msg      string // lowercase description of the problem
}

// Error returns a lowercase message naming the template and the column, e.g.
// `template "/a/{id": unclosed '{' at column 4`.
func (e *TemplateError) Error() string {
	return fmt.Sprintf("template %q: %s at column %d", e.Template, e.Msg, e.Column)
}

// ParseTemplate parses an operation URL template.
//
// Syntax and rules:
//   - A leading '/' is optional and a single trailing '/' is ignored, so
//     "users", "/users" and "/users/" are the same template; "" and "/" are the
//     root template, which has no segments.
//   - Empty segments ("/a//b") are rejected.
//   - A parameter is "{name}" where name is one or more ASCII letters, digits,
//     '_', '-' or '.'. A segment holds at most one parameter, which may be
//     surrounded by literal text ("v{version}", "{id}.json").
//   - "{*name}" is a wildcard; it must be a whole segment and the last one.
//   - Parameter names must be unique (compared case-insensitively) across the
//     path and the query part; at most [MaxParams] path parameters.
//   - Braces must balance; control characters, space and '#' are rejected.
//   - Everything after the first '?' is the query part, e.g. "q={q}&page={p}".
//     It obeys the same brace and name rules (no wildcards) and is otherwise
//     free-form; it plays no part in matching.
//
// Errors are of type *[TemplateError].
func ParseTemplate(s string) (Template, error) {
	p := templateParser{src: s}
	path, query, _ := strings.Cut(s, "?")

	base := 0 // index in s of body[0]
	if strings.HasPrefix(path, "/") {
		base = 1
	}
	body := path[base:]
	if len(body) > 1 && body[len(body)-1] == '/' {
		body = body[:len(body)-1]
	}
	if body != "" {
		for off := 0; ; {
			j := strings.IndexByte(body[off:], '/')
			end := len(body)
			if j >= 0 {
				end = off + j
			}
			if err := p.segment(body[off:end], base+off, j < 0); err != nil {
				return Template{}, err
			}
			if j < 0 {
				break
			}
			off = end + 1
		}
	}
	if query != "" {
		if err := p.query(query, len(path)+1); err != nil {
			return Template{}, err
		}
		p.t.query = query
	}
	return p.t, nil
}

// templateParser accumulates a Template while validating it.
type templateParser struct {
	src string
	t   Template
}

func (p *templateParser) errorf(pos int, format string, args ...any) error {
	return &TemplateError{Template: p.src, Column: pos + 1, Msg: fmt.Sprintf(format, args...)}
}

// segment parses one non-root path segment seg that starts at index pos of
// the source; last reports whether it is the final segment.
func (p *templateParser) segment(seg string, pos int, last bool) error {
	if seg == "" {
		return p.errorf(pos, "empty segment")
	}
	open := strings.IndexAny(seg, "{}")
	if open < 0 {
		if err := p.literal(seg, pos); err != nil {
			return err
		}
		p.t.segs = append(p.t.segs, segment{kind: segLiteral, prefix: seg})
		return nil
	}
	if seg[open] == '}' {
		return p.errorf(pos+open, "unexpected '}'")
	}
	n := strings.IndexAny(seg[open+1:], "{}")
	if n < 0 || seg[open+1+n] == '{' {
		return p.errorf(pos+open, "unclosed '{'")
	}
	closing := open + 1 + n
	inner := seg[open+1 : closing]
	prefix, suffix := seg[:open], seg[closing+1:]
	if err := p.literal(prefix, pos); err != nil {
		return err
	}
	if k := strings.IndexAny(suffix, "{}"); k >= 0 {
		if suffix[k] == '}' {
			return p.errorf(pos+closing+1+k, "unexpected '}'")
		}
		return p.errorf(pos+closing+1+k, "only one parameter per segment is allowed")
	}
	if err := p.literal(suffix, pos+closing+1); err != nil {
		return err
	}

	kind, name, namePos := segParam, inner, pos+open+1
	if strings.HasPrefix(inner, "*") {
		kind, name, namePos = segWildcard, inner[1:], namePos+1
		if prefix != "" || suffix != "" {
			return p.errorf(pos+open, "wildcard parameter must be a whole segment")
		}
		if !last {
			return p.errorf(pos+open, "wildcard parameter must be the last segment")
		}
	}
	if err := p.paramName(name, namePos, pos+open); err != nil {
		return err
	}
	if len(p.t.params) == MaxParams {
		return p.errorf(pos+open, "too many parameters (max %d)", MaxParams)
	}
	p.t.params = append(p.t.params, name)
	p.t.segs = append(p.t.segs, segment{kind: kind, prefix: prefix, suffix: suffix, name: name})
	return nil
}

// literal validates literal text lit that starts at index pos of the source.
func (p *templateParser) literal(lit string, pos int) error {
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c <= ' ' || c == 0x7f || c == '#' {
			return p.errorf(pos+i, "invalid character %q", c)
		}
	}
	return nil
}

// paramName validates a parameter name starting at index pos of the source
// and checks it against the names seen so far; bracePos locates the '{'.
func (p *templateParser) paramName(name string, pos, bracePos int) error {
	if name == "" {
		return p.errorf(bracePos, "empty parameter name")
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return p.errorf(pos+i, "invalid character %q in parameter name %q", name[i], name)
		}
	}
	for _, seen := range [][]string{p.t.params, p.t.qparams} {
		for _, prev := range seen {
			if strings.EqualFold(prev, name) {
				return p.errorf(bracePos, "duplicate parameter name %q", name)
			}
		}
	}
	return nil
}

// query validates the query part q, which starts at index pos of the source,
// and records its parameter names.
func (p *templateParser) query(q string, pos int) error {
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '}':
			return p.errorf(pos+i, "unexpected '}'")
		case c == '{':
			n := strings.IndexAny(q[i+1:], "{}&=")
			if n < 0 || q[i+1+n] != '}' {
				return p.errorf(pos+i, "unclosed '{'")
			}
			name := q[i+1 : i+1+n]
			if strings.HasPrefix(name, "*") {
				return p.errorf(pos+i, "wildcard parameter not allowed in query")
			}
			if err := p.paramName(name, pos+i+1, pos+i); err != nil {
				return err
			}
			p.t.qparams = append(p.t.qparams, name)
			i += n + 1
		case c <= ' ' || c == 0x7f || c == '#':
			return p.errorf(pos+i, "invalid character %q", c)
		}
	}
	return nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '.'
}

// String returns the canonical form of the template: a leading '/', no
// trailing '/', segments and parameters as written, then "?" and the query
// part if it is not empty. ParseTemplate(t.String()) yields an equal Template.
func (t Template) String() string {
	var b strings.Builder
	if len(t.segs) == 0 {
		b.WriteByte('/')
	}
	for _, s := range t.segs {
		b.WriteByte('/')
		switch s.kind {
		case segLiteral:
			b.WriteString(s.prefix)
		case segParam:
			b.WriteString(s.prefix)
			b.WriteByte('{')
			b.WriteString(s.name)
			b.WriteByte('}')
			b.WriteString(s.suffix)
		case segWildcard:
			b.WriteString("{*")
			b.WriteString(s.name)
			b.WriteByte('}')
		}
	}
	if t.query != "" {
		b.WriteByte('?')
		b.WriteString(t.query)
	}
	return b.String()
}

// Params returns the names of the path parameters in template order, the
// wildcard (if any) last. These are the names a successful Match reports in
// Match.Params, in the same order. The result is a fresh slice (nil if none).
func (t Template) Params() []string { return slices.Clone(t.params) }

// QueryParams returns the names of the parameters declared in the query part,
// in order. They are informational only: Match never captures them. The
// result is a fresh slice (nil if none).
func (t Template) QueryParams() []string { return slices.Clone(t.qparams) }

// Query returns the query part of the template without the leading '?', or
// "" if there is none.
func (t Template) Query() string { return t.query }

// HasWildcard reports whether the last path segment is a "{*name}" wildcard.
func (t Template) HasWildcard() bool {
	return len(t.segs) > 0 && t.segs[len(t.segs)-1].kind == segWildcard
}
