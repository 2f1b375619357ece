package expr

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

type regexValue struct{ re *regexp.Regexp }

type regexMatch struct {
	re   *regexp.Regexp
	s    string
	loc  []int // submatch byte offsets; nil when unsuccessful
	next int
}

type regexGroup struct {
	name    string
	value   string
	index   int
	success bool
}

type groupCollection struct {
	m      *regexMatch
	groups []*regexGroup
}

func (m *regexMatch) value() string {
	if m.loc == nil {
		return ""
	}
	return m.s[m.loc[0]:m.loc[1]]
}

func (m *regexMatch) group(i int) *regexGroup {
	g := &regexGroup{name: strconv.Itoa(i)}
	if n := m.re.SubexpNames()[i]; n != "" {
		g.name = n
	}
	if m.loc != nil && m.loc[2*i] >= 0 {
		g.success = true
		g.value = m.s[m.loc[2*i]:m.loc[2*i+1]]
		g.index = u16Index(m.s, m.loc[2*i])
	}
	return g
}

func (gc *groupCollection) get(k Value) Value {
	if name, ok := k.(string); ok {
		i := gc.m.re.SubexpIndex(name)
		if i < 0 {
			if n, err := strconv.Atoi(name); err == nil && n < len(gc.groups) {
				return gc.groups[n]
			}
			return &regexGroup{name: name}
		}
		return gc.groups[i]
	}
	i, ok := toI64(k)
	if !ok || i < 0 || int(i) >= len(gc.groups) {
		return &regexGroup{}
	}
	return gc.groups[i]
}

var (
	reCache   sync.Map
	reCacheN  int
	reCacheMu sync.Mutex
)

// compileRegex compiles a .NET pattern with RegexOptions into RE2, caching.
func compileRegex(pattern string, opts int) *regexp.Regexp {
	key := strconv.Itoa(opts) + "\x00" + pattern
	if re, ok := reCache.Load(key); ok {
		return re.(*regexp.Regexp)
	}
	flags := ""
	if opts&1 != 0 {
		flags += "i"
	}
	if opts&2 != 0 {
		flags += "m"
	}
	if opts&16 != 0 {
		flags += "s"
	}
	p := pattern
	if flags != "" {
		p = "(?" + flags + ")" + p
	}
	re, err := regexp.Compile(p)
	if err != nil {
		throwf("ArgumentException", "Invalid pattern '%s': %v (patterns use RE2 syntax: no lookaround or backreferences)", pattern, err)
	}
	reCacheMu.Lock()
	if reCacheN < 1000 {
		reCache.Store(key, re)
		reCacheN++
	}
	reCacheMu.Unlock()
	return re
}

func regexOpts(a []Value, i int) int {
	if i < len(a) {
		if ev, ok := a[i].(enumValue); ok && ev.typ == "RegexOptions" {
			return ev.v
		}
	}
	return 0
}

// netReplacement converts a .NET replacement string ($1, ${name}, $0, $$) to Go's.
func netReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '$' || i+1 >= len(r) {
			b.WriteByte(c)
			continue
		}
		n := r[i+1]
		switch {
		case n == '$':
			b.WriteString("$$")
			i++
		case n >= '0' && n <= '9':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		case n == '{':
			end := strings.IndexByte(r[i:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString(r[i : i+end+1])
			i += end
		case n == '&':
			b.WriteString("${0}")
			i++
		default:
			b.WriteString("$$")
		}
	}
	return b.String()
}

// regexScan charges a scan of n bytes with re: regular expressions cost
// more per byte than plain string searches, and more for longer patterns.
func regexScan(e *env, re *regexp.Regexp, n int) {
	if n > 0 {
		e.work(n / regexBytesPerStep * (1 + len(re.String())/64))
	}
}

// regexIn charges a scan of the whole input s and returns it.
func regexIn(e *env, re *regexp.Regexp, s string) string {
	regexScan(e, re, len(s)+1)
	return s
}

func matchAt(re *regexp.Regexp, s string, from int) *regexMatch {
	if from > len(s) {
		return &regexMatch{re: re, s: s}
	}
	loc := re.FindStringSubmatchIndex(s[from:])
	if loc == nil {
		return &regexMatch{re: re, s: s}
	}
	for i := range loc {
		if loc[i] >= 0 {
			loc[i] += from
		}
	}
	next := loc[1]
	if loc[1] == loc[0] {
		next++
	}
	return &regexMatch{re: re, s: s, loc: loc, next: next}
}

func regexReplace(e *env, re *regexp.Regexp, s string, repl Value) string {
	var out string
	switch r := repl.(type) {
	case *lambda:
		out = re.ReplaceAllStringFunc(s, func(m string) string {
			// evaluate the MatchEvaluator with a Match for this occurrence
			loc := re.FindStringSubmatchIndex(m)
			mm := &regexMatch{re: re, s: m, loc: loc}
			return toStr(call1(e, r, mm))
		})
	default:
		out = re.ReplaceAllString(s, netReplacement(toStr(repl)))
	}
	e.alloc(len(out))
	return out
}

func registerRegex() {
	knownTypes["Match"] = true
	knownTypes["Group"] = true
	knownTypes["MatchCollection"] = true
	for i, n := range []string{"None", "IgnoreCase", "Multiline", "ExplicitCapture", "Compiled", "Singleline", "IgnorePatternWhitespace", "RightToLeft", "ECMAScript", "CultureInvariant"} {
		v := enumValue{typ: "RegexOptions", name: n}
		if i > 0 {
			v.v = 1 << (i - 1)
		}
		if n == "Singleline" {
			v.v = 16
		}
		staticProp("RegexOptions", n, func(*env) Value { return v })
	}
	// Compiling a pattern is charged like scanning it; a scan is charged
	// before it runs (regexIn), except NextMatch, charged for the distance
	// it went, so that walking every match costs one scan of the input.
	compile := func(e *env, a []Value, i, opts int, cs *callSite) *regexp.Regexp {
		p := argStr(a, i, cs)
		e.work(len(p) / regexBytesPerStep)
		return compileRegex(p, regexOpts(a, opts))
	}
	ctor("Regex", func(e *env, a []Value, cs *callSite) Value {
		return &regexValue{re: compile(e, a, 0, 1, cs)}
	})
	static("Regex", "IsMatch", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		return re.MatchString(regexIn(e, re, argStr(a, 0, cs)))
	})
	static("Regex", "Match", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		return matchAt(re, regexIn(e, re, argStr(a, 0, cs)), 0)
	})
	matches := func(e *env, re *regexp.Regexp, s string) Value {
		l := &List{Elem: "Match"}
		for _, loc := range re.FindAllStringSubmatchIndex(s, -1) {
			e.step()
			l.Items = append(l.Items, &regexMatch{re: re, s: s, loc: loc})
		}
		return l
	}
	static("Regex", "Matches", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		return matches(e, re, regexIn(e, re, argStr(a, 0, cs)))
	})
	static("Regex", "Replace", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		re := compile(e, a, 1, 3, cs)
		return regexReplace(e, re, regexIn(e, re, argStr(a, 0, cs)), a[2])
	})
	static("Regex", "Split", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		parts := re.Split(regexIn(e, re, argStr(a, 0, cs)), -1)
		return normalize(parts)
	})
	static("Regex", "Escape", func(e *env, a []Value, cs *callSite) Value {
		s := regexp.QuoteMeta(argStr(a, 0, cs))
		return strings.NewReplacer(" ", "\\ ", "#", "\\#", "\t", "\\t", "\n", "\\n").Replace(s)
	})
	static("Regex", "Unescape", func(e *env, a []Value, cs *callSite) Value {
		s := argStr(a, 0, cs)
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(s[i])
				}
				continue
			}
			b.WriteByte(s[i])
		}
		return b.String()
	})
	R := func(r Value) *regexp.Regexp { return r.(*regexValue).re }
	method(kRegex, "IsMatch", func(e *env, r Value, a []Value, cs *callSite) Value {
		return R(r).MatchString(regexIn(e, R(r), argStr(a, 0, cs)))
	})
	method(kRegex, "Match", func(e *env, r Value, a []Value, cs *callSite) Value {
		from := 0
		if len(a) > 1 {
			from = u16ToByte(argStr(a, 0, cs), argInt(a, 1, cs))
		}
		return matchAt(R(r), regexIn(e, R(r), argStr(a, 0, cs)), from)
	})
	method(kRegex, "Matches", func(e *env, r Value, a []Value, cs *callSite) Value {
		return matches(e, R(r), regexIn(e, R(r), argStr(a, 0, cs)))
	})
	method(kRegex, "Replace", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return regexReplace(e, R(r), regexIn(e, R(r), argStr(a, 0, cs)), a[1])
	})
	method(kRegex, "Split", func(e *env, r Value, a []Value, cs *callSite) Value {
		return normalize(R(r).Split(regexIn(e, R(r), argStr(a, 0, cs)), -1))
	})
	method(kRegex, "GetGroupNames", func(e *env, r Value, a []Value, cs *callSite) Value {
		var out []string
		for i, n := range R(r).SubexpNames() {
			if n == "" {
				n = strconv.Itoa(i)
			}
			out = append(out, n)
		}
		return normalize(out)
	})
	M := func(r Value) *regexMatch { return r.(*regexMatch) }
	prop(kMatch, "Success", func(e *env, r Value) Value { return M(r).loc != nil })
	prop(kMatch, "Value", func(e *env, r Value) Value { return M(r).value() })
	prop(kMatch, "Index", func(e *env, r Value) Value {
		if M(r).loc == nil {
			return int32(0)
		}
		return int32(u16Index(M(r).s, M(r).loc[0]))
	})
	prop(kMatch, "Length", func(e *env, r Value) Value { return int32(strLen(M(r).value())) })
	prop(kMatch, "Groups", func(e *env, r Value) Value {
		m := M(r)
		gc := &groupCollection{m: m}
		for i := 0; i <= m.re.NumSubexp(); i++ {
			gc.groups = append(gc.groups, m.group(i))
		}
		return gc
	})
	method(kMatch, "NextMatch", func(e *env, r Value, a []Value, cs *callSite) Value {
		m := M(r)
		if m.loc == nil {
			return m
		}
		next := matchAt(m.re, m.s, m.next)
		if next.loc != nil {
			regexScan(e, m.re, next.loc[1]-m.next)
		} else {
			regexScan(e, m.re, len(m.s)-m.next)
		}
		return next
	})
	method(kMatch, "Result", func(e *env, r Value, a []Value, cs *callSite) Value {
		m := M(r)
		if m.loc == nil {
			throwf("NotSupportedException", "Result cannot be called on a failed Match.")
		}
		return string(m.re.ExpandString(nil, netReplacement(argStr(a, 0, cs)), m.s, m.loc))
	})
	G := func(r Value) *regexGroup { return r.(*regexGroup) }
	prop(kGroup, "Success", func(e *env, r Value) Value { return G(r).success })
	prop(kGroup, "Value", func(e *env, r Value) Value { return G(r).value })
	prop(kGroup, "Index", func(e *env, r Value) Value { return int32(G(r).index) })
	prop(kGroup, "Length", func(e *env, r Value) Value { return int32(strLen(G(r).value)) })
	prop(kGroup, "Name", func(e *env, r Value) Value { return G(r).name })
	prop(kGroupCollection, "Count", func(e *env, r Value) Value { return int32(len(r.(*groupCollection).groups)) })
}

// ---- Uri ---------------------------------------------------------------------------

type uriValue struct {
	u    *url.URL
	orig string
}

func newURI(s, kind string) (*uriValue, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	abs := u.IsAbs() && (u.Host != "" || u.Scheme == "file" || u.Scheme == "mailto" || u.Scheme == "urn")
	switch kind {
	case "Absolute":
		if !abs {
			return nil, errNotAbs
		}
	case "Relative":
		if abs {
			return nil, errNotAbs
		}
	}
	return &uriValue{u: u, orig: s}, nil
}

type uriErr string

func (e uriErr) Error() string { return string(e) }

const errNotAbs = uriErr("invalid URI")

func (v *uriValue) abs() bool { return v.u.IsAbs() }

func (v *uriValue) String() string {
	if !v.abs() {
		return v.orig
	}
	u := *v.u
	if u.Path == "" && u.Host != "" {
		u.Path = "/"
	}
	s := u.String()
	return unescapeData(s, false)
}

func (v *uriValue) port() int {
	if p := v.u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch v.u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	case "ftp":
		return 21
	}
	return -1
}

func registerURIMembers() {
	U := func(r Value) *uriValue {
		u := r.(*uriValue)
		return u
	}
	needAbs := func(u *uriValue) {
		if !u.abs() {
			throwf("InvalidOperationException", "This operation is not supported for a relative URI.")
		}
	}
	prop(kUri, "Scheme", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Scheme })
	prop(kUri, "Host", func(e *env, r Value) Value { needAbs(U(r)); return strings.ToLower(U(r).u.Hostname()) })
	prop(kUri, "Port", func(e *env, r Value) Value { needAbs(U(r)); return int32(U(r).port()) })
	prop(kUri, "IsDefaultPort", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Port() == "" })
	prop(kUri, "Authority", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.Port() == "" {
			return strings.ToLower(U(r).u.Hostname())
		}
		return strings.ToLower(U(r).u.Host)
	})
	path := func(u *uriValue) string {
		p := u.u.EscapedPath()
		if p == "" {
			p = "/"
		}
		return p
	}
	prop(kUri, "AbsolutePath", func(e *env, r Value) Value { needAbs(U(r)); return path(U(r)) })
	prop(kUri, "LocalPath", func(e *env, r Value) Value { needAbs(U(r)); return U(r).u.Path })
	prop(kUri, "PathAndQuery", func(e *env, r Value) Value {
		needAbs(U(r))
		q := ""
		if U(r).u.RawQuery != "" || U(r).u.ForceQuery {
			q = "?" + U(r).u.RawQuery
		}
		return path(U(r)) + q
	})
	prop(kUri, "Query", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.RawQuery == "" {
			return ""
		}
		return "?" + U(r).u.RawQuery
	})
	prop(kUri, "Fragment", func(e *env, r Value) Value {
		needAbs(U(r))
		if U(r).u.Fragment == "" {
			return ""
		}
		return "#" + U(r).u.EscapedFragment()
	})
	prop(kUri, "UserInfo", func(e *env, r Value) Value {
		if U(r).u.User == nil {
			return ""
		}
		return U(r).u.User.String()
	})
	prop(kUri, "AbsoluteUri", func(e *env, r Value) Value {
		needAbs(U(r))
		u := *U(r).u
		if u.Path == "" {
			u.Path = "/"
		}
		return u.String()
	})
	prop(kUri, "OriginalString", func(e *env, r Value) Value { return U(r).orig })
	prop(kUri, "IsAbsoluteUri", func(e *env, r Value) Value { return U(r).abs() })
	prop(kUri, "Segments", func(e *env, r Value) Value {
		needAbs(U(r))
		p := path(U(r))
		var segs []string
		for len(p) > 0 {
			i := strings.IndexByte(p, '/')
			if i < 0 {
				segs = append(segs, p)
				break
			}
			segs = append(segs, p[:i+1])
			p = p[i+1:]
		}
		return normalize(segs)
	})
	method(kUri, "GetLeftPart", func(e *env, r Value, a []Value, cs *callSite) Value {
		needAbs(U(r))
		part, _ := argEnum(a, 0, "UriPartial")
		u := U(r).u
		s := u.Scheme + "://"
		if part.name == "Scheme" {
			return s
		}
		s += u.Host
		if part.name == "Authority" {
			return s
		}
		s += path(U(r))
		if part.name == "Path" {
			return s
		}
		if u.RawQuery != "" {
			s += "?" + u.RawQuery
		}
		return s
	})
}
