package expr

import (
	"regexp"
	"strconv"
	"strings"
)

// registerRegex registers System.Text.RegularExpressions.Regex.
func registerRegex() {
	knownTypes["Match"] = true
	knownTypes["Group"] = true
	knownTypes["MatchCollection"] = true
	t := defType("Regex", kRegex)
	// Compiling a pattern is charged like scanning it; a scan is charged
	// before it runs (regexIn), except NextMatch, charged for the distance
	// it went, so that walking every match costs one scan of the input.
	compile := func(e *env, a []Value, i, opts int, cs *callSite) *regexp.Regexp {
		p := argStr(a, i, cs)
		e.work(len(p) / regexBytesPerStep)
		return compileRegex(p, regexOpts(a, opts))
	}
	t.ctor("(1-3)", func(e *env, a []Value, cs *callSite) Value {
		return &regexValue{re: compile(e, a, 0, 1, cs)}
	})
	t.static("IsMatch", "bool(2-4)", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		return re.MatchString(regexIn(e, re, argStr(a, 0, cs)))
	})
	t.static("Match", "Match(2-4)", func(e *env, a []Value, cs *callSite) Value {
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
	t.static("Matches", "List<Match>(2-4)", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		return matches(e, re, regexIn(e, re, argStr(a, 0, cs)))
	})
	t.static("Replace", "string(3-5)", func(e *env, a []Value, cs *callSite) Value {
		need(a, 3, cs)
		re := compile(e, a, 1, 3, cs)
		return regexReplace(e, re, regexIn(e, re, argStr(a, 0, cs)), a[2])
	})
	t.static("Split", "string[](2-4)", func(e *env, a []Value, cs *callSite) Value {
		re := compile(e, a, 1, 2, cs)
		parts := re.Split(regexIn(e, re, argStr(a, 0, cs)), -1)
		return normalize(parts)
	})
	t.static("Escape", "string(1)", func(e *env, a []Value, cs *callSite) Value {
		s := regexp.QuoteMeta(argStr(a, 0, cs))
		return strings.NewReplacer(" ", "\\ ", "#", "\\#", "\t", "\\t", "\n", "\\n").Replace(s)
	})
	t.static("Unescape", "string(1)", func(e *env, a []Value, cs *callSite) Value {
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
	t.method("IsMatch", "bool(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return R(r).MatchString(regexIn(e, R(r), argStr(a, 0, cs)))
	})
	t.method("Match", "Match(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		from := 0
		if len(a) > 1 {
			from = u16ToByte(argStr(a, 0, cs), argInt(a, 1, cs))
		}
		return matchAt(R(r), regexIn(e, R(r), argStr(a, 0, cs)), from)
	})
	t.method("Matches", "List<Match>(1-2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return matches(e, R(r), regexIn(e, R(r), argStr(a, 0, cs)))
	})
	t.method("Replace", "string(2-4)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 2, cs)
		return regexReplace(e, R(r), regexIn(e, R(r), argStr(a, 0, cs)), a[1])
	})
	t.method("Split", "string[](1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		return normalize(R(r).Split(regexIn(e, R(r), argStr(a, 0, cs)), -1))
	})
	t.method("GetGroupNames", "string[]()", func(e *env, r Value, a []Value, cs *callSite) Value {
		var out []string
		for i, n := range R(r).SubexpNames() {
			if n == "" {
				n = strconv.Itoa(i)
			}
			out = append(out, n)
		}
		return normalize(out)
	})
}
