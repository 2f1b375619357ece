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
