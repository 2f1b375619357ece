package expr

import "strings"

type stringBuilder struct{ b strings.Builder }

// registerStringBuilder registers System.Text.StringBuilder.
func registerStringBuilder() {
	t := defType("StringBuilder", kStringBuilder)
	t.ctor("(0-4)", func(e *env, a []Value, cs *callSite) Value {
		sb := &stringBuilder{}
		if len(a) > 0 {
			if s, ok := a[0].(string); ok {
				sb.b.WriteString(s)
			}
		}
		return sb
	})
	// StringBuilder
	SB := func(r Value) *stringBuilder { return r.(*stringBuilder) }
	t.prop("Length", "int", func(e *env, r Value) Value { return int32(strLen(SB(r).b.String())) })
	t.method("Append", "StringBuilder(1-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		need(a, 1, cs)
		s := toStr(a[0])
		if len(a) == 2 {
			if c, ok := a[0].(Char); ok {
				n := argInt(a, 1, cs)
				if n < 0 {
					throwf("ArgumentOutOfRangeException", "Count cannot be less than zero.")
				}
				e.alloc(n)
				s = strings.Repeat(toStr(c), n)
			}
		}
		e.alloc(len(s))
		SB(r).b.WriteString(s)
		return r
	})
	t.method("AppendLine", "StringBuilder(0-1)", func(e *env, r Value, a []Value, cs *callSite) Value {
		if len(a) > 0 {
			SB(r).b.WriteString(toStr(a[0]))
		}
		SB(r).b.WriteString("\n")
		e.alloc(SB(r).b.Len())
		return r
	})
	t.method("AppendFormat", "StringBuilder(1+)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := compositeFormat(argStr(a, 0, cs), a[1:])
		e.alloc(len(s))
		SB(r).b.WriteString(s)
		return r
	})
	t.method("Clear", "StringBuilder()", func(e *env, r Value, a []Value, cs *callSite) Value { SB(r).b.Reset(); return r })
	t.method("Insert", "StringBuilder(2-3)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := SB(r).b.String()
		i := u16ToByte(s, argInt(a, 0, cs))
		SB(r).b.Reset()
		SB(r).b.WriteString(s[:i] + toStr(a[1]) + s[i:])
		return r
	})
	t.method("Replace", "StringBuilder(2,4)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := strings.ReplaceAll(SB(r).b.String(), strOrChar(a, 0, cs), strOrChar(a, 1, cs))
		SB(r).b.Reset()
		SB(r).b.WriteString(s)
		return r
	})
	t.method("Remove", "StringBuilder(2)", func(e *env, r Value, a []Value, cs *callSite) Value {
		s := SB(r).b.String()
		i, n := argInt(a, 0, cs), argInt(a, 1, cs)
		s = substr(s, 0, i) + substr(s, i+n, strLen(s)-i-n)
		SB(r).b.Reset()
		SB(r).b.WriteString(s)
		return r
	})
}
