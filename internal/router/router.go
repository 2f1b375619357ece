// Package router is the gateway's request router: it maps an incoming
// request (host, method, path) to the API that owns the path and to the
// operation of that API whose URL template matches, following Azure API
// Management's rules.
//
// API selection: an API is identified by an optional host and a path prefix
// made of whole segments. The API with the longest path prefix wins; for the
// same path length an API bound to the request's host beats a host-less one.
// Host comparison ignores ASCII case, the port and a trailing dot.
//
// Operation selection: the request path after the API path is matched against
// the operations' URL templates (see [ParseTemplate]) segment by segment. At
// each segment a literal beats a parameter, which beats a trailing wildcard;
// the router backtracks if a more specific branch leads nowhere. Among
// operations with the same template an explicit method beats "*". Literal
// text (API paths and templates) is matched ignoring ASCII case, and a
// trailing '/' on the request path is ignored.
//
// A Router is built once with [Build], is immutable and may be used by any
// number of goroutines. [Router.Match] does not allocate and its cost depends
// on the length of the request path, not on the number of APIs or operations
// (tries keyed by lowercase literal segments, with hashed child lookup).
package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// API is one API as configured: requests whose host and path select it are
// routed to its Operations.
type API struct {
	// ID identifies the API in errors; it is not interpreted.
	ID string
	// Host restricts the API to requests for this host ("" = any host). It is
	// compared ignoring ASCII case; a port, IPv6 brackets and a trailing dot
	// are ignored ("api.example.com:443" is the same as "API.example.com").
	Host string
	// Path is the URL suffix ("echo", "v1/orders"); "" serves the root.
	// Leading and trailing slashes are ignored; it must not contain empty
	// segments, braces, '?', '#', spaces or control characters.
	Path string
	// Operations are the API's operations.
	Operations []Operation
	// Value is opaque caller data, handed back by Match.
	Value any
}

// Operation is one operation of an API.
type Operation struct {
	// ID identifies the operation in errors; it is not interpreted.
	ID string
	// Method is an HTTP method token such as "GET" (case-insensitive; the
	// router stores it uppercased), or "*" for any method.
	Method string
	// Template is the URL template relative to the API path, see ParseTemplate.
	Template string
	// Value is opaque caller data, handed back by Match.
	Value any
}

// BuildError reports an API or operation that Build skipped. OperationID is
// empty when the whole API was skipped (an operation's own ID may also be
// empty; Err then still names its method and template).
type BuildError struct {
	APIID       string
	OperationID string
	Err         error
}

// Error returns a lowercase message naming the API, the operation if any, and
// the cause.
func (e BuildError) Error() string {
	if e.OperationID != "" {
		return fmt.Sprintf("router: api %q: operation %q: %v", e.APIID, e.OperationID, e.Err)
	}
	return fmt.Sprintf("router: api %q: %v", e.APIID, e.Err)
}

// Unwrap returns the cause, e.g. a *TemplateError.
func (e BuildError) Unwrap() error { return e.Err }

// Param is one captured path parameter.
type Param struct {
	// Name is the parameter name as written in the operation's template.
	Name string
	// Value is the captured text: a substring of the path given to Match, not
	// URL-decoded. A wildcard captures its segments joined by '/' (without a
	// trailing slash), or "" when it matched zero segments.
	Value string
}

// Match receives the result of Router.Match. Reuse one value across calls to
// avoid allocation; Match overwrites every field.
type Match struct {
	// API is the selected API: a pointer into the router's own copy, whose
	// Host is normalized (lowercase, no port), Path has no surrounding
	// slashes, and Operations holds only the operations that compiled, with
	// uppercase methods. Nil if no API matched.
	API *API
	// Operation is the selected operation, a pointer into API.Operations, or
	// nil if none matched.
	Operation *Operation
	// Params holds the operation's path parameters in template order; only
	// the first NParams entries are meaningful.
	Params [MaxParams]Param
	// NParams is the number of valid entries in Params.
	NParams int
	// Rest is the request path after the API path, starting with '/' (and
	// keeping a trailing '/' if the request had one); "/" if nothing follows
	// the API path. It is a substring of the path given to Match (the
	// constant "/" when nothing follows); if that path lacks a leading '/'
	// and the API path is empty, Rest lacks it too.
	Rest string
}

// Param returns the value of the named parameter (exact name) and whether it
// was captured.
func (m *Match) Param(name string) (string, bool) {
	for i := 0; i < m.NParams; i++ {
		if m.Params[i].Name == name {
			return m.Params[i].Value, true
		}
	}
	return "", false
}

// Router routes requests to APIs and operations. Create it with Build; it is
// immutable and safe for concurrent use.
type Router struct {
	apis    []API              // owned copies; Match returns pointers into it
	anyHost *apiNode           // trie of host-less APIs
	hosts   litTable[*apiNode] // lowercase host -> trie of that host's APIs
}

// apiNode is a node of an API path trie; depth equals the number of path
// segments from the root.
type apiNode struct {
	children litTable[*apiNode]
	api      *apiEntry // API whose path ends here, if any
}

type apiEntry struct {
	api  *API
	root *opNode
}

// opNode is a node of an API's operation template trie.
type opNode struct {
	lits    litTable[*opNode] // literal segments
	params  []paramEdge       // parameter segments, most specific first
	wild    *methodSet        // operations ending in a wildcard here
	methods methodSet         // operations whose template ends here
}

type paramEdge struct {
	prefix, suffix string // lowercase literal text around the parameter
	node           *opNode
}

// methodSet holds the operations sharing one template shape.
type methodSet struct {
	explicit []*opEntry
	any      *opEntry
}

type opEntry struct {
	method string // uppercase, or "*"
	op     *Operation
	names  []string // path parameter names in template order
}

// Build compiles apis into a Router. The input is copied; later changes to it
// do not affect the router.
//
// A broken API (bad host or path, or a host+path already used by an earlier
// API) is skipped entirely; a broken operation (bad method, bad template, or
// the same method and an equivalent template as an earlier operation of the
// same API) is skipped while its API and the other operations still route.
// Each skipped object is reported in the returned errors, in input order.
// Templates are equivalent when they differ only in parameter names, ASCII
// case of literal text, or a leading/trailing slash. The Router is never nil.
func Build(apis []API) (*Router, []BuildError) {
	r := &Router{apis: make([]API, 0, len(apis)), anyHost: &apiNode{}}
	var errs []BuildError
	newAPINode := func() *apiNode { return &apiNode{} }
	for i := range apis {
		src := &apis[i]
		apiErr := func(err error) { errs = append(errs, BuildError{APIID: src.ID, Err: err}) }
		host, err := normalizeHost(src.Host)
		if err != nil {
			apiErr(err)
			continue
		}
		path, segs, err := normalizeAPIPath(src.Path)
		if err != nil {
			apiErr(err)
			continue
		}
		n := r.anyHost
		if host != "" {
			n = r.hosts.getOrPut(host, newAPINode)
		}
		for _, s := range segs {
			n = n.children.getOrPut(s, newAPINode)
		}
		if n.api != nil {
			where := "any host"
			if host != "" {
				where = fmt.Sprintf("host %q", host)
			}
			apiErr(fmt.Errorf("duplicate api path %q for %s (already used by api %q)", path, where, n.api.api.ID))
			continue
		}

		entry := &apiEntry{root: &opNode{}}
		ops := make([]Operation, 0, len(src.Operations)) // never grows: pointers stay valid
		for j := range src.Operations {
			o := &src.Operations[j]
			opErr := func(err error) {
				errs = append(errs, BuildError{APIID: src.ID, OperationID: o.ID, Err: err})
			}
			method, err := normalizeMethod(o.Method)
			if err != nil {
				opErr(err)
				continue
			}
			t, err := ParseTemplate(o.Template)
			if err != nil {
				opErr(err)
				continue
			}
			ms := entry.root.insert(t)
			if prev := ms.lookupExact(method); prev != nil {
				opErr(fmt.Errorf("duplicate operation %s %s (equivalent to operation %q)", method, t, prev.op.ID))
				continue
			}
			ops = append(ops, Operation{ID: o.ID, Method: method, Template: o.Template, Value: o.Value})
			ms.add(&opEntry{method: method, op: &ops[len(ops)-1], names: t.params})
		}
		r.apis = append(r.apis, API{ID: src.ID, Host: host, Path: path, Operations: ops, Value: src.Value})
		entry.api = &r.apis[len(r.apis)-1]
		n.api = entry
	}
	return r, errs
}

// insert adds the path of t to the trie rooted at n and returns the method
// set of its final node.
func (n *opNode) insert(t Template) *methodSet {
	for _, s := range t.segs {
		switch s.kind {
		case segLiteral:
			n = n.lits.getOrPut(lowerASCII(s.prefix), func() *opNode { return &opNode{} })
		case segParam:
			n = n.paramChild(lowerASCII(s.prefix), lowerASCII(s.suffix))
		case segWildcard:
			if n.wild == nil {
				n.wild = &methodSet{}
			}
			return n.wild
		}
	}
	return &n.methods
}

// paramChild returns the child for a parameter with the given literal prefix
// and suffix, creating it in precedence order: more literal text first, then
// lexical order of prefix and suffix, so the order never depends on input.
func (n *opNode) paramChild(prefix, suffix string) *opNode {
	for _, e := range n.params {
		if e.prefix == prefix && e.suffix == suffix {
			return e.node
		}
	}
	e := paramEdge{prefix: prefix, suffix: suffix, node: &opNode{}}
	n.params = append(n.params, e)
	slices.SortFunc(n.params, func(a, b paramEdge) int {
		if la, lb := len(a.prefix)+len(a.suffix), len(b.prefix)+len(b.suffix); la != lb {
			return lb - la
		}
		if c := strings.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		return strings.Compare(a.suffix, b.suffix)
	})
	return e.node
}

// lookupExact returns the entry registered for exactly this normalized method.
func (ms *methodSet) lookupExact(method string) *opEntry {
	if method == "*" {
		return ms.any
	}
	for _, e := range ms.explicit {
		if e.method == method {
			return e
		}
	}
	return nil
}

func (ms *methodSet) add(e *opEntry) {
	if e.method == "*" {
		ms.any = e
		return
	}
	ms.explicit = append(ms.explicit, e)
}

// lookup returns the operation for a request method: an explicit match
// (ignoring ASCII case) first, else the "*" operation, else nil.
func (ms *methodSet) lookup(method string) *opEntry {
	for _, e := range ms.explicit {
		if equalFoldASCII(e.method, method) {
			return e
		}
	}
	return ms.any
}

// Match routes a request. host is the request's Host (a port is ignored),
// method its method and path its escaped URL path (anything from a '?' on is
// ignored). Match fills *m and reports whether an API matched and whether an
// operation of that API matched; when apiFound is true and opFound false,
// m.API and m.Rest are set and m.Operation is nil (the caller typically
// answers 404). When no API matches, m is zeroed.
//
// Match never allocates and is safe for concurrent use.
func (r *Router) Match(host, method, path string, m *Match) (apiFound, opFound bool) {
	*m = Match{}
	if r == nil {
		return false, false
	}
	raw := path
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	// p is the path without one trailing slash; segments are iterated with a
	// cursor i that points at the start of the next segment, i > len(p)
	// meaning there are none left.
	p := strings.TrimSuffix(raw, "/")
	i := 0
	if p == "" || p[0] == '/' {
		i = 1
	}

	var (
		best      *apiEntry
		bestDepth = -1
		next, end int
	)
	if hk := hostKey(host); hk != "" {
		if hn, ok := r.hosts.get(hk); ok {
			best, bestDepth, next, end = hn.walk(p, i)
		}
	}
	if e, d, nx, en := r.anyHost.walk(p, i); d > bestDepth {
		best, next, end = e, nx, en
	}
	if best == nil {
		return false, false
	}
	m.API = best.api
	m.Rest = raw[end:]
	if m.Rest == "" {
		m.Rest = "/"
	}
	e := best.root.match(p, next, method, m, 0)
	if e == nil {
		m.Params = [MaxParams]Param{}
		return true, false
	}
	m.Operation = e.op
	m.NParams = len(e.names)
	for k, name := range e.names {
		m.Params[k].Name = name
	}
	return true, true
}

// walk descends the API trie along the segments of p from cursor i and
// returns the deepest API on the way, its depth (-1 if none), the cursor
// after its path and the index in p where its path ends.
func (n *apiNode) walk(p string, i int) (e *apiEntry, depth, next, end int) {
	depth, next = -1, i
	if n.api != nil {
		e, depth = n.api, 0
	}
	for d := 1; i <= len(p); d++ {
		seg, nx := nextSegment(p, i)
		c, ok := n.children.get(seg)
		if !ok {
			break
		}
		n = c
		if n.api != nil {
			e, depth, next, end = n.api, d, nx, i+len(seg)
		}
		i = nx
	}
	return e, depth, next, end
}

// nextSegment returns the segment of p starting at cursor i and the cursor of
// the following one (len(p)+1 when it was the last).
func nextSegment(p string, i int) (seg string, next int) {
	j := strings.IndexByte(p[i:], '/')
	if j < 0 {
		return p[i:], len(p) + 1
	}
	return p[i : i+j], i + j + 1
}

// match finds the operation for the segments of p from cursor i, writing the
// captured values into m.Params starting at index np. Each trie node is
// visited at most once, so the cost is bounded by the request's segments and
// the size of this API's trie, never by the number of APIs.
func (n *opNode) match(p string, i int, method string, m *Match, np int) *opEntry {
	if i > len(p) {
		if e := n.methods.lookup(method); e != nil {
			return e
		}
		if n.wild != nil {
			if e := n.wild.lookup(method); e != nil {
				m.Params[np].Value = ""
				return e
			}
		}
		return nil
	}
	seg, next := nextSegment(p, i)
	if c, ok := n.lits.get(seg); ok {
		if e := c.match(p, next, method, m, np); e != nil {
			return e
		}
	}
	if seg != "" {
		for k := range n.params {
			pe := &n.params[k]
			if len(seg) > len(pe.prefix)+len(pe.suffix) && hasPrefixFold(seg, pe.prefix) && hasSuffixFold(seg, pe.suffix) {
				m.Params[np].Value = seg[len(pe.prefix) : len(seg)-len(pe.suffix)]
				if e := pe.node.match(p, next, method, m, np+1); e != nil {
					return e
				}
			}
		}
	}
	if n.wild != nil {
		if e := n.wild.lookup(method); e != nil {
			m.Params[np].Value = p[i:]
			return e
		}
	}
	return nil
}

// normalizeHost validates a configured host and returns its comparison key
// (lowercase, without port, brackets or trailing dot).
func normalizeHost(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	k := hostKey(h)
	if k == "" {
		return "", fmt.Errorf("invalid host %q: empty host name", h)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c == 0x7f || strings.IndexByte("/?#@[]{}\\%", c) >= 0 {
			return "", fmt.Errorf("invalid host %q: invalid character %q", h, c)
		}
	}
	return lowerASCII(k), nil
}

// normalizeAPIPath validates an API path and returns it without surrounding
// slashes together with its lowercase segments.
func normalizeAPIPath(p string) (string, []string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return "", nil, nil
	}
	segs := strings.Split(trimmed, "/")
	for k, s := range segs {
		if s == "" {
			return "", nil, fmt.Errorf("invalid api path %q: empty segment", p)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c == 0x7f || strings.IndexByte("{}?#", c) >= 0 {
				return "", nil, fmt.Errorf("invalid api path %q: invalid character %q", p, c)
			}
		}
		segs[k] = lowerASCII(s)
	}
	return trimmed, segs, nil
}

// errEmptyMethod is returned for an operation without a method.
var errEmptyMethod = errors.New("empty method")

// normalizeMethod validates an HTTP method token (or "*") and uppercases it.
func normalizeMethod(m string) (string, error) {
	if m == "" {
		return "", errEmptyMethod
	}
	if m == "*" {
		return m, nil
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !isNameByte(c) && strings.IndexByte("!#$%&'*+^`|~", c) < 0 {
			return "", fmt.Errorf("invalid method %q: invalid character %q", m, c)
		}
	}
	return strings.ToUpper(m), nil
}
