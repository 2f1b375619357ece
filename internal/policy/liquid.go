package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// liquid is the small subset of Liquid templates that set-body
// template="liquid" supports: {{ path }} output and {% if %} / {% elsif %} /
// {% else %} / {% endif %}, where a path starts at body (the message body
// parsed as JSON) or context (the request's context) and goes on with
// .name, ["name"] and [index].
type liquid struct{ nodes []lnode }

// lnode is literal text, an output or an if.
type lnode struct {
	text     string
	out      *lpath
	branches []lbranch // if: conditions in order; a nil cond is else
}

type lbranch struct {
	cond  *lcond
	nodes []lnode
}

type lcond struct {
	left  *lpath
	op    string // "", "==", "!="
	right lvalue
}

// lvalue is a literal or a path on the right of a comparison.
type lvalue struct {
	lit  any
	path *lpath
}

type lpath struct {
	root  string // "body" or "context"
	steps []any  // string keys and int indexes
	src   string
}

// parseLiquid compiles a template.
func parseLiquid(src string) (*liquid, error) {
	p := &lparser{src: src}
	nodes, end, err := p.block()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, fmt.Errorf("{%% %s %%} without {%% if %%}", end)
	}
	return &liquid{nodes: nodes}, nil
}

type lparser struct {
	src string
	pos int
}

// block parses nodes up to an elsif, else or endif tag (returned with its
// arguments) or the end.
func (p *lparser) block() ([]lnode, string, error) {
	var nodes []lnode
	for p.pos < len(p.src) {
		rest := p.src[p.pos:]
		i := strings.Index(rest, "{{")
		if j := strings.Index(rest, "{%"); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 {
			nodes = append(nodes, lnode{text: rest})
			p.pos = len(p.src)
			break
		}
		if i > 0 {
			nodes = append(nodes, lnode{text: rest[:i]})
		}
		p.pos += i
		if rest[i+1] == '{' {
			end := strings.Index(p.src[p.pos+2:], "}}")
			if end < 0 {
				return nil, "", fmt.Errorf("unclosed {{ at offset %d", p.pos)
			}
			end += 2
			inner := strings.TrimSpace(p.src[p.pos+2 : p.pos+end])
			if strings.Contains(inner, "|") {
				return nil, "", fmt.Errorf("filters (%q) are not supported by Portico yet", inner)
			}
			path, err := parseLPath(inner)
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, lnode{out: path})
			p.pos += end + 2
			continue
		}
		end := strings.Index(p.src[p.pos+2:], "%}")
		if end < 0 {
			return nil, "", fmt.Errorf("unclosed {%% at offset %d", p.pos)
		}
		end += 2
		tag := strings.TrimSpace(p.src[p.pos+2 : p.pos+end])
		p.pos += end + 2
		name, args, _ := strings.Cut(tag, " ")
		switch name {
		case "if":
			n, err := p.ifTag(strings.TrimSpace(args))
			if err != nil {
				return nil, "", err
			}
			nodes = append(nodes, n)
		case "elsif", "else", "endif":
			return nodes, tag, nil
		default:
			return nil, "", fmt.Errorf("tag {%% %s %%} is not supported by Portico yet", name)
		}
	}
	return nodes, "", nil
}

func (p *lparser) ifTag(args string) (lnode, error) {
	var n lnode
	cond, err := parseLCond(args)
	if err != nil {
		return n, err
	}
	for {
		body, end, err := p.block()
		if err != nil {
			return n, err
		}
		n.branches = append(n.branches, lbranch{cond: cond, nodes: body})
		name, rest, _ := strings.Cut(end, " ")
		switch name {
		case "endif":
			return n, nil
		case "else":
			if cond == nil {
				return n, fmt.Errorf("{%% else %%} appears twice")
			}
			cond = nil
		case "elsif":
			if cond == nil {
				return n, fmt.Errorf("{%% elsif %%} after {%% else %%}")
			}
			if cond, err = parseLCond(strings.TrimSpace(rest)); err != nil {
				return n, err
			}
		default:
			return n, fmt.Errorf("{%% if %%} without {%% endif %%}")
		}
	}
}

func parseLCond(s string) (*lcond, error) {
	for _, op := range []string{"==", "!="} {
		if l, r, ok := strings.Cut(s, op); ok {
			left, err := parseLPath(strings.TrimSpace(l))
			if err != nil {
				return nil, err
			}
			right, err := parseLValue(strings.TrimSpace(r))
			if err != nil {
				return nil, err
			}
			return &lcond{left: left, op: op, right: right}, nil
		}
	}
	if strings.ContainsAny(s, "<>") || strings.Contains(s, " and ") || strings.Contains(s, " or ") {
		return nil, fmt.Errorf("condition %q: only path, path == value and path != value are supported by Portico yet", s)
	}
	left, err := parseLPath(s)
	if err != nil {
		return nil, err
	}
	return &lcond{left: left}, nil
}

func parseLValue(s string) (lvalue, error) {
	switch {
	case len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\''):
		return lvalue{lit: s[1 : len(s)-1]}, nil
	case s == "true" || s == "false":
		return lvalue{lit: s == "true"}, nil
	case s == "nil" || s == "null":
		return lvalue{}, nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return lvalue{lit: json.Number(s)}, nil
	}
	p, err := parseLPath(s)
	return lvalue{path: p}, err
}

func parseLPath(s string) (*lpath, error) {
	p := &lpath{src: s}
	i := 0
	ident := func() string {
		j := i
		for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		id := s[i:j]
		i = j
		return id
	}
	p.root = ident()
	if p.root != "body" && p.root != "context" {
		return nil, fmt.Errorf("%q: a path must start with body or context", s)
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			id := ident()
			if id == "" {
				return nil, fmt.Errorf("%q: a name is missing after '.'", s)
			}
			p.steps = append(p.steps, id)
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("%q: unclosed '['", s)
			}
			in := strings.TrimSpace(s[i+1 : i+j])
			if n, err := strconv.Atoi(in); err == nil {
				p.steps = append(p.steps, n)
			} else if len(in) >= 2 && (in[0] == '"' || in[0] == '\'') && in[len(in)-1] == in[0] {
				p.steps = append(p.steps, in[1:len(in)-1])
			} else {
				return nil, fmt.Errorf("%q: an index must be a number or a quoted name", s)
			}
			i += j + 1
		default:
			return nil, fmt.Errorf("%q: unexpected %q", s, s[i])
		}
	}
	return p, nil
}

// lenv evaluates paths for one rendering.
type lenv struct {
	c       *Context
	body    any
	bodyErr error
	loaded  bool
	ctx     map[string]any
}

func (e *lenv) root(name string) any {
	if name == "body" {
		if !e.loaded {
			e.loaded = true
			b, _ := e.c.message()
			data, err := b.Bytes()
			if err == nil && len(bytes.TrimSpace(data)) > 0 {
				dec := json.NewDecoder(bytes.NewReader(data))
				dec.UseNumber()
				if dec.Decode(&e.body) != nil {
					e.body = nil
				}
			}
			e.bodyErr = err
		}
		return e.body
	}
	if e.ctx == nil {
		e.ctx = liquidContext(e.c)
	}
	return e.ctx
}

// liquidContext is the context object of templates: APIM's member names.
func liquidContext(c *Context) map[string]any {
	hdrs := func(h map[string][]string) map[string]any {
		m := map[string]any{}
		for k, vs := range h {
			m[k] = strings.Join(vs, ",")
		}
		return m
	}
	u := c.Request.URL()
	query := map[string]any{}
	for k, vs := range u.Query() {
		query[k] = strings.Join(vs, ",")
	}
	vars := map[string]any{}
	for k, v := range c.Variables {
		vars[k] = v
	}
	method := c.Request.Method
	if method == "" && c.In != nil {
		method = c.In.Method
	}
	return map[string]any{
		"RequestId": c.RequestID,
		"Request": map[string]any{"Method": method, "Headers": hdrs(c.Request.Header), "IpAddress": c.ClientIP.String(),
			"Url": map[string]any{"Scheme": u.Scheme, "Host": u.Host, "Path": u.Path, "Query": query}},
		"Response":     map[string]any{"StatusCode": json.Number(strconv.Itoa(c.Response.StatusCode)), "Headers": hdrs(c.Response.Header)},
		"Variables":    vars,
		"Api":          map[string]any{"Id": c.API.ID, "Name": c.API.Name, "Path": c.API.Path},
		"Operation":    map[string]any{"Id": c.Operation.ID, "Name": c.Operation.Name, "Method": c.Operation.Method, "UrlTemplate": c.Operation.URLTemplate},
		"Product":      map[string]any{"Id": c.Product.ID, "Name": c.Product.Name},
		"Subscription": map[string]any{"Id": c.Subscription.ID},
		"User":         map[string]any{"Id": c.User.ID},
	}
}

func (e *lenv) eval(p *lpath) any {
	v := e.root(p.root)
	for _, st := range p.steps {
		switch x := v.(type) {
		case map[string]any:
			k, ok := st.(string)
			if !ok {
				return nil
			}
			w, found := x[k]
			if !found {
				// Headers and similar are matched ignoring case, as in APIM.
				for mk, mv := range x {
					if strings.EqualFold(mk, k) {
						w, found = mv, true
						break
					}
				}
			}
			v = w
		case []any:
			n, ok := st.(int)
			if !ok || n < 0 || n >= len(x) {
				if k, ok := st.(string); ok && (k == "size" || k == "length") {
					v = json.Number(strconv.Itoa(len(x)))
					continue
				}
				return nil
			}
			v = x[n]
		default:
			return nil
		}
	}
	return v
}

func liquidText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return toString(v)
}

func (e *lenv) truthy(cd *lcond) bool {
	l := e.eval(cd.left)
	if cd.op == "" {
		return l != nil && l != false
	}
	r := cd.right.lit
	if cd.right.path != nil {
		r = e.eval(cd.right.path)
	}
	eq := l == nil && r == nil || l != nil && r != nil && liquidText(l) == liquidText(r)
	return eq == (cd.op == "==")
}

func (e *lenv) render(out *strings.Builder, nodes []lnode) {
	for _, n := range nodes {
		switch {
		case n.out != nil:
			out.WriteString(liquidText(e.eval(n.out)))
		case n.branches != nil:
			for _, br := range n.branches {
				if br.cond == nil || e.truthy(br.cond) {
					e.render(out, br.nodes)
					break
				}
			}
		default:
			out.WriteString(n.text)
		}
	}
}

// render renders the template for c.
func (l *liquid) render(c *Context) (string, error) {
	e := &lenv{c: c}
	var out strings.Builder
	e.render(&out, l.nodes)
	if e.bodyErr != nil {
		return "", bodyError(c, "set-body", "The body could not be read.", e.bodyErr)
	}
	return out.String(), nil
}
